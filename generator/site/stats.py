"""Figures of a campaign, computed from a Site: pledge fulfilment (per pledge, branch, unit rolled
up over its descendants, and year), honour rolls in the site's official order, and counts per
year and unit for the statistics pages and their JSON and CSV downloads.

Pure: no I/O, no templates. Every function returns new frozen values in a fixed order.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from generator.base import hanzi
from generator.site.model import Item, Pledge, PledgeItem, Profile, Report, Site, Unit, by_year

OPEN_STATUSES = ("planned", "in_progress")


def percent(part: int, whole: int) -> int:
    """Whole percent, rounded half up (so 1 of 8 is 13 %, as people round)."""
    return (200 * part + whole) // (2 * whole) if whole else 0


def is_overdue(pledge: Pledge, item: PledgeItem, current_year: int) -> bool:
    """An item still planned or in progress after the pledge's year has ended."""
    return item.status in OPEN_STATUSES and bool(current_year) and pledge.year < current_year


@dataclass(frozen=True, slots=True)
class Fulfilment:
    """Pledged items over one or more pledges, by status."""

    pledges: int = 0
    total: int = 0
    done: int = 0
    in_progress: int = 0
    planned: int = 0
    overdue: int = 0

    @property
    def percent(self) -> int:
        return percent(self.done, self.total)

    @property
    def in_progress_percent(self) -> int:
        """Share of done and in-progress items, less the done share: stacks after ``percent``."""
        return percent(self.done + self.in_progress, self.total) - self.percent

    def __add__(self, other: Fulfilment) -> Fulfilment:
        return Fulfilment(
            self.pledges + other.pledges,
            self.total + other.total,
            self.done + other.done,
            self.in_progress + other.in_progress,
            self.planned + other.planned,
            self.overdue + other.overdue,
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "pledges": self.pledges,
            "items": self.total,
            "done": self.done,
            "in_progress": self.in_progress,
            "planned": self.planned,
            "overdue": self.overdue,
            "percent": self.percent,
        }


def of_pledge(pledge: Pledge, current_year: int) -> Fulfilment:
    statuses = [i.status for i in pledge.items]
    return Fulfilment(
        1,
        len(statuses),
        statuses.count("done"),
        statuses.count("in_progress"),
        statuses.count("planned"),
        sum(1 for i in pledge.items if is_overdue(pledge, i, current_year)),
    )


def fulfilment(pledges: Iterable[Pledge], current_year: int) -> Fulfilment:
    out = Fulfilment()
    for pledge in pledges:
        out = out + of_pledge(pledge, current_year)
    return out


def pledges_of_unit(site: Site, unit_id: str, year: int | None = None) -> tuple[Pledge, ...]:
    """The pledges of a unit and of every unit below it (roll-up), optionally of one year."""
    return tuple(
        i
        for i in site.by_unit.get(unit_id, ())
        if isinstance(i, Pledge) and (year is None or i.year == year)
    )


def unit_fulfilment(site: Site, unit_id: str, year: int | None = None) -> Fulfilment:
    """Fulfilment of a unit rolled up over its descendants, over all years or one."""
    return fulfilment(pledges_of_unit(site, unit_id, year), site.config.current_year)


def branch_fulfilment(site: Site, branch_id: str) -> tuple[tuple[Pledge, Fulfilment], ...]:
    """Every pledge of one branch (its own, not those below it), newest first."""
    current = site.config.current_year
    # the items of the branch and of the units below it, in the order of the site's pledges
    own = (i for i in site.by_unit.get(branch_id, ()) if isinstance(i, Pledge))
    return tuple((p, of_pledge(p, current)) for p in own if p.unit == branch_id)


@dataclass(frozen=True, slots=True)
class BranchRow:
    """One branch of a unit page's side-by-side table: its fulfilment in each year shown."""

    unit: Unit
    cells: tuple[tuple[int, Pledge | None, Fulfilment | None], ...]  # (year, pledge, figures)
    total: Fulfilment


def branch_table(site: Site, unit_id: str) -> tuple[tuple[int, ...], tuple[BranchRow, ...]]:
    """The years (newest first) and, for every unit at or below ``unit_id`` that has pledges,
    its fulfilment in each year, in tree order."""
    pledges = pledges_of_unit(site, unit_id)
    years = tuple(sorted({p.year for p in pledges}, reverse=True))
    current = site.config.current_year
    by_branch: dict[str, dict[int, Pledge]] = {}
    for pledge in pledges:
        by_branch.setdefault(pledge.unit, {})[pledge.year] = pledge
    rows = []
    for unit_key in sorted(by_branch, key=lambda u: site.unit_rank.get(u, 0)):
        unit = site.unit_by_id[unit_key]
        own = by_branch[unit_key]
        cells = tuple(
            (y, own.get(y), of_pledge(own[y], current) if y in own else None) for y in years
        )
        rows.append(BranchRow(unit, cells, fulfilment(own.values(), current)))
    return years, tuple(rows)


def unit_table(site: Site, unit_id: str) -> tuple[tuple[int, ...], tuple[BranchRow, ...]]:
    """The fulfilment table of a unit page: the years with pledges (newest first) and a row
    for the unit's own pledges, if it has any, then one for each unit directly below it that
    has pledges, rolled up over the units below that one; in tree order. In a row's cells the
    pledge is given only where the row is one branch's own pledge."""
    pledges = pledges_of_unit(site, unit_id)
    years = tuple(sorted({p.year for p in pledges}, reverse=True))
    current = site.config.current_year
    rows: dict[str, dict[int, list[Pledge]]] = {}
    for pledge in pledges:
        unit = site.unit_by_id[pledge.unit]
        chain = (*unit.ancestors, unit.id)
        row = chain[chain.index(unit_id) + 1] if pledge.unit != unit_id else unit_id
        rows.setdefault(row, {}).setdefault(pledge.year, []).append(pledge)
    out = []
    for row_id in sorted(rows, key=lambda u: site.unit_rank.get(u, 0)):
        own = rows[row_id]
        cells = tuple(_table_cell(y, own.get(y, []), row_id, current) for y in years)
        everything = [p for found in own.values() for p in found]
        out.append(BranchRow(site.unit_by_id[row_id], cells, fulfilment(everything, current)))
    return years, tuple(out)


def _table_cell(
    year: int, pledges: list[Pledge], row_id: str, current_year: int
) -> tuple[int, Pledge | None, Fulfilment | None]:
    if not pledges:
        return year, None, None
    single = pledges[0] if len(pledges) == 1 and pledges[0].unit == row_id else None
    return year, single, fulfilment(pledges, current_year)


def pledge_index(site: Site) -> dict[tuple[str, int], Pledge]:
    """Every pledge by (branch, year): look-ups without scanning all pledges."""
    return {(p.unit, p.year): p for p in site.pledges}


def pledge_for(
    site: Site, unit_id: str, year: int, index: Mapping[tuple[str, int], Pledge] | None = None
) -> Pledge | None:
    """The pledge of ``year`` of the branch a unit belongs to: the unit's own pledge, else the
    nearest unit above it that has one."""
    unit = site.unit_by_id.get(unit_id)
    if unit is None:
        return None
    found = pledge_index(site) if index is None else index
    for candidate in (unit.id, *reversed(unit.ancestors)):
        pledge = found.get((candidate, year))
        if pledge is not None:
            return pledge
    return None


# ---------------------------------------------------------------------------------------------
# honour rolls


@dataclass(frozen=True, slots=True)
class Honour:
    """One honour of a year's roll and the workers who hold it, in the site's name order."""

    title: str
    profiles: tuple[Profile, ...]

    @property
    def total(self) -> int:
        return len(self.profiles)


def honour_roll(
    profiles: Iterable[Profile], honours: Sequence[str] = (), name_order: str = "pinyin"
) -> tuple[Honour, ...]:
    """Profiles grouped by honour (a worker with two honours stands in both groups). Honours
    listed in ``honours`` come first in that order; the others follow by how many hold them,
    then by pinyin. Names within an honour follow ``name_order`` (pinyin or strokes)."""
    by_honour: dict[str, list[Profile]] = {}
    for profile in profiles:
        for honour in profile.honors:
            by_honour.setdefault(honour, []).append(profile)
    rank = {h: n for n, h in enumerate(honours)}
    order = sorted(
        by_honour,
        key=lambda h: (
            rank.get(h, len(rank)),
            -len(by_honour[h]) if h not in rank else 0,
            hanzi.text_pinyin(h),
            h,
        ),
    )
    name_key = hanzi.name_sort_key(name_order)
    return tuple(
        Honour(h, tuple(sorted(by_honour[h], key=lambda p: (name_key(p.name), p.key))))
        for h in order
    )


def ordered_names(profiles: Iterable[Profile], name_order: str) -> tuple[Profile, ...]:
    key = hanzi.name_sort_key(name_order)
    return tuple(sorted(profiles, key=lambda p: (key(p.name), p.key)))


# ---------------------------------------------------------------------------------------------
# counts per year and unit


@dataclass(frozen=True, slots=True)
class Counts:
    """What one year, or one unit in a year, achieved."""

    label: str
    year: int | None
    unit: str | None  # unit id, None for a whole year
    workers: int  # model workers honoured (profiles)
    honours: int  # honours awarded (a worker may hold several)
    reports: int
    pledge: Fulfilment

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "year": self.year,
            "unit": self.unit,
            "workers": self.workers,
            "honours": self.honours,
            "reports": self.reports,
            **{f"pledge_{k}": v for k, v in self.pledge.as_dict().items()},
        }


def counts(
    items: Iterable[Item], label: str, year: int | None, unit: str | None, current_year: int
) -> Counts:
    profiles = reports = honours = 0
    pledges: list[Pledge] = []
    for item in items:
        if isinstance(item, Profile):
            profiles += 1
            honours += len(item.honors)
        elif isinstance(item, Report):
            reports += 1
        elif isinstance(item, Pledge):
            pledges.append(item)
    return Counts(label, year, unit, profiles, honours, reports, fulfilment(pledges, current_year))


def top_units(site: Site) -> tuple[Unit, ...]:
    """The units the statistics break down by: those one level below the root (companies,
    plants), or the roots themselves when the tree is flat."""
    level = tuple(u for u in site.units if u.depth == 1)
    return level or tuple(u for u in site.units if u.depth == 0)


@dataclass(frozen=True, slots=True)
class Figures:
    """Everything the statistics pages show, and the downloads carry."""

    years: tuple[Counts, ...]  # one per year, newest first
    units: tuple[Counts, ...]  # one per top unit, all years
    by_year_unit: tuple[tuple[int, tuple[Counts, ...]], ...]  # per year: one per top unit
    honours: tuple[tuple[int, tuple[tuple[str, int], ...]], ...]  # per year: (honour, workers)
    total: Counts

    def year(self, year: int) -> Counts | None:
        return next((c for c in self.years if c.year == year), None)

    def units_of(self, year: int) -> tuple[Counts, ...]:
        return next((rows for y, rows in self.by_year_unit if y == year), ())

    def honours_of(self, year: int) -> tuple[tuple[str, int], ...]:
        return next((rows for y, rows in self.honours if y == year), ())


def figures(site: Site) -> Figures:
    current = site.config.current_year
    content = site.items()
    years = tuple(counts(site.of_year(y), str(y), y, None, current) for y in site.years)
    tops = top_units(site)
    units = tuple(counts(site.by_unit.get(u.id, ()), u.name, None, u.id, current) for u in tops)
    per_unit = {u.id: by_year(site.by_unit.get(u.id, ())) for u in tops}
    by_year_unit = tuple(
        (y, tuple(counts(per_unit[u.id].get(y, ()), u.name, y, u.id, current) for u in tops))
        for y in site.years
    )
    profiles = by_year(site.profiles)
    honours = tuple(
        (
            y,
            tuple(
                (h.title, h.total)
                for h in honour_roll(
                    profiles.get(y, []),
                    site.config.honours,
                    site.config.name_order,
                )
            ),
        )
        for y in site.years
    )
    total = counts(content, "", None, None, current)
    return Figures(years, units, by_year_unit, honours, total)


def to_json(data: Figures) -> str:
    """The figures as JSON: stable key order, readable Chinese, one trailing newline."""
    doc = {
        "total": data.total.as_dict(),
        "years": [c.as_dict() for c in data.years],
        "units": [c.as_dict() for c in data.units],
        "by_year_unit": [
            {"year": y, "units": [c.as_dict() for c in rows]} for y, rows in data.by_year_unit
        ],
        "honours": [
            {"year": y, "honours": [{"honour": h, "workers": n} for h, n in rows]}
            for y, rows in data.honours
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


CSV_COLUMNS = (
    "year",
    "unit",
    "label",
    "workers",
    "honours",
    "reports",
    "pledge_pledges",
    "pledge_items",
    "pledge_done",
    "pledge_in_progress",
    "pledge_planned",
    "pledge_overdue",
    "pledge_percent",
)


def to_csv(rows: Iterable[Counts]) -> str:
    """Rows of counts as CSV (UTF-8 with BOM so spreadsheet programs read the Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        values = row.as_dict()
        writer.writerow([csv_cell(values[c]) for c in CSV_COLUMNS])
    return "\ufeff" + out.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet never reads as a formula (OWASP): text starting with = + - @
    (or their full-width forms), a tab or a carriage return gets a leading ``'``."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


SERIES = ("workers", "honours", "reports", "percent")


def series(rows: Iterable[Counts], name: str) -> tuple[tuple[str, int], ...]:
    """(label, value) pairs of one figure for a chart: workers, honours, reports or percent
    (share of pledged items fulfilled, of the rows with pledges only)."""
    if name not in SERIES:
        raise ValueError(f"unknown series {name!r}; expected one of {', '.join(SERIES)}")
    if name == "percent":  # a unit with no pledges has no share: it has no bar ("–")
        return tuple((row.label, row.pledge.percent) for row in rows if row.pledge.total)
    return tuple((row.label, int(getattr(row, name))) for row in rows)


def csv_rows(data: Figures) -> tuple[Counts, ...]:
    """Every year, then every unit of every year: one table for download."""
    return (*data.years, *(c for _y, rows in data.by_year_unit for c in rows))
