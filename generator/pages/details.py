"""One page per content item (profile, report, pledge, free page), with its own template."""

from __future__ import annotations

from collections.abc import Iterator

from generator.pages.base import PageJob
from generator.site.model import Site
from generator.site.urls import UrlPlan


def pages(site: Site, plan: UrlPlan) -> Iterator[PageJob]:
    for item in site.all_items():
        yield PageJob(
            plan.items[item.key],
            site.kinds[item.kind].template,
            {"section": item.kind, "item": item},
        )
