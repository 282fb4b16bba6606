"""The search page and the files of the search index, each a script (so that it loads from
file:// too): the manifest, the postings shards and what each result shows.
The build computes the index (``output.searchindex``, patched from the last build's) and
gives it to the site view; each file's template asks the view for its slice."""

from __future__ import annotations

from collections.abc import Iterator

from generator.pages.base import PageJob
from generator.site import search
from generator.site.model import Site
from generator.site.urls import UrlPlan

TEMPLATE = "search_data.js"


def pages(site: Site, plan: UrlPlan) -> Iterator[PageJob]:
    yield PageJob(search.SEARCH_PAGE, "search.html", {"section": "search", "years": site.years})
    # the manifest and the shards: the build gives the view the index, made from every body
    yield PageJob(search.MANIFEST, TEMPLATE, {"part": "index", "number": 0})
    for number in range(search.shard_count(site)):
        yield PageJob(search.shard_path(number), TEMPLATE, {"part": "t", "number": number})
    keys = tuple(item.key for item in site.chronological())
    for number, key in enumerate(keys):  # what one result shows reads its item alone
        context = {"part": "x", "number": number}
        yield PageJob(search.text_path(number), TEMPLATE, context, bodies=(key,))
