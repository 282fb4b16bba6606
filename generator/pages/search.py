"""The search page and the files of the search index, each a script (so that it loads from
file:// too): the manifest, the postings shards and what each result shows.
The index is computed once per build by the site view; each file's template asks the view
for its slice."""

from __future__ import annotations

from collections.abc import Iterator

from generator.pages.base import PageJob
from generator.site import search
from generator.site.model import Site
from generator.site.urls import UrlPlan

TEMPLATE = "search_data.js"


def pages(site: Site, plan: UrlPlan) -> Iterator[PageJob]:
    yield PageJob(search.SEARCH_PAGE, "search.html", {"section": "search", "years": site.years})
    keys = tuple(item.key for item in site.items())  # every body is in the index
    yield PageJob(search.MANIFEST, TEMPLATE, {"part": "index", "number": 0}, bodies=keys)
    parts = (
        ("t", search.shard_path, search.shard_count(site)),
        ("x", search.text_path, len(keys)),
    )
    for part, path, count in parts:
        for number in range(count):
            yield PageJob(path(number), TEMPLATE, {"part": part, "number": number}, bodies=keys)
