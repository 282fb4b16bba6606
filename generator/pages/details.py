"""One page per content item (profile, report, pledge, free page), with its own template."""

from __future__ import annotations

from collections.abc import Iterator

from generator.pages.base import PageJob, keys, related
from generator.site import stats
from generator.site.model import Item, Page, Pledge, Profile, Report, Site
from generator.site.urls import UrlPlan


def pages(site: Site, plan: UrlPlan) -> Iterator[PageJob]:
    pledge_index = stats.pledge_index(site)
    related_memo: dict[str, tuple[Item, ...]] = {}
    for item in (*site.profiles, *site.reports, *site.pledges, *site.pages):
        extra: tuple[str, ...] = ()
        if isinstance(item, Report):
            linked = (site.speaker_links.get((item.key, s)) for s in item.speakers)
            extra = tuple(k for k in linked if k)
        elif isinstance(item, Profile):
            extra = site.talks.get(item.key, ())
            pledge = stats.pledge_for(site, item.unit, item.year, pledge_index)
            extra = (*extra, *((pledge.key,) if pledge else ()))
        elif isinstance(item, Pledge):
            extra = tuple(p.key for p in site.pledges if p.unit == item.unit and p != item)
        if not isinstance(item, Page):
            extra = (*extra, *keys(related(site, item, memo=related_memo)))
        yield PageJob(
            plan.items[item.key],
            f"{item.kind}.html",
            {
                "section": item.kind if not isinstance(item, Page) else "page",
                "item": item,
            },
            (item.key, *extra),
        )
