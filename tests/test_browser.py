"""The built example site in a real browser (Debian's Chromium driven by Playwright), opened
straight from file:// and from a web server under a sub-path: navigation works and the
browser asks for nothing outside the site."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

from playwright.sync_api import Browser


def visit_and_navigate(browser: Browser, start: str, allowed_prefix: str) -> list[str]:
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(start)
    assert page.locator("h1").first.is_visible()
    # home -> the list of model workers -> the first worker -> their unit
    page.locator(".site-nav a").nth(1).click()
    page.wait_for_load_state()
    assert page.locator(".profile-card").count() > 0
    name = page.locator(".profile-card .card-title").first.inner_text()
    page.locator(".profile-card a").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").first.inner_text().startswith(name)
    css_applied = page.evaluate("getComputedStyle(document.querySelector('.site-header')).display")
    assert css_applied != "inline", "the stylesheet did not load"
    page.locator(".facts dd a").last.click()
    page.wait_for_load_state()
    assert "/units/" in page.url
    assert name in page.content()
    page.close()
    return [u for u in requests if not u.startswith(allowed_prefix)]


def test_site_works_from_file_urls(browser: Browser, example_build: Path) -> None:
    outside = visit_and_navigate(
        browser, (example_build / "index.html").as_uri(), example_build.as_uri()
    )
    assert outside == []


def test_site_works_under_a_sub_path(browser: Browser, example_build: Path, tmp_path: Path) -> None:
    root = tmp_path / "www"
    shutil.copytree(example_build, root / "intranet" / "showcase")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/intranet/showcase/"
        outside = visit_and_navigate(browser, base + "index.html", base)
        assert outside == []
    finally:
        server.shutdown()
        server.server_close()
