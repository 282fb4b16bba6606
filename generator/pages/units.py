"""The organisation tree: the index of units, one page per unit (its items rolled up from the
units below it: a preview of its recent years, links to every year) and the pages of each
unit and year."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from generator.pages.base import Group, PageJob, by_kind, count_by_kind, counted, paginate
from generator.site import urls
from generator.site.model import Item, Site, Unit, by_year
from generator.site.urls import UrlPlan

# how many items of each kind a unit page shows per year before linking to the year page
UNIT_YEAR_PREVIEW = 4
# how many of its years (those with items, newest first) a unit page previews
UNIT_RECENT_YEARS = 3
# how many years (newest first) the fulfilment table of a unit page shows side by side
TABLE_YEARS = 3


def pages(site: Site, plan: UrlPlan) -> Iterator[PageJob]:
    yield PageJob(urls.units_index(), "units.html", {"section": "units"})
    for unit in site.units:
        items = site.by_unit.get(unit.id, ())
        yearly = by_year(items)
        years = sorted(yearly, reverse=True)
        counts = tuple((y, len(yearly[y])) for y in years)
        yield _unit_page(unit, items, yearly, years, counts)
        for year_value in years:
            yield from _unit_year_pages(site, unit, yearly[year_value], year_value, counts)


def _unit_year_pages(
    site: Site,
    unit: Unit,
    items: Sequence[Item],
    year_value: int,
    counts: tuple[tuple[int, int], ...],
) -> Iterator[PageJob]:
    """The items of a unit (and the units below it) in one year, page by page."""
    totals = count_by_kind(items)
    pages_of = paginate(
        items, site.config.page_size, lambda n: urls.paged(urls.unit(unit.id, year_value), n)
    )
    for members, pager in pages_of:
        yield PageJob(
            pager.paths[pager.number - 1],
            "unit_year.html",
            {
                "section": "units",
                "unit": unit,
                "year": year_value,
                "kinds": by_kind(members),
                "totals": totals,
                "unit_years": counts,
                "pager": pager,
            },
        )


def _unit_page(
    unit: Unit,
    items: Sequence[Item],
    yearly: Mapping[int, list[Item]],
    years: list[int],
    counts: tuple[tuple[int, int], ...],
) -> PageJob:
    groups = tuple(_year_group(unit, yearly[y], y) for y in years[:UNIT_RECENT_YEARS])
    return PageJob(
        urls.unit(unit.id),
        "unit.html",
        {
            "section": "units",
            "unit": unit,
            "years": groups,
            "counts": count_by_kind(items),
            "unit_years": counts,
            "table_years": TABLE_YEARS,
        },
    )


def _year_group(unit: Unit, items: list[Item], year_value: int) -> Group:
    """One year of a unit page: up to ``UNIT_YEAR_PREVIEW`` items of each kind."""
    of_year = by_kind(items)
    preview = {k: v[:UNIT_YEAR_PREVIEW] for k, v in of_year.items()}
    return Group(
        str(year_value),
        (),
        key=year_value,
        total=sum(len(v) for v in of_year.values()),
        more=urls.unit(unit.id, year_value),
        extra={
            "kinds": preview,
            "counts": counted(of_year),
            "truncated": any(len(v) > UNIT_YEAR_PREVIEW for v in of_year.values()),
        },
    )
