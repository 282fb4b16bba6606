"""先进典型 (model-worker profiles): profiles/**.md, one worker honoured in one year."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from generator.base import hanzi
from generator.content import fields as f
from generator.content.fields import front
from generator.kinds.item import Asset, Item
from generator.kinds.kind import Kind, Ordering


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile(Item):
    """A model worker (先进典型) honoured in one year; the body is the worker's story."""

    title: str = field(
        default="", metadata=front(f.text, required=True, key="name", search="people", doc="王进喜")
    )  # the worker's name
    year: int = field(
        default=0,
        metadata=front(f.year, required=True, type_doc="int", doc="the year of the honour"),
    )
    honors: tuple[str, ...] = field(
        default=(),
        metadata=front(
            f.non_empty_text_list,
            required=True,
            search="honours",
            flag="honor",
            type_doc="list of text, not empty",
            doc="劳动模范, 优秀共产党员 … (a single text is read as a list of one)",
        ),
    )
    position: str = field(default="", metadata=front(f.text, search="words", doc="采油工 高级技师"))
    photo: Asset | None = field(
        default=None,
        metadata=front(
            f.text,
            asset=True,
            type_doc="path",
            doc="relative to the Markdown file, or to `static/`",
        ),
    )
    party_member: bool | None = field(
        default=None, metadata=front(f.boolean, type_doc="true/false", doc="(是/否 accepted)")
    )

    @property
    def name(self) -> str:
        return self.title

    def default_slug(self) -> str:
        """The name in pinyin, surname read as a surname: `wang-jin-xi`."""
        return hanzi.name_slug(self.name)


def _order(item: Profile, ordering: Ordering) -> tuple[Any, ...]:
    """Newest year first, then by name in the site's name order."""
    return (-item.year, ordering.name_key(item.name), item.key)


KIND = Kind("profile", "profiles", Profile, order=_order, label="Model workers")
