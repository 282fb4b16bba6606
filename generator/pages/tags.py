"""The index of tags and the pages of each tag, page by page."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from generator.pages.base import PageJob, by_kind, count_by_kind, paginate
from generator.site import urls
from generator.site.model import Site
from generator.site.urls import UrlPlan


def pages(site: Site, plan: UrlPlan) -> Iterator[PageJob]:
    yield PageJob(urls.tags_index(), "tags.html", {"section": "tags"})
    for tag in site.tags:
        tagged = site.by_tag[tag]
        totals = count_by_kind(tagged)
        first = plan.tags[tag]
        for members, pager in paginate(tagged, site.config.page_size, partial(urls.paged, first)):
            yield PageJob(
                pager.paths[pager.number - 1],
                "tag.html",
                {
                    "section": "tags",
                    "tag": tag,
                    "kinds": by_kind(members),
                    "totals": totals,
                    "pager": pager,
                },
            )
