"""The index of tags and one page per tag."""

from __future__ import annotations

from collections.abc import Iterator

from generator.pages.base import PageJob, by_kind
from generator.site import urls
from generator.site.model import Site
from generator.site.urls import UrlPlan


def pages(site: Site, plan: UrlPlan) -> Iterator[PageJob]:
    yield PageJob(urls.tags_index(), "tags.html", {"section": "tags"})
    for tag in site.tags:
        tagged = site.by_tag[tag]
        yield PageJob(
            plan.tags[tag],
            "tag.html",
            {"section": "tags", "tag": tag, "kinds": by_kind(tagged)},
        )
