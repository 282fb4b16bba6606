"""The home page: the start of this year's honour roll, the latest reports, this year's
pledges (their progress and the first few)."""

from __future__ import annotations

from collections.abc import Iterator

from generator.pages.base import PageJob
from generator.pages.years import roll_start
from generator.site import urls
from generator.site.model import Site
from generator.site.urls import UrlPlan

HOME_REPORTS = 4
HOME_PLEDGES = 3


def pages(site: Site, plan: UrlPlan) -> Iterator[PageJob]:
    current = site.config.current_year
    this_year = [p for p in site.profiles if p.year == current]
    pledges = tuple(p for p in site.pledges if p.year == current)
    yield PageJob(
        urls.home(),
        "home.html",
        {
            "section": "home",
            "year": current,
            **roll_start(site, current, this_year),
            "reports": site.reports[:HOME_REPORTS],
            "pledges": pledges,
            "pledges_shown": pledges[:HOME_PLEDGES],
        },
    )
