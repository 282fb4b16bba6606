"""A preview's rebuild that plans its pages anew (a story added or removed, a unit renamed)
hands them over to be made on demand while it makes them: the browsers reload then, and are
served the pages the rebuild is about to write, byte for byte."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import Browser

import generator.build as building
from generator import pages
from generator.base.config import CACHE_DIR, BuildOptions
from generator.base.errors import Diagnostic
from generator.base.report import BuildReport
from generator.cli import serve
from generator.output import cache
from generator.output.ondemand import OnDemand, PlannedPages
from generator.pages import Family
from generator.pages.base import PageJob
from generator.site.model import Site
from generator.site.urls import UrlPlan
from tests.conftest import profile
from tests.golden import SOURCE_DATE_EPOCH
from tests.scale import write_corpus
from tests.test_serve import (
    _paged_serve,
    closed_after,
    fetch,
    free_port,
    start,
    wait_until,
)

NEW_STORY = "profiles/2025/zz-new.md"
STORY_PAGE = "profiles/2025/xin-lai-ren/index.html"  # its name, 新来人, in pinyin
DETAILS = "generator.pages.details"  # the family of the items' own pages


def _newest(name: str, unit: str = "branch") -> str:
    """A profile dated after every other of the site: it heads its lists."""
    return profile(name=name, unit=unit, extra="date: 2025-12-31\n")


EXAMPLE_UNIT = "caiyou-1-beiqu-zhibu-1"  # a party branch of the example site


def _is_index_file(path: str) -> bool:
    return path == "search/index.js" or path.startswith("search/t/")


def _recording_families(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The modules of the families of pages planned from now on, in the order planned."""
    planned: list[str] = []

    def recording(family: Family) -> Family:
        def plan(site: Site, urls: UrlPlan) -> Iterator[PageJob]:
            planned.append(family.__module__)
            return family(site, urls)

        return plan

    wrapped = {family: recording(family) for family in pages.FAMILIES}
    monkeypatch.setattr(pages, "FAMILIES", tuple(wrapped.values()))
    monkeypatch.setattr(pages.details, "pages", wrapped[pages.details.pages])
    return planned


def test_the_pages_handed_over_are_the_pages_the_rebuild_writes(
    example_build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example site with a story added: the pages are handed over before the rebuild
    plans them, and the story's own page is then planned alone; every page and copied file
    made on demand is the file the rebuild then wrote, photos included; only the search
    index's files are left to the build. A rebuild of a changed body, which keeps the pages
    planned, hands nothing over; nor does a first build."""
    monkeypatch.setattr(building, "PREVIEW_FROM", 1)
    planned = _recording_families(monkeypatch)
    first: list[tuple[list[str], bool]] = []  # the families planned at the hand-over, and after

    def taken(pages: OnDemand) -> None:
        handed.append(pages)
        before = list(planned)
        made = pages.get(STORY_PAGE)
        first.append((before, made is not None and planned[len(before) :] == [DETAILS]))

    monkeypatch.setenv("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
    source = tmp_path / "site"
    shutil.copytree(example_build.parent / "site_content", source)
    out = tmp_path / "out"
    options = BuildOptions(source=source, output=out, cache_dir=tmp_path / "c")
    store = cache.Cache.open(options.cache_dir, remember=True)
    handed: list[OnDemand] = []
    try:
        assert building.build(options, store=store, previewed=handed.append).ok
        assert handed == []  # nothing served yet to show meanwhile
        (source / NEW_STORY).write_text(_newest("新来人", EXAMPLE_UNIT), encoding="utf-8")
        changed = frozenset({NEW_STORY})
        planned.clear()
        report = building.build(options, store=store, changed=changed, previewed=taken)
        assert report.ok and len(handed) == 1 and first == [([], True)]
        pages = handed[0]
        later = 0
        for path in sorted(pages.jobs):
            made = pages.get(path)
            if made is None:
                assert _is_index_file(path), path
                later += 1
                continue
            assert made == (out / path).read_bytes(), path
        assert later >= 2 and any("新来人" in (out / p).read_text("utf-8") for p in pages.jobs)
        written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
        # the 404 page answers what the pages lack: the build writes nothing else
        assert written - set(pages.jobs) - set(pages.files.paths) == {".showcase-build"}
        photos = [p for p in pages.files.paths if p.endswith(".jpg")]
        assert photos and all(pages.get(p) == (out / p).read_bytes() for p in pages.files.paths)
        edited = _newest("新来人", EXAMPLE_UNIT) + "又一句。\n"
        (source / NEW_STORY).write_text(edited, encoding="utf-8")
        assert building.build(options, store=store, changed=changed, previewed=handed.append).ok
        assert len(handed) == 1  # the same pages: none handed over
    finally:
        store.close()


def test_a_site_smaller_than_preview_from_or_of_its_own_templates_hands_nothing_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, _out, state = _paged_serve(tmp_path)
    handed: list[OnDemand] = []
    options = state.options
    with closed_after(state):
        (source / NEW_STORY).write_text(_newest("新来人"), encoding="utf-8")
        changed = frozenset({NEW_STORY})
        assert building.build(
            options, store=state.store, changed=changed, previewed=handed.append
        ).ok
        assert handed == []  # a small site: fewer documents than PREVIEW_FROM
        monkeypatch.setattr(building, "PREVIEW_FROM", 1)
        (source / "theme/templates").mkdir(parents=True)
        (source / NEW_STORY).unlink()
        assert building.build(options, store=state.store, changed=None, previewed=handed.append).ok
        assert handed == []  # its own theme folder: its templates render in the workers alone
        shutil.rmtree(source / "theme")
        (source / NEW_STORY).write_text(_newest("又来人"), encoding="utf-8")
        assert building.build(options, store=state.store, changed=None, previewed=handed.append).ok
        assert len(handed) == 1


def _warned_serve(tmp_path: Path) -> tuple[Path, Path, serve.ServeState]:
    """A site whose lists run over several pages, with a warning (an unknown field), built
    once by a preview's state."""
    warned = {"profiles/2025/p0.md": profile(name="员工0", extra="colour: red\n")}
    source, out, state = _paged_serve(tmp_path, warned)
    assert state.report is not None and state.report.diagnostics
    return source, out, state


def _call(app: object, path: str) -> tuple[str, bytes]:
    found: list[str] = []
    chunks = app({"PATH_INFO": path}, lambda status, _headers: found.append(status))  # type: ignore[operator]
    return found[0], b"".join(chunks)


STORY = "/profiles/2025/xin-lai-ren/"  # the new story's page: its name, 新来人, in pinyin


def test_a_new_story_is_served_made_on_demand_and_reloads_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the rebuild runs, the browsers reload once the pages are handed over: the new
    story's page (asked for by its folder), the theme's styles, the later pages of its lists
    are served made on demand before the rebuild wrote them, as it then serves them (the
    last build's warnings panel included); the story's page and the styles plan the items'
    own pages alone; a path nobody has gets the site's 404 page; no reload follows."""
    monkeypatch.setattr(building, "PREVIEW_FROM", 1)
    source, out, state = _warned_serve(tmp_path)
    app = serve.make_app(state)
    wanted = (STORY, "/assets/css/site.css", "/profiles/page/2/", "/", "/favicon.ico")
    seen: dict[str, tuple[str, bytes]] = {}
    reloads: list[str] = []
    planned = _recording_families(monkeypatch)
    first: list[list[str]] = []  # the families planned for the story's page and the styles

    def reload(path: str = "*") -> None:
        reloads.append(path)
        if len(reloads) == 1:
            assert state.during is not None and not (out / STORY[1:]).exists()
            planned.clear()
            seen.update((path, _call(app, path)) for path in wanted[:2])
            first.append(list(planned))
            seen.update((path, _call(app, path)) for path in wanted[2:])

    with closed_after(state):
        (source / NEW_STORY).write_text(_newest("新来人"), encoding="utf-8")
        assert serve.rebuild_and_reload(state, frozenset({NEW_STORY}), reload).ok
        assert reloads == ["*"] and state.during is None and first == [[DETAILS]]
        story = seen[STORY][1].decode("utf-8")
        assert "新来人" in story and serve.WARNINGS_ID in story
        assert seen["/favicon.ico"][0].startswith("404") and b"<html" in seen["/favicon.ico"][1]
        assert all(_call(app, path) == seen[path] for path in wanted), reloads


def test_pages_handed_over_move_into_the_folder_in_one_move(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the pages planned anew were handed over, the browsers are served those until
    the rebuild ends: its pages move into the folder in one move, the later pages of lists
    with the first ones (without a hand-over, they follow in a second move)."""
    monkeypatch.setattr(building, "FRONT_FROM", 1)
    source, out, state = _paged_serve(tmp_path)
    later = out / "profiles/page/2/index.html"
    moved: list[bool] = []  # whether page 2 of the list had moved in when the pages were shown
    with closed_after(state):
        for preview_from, name in ((10**9, "新来人"), (1, "又来人")):
            monkeypatch.setattr(building, "PREVIEW_FROM", preview_from)
            before = later.read_bytes()
            (source / NEW_STORY).write_text(_newest(name), encoding="utf-8")
            report = state.rebuild(
                persist=False,
                changed=frozenset({NEW_STORY}),
                shown=lambda: moved.append(later.read_bytes() != before),  # noqa: B023
                previewed=lambda: None,
            )
            assert report.ok and later.read_bytes() != before
        assert moved == [False, True]


def test_a_removed_story_a_file_of_the_search_index_and_a_fault_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A story taken away: while the rebuild runs, its page is the site's 404 page, and no
    reload follows. A file of the search index is served from the folder (its documents
    numbered as the folder's manifest numbers them): the browsers reload again at the end.
    A fault of the tool after the pages were handed over reloads them again too."""
    monkeypatch.setattr(building, "PREVIEW_FROM", 1)
    source, _out, state = _warned_serve(tmp_path)
    app = serve.make_app(state)
    asked: list[str] = []
    seen: dict[str, tuple[str, bytes]] = {}
    reloads: list[str] = []

    def reload(path: str = "*") -> None:
        reloads.append(path)
        if len(reloads) == 1:
            seen.update((path, _call(app, path)) for path in asked)

    with closed_after(state):
        (source / NEW_STORY).write_text(_newest("新来人"), encoding="utf-8")
        assert serve.rebuild_and_reload(state, frozenset({NEW_STORY}), lambda *_: None).ok
        asked.append(STORY)
        (source / NEW_STORY).unlink()
        assert serve.rebuild_and_reload(state, frozenset({NEW_STORY}), reload).ok
        assert reloads == ["*"] and seen[STORY][0].startswith("404")
        reloads.clear()
        asked[:] = ["/search/x/0.js"]  # what the newest document's result shows
        (source / NEW_STORY).write_text(_newest("又来人"), encoding="utf-8")
        assert serve.rebuild_and_reload(state, frozenset({NEW_STORY}), reload).ok
        assert reloads == ["*", "*"] and seen[asked[0]][0].startswith("200")
        reloads.clear()

        def fault(*_args: object, **_kwargs: object) -> None:
            raise RuntimeError("a bug")

        monkeypatch.setattr(building, "_plan_work", fault)
        (source / NEW_STORY).unlink()
        with pytest.raises(RuntimeError):
            serve.rebuild_and_reload(state, frozenset({NEW_STORY}), reload)
        assert reloads == ["*", "*"] and state.during is None
        reloads.clear()
        monkeypatch.setattr(building, "_prepare", fault)  # before the hand-over
        with pytest.raises(RuntimeError):
            serve.rebuild_and_reload(state, frozenset({NEW_STORY}), reload)
        assert reloads == []  # the browsers still show the folder's pages


def _report(
    ok: bool = True, warnings: tuple[str, ...] = (), language: str = "zh-CN"
) -> BuildReport:
    found = [Diagnostic.warning(f"profiles/{w}.md", 1, "unknown-field", w) for w in warnings]
    if not ok:
        found.append(Diagnostic.error("site.yaml", 1, "yaml-syntax", problem="x"))
    return BuildReport(ok=ok, diagnostics=tuple(found), language=language)


def test_the_pages_made_meanwhile_reload_at_the_end_when_what_they_showed_changed() -> None:
    """Pages served during a rebuild carry the last good build's warnings: they stay when
    both builds are good with the same warnings, and reload after an error, before or now,
    other warnings, or another language (its words around the pages)."""
    assert serve._same_panel(_report(warnings=("a",)), _report(warnings=("a",)))
    assert not serve._same_panel(None, _report())
    assert not serve._same_panel(_report(ok=False), _report())
    assert not serve._same_panel(_report(), _report(ok=False))
    assert not serve._same_panel(_report(warnings=("a",)), _report(warnings=("b",)))
    assert not serve._same_panel(_report(), _report(language="en"))


def test_a_browser_reloaded_during_the_rebuild_shows_the_new_story_and_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, browser: Browser
) -> None:
    """Headless Chromium, told to reload once the rebuild has handed its pages over, opens
    the new story's page before the rebuild wrote it; the rebuild then ends without another
    reload (what the browser asked for besides, its icon, the folder has not either)."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

    monkeypatch.setattr(building, "PREVIEW_FROM", 1)
    source, out, state = _paged_serve(tmp_path)
    server = make_server("127.0.0.1", 0, serve.make_app(state), handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    story = f"http://127.0.0.1:{server.server_port}/profiles/2025/xin-lai-ren/"
    page = browser.new_page()
    reloads: list[tuple[str, bool, str]] = []

    def reload(path: str = "*") -> None:  # the browser opens the page at the first reload
        if not reloads:
            page.goto(story)
            page.wait_for_load_state("load")
        written = (out / "profiles/2025/xin-lai-ren").exists()
        reloads.append((path, written, page.locator("h1").first.inner_text()))

    try:
        (source / NEW_STORY).write_text(_newest("新来人"), encoding="utf-8")
        assert serve.rebuild_and_reload(state, frozenset({NEW_STORY}), reload).ok
        assert reloads == [("*", False, "新来人")]
    finally:
        page.close()
        server.shutdown()
        server.server_close()
        state.persist()
        if state.store is not None:
            state.store.close()


def test_pages_are_planned_a_family_at_a_time_as_far_as_a_page_asked_for_needs() -> None:
    planned: list[str] = []

    def family(name: str, *paths: str) -> Callable[[], list[Any]]:
        def plan() -> list[Any]:
            planned.append(name)
            return [SimpleNamespace(path=path) for path in paths]

        return plan

    found = PlannedPages([family("items", "a/x/index.html"), family("lists", "a/index.html")])
    assert found["a/x/index.html"].path == "a/x/index.html" and planned == ["items"]
    assert "a/index.html" in found and planned == ["items", "lists"]
    assert "nowhere.html" not in found and found.get("nowhere.html") is None
    assert sorted(found) == ["a/index.html", "a/x/index.html"] and len(found) == 2
    assert planned == ["items", "lists"]  # each family planned once
    calls: list[int] = []

    def fails_once() -> list[Any]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a bug")
        return [SimpleNamespace(path="b/index.html")]

    found = PlannedPages([fails_once])
    with pytest.raises(RuntimeError):
        found.get("b/index.html")
    assert found["b/index.html"].path == "b/index.html"  # tried again, not lost


class _Pages:
    """What ``serve._preview_target`` asks of the pages handed over: their copied files and
    whether they hold a path; each page looked for is counted."""

    def __init__(self, pages: set[str], files: set[str], fails: bool = False) -> None:
        self.files = SimpleNamespace(paths=files)
        self.pages = pages
        self.fails = fails
        self.looked: list[str] = []

    def holds(self, path: str) -> bool:
        if path in self.files.paths:
            return True
        self.looked.append(path)
        if self.fails:
            raise RuntimeError("a family of pages that fails to plan")
        return path in self.pages


def test_what_a_request_names_among_the_pages_handed_over() -> None:
    """A copied file, even without a suffix or asked with a slash, is found without looking
    for a page; a folder's page is looked for before a file of its name; the root asked as
    ``/..`` is the root; a path none has is the 404 page; a family that fails to plan
    leaves the request to the folder."""
    pages = _Pages({"index.html", "a/b/index.html"}, {"CNAME", "assets/x.css"})
    target = serve._preview_target
    assert target(pages, "/CNAME") == ("200 OK", "CNAME")  # type: ignore[arg-type]
    assert target(pages, "/CNAME/") == ("200 OK", "CNAME")  # type: ignore[arg-type]
    assert target(pages, "/assets/x.css") == ("200 OK", "assets/x.css")  # type: ignore[arg-type]
    assert pages.looked == []
    assert target(pages, "/a/b/") == ("200 OK", "a/b/index.html")  # type: ignore[arg-type]
    assert pages.looked == ["a/b/index.html"]
    assert target(pages, "/a/b")[0].startswith("301")  # type: ignore[arg-type]
    assert target(pages, "/..") == ("301 Moved Permanently", "/")  # type: ignore[arg-type]
    assert target(pages, "/no/such") == ("404 Not Found", "404.html")  # type: ignore[arg-type]
    failing = _Pages(set(), set(), fails=True)
    started: list[str] = []
    answer = serve._from_rebuild(lambda status, _h: started.append(status), failing, "/a/", None)  # type: ignore[arg-type]
    assert answer is None and started == [] and failing.looked


def test_the_root_asked_as_a_folder_without_its_slash_is_the_root(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<html></html>", encoding="utf-8")
    assert serve._served_file(tmp_path, "/..") == ("301 Moved Permanently", "/")


def test_a_story_saved_while_a_large_site_is_served_shows_after_one_reload(
    tmp_path: Path, browser: Browser
) -> None:
    """`showcase serve` on a generated site of ``PREVIEW_FROM`` documents and more, in
    Chromium: the address of a story not written yet is the site's 404 page; once the story
    is saved, the browser reloads and shows it before the rebuild has written it, and no
    other reload follows once the rebuild is done."""
    source = write_corpus(tmp_path / "site", building.PREVIEW_FROM + 100)
    newest = max(path for path in (source / "profiles").iterdir() if path.is_dir())
    model = min(newest.glob("*.md")).read_text(encoding="utf-8")
    story = re.sub(r"(?m)^date: .*$", f"date: {newest.name}-12-31", model)
    story = re.sub(r"(?m)^name: .*$", "name: 新来人", story)
    year = re.findall(r"(?m)^year: (\d+)$", story)[0]
    address = f"profiles/{year}/xin-lai-ren/"  # its name in pinyin
    port = free_port()
    proc = start([str(source), "--port", str(port)], tmp_path)
    base = f"http://127.0.0.1:{port}/"
    served = source / CACHE_DIR / "serve-site"
    page = browser.new_page()
    loads: list[bool] = []  # at each page load: whether the rebuild had written the story
    page.on("load", lambda _page: loads.append((served / address).exists()))
    try:
        wait_until(lambda: fetch(base + "search/index.js")[0] == 200, timeout=120)
        response = page.goto(base + address)
        assert response is not None and response.status == 404
        page.wait_for_function("() => window.LiveReload && window.LiveReload.connector.protocol")
        manifest = (served / "search/index.js").read_bytes()
        (newest / "zz-new.md").write_text(story, encoding="utf-8")
        page.wait_for_function("() => document.querySelector('h1').innerText.includes('新来人')")
        wait_until(lambda: (served / "search/index.js").read_bytes() != manifest, timeout=60)
        page.wait_for_timeout(1500)  # a reload at the end of the rebuild would have come
        assert loads == [False, False]  # the 404 page, then the story made on demand
    finally:
        page.close()
        proc.terminate()
        proc.communicate(timeout=30)


def test_the_page_of_an_item_whose_name_changed_sends_the_browser_to_its_new_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A browser showing a story whose name (so its address) changed reloads into the
    story's new page, not the 404 page: while the rebuild runs (pages handed over) and after
    it; renamed again, the first address goes to the last page; renamed back, it is served
    again, and an address nothing had is still a 404."""
    source, _out, state = _paged_serve(tmp_path)
    app = serve.make_app(state)
    story = "profiles/2025/p1.md"
    first = building.planned_pages(state.store)[story]
    old = "/" + first.removesuffix("index.html")
    seen: list[tuple[str, bytes]] = []
    with closed_after(state):
        (source / story).write_text(profile(name="先改的名字"), encoding="utf-8")
        report = serve.rebuild_and_reload(  # a small site: reloaded once the pages moved in
            state, frozenset({story}), lambda *_: seen.append(_call(app, old))
        )
        assert report.ok and seen and all(status.startswith("302") for status, _ in seen)
        seen.clear()
        monkeypatch.setattr(building, "PREVIEW_FROM", 1)
        (source / story).write_text(profile(name="新名字"), encoding="utf-8")
        report = serve.rebuild_and_reload(
            state, frozenset({story}), lambda *_: seen.append(_call(app, old))
        )
        assert report.ok
        second = building.planned_pages(state.store)[story]
        assert second != first and seen[0][0].startswith("302")
        assert _call(app, old)[0].startswith("302") and _call(app, old.rstrip("/"))[0].startswith(
            "302"
        )
        status, _body = _call(app, "/" + second.removesuffix("index.html"))
        assert status.startswith("200")
        (source / story).write_text(profile(name="又一个名字"), encoding="utf-8")
        assert state.rebuild(changed=frozenset({story})).ok
        third = building.planned_pages(state.store)[story]
        found = serve._moved_to(state, old)
        assert found == "/" + third.removesuffix("index.html")
        (source / story).write_text(profile(name="员工1"), encoding="utf-8")
        assert state.rebuild(changed=frozenset({story})).ok
        assert _call(app, old)[0].startswith("200")
        assert _call(app, "/profiles/2025/nobody/")[0].startswith("404")
