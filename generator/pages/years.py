"""The index of years and one page per year: items grouped by company, the honour roll."""

from __future__ import annotations

from collections.abc import Iterator

from generator.pages.base import PageJob, by_kind, group_by_company, honour_roll
from generator.site import urls
from generator.site.model import Site
from generator.site.urls import UrlPlan


def pages(site: Site, plan: UrlPlan) -> Iterator[PageJob]:
    config = site.config
    yield PageJob(
        urls.years_index(),
        "years.html",
        {
            "section": "years",
            "year_counts": tuple((y, by_kind(site.of_year(y))) for y in site.years),
        },
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
        )
