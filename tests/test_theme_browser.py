"""The theme in a real browser (Debian's Chromium driven by Playwright): tables that never
squeeze a Chinese name into a column of single characters, charts legible on a phone with each
figure shown once, progress bars with equal tracks, a legend and print patterns, and the 404
page answered by a web server for a missing path at any depth.

The tables and charts are measured on the generated 5,000-document site (``scale_build``)."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import SITE_YAML, SiteBuilder, profile

PHONE, LAPTOP = 360, 1366
MIN_CHARACTERS = 4  # a wrapped first-column cell holds at least this many characters a line
MIN_LABEL_PX = 11

# Every first-column cell of the fulfilment and stats tables: its width, font size, text
# length and how many lines its text takes (from the text's line boxes).
FIRST_COLUMN = """() => [...document.querySelectorAll(
    'table.fulfilment-table tr > :first-child, table.stats-table tr > :first-child')]
  .filter(cell => cell.closest('tbody, tfoot'))
  .map(cell => {
    const range = document.createRange();
    range.selectNodeContents(cell);
    const tops = new Set([...range.getClientRects()].filter(r => r.width > 0)
                         .map(r => Math.round(r.top)));
    const style = getComputedStyle(cell);
    const box = cell.getBoundingClientRect();
    const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
    return {text: cell.textContent.trim(), width: box.width - padding, lines: tops.size,
            font: parseFloat(style.fontSize), position: style.position};
  })"""

# The size at which every chart label is drawn on the screen: the CSS size times the scale of
# the drawing (an SVG with a viewBox shrinks its text with it).
CHART_LABELS = """() => [...document.querySelectorAll('svg.chart text')].map(t =>
    t.getScreenCTM().a * parseFloat(getComputedStyle(t).fontSize))"""

# Each chart's bars, and every column of every table on the page as {row label: value}.
FIGURES = """() => {
  const value = cell => (cell.querySelector('.progress-text') || cell).textContent.trim();
  const charts = [...document.querySelectorAll('svg.chart')].map(svg =>
    [...svg.querySelectorAll('g.bar')].map(g =>
      [g.dataset.label, g.querySelector('text.value').textContent.trim()]));
  const columns = [];
  for (const table of document.querySelectorAll('table')) {
    const rows = [...table.querySelectorAll('tbody tr')];
    const width = rows.length ? rows[0].children.length : 0;
    for (let c = 1; c < width; c++) {
      columns.push(Object.fromEntries(rows.map(r =>
        [r.children[0].textContent.trim(), value(r.children[c])])));
    }
  }
  return {charts, columns};
}"""


def open_page(browser: Browser, url: str, width: int) -> Page:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(url)
    page.wait_for_load_state("load")
    return page


def largest_unit_page(out: Path) -> Path:
    """The unit page with the most rows in its fulfilment table."""
    pages = list(out.glob("units/*/index.html"))
    return max(pages, key=lambda p: p.read_text(encoding="utf-8").count("<tr>"))


def stats_pages(out: Path) -> list[Path]:
    years = sorted(out.glob("stats/[0-9]*/index.html"))
    return [out / "stats" / "index.html", years[-1]]


def squeezed(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first-column cells that wrap with fewer than MIN_CHARACTERS characters a line."""
    return [c for c in cells if c["lines"] > 1 and c["width"] < MIN_CHARACTERS * c["font"] - 0.5]


# ---------------------------------------------------------------------------------------------
# tables at scale


@pytest.mark.parametrize("width", [PHONE, LAPTOP])
def test_first_columns_never_squeeze_names(
    browser: Browser, scale_build: tuple[Path, Path], width: int
) -> None:
    _, out = scale_build
    for target in [largest_unit_page(out), *stats_pages(out)]:
        page = open_page(browser, target.as_uri(), width)
        cells = page.evaluate(FIRST_COLUMN)
        page.close()
        assert cells, target
        assert squeezed(cells) == [], (target, width, squeezed(cells)[:3])
        assert {c["position"] for c in cells} == {"sticky"}, "the names stay in view"
        if width == LAPTOP:
            assert max(c["lines"] for c in cells) == 1, (target, "no wrapping on a laptop")


def test_the_fulfilment_table_scrolls_inside_its_box(
    browser: Browser, scale_build: tuple[Path, Path]
) -> None:
    _, out = scale_build
    page = open_page(browser, largest_unit_page(out).as_uri(), PHONE)
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    box = page.locator(".table-scroll").first
    assert box.evaluate("e => e.scrollWidth > e.clientWidth")  # many years: it scrolls
    page.close()


# ---------------------------------------------------------------------------------------------
# charts at scale


def test_chart_labels_are_legible_on_a_phone(
    browser: Browser, scale_build: tuple[Path, Path]
) -> None:
    _, out = scale_build
    for target in stats_pages(out):
        page = open_page(browser, target.as_uri(), PHONE)
        sizes = page.evaluate(CHART_LABELS)
        assert sizes and min(sizes) >= MIN_LABEL_PX, (target, min(sizes))
        fills = page.evaluate(
            "[...new Set([...document.querySelectorAll('svg.chart rect')]"
            ".map(r => getComputedStyle(r).fill))]"
        )
        theme = page.evaluate(
            "[1, 2, 3, 4].map(n => { const s = document.createElement('span');"
            " s.style.color = `var(--chart-${n})`; document.body.append(s);"
            " const c = getComputedStyle(s).color; s.remove(); return c; })"
        )
        assert fills and set(fills) <= set(theme), (fills, theme)
        page.close()


def test_each_figure_appears_once_with_its_table(
    browser: Browser, scale_build: tuple[Path, Path]
) -> None:
    _, out = scale_build
    for target in stats_pages(out):
        page = open_page(browser, target.as_uri(), LAPTOP)
        found = page.evaluate(FIGURES)
        page.close()
        assert found["charts"], target
        for bars in found["charts"]:
            tables = [col for col in found["columns"] if all(col.get(k) == v for k, v in bars)]
            assert len(tables) == 1, (target, bars[:2], len(tables))
        values = [tuple(sorted(col.items())) for col in found["columns"]]
        assert len(values) == len(set(values)), "no column repeats another table's figures"


# ---------------------------------------------------------------------------------------------
# progress bars


def track_widths(page: Page, scope: str) -> tuple[set[float], set[float]]:
    """Widths of the bars' tracks within ``scope``: with an overdue badge, and without."""
    found: list[list[Any]] = page.evaluate(
        """scope => [...document.querySelectorAll(scope + ' .progress')].map(p =>
            [!!p.querySelector('.badge-overdue'),
             Math.round(p.querySelector('.progress-track').getBoundingClientRect().width)])""",
        scope,
    )
    return {w for badge, w in found if badge}, {w for badge, w in found if not badge}


@pytest.mark.parametrize("width", [PHONE, LAPTOP])
def test_progress_tracks_are_equal_with_and_without_the_overdue_badge(
    browser: Browser, example_build: Path, width: int
) -> None:
    for rel, scope in (("stats/index.html", ".stats-table"), ("pledges/index.html", "main")):
        page = open_page(browser, (example_build / rel).as_uri(), width)
        late, on_time = track_widths(page, scope)
        page.close()
        assert late and on_time, (rel, "the example has bars with and without the badge")
        assert len(late | on_time) == 1, (rel, width, late, on_time)


def test_the_in_progress_part_has_a_legend(browser: Browser, example_build: Path) -> None:
    for rel in ("stats/index.html", "pledges/index.html", "units/caiyou-1/index.html"):
        page = open_page(browser, (example_build / rel).as_uri(), LAPTOP)
        assert page.locator(".progress-fill-open").count() > 0, rel
        legend = page.locator(".progress-legend").first
        assert legend.is_visible(), rel
        assert "推进中" in legend.inner_text()
        same = page.evaluate(
            """() => getComputedStyle(document.querySelector('.swatch-open')).backgroundImage
               === getComputedStyle(document.querySelector('.progress-fill-open'))
                   .backgroundImage"""
        )
        assert same, "the legend's swatch is drawn like the bar's part"
        page.close()


def fill_styles(page: Page) -> dict[str, list[str]]:
    return dict(
        page.evaluate(
            """() => Object.fromEntries(
                 [['done', '.progress-stacked .progress-fill:not(.progress-fill-open)'],
                  ['open', '.progress-stacked .progress-fill-open'],
                  ['swatch-open', '.swatch-open'], ['swatch-done', '.swatch-done']]
                 .map(([k, s]) => { const st = getComputedStyle(document.querySelector(s));
                   return [k, [st.backgroundColor, st.backgroundImage]]; }))"""
        )
    )


def test_print_tells_done_from_in_progress_without_colour(
    browser: Browser, example_build: Path
) -> None:
    page = open_page(browser, (example_build / "stats/index.html").as_uri(), LAPTOP)
    page.emulate_media(media="print")
    styles = fill_styles(page)
    page.close()
    done, open_ = styles["done"], styles["open"]
    assert done != open_
    assert done == ["rgb(0, 0, 0)", "none"], "done prints solid black"
    assert "repeating-linear-gradient" in open_[1], "in progress prints hatched"
    assert "rgb(0, 0, 0)" in open_[1] and "rgb(255, 255, 255)" in open_[1]
    assert styles["swatch-open"] == open_ and styles["swatch-done"] == done


# ---------------------------------------------------------------------------------------------
# 404 at any depth


def not_found_handler(page_404: Path) -> type[http.server.SimpleHTTPRequestHandler]:
    """A static server that answers every missing path with the site's root 404.html, as
    nginx's ``error_page 404`` and Apache's ``ErrorDocument 404`` do."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def send_error(
            self, code: int, message: str | None = None, explain: str | None = None
        ) -> None:
            if code != 404:
                super().send_error(code, message, explain)
                return
            body = page_404.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serve(www: Path, site_root: Path) -> Iterator[str]:
    handler = functools.partial(not_found_handler(site_root / "404.html"), directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def stylesheet_applied(page: Page) -> bool:
    """The site's stylesheet lays the body out as a column (browsers default to a block)."""
    return bool(page.evaluate("getComputedStyle(document.body).display") == "flex")


def check_404(browser: Browser, missing: str, home: str) -> None:
    """The 404 page at ``missing`` is styled, its links lead into the site, and nothing it
    asks for fails."""
    page = browser.new_page(viewport={"width": PHONE, "height": 800})
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    response = page.goto(missing)
    assert response is not None and response.status == 404
    assert stylesheet_applied(page)
    assert failed == [missing], f"requests that failed: {failed}"
    hrefs = page.evaluate("[...document.querySelectorAll('a.brand, main a')].map(a => a.href)")
    assert hrefs and all(h == home + "index.html" for h in hrefs), hrefs
    page.locator("main a").first.click()
    page.wait_for_load_state()
    assert page.url == home + "index.html"
    assert page.locator(".site-header").count() == 1
    page.close()


def site_with_base_url(make_site: SiteBuilder, base_url: str) -> Path:
    site_yaml = SITE_YAML + f"base_url: {base_url}\n"
    report, out = make_site({"profiles/2025/a.md": profile()}, site_yaml=site_yaml)
    assert report.ok, report.diagnostics
    return out


def test_404_at_any_depth_on_a_site_at_the_server_root(
    browser: Browser, make_site: SiteBuilder
) -> None:
    out = site_with_base_url(make_site, "https://intranet.example.com")
    with serve(out, out) as origin:
        check_404(browser, origin + "/a/b/c/missing.html", origin + "/")
        check_404(browser, origin + "/missing.html", origin + "/")


def test_404_under_the_sub_path_of_base_url_at_any_depth(
    browser: Browser, make_site: SiteBuilder, tmp_path: Path
) -> None:
    out = site_with_base_url(make_site, "https://intranet.example.com/showcase")
    html = (out / "404.html").read_text(encoding="utf-8")
    assert html.index('<base href="/showcase/">') < html.index('rel="stylesheet"')
    assert "<script" not in html
    root = tmp_path / "www" / "showcase"
    shutil.copytree(out, root)
    with serve(tmp_path / "www", root) as origin:
        check_404(browser, origin + "/showcase/a/b/c/missing.html", origin + "/showcase/")
        check_404(browser, origin + "/showcase/profiles/2099/x/index.html", origin + "/showcase/")


def test_404_without_base_url_works_in_the_root_folder_under_a_sub_path(
    browser: Browser, example_build: Path, tmp_path: Path
) -> None:
    assert "<base" not in (example_build / "404.html").read_text(encoding="utf-8")
    root = tmp_path / "www" / "intranet" / "showcase"
    shutil.copytree(example_build, root)
    with serve(tmp_path / "www", root) as origin:
        home = origin + "/intranet/showcase/"
        check_404(browser, home + "missing.html", home)


def test_404_opened_from_disk_is_styled(browser: Browser, example_build: Path) -> None:
    page = open_page(browser, (example_build / "404.html").as_uri(), PHONE)
    assert stylesheet_applied(page)
    assert page.evaluate("document.querySelector('main a').href") == (
        (example_build / "index.html").as_uri()
    )
    page.close()
