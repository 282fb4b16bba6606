"""The search page, and the search index of each year as a script (so that it loads from
file:// too; the template asks the site view for the script)."""

from __future__ import annotations

from collections.abc import Iterator

from generator.pages.base import PageJob
from generator.site import search
from generator.site.model import Site
from generator.site.urls import UrlPlan


def pages(site: Site, plan: UrlPlan) -> Iterator[PageJob]:
    yield PageJob(search.SEARCH_PAGE, "search.html", {"section": "search", "years": site.years})
    for year_value in site.years:
        keys = tuple(item.key for item in site.of_year(year_value))
        yield PageJob(
            search.part_path(year_value), "search_index.js", {"year": year_value}, bodies=keys
        )
