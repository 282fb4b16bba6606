"""The pages for machines and for getting lost: the Atom feed, the sitemap, the 404 page, and
the page listing the frozen editions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from generator.pages.base import PageJob, item_date
from generator.site import urls
from generator.site.model import Site
from generator.site.urls import UrlPlan


def pages(site: Site, plan: UrlPlan) -> Iterator[PageJob]:
    feed_items = sorted(site.items(), key=lambda i: (-(item_date(i).toordinal()), i.key))
    feed_items = feed_items[: site.config.feed_size]
    yield PageJob(
        "feed.xml",
        "feed.xml",
        {
            "items": tuple(feed_items),
            "updated": max((item_date(i) for i in feed_items), default=dt.date(2000, 1, 1)),
        },
    )
    yield PageJob("sitemap.xml", "sitemap.xml", {"entries": sitemap_entries(site, plan)})
    yield PageJob("404.html", "404.html", {"section": "404"})
    if site.editions:  # the frozen editions (their files are copied by the build)
        yield PageJob(urls.editions_index(), "editions.html", {"section": "editions"})


def sitemap_entries(site: Site, plan: UrlPlan) -> tuple[tuple[str, str], ...]:
    """The sitemap's pages as (path, last modified date or ""): every item's page, every free
    page and every unit's page. Paths and dates only, so that an edit to a body leaves the
    sitemap as it was without checking it."""
    dated = tuple((plan.items[i.key], i.date.isoformat() if i.date else "") for i in site.items())
    free = tuple((plan.items[p.key], "") for p in site.pages)
    units = tuple((urls.unit(u.id), "") for u in site.units)
    return dated + free + units
