"""Search on the generated 5,000-document site: recall on queries derived from the sources
(tests/search_eval.py), and in Chromium, from file:// and over http, what a first query
fetches, results 20 at a time with the total count, pinyin, a year in the query, and the same
ranking as the Python reference. Times are printed, never asserted."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse

import pytest
from playwright.sync_api import Browser, Page

from generator.base import hanzi
from generator.site import search
from tests import search_eval

RECALL = 0.95
RECALL_AT_10 = 0.95
MRR = 0.9
FIRST_QUERY_BYTES = 1_000_000
PAGE_SIZE = 20


@pytest.fixture(scope="module")
def sources(scale_build: tuple[Path, Path]) -> list[search_eval.Source]:
    return search_eval.read_sources(scale_build[0])


def test_every_kind_of_query_finds_what_the_sources_hold(
    scale_build: tuple[Path, Path], sources: list[search_eval.Source]
) -> None:
    source, out = scale_build
    queries = search_eval.query_set(sources, per_class=60)
    keys = search_eval.source_of_url(search_eval.output_paths(source))
    figures = search_eval.evaluate(sources, queries, search_eval.BuiltIndex(out), keys)
    for kind, row in figures.items():
        print(f"{kind:15} {row}")
    assert len(figures) == 13  # every class of query was asked
    for kind, row in figures.items():
        assert row["recall"] >= RECALL, (kind, row)
        assert row["recall@10"] >= RECALL_AT_10, (kind, row)
        assert row["MRR"] >= MRR, (kind, row)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served(scale_build: tuple[Path, Path]) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(scale_build[1]))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _size(url: str, root: Path) -> int:
    """Bytes of a file:// or http:// address of the site (the file it names)."""
    path = unquote(urlparse(url).path)
    if url.startswith("file:"):
        return Path(path).stat().st_size
    return (root / path.lstrip("/")).stat().st_size


# the time from the start of navigation to the first result on screen, kept by the page
FIRST_RESULT_TIMER = """
new MutationObserver(() => {
  if (!window.firstResultAt && document.querySelector('#search-results li')) {
    window.firstResultAt = performance.now();
  }
}).observe(document, {subtree: true, childList: true});
"""


def first_query(browser: Browser, base: str, root: Path, query: str) -> tuple[Page, int, float]:
    """Open the search page with ``query``; (page, bytes fetched once the first results and
    their excerpts are shown, milliseconds from navigation to the first results)."""
    page = browser.new_page()
    page.add_init_script(FIRST_RESULT_TIMER)
    fetched: list[str] = []
    page.on("requestfinished", lambda r: fetched.append(r.url))
    page.goto(base + "search/index.html?q=" + quote(query))
    page.wait_for_selector("#search-results li", timeout=30_000)
    page.wait_for_selector("#search-results[aria-busy=false]")  # the excerpts are in
    milliseconds = float(page.evaluate("window.firstResultAt"))
    return page, sum(_size(u, root) for u in set(fetched)), milliseconds


def _titles(page: Page) -> list[str]:
    return page.locator("#search-results .result-title").all_inner_texts()


@pytest.mark.parametrize("over", ["file", "http"])
def test_a_first_query_fetches_little_and_shows_20_results_with_the_count(
    browser: Browser, scale_build: tuple[Path, Path], served: str, over: str
) -> None:
    out = scale_build[1]
    base = out.as_uri() + "/" if over == "file" else served
    sizes = []
    for query in ("劳动模范", "创先争优", "党支部书记培训班", "2015年劳动模范", "wang"):
        page, fetched, milliseconds = first_query(browser, base, out, query)
        print(f"{over} {query}: {fetched} bytes, first results after {milliseconds:.0f} ms")
        sizes.append(fetched)
        assert fetched <= FIRST_QUERY_BYTES, (query, fetched)
        assert len(_titles(page)) == PAGE_SIZE
        status = page.locator("#search-status").inner_text()
        total = int("".join(c for c in status.split("共找到")[-1] if c.isdigit()))
        assert total > PAGE_SIZE, status
        assert page.locator("#search-more").is_visible()
        page.click("#search-more")
        page.wait_for_function(f"document.querySelectorAll('.search-result').length > {PAGE_SIZE}")
        assert len(_titles(page)) == 2 * PAGE_SIZE
        page.close()
    print(f"{over}: bytes of a first query, max {max(sizes)}")


def test_a_year_in_the_query_filters_the_results(
    browser: Browser, scale_build: tuple[Path, Path]
) -> None:
    out = scale_build[1]
    page, _, _ = first_query(browser, out.as_uri() + "/", out, "2015年劳动模范")
    assert "2015年" in page.locator("#search-status").inner_text()
    metas = page.locator("#search-results .result-meta").all_inner_texts()
    assert metas and all("2015年" in m for m in metas)
    # the holders of the honour come first
    assert all("劳动模范" in h for h in page.locator(".search-result .honors").all_inner_texts())
    page.close()


def test_the_pinyin_of_a_name_finds_the_person(
    browser: Browser, scale_build: tuple[Path, Path], sources: list[search_eval.Source]
) -> None:
    out = scale_build[1]
    names = {s.people[0] for s in sources if s.kind == "profile"}
    name = sorted(n for n in names if len(n) == 3)[0]
    pinyin = "".join(hanzi.name_pinyin(name))
    page, _, _ = first_query(browser, out.as_uri() + "/", out, pinyin)
    assert _titles(page)[0] == name, (pinyin, _titles(page)[:3])
    page.close()


def test_the_browser_ranks_as_the_python_reference(
    browser: Browser, scale_build: tuple[Path, Path]
) -> None:
    out = scale_build[1]
    index = search_eval.BuiltIndex(out)
    for query in ("岗位能手", "工作", "东部油田公司", "2020年承诺书", "qhse 安全生产", "liu jun"):
        expected = [index.url(d) for d in index.find(query).docs[:PAGE_SIZE]]
        page, _, _ = first_query(browser, out.as_uri() + "/", out, query)
        links = page.locator("#search-results .result-title a")
        got = [str(links.nth(n).get_attribute("href")) for n in range(links.count())]
        assert got == expected, query
        page.close()
    assert index.manifest["version"] == search.FORMAT_VERSION
