"""The paginated list of each yearly kind's items (profiles, reports, pledges ...)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from generator.pages.base import PageJob, Pagination, chunk
from generator.site import urls
from generator.site.model import Item, Site
from generator.site.urls import UrlPlan


def pages(site: Site, plan: UrlPlan) -> Iterator[PageJob]:
    for kind in site.kinds.yearly():
        yield from _list(site, kind.name, site.of_kind(kind.name))


def _list(site: Site, kind: str, collection: Sequence[Item]) -> Iterator[PageJob]:
    chunks = chunk(collection, site.config.page_size)
    paths = tuple(urls.section(kind, n + 1, site.kinds) for n in range(len(chunks)))
    for number, members in enumerate(chunks, start=1):
        yield PageJob(
            paths[number - 1],
            "list.html",
            {
                "section": kind,
                "kind": kind,
                "items": tuple(members),
                "total": len(collection),
                "pager": Pagination(number, len(chunks), paths),
            },
        )
