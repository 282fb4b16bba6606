"""The home page: this year's honour roll and workers, the latest reports, this year's pledges."""

from __future__ import annotations

from collections.abc import Iterator

from generator.pages.base import PageJob, honour_roll
from generator.site import urls
from generator.site.model import Site
from generator.site.urls import UrlPlan

HOME_REPORTS = 6


def pages(site: Site, plan: UrlPlan) -> Iterator[PageJob]:
    config = site.config
    current = config.current_year
    this_year = [p for p in site.profiles if p.year == current]
    yield PageJob(
        urls.home(),
        "home.html",
        {
            "section": "home",
            "honour_roll": honour_roll(this_year, config.honours, config.name_order),
            "year": current,
            "profiles": tuple(this_year),
            "reports": site.reports[:HOME_REPORTS],
            "pledges": tuple(p for p in site.pledges if p.year == current),
        },
    )
