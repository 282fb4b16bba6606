"""The paginated lists of profiles, reports and pledges."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from generator.pages.base import PageJob, Pagination, chunk
from generator.site import urls
from generator.site.model import Item, Site
from generator.site.urls import UrlPlan


def pages(site: Site, plan: UrlPlan) -> Iterator[PageJob]:
    collections: tuple[tuple[str, Sequence[Item]], ...] = (
        ("profile", site.profiles),
        ("report", site.reports),
        ("pledge", site.pledges),
    )
    for kind, collection in collections:
        yield from _list(kind, collection, site.config.page_size)


def _list(kind: str, collection: Sequence[Item], page_size: int) -> Iterator[PageJob]:
    chunks = chunk(collection, page_size)
    paths = tuple(urls.section(kind, n + 1) for n in range(len(chunks)))
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
