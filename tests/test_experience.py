"""The employees' experience in a real browser (Debian's Chromium driven by Playwright) on the
built example site served on loopback: search in Chinese with filters, every page kind at phone
width without horizontal scrolling, print, accessibility (axe-core), JavaScript turned off, and
no request outside the site. Screenshots for reviewers go to test-artifacts/screenshots/."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.conftest import ROOT

AXE = ROOT / "tests" / "vendor" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PHONE, DESKTOP, WIDE = 360, 1280, 1920


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Site:
    base: str  # http://127.0.0.1:PORT/intranet/showcase/
    root: Path
    kinds: dict[str, str] = field(default_factory=dict)  # page kind -> path below base


def _first(root: Path, pattern: str) -> str:
    found = sorted(p.relative_to(root).as_posix() for p in root.glob(pattern))
    assert found, pattern
    return found[0]


@pytest.fixture(scope="module")
def site(example_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    www = tmp_path_factory.mktemp("www")
    root = www / "intranet" / "showcase"
    shutil.copytree(example_build, root)
    handler = functools.partial(QuietHandler, directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kinds = {
        "home": "index.html",
        "list": "profiles/index.html",
        "profile": _first(root, "profiles/*/*/index.html"),
        "report": _first(root, "reports/*/*/index.html"),
        "pledge": _first(root, "pledges/*/*/index.html"),
        "units": "units/index.html",
        "unit": "units/caiyou-1/index.html",
        "unit-year": _first(root, "units/caiyou-1/*/index.html"),
        "years": "years/index.html",
        "year": _first(root, "years/*/index.html"),
        "tags": "tags/index.html",
        "tag": _first(root, "tags/*/index.html"),
        "page": _first(root, "pages/*/index.html"),
        "search": "search/index.html?q=" + quote("劳动模范"),
        "404": "404.html",
    }
    if (root / "stats/index.html").is_file():
        kinds["stats"] = "stats/index.html"
    try:
        yield Site(f"http://127.0.0.1:{server.server_address[1]}/intranet/showcase/", root, kinds)
    finally:
        server.shutdown()
        server.server_close()


class Visitor:
    """A browser context that records every request and every script error."""

    def __init__(self, browser: Browser, width: int = DESKTOP, javascript: bool = True) -> None:
        self.context: BrowserContext = browser.new_context(
            viewport={"width": width, "height": 800}, java_script_enabled=javascript
        )
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", lambda r: self.requests.append(r.url))

    def open(self, url: str) -> Page:
        page = self.context.new_page()
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.goto(url)
        page.wait_for_load_state("load")
        return page

    def close(self, allowed: str) -> None:
        self.context.close()
        outside = [u for u in self.requests if not u.startswith(allowed)]
        assert outside == [], f"requests outside the site: {outside}"
        assert self.errors == [], self.errors


@pytest.fixture
def visitor(browser: Browser, site: Site) -> Iterator[Visitor]:
    v = Visitor(browser)
    yield v
    v.close(site.base)


def results(page: Page) -> list[str]:
    """The titles of the results, once they and their excerpts are shown."""
    page.wait_for_function(
        "document.getElementById('search-status').textContent.length > 0"
        " && document.getElementById('search-results').getAttribute('aria-busy') !== 'true'"
    )
    return page.locator("#search-results .result-title").all_inner_texts()


# ---------------------------------------------------------------------------------------------
# search


def test_search_finds_a_worker_by_a_two_character_name(visitor: Visitor, site: Site) -> None:
    page = visitor.open(site.base + "search/index.html?q=" + quote("王建国"))
    found = results(page)
    assert found[:2] == ["王建国", "王建国"]  # two workers share the name; both come first
    assert page.locator("#search-results mark").first.inner_text() == "王建国"


def test_search_finds_a_worker_by_a_single_surname(visitor: Visitor, site: Site) -> None:
    page = visitor.open(site.base + "search/index.html?q=" + quote("王"))
    assert results(page)[:2] == ["王建国", "王建国"]


def test_search_finds_a_worker_by_a_phrase_from_the_story(visitor: Visitor, site: Site) -> None:
    page = visitor.open(site.base + "search/index.html?q=" + quote("党员积分管理"))
    assert "邓志远" in results(page)
    excerpt = page.locator(".search-result", has_text="邓志远").locator(".result-excerpt")
    assert "积分管理" in "".join(excerpt.locator("mark").all_inner_texts())


def test_search_finds_workers_by_honour_and_the_unit_filter_narrows(
    visitor: Visitor, site: Site
) -> None:
    page = visitor.open(site.base + "search/index.html?q=" + quote("劳动模范"))
    everyone = results(page)
    assert {"查海生", "丁卫东", "王建国"} <= set(everyone)
    assert everyone.count("王建国") == 2  # the oil-production one and the drilling one
    page.select_option("#search-unit", "caiyou-1")  # 第一采油厂 and every unit below it
    page.wait_for_function(f"document.querySelectorAll('.search-result').length < {len(everyone)}")
    narrowed = results(page)
    assert {"查海生", "丁卫东"} <= set(narrowed) and narrowed.count("王建国") == 1
    metas = page.locator("#search-results .result-meta").all_inner_texts()
    assert not any("钻井" in m for m in metas), metas
    assert "unit=caiyou-1" in page.url  # the filtered search can be bookmarked
    page.select_option("#search-kind", "report")
    page.wait_for_function(
        "[...document.querySelectorAll('.search-result')]"
        ".every(li => li.classList.contains('result-report'))"
    )


def test_year_filter_and_no_results_message(visitor: Visitor, site: Site) -> None:
    page = visitor.open(site.base + "search/index.html?q=" + quote("王建国") + "&year=2023")
    page.wait_for_function("document.getElementById('search-status').textContent.length > 0")
    assert "王建国" not in results(page)[:1]
    page = visitor.open(site.base + "search/index.html?q=" + quote("采油") + "&year=2025")
    page.wait_for_function("document.getElementById('search-status').textContent.length > 0")
    assert results(page) and "在2025年共找到" in page.locator("#search-status").inner_text()
    page = visitor.open(site.base + "search/index.html?q=" + quote("完全不存在的词语"))
    page.wait_for_function("document.getElementById('search-status').textContent.length > 0")
    assert results(page) == []
    assert "没有找到" in page.locator("#search-status").inner_text()


def test_the_header_search_box_leads_to_results(visitor: Visitor, site: Site) -> None:
    page = visitor.open(site.base + site.kinds["profile"])
    page.fill("#site-search-q", "采油")
    page.press("#site-search-q", "Enter")
    page.wait_for_url("**/search/index.html?q=*")
    assert len(results(page)) > 3
    assert page.input_value("#search-q") == "采油"


def test_search_works_from_file_urls(browser: Browser, example_build: Path) -> None:
    v = Visitor(browser)
    page = v.open((example_build / "index.html").as_uri())
    page.fill("#site-search-q", "邓志远")
    page.press("#site-search-q", "Enter")
    page.wait_for_url("**/search/index.html?q=*")
    assert results(page)[0] == "邓志远"
    page.locator("#search-results a").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").first.inner_text().startswith("邓志远")
    v.close(example_build.as_uri())


# ---------------------------------------------------------------------------------------------
# every screen


def no_horizontal_scroll(page: Page) -> bool:
    return bool(
        page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


@pytest.mark.parametrize("width", [PHONE, 768, WIDE])
def test_no_page_kind_scrolls_sideways(browser: Browser, site: Site, width: int) -> None:
    v = Visitor(browser, width)
    wide = []
    for kind, path in site.kinds.items():
        page = v.open(site.base + path)
        if not no_horizontal_scroll(page):
            wide.append((kind, page.evaluate("document.documentElement.scrollWidth")))
        page.close()
    v.close(site.base)
    assert wide == [], f"pages wider than {width}px: {wide}"


def test_print_hides_navigation_and_shows_link_targets(visitor: Visitor, site: Site) -> None:
    for kind in ("home", "profile", "report"):
        page = visitor.open(site.base + site.kinds[kind])
        page.emulate_media(media="print")
        for selector in (".site-nav", ".site-search", ".skip-link", ".site-footer nav"):
            if page.locator(selector).count():
                assert not page.locator(selector).first.is_visible(), (kind, selector)
        assert page.locator("main h1").first.is_visible()
        page.close()


def test_pages_are_readable_with_javascript_off(browser: Browser, site: Site) -> None:
    v = Visitor(browser, javascript=False)
    for kind, path in site.kinds.items():
        page = v.open(site.base + path)
        assert page.locator("main h1").first.is_visible(), kind
        assert len(page.locator("main").inner_text()) > 10, kind
        page.close()
    page = v.open(site.base + "search/index.html")
    assert "JavaScript" in page.locator("main").inner_text()  # says why search is empty
    page.close()
    v.close(site.base)


def test_skip_link_is_the_first_stop_for_the_keyboard(visitor: Visitor, site: Site) -> None:
    page = visitor.open(site.base + site.kinds["profile"])
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert focused == "skip-link"
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


def test_photos_load_in_their_resized_sizes(visitor: Visitor, site: Site) -> None:
    page = visitor.open(site.base + "profiles/index.html")
    cards = page.locator("img.photo-card")
    assert cards.count() > 0
    for n in range(cards.count()):
        img = cards.nth(n)
        assert img.get_attribute("loading") == "lazy"
        assert img.get_attribute("srcset") and img.get_attribute("width")
        assert img.get_attribute("alt"), "a photo's alt is the person's name and unit"
    cards.first.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector('img.photo-card').complete")
    assert page.evaluate("document.querySelector('img.photo-card').naturalWidth") in (240, 480)
    assert page.locator(".photo-placeholder").count() > 0  # workers without a photo


# ---------------------------------------------------------------------------------------------
# accessibility


def axe_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
          const r = await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                            'best-practice']},
            resultTypes: ['violations'],
          });
          return r.violations.map(v => ({id: v.id, impact: v.impact,
            nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    return found


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_no_serious_accessibility_violation_on_any_page_kind(
    browser: Browser, site: Site, width: int
) -> None:
    assert AXE.is_file(), "tests/vendor/axe.min.js (axe-core from npm) is missing"
    v = Visitor(browser, width)
    serious = {}
    for kind, path in site.kinds.items():
        page = v.open(site.base + path)
        if kind == "search":
            results(page)
        bad = [x for x in axe_violations(page) if x["impact"] in ("serious", "critical")]
        if bad:
            serious[kind] = bad
        page.close()
    v.close(site.base)
    assert serious == {}, serious


# ---------------------------------------------------------------------------------------------
# screenshots for reviewers


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_screenshots_for_reviewers(browser: Browser, site: Site, width: int) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    v = Visitor(browser, width)
    label = "desktop" if width == DESKTOP else "phone"
    for kind in ("home", "profile", "unit", "search"):
        page = v.open(site.base + site.kinds[kind])
        if kind == "search":
            results(page)
        target = SCREENSHOTS / f"{kind}-{label}-{width}.png"
        page.screenshot(path=str(target), full_page=True)
        assert target.stat().st_size > 10_000
        page.close()
    v.close(site.base)
