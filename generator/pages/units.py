"""The organisation tree: the index of units, one page per unit (its items rolled up from the
units below it, a preview per year) and one page per unit and year."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from generator.pages.base import Group, PageJob, by_kind
from generator.site import urls
from generator.site.model import Item, Site, Unit
from generator.site.urls import UrlPlan

# how many items of each kind a unit page shows per year before linking to the year page
UNIT_YEAR_PREVIEW = 12


def pages(site: Site, plan: UrlPlan) -> Iterator[PageJob]:
    yield PageJob(urls.units_index(), "units.html", {"section": "units"})
    for unit in site.units:
        items = site.by_unit.get(unit.id, ())
        years = sorted({i.year for i in items}, reverse=True)
        yield _unit_page(site, unit, items, years)
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
            )


def _unit_page(site: Site, unit: Unit, items: Sequence[Item], years: list[int]) -> PageJob:
    groups = []
    shown: list[Item] = []
    for year_value in years:
        group = _year_group(unit, [i for i in items if i.year == year_value], year_value)
        shown.extend(i for v in group.extra["kinds"].values() for i in v)
        groups.append(group)
    return PageJob(
        urls.unit(unit.id),
        "unit.html",
        {
            "section": "units",
            "unit": unit,
            "years": tuple(groups),
            "counts": by_kind(items),
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
            "counts": {k: len(v) for k, v in of_year.items()},
            "truncated": any(len(v) > UNIT_YEAR_PREVIEW for v in of_year.values()),
        },
    )
