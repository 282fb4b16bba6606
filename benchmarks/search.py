#!/usr/bin/env python3
"""Search at scale: the index of a generated site, what a first query fetches, how fast the
first results show in Chromium, and recall on queries derived from the sources.

    python3 benchmarks/search.py --documents 5000 [--workdir benchmarks/work] [--browser-queries 20]
    python3 benchmarks/search.py --documents 30000 --index-only benchmarks/work/search-5000/public

The corpus is generated with tests/vendor/corpus/make_corpus.py (seed 1) into
WORKDIR/search-N/site and built into WORKDIR/search-N/public (both kept and reused). Printed
as JSON and written to benchmarks/search-N.json:

- index: files and bytes of search/ (manifest, shards, result files), seconds to compute the
  index from converted bodies;
- first query: bytes a first query fetches (search page, stylesheet, search.js, manifest, the
  shards of its terms, the files of its first 20 results), median and max over the query set;
- browser: milliseconds from navigation to the first result on screen, from file:// and over
  http (Python's http.server), median and max over a sample of the query set;
- recall, recall@10 and MRR per class of query (tests/search_eval.py).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import re
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from generator import build as showcase  # noqa: E402
from generator.base.config import BuildOptions  # noqa: E402
from generator.site import search  # noqa: E402
from tests import search_eval  # noqa: E402
from tests.scale import write_corpus  # noqa: E402

PAGE = 20


def prepare(work: Path, documents: int, page_from: Path | None) -> tuple[Path, Path, float]:
    """The generated site's source and output; the seconds of the build (of the index alone
    with ``page_from``; 0 when reused)."""
    source, out = work / "site", work / "public"
    if not source.exists():
        write_corpus(source, documents)
    seconds = 0.0
    if page_from and not (out / search.MANIFEST).exists():
        index, seconds = computed_index(source)
        write_index_only(index, out, page_from)
    elif not (out / search.MANIFEST).exists():
        started = time.perf_counter()
        report = showcase.build(BuildOptions(source=source, output=out))
        assert report.ok, report.diagnostics[:5]
        seconds = time.perf_counter() - started
    return source, out, seconds


def computed_index(source: Path) -> tuple[search.Index, float]:
    """The whole index, and the seconds to compute it from bodies already converted."""
    analysis = showcase.analyse(source)
    converter = showcase.markdown_converter(analysis.site, analysis.plan)
    bodies = showcase.convert_bodies(analysis.site.items(), analysis.plan, converter, workers=2)
    texts = {key: body.text for key, body in bodies.items()}
    started = time.perf_counter()
    index = search.build_index(analysis.site, analysis.plan, texts)
    return index, time.perf_counter() - started


def write_index_only(index: search.Index, out: Path, page_from: Path) -> None:
    """The index files alone, with the search page and assets of another built site (to
    measure search on a size whose whole site takes long to build)."""
    shutil.copytree(page_from / "assets", out / "assets", dirs_exist_ok=True)
    (out / "search").mkdir(parents=True, exist_ok=True)
    shutil.copy(page_from / search.SEARCH_PAGE, out / search.SEARCH_PAGE)
    files = {search.MANIFEST: search.script(index, "index")}
    files.update(
        {search.shard_path(n): search.script(index, "t", n) for n in range(len(index.shards))}
    )
    files.update(
        {search.text_path(n): search.script(index, "x", n) for n in range(len(index.docs))}
    )
    for rel, text in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def index_files(out: Path) -> dict[str, int]:
    files = [p for p in (out / "search").rglob("*.js")]
    shards = [p for p in files if p.parent.name == "t"]
    return {
        "files": len(files),
        "bytes": sum(p.stat().st_size for p in files),
        "shards": len(shards),
        "largest shard": max(p.stat().st_size for p in shards),
        "manifest": (out / search.MANIFEST).stat().st_size,
    }


def first_query_bytes(out: Path, index: search_eval.BuiltIndex, query: str) -> int:
    """What the browser fetches for ``query`` opened on the search page."""
    page = out / "search/index.html"
    html = page.read_text(encoding="utf-8")
    assets = [page.parent / src for src in re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)]
    size = page.stat().st_size + sum(p.stat().st_size for p in assets if p.exists())
    size += (out / search.MANIFEST).stat().st_size
    _, rest = search.query_year(query, index.manifest["years"])
    count = int(index.manifest["shards"])
    shards = {search.term_shard(t, count) for t in search.query_terms(rest)}
    size += sum((out / search.shard_path(n)).stat().st_size for n in shards)
    hits = index.find(query).docs[:PAGE]
    return size + sum((out / search.text_path(d)).stat().st_size for d in hits)


def browser_times(out: Path, queries: list[str]) -> dict[str, dict[str, float]]:
    from playwright.sync_api import sync_playwright

    from tests.conftest import ARGS, CHROMIUM
    from tests.test_search_scale import FIRST_RESULT_TIMER

    handler = functools.partial(_Quiet, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    bases = {"file": out.as_uri() + "/", "http": f"http://127.0.0.1:{server.server_address[1]}/"}
    found: dict[str, list[float]] = {name: [] for name in bases}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for name, base in bases.items():
            for query in queries:
                page = browser.new_page()
                page.add_init_script(FIRST_RESULT_TIMER)
                page.goto(base + "search/index.html?q=" + quote(query))
                page.wait_for_selector("#search-results li", timeout=60_000)
                found[name].append(float(page.evaluate("window.firstResultAt")))
                page.close()
        browser.close()
    server.shutdown()
    return {
        name: {"median ms": round(statistics.median(v)), "max ms": round(max(v))}
        for name, v in found.items()
    }


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--workdir", type=Path, default=HERE / "work")
    parser.add_argument("--browser-queries", type=int, default=20)
    parser.add_argument("--per-class", type=int, default=search_eval.PER_CLASS)
    parser.add_argument(
        "--index-only",
        type=Path,
        metavar="BUILT_SITE",
        help="build only the index, with the search page of BUILT_SITE",
    )
    args = parser.parse_args()
    work = args.workdir / f"search-{args.documents}"
    source, out, build_seconds = prepare(work, args.documents, args.index_only)
    sources = search_eval.read_sources(source)
    queries = search_eval.query_set(sources, per_class=args.per_class)
    index = search_eval.BuiltIndex(out)
    sizes = [first_query_bytes(out, index, q.text) for q in queries]
    keys = search_eval.source_of_url(search_eval.output_paths(source))
    step = max(1, len(queries) // args.browser_queries)
    result = {
        "documents": len(sources),
        "build seconds": round(build_seconds, 1),
        "index seconds": round(build_seconds if args.index_only else computed_index(source)[1], 1),
        "index": index_files(out),
        "first query bytes": {"median": statistics.median(sizes), "max": max(sizes)},
        "browser": browser_times(out, [q.text for q in queries[::step]][: args.browser_queries]),
        "quality": search_eval.evaluate(sources, queries, index, keys),
    }
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    (HERE / f"search-{args.documents}.json").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
