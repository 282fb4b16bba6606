"""Free pages (关于本站, 评选办法 …): pages/**.md, linked from the footer; no unit, no year."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

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


def _order(item: Page, _ordering: Ordering) -> tuple[Any, ...]:
    return (item.order, item.key)


KIND = Kind("page", "pages", Page, order=_order, yearly=False, label="Free pages")
