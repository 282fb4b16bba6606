"""The search page, and the search index of each year as a script (so that it loads from
file:// too)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

from generator.pages.base import PageJob, keys
from generator.site import search
from generator.site.model import Site
from generator.site.urls import UrlPlan


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


def pages(site: Site, plan: UrlPlan) -> Iterator[PageJob]:
    yield PageJob(search.SEARCH_PAGE, "search.html", {"section": "search", "years": site.years})
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
            keys(site.of_year(year_value)),
        )
