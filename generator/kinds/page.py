"""Free pages (关于本站, 评选办法 …): pages/**.md, linked from the footer; no unit, no year."""

from __future__ import annotations

import datetime as dt
import posixpath
from dataclasses import dataclass, field
from typing import Any

from generator.base import hanzi
from generator.content import fields as f
from generator.content.fields import front
from generator.kinds.item import Item
from generator.kinds.kind import Kind, Ordering


@dataclass(frozen=True, slots=True, kw_only=True)
class Page(Item):
    """A free page (关于本站, 评选办法 …), linked from the footer; no unit, no year."""

    # not source fields of a free page
    unit: str = ""
    date: dt.date | None = None
    tags: tuple[str, ...] = ()
    summary: str = ""
    order: int = field(
        default=0, metadata=front(f.integer, type_doc="int", doc="order in the footer")
    )

    def default_slug(self) -> str:
        """The file name when it is a valid slug (`pages/about.md`: `about`), else the title
        in pinyin."""
        stem = posixpath.splitext(posixpath.basename(self.key))[0]
        return stem if f.SLUG_RE.match(stem) else hanzi.title_slug(self.title)


def _order(item: Page, _ordering: Ordering) -> tuple[Any, ...]:
    return (item.order, item.key)


KIND = Kind("page", "pages", Page, order=_order, yearly=False, label="Free pages")
