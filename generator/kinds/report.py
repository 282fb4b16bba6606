"""经验交流材料 (experience-exchange reports): reports/**.md, filed under the year of their date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from generator.content import fields as f
from generator.content.fields import front
from generator.kinds.item import Asset, Item
from generator.kinds.kind import Kind, year_of_date


@dataclass(frozen=True, slots=True, kw_only=True)
class Report(Item):
    """An experience-exchange report (经验交流材料); the body is its full text."""

    date: dt.date | None = field(
        default=None,
        metadata=front(
            f.date,
            required=True,
            type_doc="YYYY-MM-DD (or 2025/6/18, 2025.6.18, 2025年6月18日)",
            doc="the report's year is the year of this date",
        ),
    )
    event: str = field(
        default="",
        metadata=front(f.text, search="words", doc="the meeting or exchange it was given at"),
    )
    speakers: tuple[str, ...] = field(
        default=(),
        metadata=front(
            f.text_list,
            search="people",
            type_doc="list of names",
            doc="a name that matches a profile of the same year links to it",
        ),
    )
    attachments: tuple[Asset, ...] = field(
        default=(),
        metadata=front(
            f.text_list,
            asset=True,
            type_doc="list of paths",
            doc="relative to the file or to `static/`; copied and linked with their size",
        ),
    )


KIND = Kind("report", "reports", Report, derive=year_of_date, label="Experience reports")
