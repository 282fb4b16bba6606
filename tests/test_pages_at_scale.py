"""Pages stay readable on the generated 5,000-document site: page heights at 360 px in
Chromium, HTML sizes, pagers, the unit pages' recent years. The pages measured are chosen
from the output by size (the largest of each kind), not by name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Browser

WIDTH = 360
HOME_MAX = 6_000  # px at 360 px wide
PAGE_MAX = 20_000
HTML_MAX = 200 * 1024  # bytes
PAGER_MAX = 12  # entries of a pager: previous, numbers, gaps, next


def largest(out: Path, *patterns: str) -> Path:
    found = [p for pattern in patterns for p in out.glob(pattern)]
    assert found, patterns
    return max(found, key=lambda p: (p.stat().st_size, str(p)))


def top_units(source: Path) -> list[str]:
    """The units one level below a root of the generated site's tree."""
    units = yaml.safe_load((source / "units.yaml").read_text(encoding="utf-8"))
    roots = {u["id"] for u in units if not u.get("parent")}
    return [u["id"] for u in units if u.get("parent") in roots]


def sample(source: Path, out: Path) -> list[Path]:
    """Home, every top-level unit page and the largest page of every other kind."""
    pages = [out / "index.html", *(out / "units" / u / "index.html" for u in top_units(source))]
    pages += [
        largest(out, "years/*/index.html"),
        largest(out, "years/*/honours/index.html", "years/*/honours/page/*/index.html"),
        largest(out, "tags/*/index.html", "tags/*/page/*/index.html"),
        largest(out, "units/*/*/index.html", "units/*/*/page/*/index.html"),
        largest(out, "units/index.html"),
        largest(out, "profiles/names/index.html", "profiles/names/page/*/index.html"),
        largest(out, "stats/index.html"),
        largest(out, "stats/*/index.html"),
    ]
    for folder in ("profiles", "reports", "pledges"):
        pages += [out / folder / "index.html", largest(out, f"{folder}/[0-9]*/*/index.html")]
    return list(dict.fromkeys(pages))


def height(browser: Browser, page_file: Path) -> int:
    page = browser.new_page(viewport={"width": WIDTH, "height": 800})
    try:
        page.goto(page_file.as_uri())
        return int(page.evaluate("document.documentElement.scrollHeight"))
    finally:
        page.close()


def test_home_is_short_on_a_phone(browser: Browser, scale_build: tuple[Path, Path]) -> None:
    _source, out = scale_build
    assert height(browser, out / "index.html") <= HOME_MAX


def test_no_page_is_taller_than_the_limit(browser: Browser, scale_build: tuple[Path, Path]) -> None:
    source, out = scale_build
    pages = sample(source, out)
    assert len(pages) >= 15
    heights = {str(p.relative_to(out)): height(browser, p) for p in pages}
    too_tall = {name: h for name, h in heights.items() if h > PAGE_MAX}
    assert not too_tall, too_tall


def test_no_html_file_is_over_the_limit(scale_build: tuple[Path, Path]) -> None:
    _source, out = scale_build
    sizes = {p: p.stat().st_size for p in out.rglob("*.html")}
    assert len(sizes) > 5_000
    too_big = {str(p.relative_to(out)): s for p, s in sizes.items() if s > HTML_MAX}
    assert not too_big, too_big


def pager(html: str) -> str:
    found = re.search(r'<nav class="pagination"[^>]*>(.*?)</nav>', html, re.S)
    assert found, "no pager"
    return found.group(1)


@pytest.mark.parametrize("number", [1, 2, 7, "middle", "last"])
def test_pagers_are_short_with_gaps(scale_build: tuple[Path, Path], number: int | str) -> None:
    _source, out = scale_build
    pages = sorted(int(p.parent.name) for p in (out / "profiles/page").glob("*/index.html"))
    last = pages[-1]
    assert last > 50
    n = {"middle": last // 2, "last": last}.get(str(number), number)
    assert isinstance(n, int)
    html = (out / ("profiles/index.html" if n == 1 else f"profiles/page/{n}/index.html")).read_text(
        encoding="utf-8"
    )
    nav = pager(html)
    entries = re.findall(r"<(?:a|span)\b[^>]*>[^<]*</(?:a|span)>", nav)
    assert len(entries) <= PAGER_MAX, entries
    assert "…" in nav
    assert re.search(rf'<span aria-current="page">{n}</span>', nav)
    assert re.search(rf">{last}</a>|>{last}</span>", nav)  # the last page is always there
    assert re.search(r">1</a>|>1</span>", nav)


def test_unit_pages_show_recent_years_and_link_all(scale_build: tuple[Path, Path]) -> None:
    source, out = scale_build
    for unit in top_units(source)[:3]:
        html = (out / "units" / unit / "index.html").read_text(encoding="utf-8")
        years = sorted(int(p.name) for p in (out / "units" / unit).iterdir() if p.name.isdigit())
        assert len(years) > 3
        shown = [
            int(y) for y in re.findall(r'<section class="block year-group" [^>]*"y(\d{4})"', html)
        ]
        assert shown == sorted(years, reverse=True)[:3]
        for year in years:
            assert f'href="{year}/index.html"' in html, year
        table = html[html.index('class="fulfilment-table"') : html.index("</table>")]
        head = table[: table.index("</thead>")]
        assert len(re.findall(r"<th scope=\"col\">\d{4}", head)) == 3
        earlier = re.findall(r'href="(\d{4})/index.html#fulfilment"', html)
        assert earlier, "older years of the table are linked"
        for year in earlier:
            older = (out / "units" / unit / year / "index.html").read_text(encoding="utf-8")
            assert 'id="fulfilment"' in older
