"""Page families: each module yields pages with a path, a template and a read-only context;
templates read the rest of the site through the ``SiteView``.

``FAMILIES`` fixes the order in which pages are planned (and so rendered). A change to how a
family groups items stays in its module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from generator.pages import details, feeds, home, lists, search, stats, tags, units, years
from generator.pages.base import PageJob
from generator.site.model import Site
from generator.site.urls import UrlPlan

Family = Callable[[Site, UrlPlan], Iterator[PageJob]]

FAMILIES: tuple[Family, ...] = (
    home.pages,
    lists.pages,
    details.pages,
    units.pages,
    years.pages,
    tags.pages,
    stats.pages,
    search.pages,
    feeds.pages,
)


def pages(site: Site, plan: UrlPlan) -> Iterator[PageJob]:
    """Every page of the site, family by family in a fixed order."""
    for family in FAMILIES:
        yield from family(site, plan)
