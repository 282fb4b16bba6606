"""What every content item has: the attributes shared by all kinds, and the source fields
they share (declared once here, with ``front``)."""

from __future__ import annotations

import datetime as dt
import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, is_dataclass
from typing import Any

from generator.base import hanzi
from generator.content import fields as f
from generator.content.fields import front


@dataclass(frozen=True, slots=True)
class Asset:
    """A file of the source that a page uses (photo, attachment)."""

    source: str  # relative to the site source
    size: int

    @property
    def name(self) -> str:
        return posixpath.basename(self.source)


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """The base of every kind's model. A kind redeclares a field to change it (required, read
    from another source field) or to take it out of the source (derived, or not used)."""

    key: str  # the source path, unique
    kind: str
    title: str = field(default="", metadata=front(f.text, required=True))
    unit: str = field(
        default="",
        metadata=front(
            f.text,
            required=True,
            type_doc="unit id",
            doc="an id of units.yaml; the item also appears on every parent unit's page",
        ),
    )
    year: int = 0
    summary: str = field(
        default="",
        metadata=front(f.text, doc="default: the start of the body, cut by characters"),
    )
    tags: tuple[str, ...] = field(
        default=(), metadata=front(f.text_list, search="tags", type_doc="list of text")
    )
    date: dt.date | None = field(
        default=None,
        metadata=front(
            f.date,
            type_doc="YYYY-MM-DD (or 2025/6/18, 2025.6.18, 2025年6月18日)",
            doc="default: the day the file was first committed (else last changed)",
        ),
    )
    slug: str = field(
        default="", metadata=front(f.slug, type_doc="ASCII slug", doc="the last part of the URL")
    )  # as given in front matter; '' means derive it (``default_slug``)
    draft: bool = field(
        default=False,
        metadata=front(
            f.boolean, type_doc="true/false", doc="drafts are built only with `--drafts`"
        ),
    )
    body: str = ""
    body_line: int = 1
    digest: str = ""
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)
    updated: dt.date | None = None  # last change in git history

    def default_slug(self) -> str:
        """The title in pinyin, shortened to the main title's first phrase and at most 10
        syllables."""
        return hanzi.title_slug(self.title)

    def assets(self) -> tuple[Asset, ...]:
        """The files (photos, attachments) of the item's asset fields, in declaration order."""
        found: list[Asset] = []
        for attr, spec in f.spec_of(self):
            if spec.asset:
                found.extend(_assets(getattr(self, attr)))
        return tuple(found)

    def asset_sources(self) -> tuple[str, ...]:
        """The source paths of the item's assets."""
        return tuple(a.source for a in self.assets())

    def search_words(self) -> list[str]:
        """The words of the fields searched with the body, in declaration order."""
        return [w for w in _searched(self, "words") if w]

    def search_honours(self) -> tuple[str, ...]:
        """The words of the fields searched as honours."""
        return tuple(w for w in _searched(self, "honours") if w)

    def search_people(self) -> tuple[str, ...]:
        """The names of the people of the item (the worker, speakers, a branch secretary)."""
        return tuple(w for w in _searched(self, "people") if w)

    def search_tags(self) -> tuple[str, ...]:
        return tuple(w for w in _searched(self, "tags") if w)


def _assets(value: object) -> Iterator[Asset]:
    if isinstance(value, Asset):
        yield value
    elif isinstance(value, tuple):
        yield from (a for a in value if isinstance(a, Asset))


def _searched(value: Any, role: str) -> Iterator[str]:
    """The texts of the fields of ``value`` declared with ``search=role``, and of the
    records inside them."""
    for attr, spec in f.spec_of(value):
        if spec.search == role:
            yield from _texts(getattr(value, attr))


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple):
        for member in value:
            yield from _texts(member)
    elif is_dataclass(value) and not isinstance(value, type):
        yield from _searched(value, "words")
