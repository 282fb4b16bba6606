"""Render every page of the site: a read-only context per page -> the page's bytes.

``pages()`` lists every page with its template, its context and its explicit inputs (content
item keys, templates, configuration), so that incremental builds can tell what a change
touches. ``render()`` turns one such page into bytes.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from generator.pages import charts
from generator.site import search, stats, urls
from generator.site.bodies import Rendered
from generator.site.model import Item, Page, Pledge, Profile, Report, Site, Unit
from generator.site.urls import UrlPlan

CONFIG_DEP = "config:site"
UNITS_DEP = "config:units"
# how many items of each kind a unit page shows per year before linking to the year page
UNIT_YEAR_PREVIEW = 12
HOME_REPORTS = 6
RELATED_ITEMS = 4  # "more from this unit" on a detail page


@dataclass(frozen=True, slots=True)
class PageJob:
    path: str
    template: str
    context: Mapping[str, Any]
    items: tuple[str, ...] = ()  # keys of the content items the page shows

    def deps(self, templates: Iterable[str]) -> tuple[str, ...]:
        return (CONFIG_DEP, UNITS_DEP, *(f"template:{t}" for t in templates), *self.items)


class Deferred:
    """Markup computed only when a page is rendered (an incremental build that does not
    render the page never pays for it). Its fingerprint is its name: the page's items must
    list every content item it is computed from."""

    def __init__(self, compute: Callable[[], str], name: str) -> None:
        self._compute = compute
        self._name = name

    def __html__(self) -> str:
        return self._compute()

    def __repr__(self) -> str:
        return f"Deferred({self._name})"


@dataclass(frozen=True, slots=True)
class Pagination:
    number: int
    total: int
    paths: tuple[str, ...]  # path of every page of the list, first page first

    @property
    def prev(self) -> str | None:
        return self.paths[self.number - 2] if self.number > 1 else None

    @property
    def next(self) -> str | None:
        return self.paths[self.number] if self.number < self.total else None


@dataclass(frozen=True, slots=True)
class Group:
    """A titled group of items in a list (a year, a unit, an honour)."""

    title: str
    items: tuple[Any, ...]
    key: Any = None
    total: int = 0
    more: str | None = None  # path of the page that lists them all
    extra: Mapping[str, Any] = field(default_factory=dict)


def chunk(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    size = max(1, size)
    return [items[i : i + size] for i in range(0, len(items), size)] or [()]


class SiteView:
    """What templates may ask of the site beyond a page's own context. Read-only."""

    def __init__(self, site: Site, plan: UrlPlan, bodies: Mapping[str, Rendered]) -> None:
        self.site = site
        self.config = site.config
        self.plan = plan
        self.bodies = bodies
        self.units = site.units
        self.roots = tuple(u for u in site.units if not u.ancestors)
        self.years = site.years
        self.pages = tuple(p for p in site.pages)
        self._by_key = {i.key: i for i in (*site.items(), *site.pages)}
        self._pledges: dict[tuple[str, int], Pledge] | None = None
        self._related: dict[str, tuple[Item, ...]] = {}

    def unit(self, unit_id: str) -> Unit:
        return self.site.unit_by_id[unit_id]

    def unit_chain(self, unit_id: str) -> tuple[Unit, ...]:
        unit = self.unit(unit_id)
        return (*(self.unit(a) for a in unit.ancestors), unit)

    def summary(self, item: Item) -> str:
        if item.summary:
            return item.summary
        body = self.bodies.get(item.key)
        return body.text_summary if body else ""

    def speaker(self, report: Report, name: str) -> Profile | None:
        key = self.site.speaker_links.get((report.key, name))
        found = self._by_key.get(key) if key else None
        return found if isinstance(found, Profile) else None

    def spoke_at(self, profile: Profile) -> tuple[Report, ...]:
        found = (self._by_key[key] for key in self.site.talks.get(profile.key, ()))
        return tuple(r for r in found if isinstance(r, Report))

    def counts(self, items: Iterable[Item]) -> dict[str, int]:
        out = {"profile": 0, "report": 0, "pledge": 0}
        for item in items:
            out[item.kind] = out.get(item.kind, 0) + 1
        return out

    def unit_counts(self, unit_id: str) -> dict[str, int]:
        return self.counts(self.site.by_unit.get(unit_id, ()))

    def pledge_progress(self, pledges: Iterable[Pledge]) -> tuple[int, int, int]:
        """(items done, items in all, whole percent) over several pledges."""
        done = total = 0
        for pledge in pledges:
            done += pledge.done_count
            total += len(pledge.items)
        return done, total, round(100 * done / total) if total else 0

    def fulfilment(self, pledges: Iterable[Pledge]) -> stats.Fulfilment:
        return stats.fulfilment(pledges, self.config.current_year)

    def overdue(self, pledge: Pledge, item: Any) -> bool:
        return stats.is_overdue(pledge, item, self.config.current_year)

    def unit_fulfilment(self, unit_id: str, year: int | None = None) -> stats.Fulfilment:
        return stats.unit_fulfilment(self.site, unit_id, year)

    def branch_table(
        self, unit_id: str
    ) -> tuple[tuple[int, ...], tuple[stats.BranchRow, ...]]:
        return stats.branch_table(self.site, unit_id)

    def branch_history(self, pledge: Pledge) -> tuple[tuple[Pledge, stats.Fulfilment], ...]:
        return stats.branch_fulfilment(self.site, pledge.unit)

    def branch_pledge(self, profile: Profile) -> Pledge | None:
        if self._pledges is None:
            self._pledges = stats.pledge_index(self.site)
        return stats.pledge_for(self.site, profile.unit, profile.year, self._pledges)

    def related(self, item: Item) -> tuple[Item, ...]:
        return related(self.site, item, memo=self._related)

    def series(self, rows: Iterable[stats.Counts], name: str) -> tuple[tuple[str, int], ...]:
        return stats.series(rows, name)


def related(
    site: Site,
    item: Item,
    limit: int = RELATED_ITEMS,
    memo: dict[str, tuple[Item, ...]] | None = None,
) -> tuple[Item, ...]:
    """A few other items of the item's unit (and the units below it): newest year first, then
    newest date. ``memo`` keeps each unit's order between calls."""
    memo = {} if memo is None else memo
    ordered = memo.get(item.unit)
    if ordered is None:
        ordered = tuple(
            sorted(
                site.by_unit.get(item.unit, ()),
                key=lambda i: (-i.year, -item_date(i).toordinal(), i.kind, i.key),
            )
        )
        memo[item.unit] = ordered
    return tuple(i for i in ordered[: limit + 1] if i.key != item.key)[:limit]


def honour_roll(
    profiles: Sequence[Profile], honours: Sequence[str] = (), name_order: str = "pinyin"
) -> tuple[Group, ...]:
    """Profiles grouped by honour, in the site's official order of honours and of names
    (see ``stats.honour_roll``)."""
    return tuple(
        Group(h.title, h.profiles, key=h.title, total=h.total)
        for h in stats.honour_roll(profiles, honours, name_order)
    )


def company_of(site: Site, unit_id: str) -> Unit:
    """The unit one level below the root (the company or plant) that a unit belongs to."""
    unit = site.unit_by_id[unit_id]
    chain = (*unit.ancestors, unit.id)
    return site.unit_by_id[chain[1] if len(chain) > 1 else chain[0]]


def group_by_company(site: Site, items: Sequence[Item]) -> tuple[Group, ...]:
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(company_of(site, item.unit).id, []).append(item)
    rank = {u.id: n for n, u in enumerate(site.units)}
    return tuple(
        Group(
            site.unit_by_id[uid].name, tuple(members), key=site.unit_by_id[uid], total=len(members)
        )
        for uid, members in sorted(groups.items(), key=lambda kv: rank[kv[0]])
    )


def by_kind(items: Iterable[Item]) -> dict[str, tuple[Any, ...]]:
    out: dict[str, list[Item]] = {"profile": [], "report": [], "pledge": []}
    for item in items:
        out.setdefault(item.kind, []).append(item)
    return {k: tuple(v) for k, v in out.items()}


def _keys(items: Iterable[Item]) -> tuple[str, ...]:
    return tuple(i.key for i in items)


def pages(site: Site, plan: UrlPlan) -> Iterator[PageJob]:
    """Every page of the site, in a fixed order."""
    config = site.config
    pledge_index = stats.pledge_index(site)
    related_memo: dict[str, tuple[Item, ...]] = {}
    current = config.current_year
    this_year = [p for p in site.profiles if p.year == current]
    latest_reports = site.reports[:HOME_REPORTS]
    year_pledges = [p for p in site.pledges if p.year == current]
    yield PageJob(
        urls.home(),
        "home.html",
        {
            "section": "home",
            "honour_roll": honour_roll(this_year, config.honours, config.name_order),
            "year": current,
            "profiles": tuple(this_year),
            "reports": latest_reports,
            "pledges": tuple(year_pledges),
        },
        _keys(site.items()),  # unit counts and the years list read every item
    )

    for kind, collection in (
        ("profile", site.profiles),
        ("report", site.reports),
        ("pledge", site.pledges),
    ):
        chunks = chunk(collection, config.page_size)
        paths = tuple(urls.section(kind, n + 1) for n in range(len(chunks)))
        for number, members in enumerate(chunks, start=1):
            yield PageJob(
                paths[number - 1],
                "list.html",
                {
                    "section": kind,
                    "kind": kind,
                    "items": tuple(members),
                    "total": len(collection),
                    "pager": Pagination(number, len(chunks), paths),
                },
                _keys(members),
            )

    for item in (*site.items(), *site.pages):
        template = f"{item.kind}.html"
        extra: tuple[str, ...] = ()
        if isinstance(item, Report):
            linked = (site.speaker_links.get((item.key, s)) for s in item.speakers)
            extra = tuple(k for k in linked if k)
        elif isinstance(item, Profile):
            extra = site.talks.get(item.key, ())
            pledge = stats.pledge_for(site, item.unit, item.year, pledge_index)
            extra = (*extra, *((pledge.key,) if pledge else ()))
        elif isinstance(item, Pledge):
            extra = tuple(p.key for p in site.pledges if p.unit == item.unit and p != item)
        if not isinstance(item, Page):
            extra = (*extra, *_keys(related(site, item, memo=related_memo)))
        yield PageJob(
            plan.items[item.key],
            template,
            {
                "section": item.kind if not isinstance(item, Page) else "page",
                "item": item,
            },
            (item.key, *extra),
        )

    yield PageJob(urls.units_index(), "units.html", {"section": "units"}, _keys(site.items()))
    for unit in site.units:
        items = site.by_unit.get(unit.id, ())
        years = sorted({i.year for i in items}, reverse=True)
        groups = []
        shown: list[Item] = []
        for year_value in years:
            of_year = by_kind(i for i in items if i.year == year_value)
            preview = {k: v[:UNIT_YEAR_PREVIEW] for k, v in of_year.items()}
            shown.extend(i for v in preview.values() for i in v)
            total = sum(len(v) for v in of_year.values())
            groups.append(
                Group(
                    str(year_value),
                    (),
                    key=year_value,
                    total=total,
                    more=urls.unit(unit.id, year_value),
                    extra={
                        "kinds": preview,
                        "counts": {k: len(v) for k, v in of_year.items()},
                        "truncated": any(len(v) > UNIT_YEAR_PREVIEW for v in of_year.values()),
                    },
                )
            )
        yield PageJob(
            urls.unit(unit.id),
            "unit.html",
            {
                "section": "units",
                "unit": unit,
                "years": tuple(groups),
                "counts": by_kind(items),
            },
            _keys([*shown, *stats.pledges_of_unit(site, unit.id)]),
        )
        for year_value in years:
            of_year_items = [i for i in items if i.year == year_value]
            yield PageJob(
                urls.unit(unit.id, year_value),
                "unit_year.html",
                {
                    "section": "units",
                    "unit": unit,
                    "year": year_value,
                    "kinds": by_kind(of_year_items),
                },
                _keys(of_year_items),
            )

    yield PageJob(
        urls.years_index(),
        "years.html",
        {
            "section": "years",
            "year_counts": tuple((y, by_kind(site.of_year(y))) for y in site.years),
        },
        _keys(site.items()),
    )
    for year_value in site.years:
        year_items = site.of_year(year_value)
        kinds = by_kind(year_items)
        yield PageJob(
            urls.year(year_value),
            "year.html",
            {
                "section": "years",
                "year": year_value,
                "kinds": kinds,
                "groups": {k: group_by_company(site, v) for k, v in kinds.items()},
                "honour_roll": honour_roll(kinds["profile"], config.honours, config.name_order),
            },
            _keys(year_items),
        )

    yield PageJob(urls.tags_index(), "tags.html", {"section": "tags"}, _keys(site.items()))
    for tag in site.tags:
        tagged = site.by_tag[tag]
        yield PageJob(
            plan.tags[tag],
            "tag.html",
            {
                "section": "tags",
                "tag": tag,
                "kinds": by_kind(tagged),
            },
            _keys(tagged),
        )

    yield from stats_pages(site)

    # search (issue 6): the page, and the index as a script so it loads from file:// too
    yield PageJob(
        search.SEARCH_PAGE, "search.html", {"section": "search", "years": site.years}
    )
    for year_value in site.years:
        yield PageJob(
            search.part_path(year_value),
            "search_index.js",
            {
                "index_script": Deferred(
                    functools.partial(search.part_script, site, plan, year_value),
                    f"search-index-{year_value}",
                )
            },
            _keys(site.of_year(year_value)),
        )

    feed_items = sorted(site.items(), key=lambda i: (-(item_date(i).toordinal()), i.key))
    feed_items = feed_items[: config.feed_size]
    yield PageJob(
        "feed.xml",
        "feed.xml",
        {
            "items": tuple(feed_items),
            "updated": max((item_date(i) for i in feed_items), default=dt.date(2000, 1, 1)),
        },
        _keys(feed_items),
    )
    yield PageJob("sitemap.xml", "sitemap.xml", {}, _keys(site.items()))
    yield PageJob("404.html", "404.html", {"section": "404"})
    if site.editions:  # issue 4: the frozen editions (their files are copied by the build)
        yield PageJob(
            urls.editions_index(), "editions.html", {"section": "editions"}
        )


def stats_pages(site: Site) -> Iterator[PageJob]:
    """The statistics pages (all years, and one per year) with their SVG charts, and the same
    figures as JSON and CSV downloads."""
    figures = stats.figures(site)
    every = _keys(site.items())
    yield PageJob(
        urls.join("stats", urls.INDEX),
        "stats.html",
        {"section": "stats", "figures": figures},
        every,
    )
    for year_value in site.years:
        yield PageJob(
            urls.join("stats", year_value, urls.INDEX),
            "stats_year.html",
            {
                "section": "stats",
                "year": year_value,
                "figures": figures,
                "pledges": tuple(p for p in site.pledges if p.year == year_value),
            },
            _keys(site.of_year(year_value)),
        )
    yield PageJob(
        urls.join("stats", "stats.json"),
        "stats.json",
        {"text": Markup(stats.to_json(figures))},
        every,
    )
    yield PageJob(
        urls.join("stats", "stats.csv"),
        "stats.csv",
        {"text": Markup(stats.to_csv(stats.csv_rows(figures)))},
        every,
    )


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    rows: Iterable[tuple[str, int]],
    maximum: int | None = None,
    colour: int = 0,
    suffix: str = "",
) -> Markup:
    """For templates: an inline SVG bar chart of (label, value) rows."""
    bars = [charts.Bar(label, value, f"{value}{suffix}" if suffix else "") for label, value in rows]
    return Markup(charts.bar_chart(chart_id, title, desc, bars, maximum, colour))


def item_date(item: Item) -> dt.date:
    """The date an item is filed under: its own date, else the first day of its year."""
    return item.date or dt.date(max(item.year, 1), 1, 1)
