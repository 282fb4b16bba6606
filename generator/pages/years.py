"""The index of years, one page per year (the start of its honour roll, its latest items and
its companies) and the whole honour roll of each year, page by page."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from generator.pages.base import (
    Group,
    PageJob,
    Pagination,
    by_kind,
    count_by_kind,
    counted,
    group_by_company,
    people_by_honour,
    roll_pages,
    roll_preview,
)
from generator.site import stats, urls
from generator.site.model import Profile, Site
from generator.site.urls import UrlPlan

# the start of a year's honour roll (home and year pages): people per honour, cards in all
ROLL_PER_HONOUR = 2
ROLL_CARDS = 8
# the newest items of each kind a year page shows before its list of companies
YEAR_PREVIEW = 4


RollPages = list[tuple[tuple[Group, ...], Pagination]]


def roll(
    site: Site, year_value: int, profiles: Sequence[Profile]
) -> tuple[RollPages, tuple[str, ...]]:
    """The whole honour roll of a year, page by page, and where each honour begins."""
    groups = people_by_honour(profiles, site.config.honours, site.config.name_order)
    return roll_pages(groups, site.config.page_size, lambda n: urls.honours(year_value, n))


def roll_start(site: Site, year_value: int, profiles: Sequence[Profile]) -> dict[str, object]:
    """What home and year pages show of a year's roll: its start, the number of people and
    the link to the whole roll."""
    pages, links = roll(site, year_value, profiles)
    groups = tuple(
        g for page_groups, _pager in pages for g in page_groups if not g.extra["continued"]
    )
    return {
        "honour_roll": roll_preview(groups, links, ROLL_PER_HONOUR, ROLL_CARDS),
        "roll_total": len(profiles),
        "roll_path": urls.honours(year_value),
    }


def pages(site: Site, plan: UrlPlan) -> Iterator[PageJob]:
    yield PageJob(
        urls.years_index(),
        "years.html",
        {
            "section": "years",
            "year_counts": tuple((y, count_by_kind(site.of_year(y))) for y in site.years),
        },
    )
    for year_value in site.years:
        kinds = by_kind(site.of_year(year_value))
        profiles: tuple[Profile, ...] = kinds["profile"]
        yield _year_page(site, year_value, kinds)
        roll_parts, links = roll(site, year_value, profiles)
        holders = _holders(site, profiles, links)
        for groups, pager in roll_parts:
            yield PageJob(
                pager.paths[pager.number - 1],
                "honours.html",
                {
                    "section": "years",
                    "year": year_value,
                    "groups": groups,
                    "total": len(profiles),
                    "holders": holders,
                    "pager": pager,
                },
            )


def _holders(
    site: Site, profiles: Sequence[Profile], links: Sequence[str]
) -> tuple[tuple[str, int, str | None], ...]:
    """Every honour of the year with how many hold it, and where the roll lists the people
    who stand under it (none when they all stand under an earlier honour)."""
    config = site.config
    groups = people_by_honour(profiles, config.honours, config.name_order)
    link_of = {g.title: link for g, link in zip(groups, links, strict=True)}
    return tuple(
        (h.title, h.total, link_of.get(h.title))
        for h in stats.honour_roll(profiles, config.honours, config.name_order)
    )


def _year_page(site: Site, year_value: int, kinds: dict[str, tuple[Any, ...]]) -> PageJob:
    companies = {
        k: tuple(Group(g.title, (), key=g.key, total=g.total) for g in group_by_company(site, v))
        for k, v in kinds.items()
    }
    return PageJob(
        urls.year(year_value),
        "year.html",
        {
            "section": "years",
            "year": year_value,
            "counts": counted(kinds),
            "pledges": kinds["pledge"],
            "latest": {k: v[:YEAR_PREVIEW] for k, v in kinds.items() if k != "profile"},
            "companies": companies,
            **roll_start(site, year_value, kinds["profile"]),
        },
    )
