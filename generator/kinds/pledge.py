"""支部承诺书 (party-branch pledges): pledges/**.md, one per branch and year; the items pledged
are the content."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.content import fields as f
from generator.content.fields import front
from generator.kinds.item import Item
from generator.kinds.kind import Derivation, Kind, Ordering


@dataclass(frozen=True, slots=True)
class PledgeItem:
    """One pledged item and how far it is done."""

    text: str = field(default="", metadata=front(f.text, required=True, search="words"))
    status: str = field(default="", metadata=front(f.status, required=True))
    note: str = field(default="", metadata=front(f.text, search="words"))


@dataclass(frozen=True, slots=True)
class Review:
    """The year-end appraisal of a pledge."""

    rating: str = field(default="", metadata=front(f.text, search="words"))
    comment: str = field(default="", metadata=front(f.text, search="words"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Pledge(Item):
    """A party branch's pledge (支部承诺书) for one year; the body is the full text of the
    pledge, the items are checked one by one."""

    title: str = ""  # the branch's name
    unit: str = field(
        default="",
        metadata=front(
            f.text,
            required=True,
            key="branch",
            type_doc="unit id",
            doc="the party branch: an id of units.yaml",
        ),
    )
    year: int = field(
        default=0,
        metadata=front(f.year, required=True, type_doc="int", doc="one pledge per branch and year"),
    )
    secretary: str = field(default="", metadata=front(f.text, search="people", doc="支部书记"))
    items: tuple[PledgeItem, ...] = field(
        default=(),
        metadata=front(
            f.list_of(f.record(PledgeItem), non_empty=True),
            required=True,
            search="words",
            type_doc="list, not empty",
            doc="each `{text (required), status (required: planned, in_progress or done; "
            "also 计划中 or 计划, 推进中 or 进行中, 已完成 or 完成), note}`",
        ),
    )
    review: Review | None = field(
        default=None,
        metadata=front(
            f.record(Review),
            search="words",
            type_doc="`{rating, comment}`",
            doc="the year-end appraisal",
        ),
    )

    @property
    def done_count(self) -> int:
        return sum(1 for i in self.items if i.status == "done")

    @property
    def progress(self) -> int:
        """Share of items done, in whole percent."""
        return round(100 * self.done_count / len(self.items)) if self.items else 0

    def default_slug(self) -> str:
        """The branch's unit id."""
        return self.unit


def _derive(values: Mapping[str, Any], derivation: Derivation) -> dict[str, Any]:
    return {"title": derivation.unit_name(values["unit"])}


def _order(item: Pledge, ordering: Ordering) -> tuple[Any, ...]:
    """Newest year first, then branches in the order of the unit tree."""
    return (-item.year, ordering.unit_rank.get(item.unit, 0), item.key)


KIND = Kind(
    "pledge",
    "pledges",
    Pledge,
    derive=_derive,
    order=_order,
    warn_empty_body=False,  # its items are its content
    one_per_unit=True,
    unit_kinds=lambda config: config.pledge_unit_kinds,
    label="Branch pledges",
)
