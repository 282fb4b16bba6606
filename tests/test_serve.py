"""`showcase serve` for real: a server process, a livereload client, content edits, errors."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from html import escape
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser
from tornado.websocket import websocket_connect

from generator.base.config import BuildOptions
from generator.base.errors import Diagnostic
from generator.base.report import BuildReport
from generator.build import build
from generator.cli import serve, watching
from generator.output import cache
from tests.conftest import ROOT, profile, write_site
from tests.test_output import digest_tree


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        with exc:  # closes the connection of the error response
            return exc.code, exc.read().decode("utf-8")


def start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():  # type: ignore[operator]
                return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[str]]]:
    source = write_site(
        tmp_path / "src",
        {
            "profiles/2025/a.md": profile(body="第一版事迹。"),
            "profiles/2025/b.md": profile(name="李华", extra="draft: true\n"),
        },
    )
    port = free_port()
    proc = start(["src", "--port", str(port)], tmp_path)
    base = f"http://127.0.0.1:{port}/"
    try:
        # the first build is done (until then pages are made as they are asked for)
        wait_until(lambda: fetch(base + "search/index.js")[0] == 200)
        yield base, source, proc
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


async def next_reload(url: str, change: object) -> dict[str, object]:
    ws = await websocket_connect(url)
    ws.write_message(
        json.dumps(
            {"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]}
        )
    )
    hello = json.loads(await ws.read_message())  # type: ignore[arg-type]
    assert hello["command"] == "hello"
    ws.write_message(json.dumps({"command": "info", "url": url}))
    await asyncio.sleep(0.3)
    change()  # type: ignore[operator]
    message = await asyncio.wait_for(ws.read_message(), timeout=10)
    await closed(ws)
    return json.loads(message)  # type: ignore[arg-type, no-any-return]


async def closed(ws: Any) -> None:
    """Close a websocket and wait for the closing handshake, so that its socket is closed
    before the event loop ends (else it is collected later, unclosed, in another test)."""
    ws.close()
    with contextlib.suppress(asyncio.TimeoutError):
        while await asyncio.wait_for(ws.read_message(), timeout=5) is not None:
            pass


def edit(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    stamp = time.time() + 1
    os.utime(path, (stamp, stamp))


def test_serve_rebuilds_reloads_and_shows_errors(
    served: tuple[str, Path, subprocess.Popen[str]],
) -> None:
    base, source, _proc = served
    page = base + "profiles/2025/wang-jin-xi/index.html"
    status, html = fetch(page)
    assert status == 200 and "第一版事迹" in html
    assert "livereload.js" in html  # the reload script is injected
    # drafts are previewed, with their mark
    status, draft = fetch(base + "profiles/2025/li-hua/index.html")
    assert status == 200 and "badge-draft" in draft and "草稿" in draft

    live = base.replace("http:", "ws:") + "livereload"
    file = source / "profiles/2025/a.md"
    message = asyncio.run(next_reload(live, lambda: edit(file, profile(body="第二版事迹。"))))
    assert message["command"] == "reload"
    assert "第二版事迹" in fetch(page)[1]

    # a broken file: the last good page stays, with the error overlay on top
    message = asyncio.run(next_reload(live, lambda: edit(file, profile(unit="nowhere"))))
    assert message["command"] == "reload"
    html = fetch(page)[1]
    assert 'id="showcase-error-overlay"' in html
    assert "profiles/2025/a.md:3" in html and "nowhere" in html and "修改方法" in html
    assert "第二版事迹" in html

    # fixed: the overlay is gone
    asyncio.run(next_reload(live, lambda: edit(file, profile(body="第三版事迹。"))))
    html = fetch(page)[1]
    assert "showcase-error-overlay" not in html and "第三版事迹" in html


def test_serve_serves_nothing_outside_the_output(
    served: tuple[str, Path, subprocess.Popen[str]],
) -> None:
    base, _source, _proc = served
    for path in ("../../etc/passwd", "%2e%2e/%2e%2e/etc/passwd", "..%2f..%2fsite.yaml"):
        status, body = fetch(base + path)
        assert status == 404 and "root:" not in body and "title:" not in body


def test_port_in_use_gives_a_clear_message(tmp_path: Path) -> None:
    write_site(tmp_path / "src", {})
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        proc = start(["src", "--port", str(port)], tmp_path)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert f"端口 {port} 已被占用" in err and "Traceback" not in err
    # the port is checked before anything else is said: no address, no build report
    assert _out == "" and err.strip().count("\n") == 0


def test_the_preview_logs_no_english(tmp_path: Path) -> None:
    write_site(tmp_path / "src", {"profiles/2025/a.md": profile()})
    port = free_port()
    proc = start(["src", "--port", str(port)], tmp_path)
    base = f"http://127.0.0.1:{port}/"
    try:
        wait_until(lambda: fetch(base)[0] == 200)
        assert fetch(base + "favicon.ico")[0] == 404
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert f"预览地址：{base}" in out and "预览已停止" in out
    # said at once, before the first build, which takes a while on a large site
    assert out.index(f"正在准备预览网站，地址 {base}") < out.index("预览地址")
    for english in ("Serving on", "404 GET", "200 GET", "Reload", "Shutting down", "[I ", "[W "):
        assert english not in out + err


def test_a_port_in_use_or_a_host_not_available_is_explained() -> None:
    in_use = serve.bind_failure(OSError(errno.EADDRINUSE, "in use"), "zh-CN", "127.0.0.1", 8000)
    assert in_use == (
        "端口 8000 已被占用（可能已经有一个预览在运行）。请关闭它，或换一个端口："
        "showcase serve --port 8001"
    )
    denied = serve.bind_failure(OSError(errno.EACCES, "denied"), "en", "10.0.0.9", 80)
    assert denied is not None and "10.0.0.9" in denied and "80" in denied
    assert serve.bind_failure(OSError(errno.ENOSPC, "full"), "en", "127.0.0.1", 80) is None


def test_the_watcher_ignores_the_cache_hidden_folders_and_editor_files(tmp_path: Path) -> None:
    wanted = serve.watched(tmp_path)
    assert wanted(None, str(tmp_path / "profiles/2025/a.md"))
    assert wanted(None, str(tmp_path / "units.yaml"))
    assert not wanted(None, str(tmp_path / ".showcase-cache/serve/cache.sqlite"))
    assert not wanted(None, str(tmp_path / ".git/index"))
    assert not wanted(None, str(tmp_path / "profiles/2025/.a.md.swp"))
    assert not wanted(None, str(tmp_path / "profiles/2025/a.md~"))
    assert not wanted(None, str(tmp_path.parent / "elsewhere.md"))


def test_the_watcher_tells_the_build_which_files_changed(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    changes = {
        (1, str(tmp_path / "site/profiles/2025/a.md")),
        (2, str(tmp_path / "site/units.yaml")),
    }
    assert serve.changed_files(tmp_path / "site", changes) == {"profiles/2025/a.md", "units.yaml"}
    assert serve.changed_files(tmp_path / "site", {(1, str(tmp_path / "other.md"))}) is None
    (tmp_path / "site/units.yaml").write_text("", encoding="utf-8")
    (tmp_path / "site/link.md").symlink_to(tmp_path / "site/units.yaml")
    link = {(1, str(tmp_path / "site/link.md"))}
    assert serve.changed_files(tmp_path / "site", link) == {"link.md"}  # not its target


# ---------------------------------------------------------------------------------------------
# the preview answers only itself: Host, websocket Origin, redirects


def _call(app: object, path: str, host: str) -> tuple[str, dict[str, str]]:
    seen: dict[str, object] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    app({"PATH_INFO": path, "HTTP_HOST": host}, start_response)  # type: ignore[operator]
    return str(seen["status"]), seen["headers"]  # type: ignore[return-value]


def test_the_preview_refuses_other_hosts_and_never_redirects_off_site(tmp_path: Path) -> None:
    from generator.base.config import BuildOptions

    source = write_site(tmp_path / "src", {"profiles/2025/a.md": profile()})
    state = serve.ServeState(BuildOptions(source=source, output=tmp_path / "out"))
    assert state.rebuild().ok
    hosts = serve.allowed_hosts("127.0.0.1", 8000)
    app = serve.make_app(state, hosts)
    assert _call(app, "/", "127.0.0.1:8000")[0] == "200 OK"
    assert _call(app, "/", "localhost:8000")[0] == "200 OK"
    assert _call(app, "/", "evil.example:8000")[0].startswith("421")
    assert _call(app, "/", "")[0].startswith("421")
    for path in ("//evil.example/../profiles", "/%2fevil.example%2f..%2fprofiles"):
        status, headers = _call(app, path.replace("%2f", "/"), "127.0.0.1:8000")
        assert status.startswith("301") and headers["Location"] == "/profiles/", headers


def test_origin_rule() -> None:
    hosts = serve.allowed_hosts("0.0.0.0", 8000)
    assert serve.origin_allowed("http://127.0.0.1:8000", hosts)
    assert serve.origin_allowed("http://localhost:8000", hosts)
    assert not serve.origin_allowed("http://evil.example:8000", hosts)
    assert not serve.origin_allowed("null", hosts)
    assert not serve.origin_allowed("http://127.0.0.1:9999", hosts)


def test_the_reload_socket_refuses_other_origins(
    served: tuple[str, Path, subprocess.Popen[str]],
) -> None:
    from tornado.httpclient import HTTPRequest

    base, _source, _proc = served
    url = base.replace("http://", "ws://") + "livereload"

    async def connect(origin: str) -> bool:
        request = HTTPRequest(url, headers={"Origin": origin})
        try:
            ws = await websocket_connect(request)
        except Exception:  # the handshake refused
            return False
        await closed(ws)
        return True

    assert asyncio.run(connect(base.rstrip("/"))) is True
    assert asyncio.run(connect("http://evil.example")) is False


def test_a_start_that_finds_nothing_changed_warms_up_in_the_background(tmp_path: Path) -> None:
    source = write_site(tmp_path / "site", {"profiles/2025/a.md": profile()})
    options = BuildOptions(source=source, output=tmp_path / "out", cache_dir=tmp_path / "cache")
    first = serve.ServeState(options)
    assert first.rebuild().ok and first.warm_up() is None  # it built: memory is warm
    assert first.store is not None
    first.store.close()
    again = serve.ServeState(options)
    assert again.rebuild().ok and again.store is not None
    assert not again.store.memory("jobs")  # nothing read: the last build was up to date
    from generator.output import theme

    theme._COMPILED.clear()  # as in a new process
    thread = again.warm_up()
    assert thread is not None
    thread.join(timeout=60)
    assert again.store.memory("jobs") and again.report is not None and again.report.ok
    # what the first edit would do first is done: templates compiled, search index loaded
    compiled = [kept._code for kept in theme._COMPILED.values()]
    assert compiled and len(compiled[0]) > 10
    assert again.store.memory("search_signatures") and again.store.memory("search_scripts")
    assert again.store._holders is not None  # which files hold each item, listed once
    # the records of the output were read once, and are known from memory from now on
    with sqlite3.connect(tmp_path / "cache" / cache.FILE) as db:
        db.execute("DELETE FROM outputs")
    (source / "profiles/2025/a.md").write_text(profile(body="改过的正文。"), encoding="utf-8")
    edited = again.rebuild(changed=frozenset({"profiles/2025/a.md"}))
    assert first.report is not None and edited.ok and 0 < edited.pages < first.report.pages
    again.store.close()


def test_a_unit_renamed_while_serving_reaches_its_pages_and_the_search(tmp_path: Path) -> None:
    """What serve keeps in memory from build to build (the search manifest, the reads'
    digests) follows a unit renamed: the output equals a clean build's."""
    files = {f"profiles/2025/p{n}.md": profile(name=f"员工{n}") for n in range(3)}
    files["profiles/2025/q.md"] = profile(name="孙立", unit="other-branch")
    source = write_site(tmp_path / "site", files)
    out = tmp_path / "out"
    state = serve.ServeState(BuildOptions(source=source, output=out, cache_dir=tmp_path / "c"))
    try:
        assert state.rebuild().ok
        units = (source / "units.yaml").read_text(encoding="utf-8")
        (source / "units.yaml").write_text(units.replace("常减压车间", "常压车间"), "utf-8")
        assert state.rebuild(changed=frozenset({"units.yaml"})).ok
    finally:
        if state.store is not None:
            state.store.close()
    assert "常压车间党支部" in (out / "search/index.js").read_text(encoding="utf-8")
    assert build(BuildOptions(source=source, output=tmp_path / "clean")).ok
    assert digest_tree(out) == digest_tree(tmp_path / "clean")


def test_a_rebuild_collects_no_garbage_until_the_browsers_have_reloaded(tmp_path: Path) -> None:
    import gc

    source = write_site(tmp_path / "site", {"profiles/2025/a.md": profile()})
    options = BuildOptions(source=source, output=tmp_path / "out", cache_dir=tmp_path / "cache")
    state = serve.ServeState(options)
    collected: list[str] = []
    gc.callbacks.append(lambda phase, _info: collected.append(phase))
    try:
        assert state.rebuild(persist=False).ok
        assert not gc.isenabled() and not collected  # nothing collected while it built
        state.persist()
        assert gc.isenabled() and "stop" in collected
        assert state.rebuild().ok and gc.isenabled()  # a rebuild that persists at once
    finally:
        gc.callbacks.pop()
        gc.enable()
        if state.store is not None:
            state.store.close()


def test_the_browsers_reload_as_soon_as_the_changed_pages_are_in_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an edit of a body, the browsers reload once the changed pages are in the output,
    before the search index follows; again when the rebuild then fails; once when it fails
    before any page moved in."""
    import generator.build as building
    from generator.site import search

    monkeypatch.setattr(building, "IN_PLACE_SHARE", 1)  # every rebuild changes files in place
    files = {f"profiles/2025/p{n}.md": profile(name=f"员工{n}") for n in range(8)}
    source = write_site(tmp_path / "site", files)
    out = tmp_path / "out"
    state = serve.ServeState(BuildOptions(source=source, output=out, cache_dir=tmp_path / "c"))
    assert state.rebuild().ok
    reloads: list[list[bytes]] = []

    def index() -> list[bytes]:  # the manifest and shards of the search index
        shards = sorted((out / search.SHARD_FOLDER).iterdir())
        return [path.read_bytes() for path in (out / search.MANIFEST, *shards)]

    def edit(body: str) -> frozenset[str]:
        (source / "profiles/2025/p1.md").write_text(profile(name="员工1", body=body), "utf-8")
        reloads.clear()
        return frozenset({"profiles/2025/p1.md"})

    def reload() -> None:
        reloads.append(index())

    with closed_after(state):  # the collector on again, as serve leaves it after each rebuild
        before = index()
        assert serve.rebuild_and_reload(state, edit("独一无二的新句子。"), reload).ok
        assert reloads == [before] and index() != before

        def full_disk(_self: object) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(building._Publisher, "_compute_index", full_disk)
        assert not serve.rebuild_and_reload(state, edit("又一句。"), reload).ok
        assert len(reloads) == 2  # the pages, then the error
        (source / "site.yaml").write_text("title: [broken\n", encoding="utf-8")
        assert not serve.rebuild_and_reload(state, edit("再一句。"), reload).ok
        assert len(reloads) == 1


@contextlib.contextmanager
def closed_after(state: serve.ServeState) -> Iterator[serve.ServeState]:
    """``state`` for the block, then left as serve leaves it after a rebuild: persisted (the
    collector on again), and its cache closed."""
    try:
        yield state
    finally:
        state.persist()
        if state.store is not None:
            state.store.close()


def _paged_serve(
    tmp_path: Path, changed: dict[str, str] | None = None
) -> tuple[Path, Path, serve.ServeState]:
    """A site whose lists run over several pages (with the files ``changed`` written
    instead), built once by a preview's state."""
    files = {f"profiles/2025/p{n}.md": profile(name=f"员工{n}") for n in range(12)}
    source = write_site(tmp_path / "site", {**files, **(changed or {})})
    out = tmp_path / "out"
    state = serve.ServeState(BuildOptions(source=source, output=out, cache_dir=tmp_path / "c"))
    assert state.rebuild().ok
    return source, out, state


def test_a_new_story_reloads_the_browsers_then_those_showing_a_later_page_of_a_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new story heading the lists: the browsers reload once the pages it is seen on are
    in the output (the later pages of its lists still as they were), then those showing a
    later page of a list reload once those moved in too; an edit of fewer pages than
    ``FRONT_FROM`` reloads them once."""
    import generator.build as building

    monkeypatch.setattr(building, "FRONT_FROM", 1)
    source, out, state = _paged_serve(tmp_path)
    later = out / "profiles/page/2/index.html"
    before = later.read_bytes()
    reloads: list[tuple[str, bool]] = []

    def reload(path: str = "*") -> None:  # the path told, and whether page 2 moved by then
        reloads.append((path, later.read_bytes() != before))

    newest = profile(name="新来人", extra="date: 2025-12-31\n")
    (source / "profiles/2025/new.md").write_text(newest, encoding="utf-8")
    with closed_after(state):
        assert serve.rebuild_and_reload(state, frozenset({"profiles/2025/new.md"}), reload).ok
        assert reloads == [("*", False), (serve.LATER_PAGES, True)]
        reloads.clear()
        monkeypatch.undo()  # fewer pages than FRONT_FROM: moved in at once
        (source / "profiles/2025/p1.md").write_text(profile(name="员工1", body="新句。"), "utf-8")
        assert serve.rebuild_and_reload(state, frozenset({"profiles/2025/p1.md"}), reload).ok
        assert [path for path, _ in reloads] == ["*"]


def test_a_reload_of_the_later_pages_reloads_only_a_later_page_in_a_browser(
    tmp_path: Path, browser: Browser
) -> None:
    """Headless Chromium: every page serve serves carries the plugin livereload.js takes;
    told ``LATER_PAGES``, a later page of a list reloads and the first page does not; told
    anything else, the plugin leaves it to livereload.js."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

    _source, _out, state = _paged_serve(tmp_path)
    server = make_server("127.0.0.1", 0, serve.make_app(state), handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    told = "(path) => new window.LiveReloadPluginShowcase(window, {}).reload(path, {})"
    try:
        page = browser.new_page()
        for path, reloads in (("/profiles/page/2/", True), ("/profiles/", False)):
            page.goto(base + path)
            page.evaluate("window.marked = true")
            assert page.evaluate(told, "*") is False
            if reloads:
                with page.expect_navigation():
                    assert page.evaluate(told, serve.LATER_PAGES) is True
                assert page.evaluate("window.marked === undefined")
            else:
                assert page.evaluate(told, serve.LATER_PAGES) is True
                page.wait_for_timeout(300)
                assert page.evaluate("window.marked === true")
        page.close()
    finally:
        server.shutdown()
        server.server_close()
        if state.store is not None:
            state.store.close()


def test_a_slow_rebuild_says_on_the_console_that_it_is_under_way(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from generator.base import messages
    from generator.base.report import BuildReport

    done = BuildReport(ok=True, diagnostics=(), pages=3)

    def slow(_state: object, _changed: object, _reload: object) -> BuildReport:
        time.sleep(0.5)
        return done

    def quick(_state: object, _changed: object, _reload: object) -> BuildReport:
        return done

    state = serve.ServeState(BuildOptions(source=Path("site"), output=Path("out")))
    notice = messages.text(state.language, "serve-rebuilding")
    monkeypatch.setattr(serve, "SLOW_NOTICE_SECONDS", 0.1)
    monkeypatch.setattr(serve, "rebuild_and_reload", slow)
    assert serve.rebuild_noticed(state, None, lambda: None) is done
    assert notice in capsys.readouterr().err
    monkeypatch.setattr(serve, "rebuild_and_reload", quick)
    assert serve.rebuild_noticed(state, None, lambda: None) is done
    time.sleep(0.3)  # the notice would have come by now
    assert notice not in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# what the browser shows of the last build: the error overlay, or the warnings panel


def _page(app: object, path: str) -> str:
    """The body the WSGI ``app`` answers for ``path``, decoded."""
    chunks = app({"PATH_INFO": path}, lambda _status, _headers: None)  # type: ignore[operator]
    return b"".join(chunks).decode("utf-8")


def _panel(html: str) -> str:
    """The warnings panel of a served page (empty when there is none)."""
    found = html.find(f'id="{serve.WARNINGS_ID}"')
    start = html.rfind("<details", 0, found)
    return "" if found < 0 else html[start : html.index("</details>", start)]


def _served_state(tmp_path: Path, report: BuildReport) -> serve.ServeState:
    """A preview whose output holds one page, served with ``report`` as its last build's."""
    out = tmp_path / "out"
    out.mkdir()
    page = '<!DOCTYPE html><html><body class="x"><h1>标题</h1><main>正文</main></body></html>'
    (out / "index.html").write_text(page, encoding="utf-8")
    state = serve.ServeState(BuildOptions(source=tmp_path, output=out))
    state.report, state.built_once = report, True
    return state


PROFILE_PAGE = "/profiles/2025/wang-jin-xi/index.html"


def test_a_good_build_with_warnings_shows_them_in_a_collapsed_panel(tmp_path: Path) -> None:
    from generator.cli import console

    file = "profiles/2025/a.md"
    source = write_site(tmp_path / "src", {file: profile(extra="phot: a.jpg\n")})
    state = serve.ServeState(BuildOptions(source=source, output=tmp_path / "out"))
    report = state.rebuild()
    assert report.ok and [d.code for d in report.diagnostics] == ["unknown-field"]
    app = serve.make_app(state)
    html = _page(app, PROFILE_PAGE)
    panel = _panel(html)
    # collapsed to one line that counts the warnings; opened, the console's text and a note
    assert panel.startswith("<details") and " open" not in panel.split(">", 1)[0]
    assert "<summary" in panel and "本次生成有1条警告" in panel and "网站已经更新" in panel
    shown = console.format_diagnostic(report.diagnostics[0], "zh-CN", source)
    assert "phot" in shown and "<pre" in panel and escape(shown) in panel
    # fixed at a corner, never wider or taller than the window, no request elsewhere
    assert "position:fixed" in panel and "max-width" in panel and "max-height" in panel
    assert "overflow:auto" in panel and "http" not in panel and "<script" not in panel
    # after the page's own content, and no error overlay
    assert html.index("王进喜") < html.index(serve.WARNINGS_ID) < html.rindex("</body>")
    assert serve.OVERLAY_ID not in html
    # fixed: the panel is gone
    (source / file).write_text(profile(), encoding="utf-8")
    assert state.rebuild().diagnostics == ()
    assert serve.WARNINGS_ID not in _page(app, PROFILE_PAGE)


def test_notes_alone_show_no_panel_and_errors_keep_the_overlay(tmp_path: Path) -> None:
    note = Diagnostic.info("profiles/2025/c.md", 2, "profile-without-photo")
    state = _served_state(tmp_path, BuildReport(ok=True, diagnostics=(note,)))
    html = _page(serve.make_app(state), "/")
    assert serve.WARNINGS_ID not in html and serve.OVERLAY_ID not in html and "<h1>标题" in html
    # a failed build: the full-screen overlay, right after <body>, warnings listed below
    error = Diagnostic.error("profiles/2025/a.md", 3, "unknown-unit", unit="nowhere")
    warning = Diagnostic.warning("profiles/2025/b.md", 6, "unknown-field", name="phot")
    state.report = BuildReport(ok=False, diagnostics=(error, warning, note))
    html = _page(serve.make_app(state), "/")
    assert html.index(f'<body class="x"><div id="{serve.OVERLAY_ID}"') < html.index("<h1>")
    assert serve.WARNINGS_ID not in html and "nowhere" in html and "内容有错误" in html
    assert html.index("nowhere") < html.index("另外还有1条警告") < html.index("phot")
    assert "c.md" not in html  # notes are for showcase check


def test_the_warnings_panel_lists_the_first_ones_and_counts_the_rest(tmp_path: Path) -> None:
    warnings = tuple(
        Diagnostic.warning(f"profiles/2025/p{n:02}.md", 2, "unknown-field", name=f"f{n:02}")
        for n in range(serve.WARNINGS_SHOWN + 5)
    )
    state = _served_state(tmp_path, BuildReport(ok=True, diagnostics=warnings))
    panel = _panel(_page(serve.make_app(state), "/"))
    assert f"本次生成有{serve.WARNINGS_SHOWN + 5}条警告" in panel
    assert panel.count("<li>") == serve.WARNINGS_SHOWN
    last = serve.WARNINGS_SHOWN - 1
    assert f"p{last:02}.md" in panel and f"p{last + 1:02}.md" not in panel
    assert "还有5条警告没有列出" in panel and "showcase check" in panel
    # a few: all listed, nothing counted
    state.report = BuildReport(ok=True, diagnostics=warnings[:3])
    panel = _panel(_page(serve.make_app(state), "/"))
    assert panel.count("<li>") == 3 and "没有列出" not in panel


def _last_line_bottom(page: Any, selector: str) -> float:
    """Where, in the window, the last line of text of the element ``selector`` ends."""
    bottom: float = page.evaluate(
        """selector => {
            const walker = document.createTreeWalker(
                document.querySelector(selector), NodeFilter.SHOW_TEXT);
            const range = document.createRange();
            let bottom = -Infinity;
            while (walker.nextNode()) {
                if (!walker.currentNode.textContent.trim()) continue;
                range.selectNodeContents(walker.currentNode);
                for (const r of range.getClientRects()) bottom = Math.max(bottom, r.bottom);
            }
            return bottom;
        }""",
        selector,
    )
    return bottom


def test_the_warnings_panel_does_not_cover_the_page_in_a_browser(
    tmp_path: Path, browser: Browser
) -> None:
    """Headless Chromium, at a desktop and two phone sizes: the panel is visible, collapsed
    to one line at a bottom corner, the page's title is still what is under its centre, and
    scrolled to the bottom, the footer's last line shows above the panel."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

    source = write_site(tmp_path / "src", {"profiles/2025/a.md": profile(extra="phot: a.jpg\n")})
    state = serve.ServeState(BuildOptions(source=source, output=tmp_path / "out"))
    assert state.rebuild().ok
    server = make_server("127.0.0.1", 0, serve.make_app(state), handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        for width, height in ((1280, 800), (360, 640), (390, 844)):
            page = browser.new_page(viewport={"width": width, "height": height})
            requests: list[str] = []
            page.on("request", lambda r, seen=requests: seen.append(r.url))
            page.goto(base + PROFILE_PAGE)
            panel = page.locator(f"#{serve.WARNINGS_ID}")
            assert panel.is_visible() and not panel.evaluate("e => e.open")
            box = panel.bounding_box()
            assert box is not None and box["height"] < 60
            assert box["x"] + box["width"] <= width and box["y"] + box["height"] <= height
            assert box["y"] > height / 2  # at the bottom
            assert page.evaluate(
                """() => {
                    const h1 = document.querySelector('main h1, h1');
                    const r = h1.getBoundingClientRect();
                    const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
                    return h1.contains(hit);
                }"""
            )
            page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
            box = panel.bounding_box()
            assert box is not None and _last_line_bottom(page, "footer") <= box["y"]
            # opened: the warning's text, scrolling inside a panel that fits the window
            page.locator(f"#{serve.WARNINGS_ID} summary").click()
            assert panel.evaluate("e => e.open") and "phot" in panel.inner_text()
            box = panel.bounding_box()
            assert box is not None and box["x"] >= 0 and box["y"] >= 0
            assert box["x"] + box["width"] <= width and box["y"] + box["height"] <= height
            assert all(url.startswith(base) for url in requests), requests
            page.close()
    finally:
        server.shutdown()
        server.server_close()


def _built_with_a_cache(tmp_path: Path) -> tuple[Path, serve.ServeState]:
    """A site of one profile, built by serve with its cache open."""
    source = write_site(tmp_path / "site", {"profiles/2025/a.md": profile()})
    options = BuildOptions(source=source, output=tmp_path / "out", cache_dir=tmp_path / "c")
    state = serve.ServeState(options)
    assert state.rebuild().ok and state.store is not None
    state.started.set()  # as serve starts: the watcher's rebuilds follow the first build
    return source, state


def test_a_fault_of_the_tool_in_a_rebuild_is_said_and_the_next_change_rebuilds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import watchfiles

    source, state = _built_with_a_cache(tmp_path)
    batch = {(watchfiles.Change.modified, str(source / "profiles/2025/a.md"))}
    monkeypatch.setattr(watching, "batches", lambda *args, **kwargs: iter([batch, batch]))
    calls: list[int] = []
    original = serve.rebuild_noticed

    def once_broken(*args: Any) -> BuildReport:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a fault of the tool")
        return original(*args)

    monkeypatch.setattr(serve, "rebuild_noticed", once_broken)
    try:
        serve.rebuild_on_change(state, source, threading.Event(), lambda: None)
    finally:
        if state.store is not None:
            state.store.close()
    said = capsys.readouterr().err
    assert len(calls) == 2 and state.report is not None and state.report.ok
    assert "程序内部出错" in said and "Traceback" not in said
    Path(said.split("详细信息已保存到 ")[1].split("，")[0]).unlink()


def test_the_console_lists_again_only_what_is_new_but_every_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = Path("site")
    phot = Diagnostic.warning("profiles/2025/a.md", 5, "unknown-field", name="phot")
    tagz = Diagnostic.warning("profiles/2025/b.md", 5, "unknown-field", name="tagz")
    error = Diagnostic.error("profiles/2025/c.md", 3, "unknown-unit", unit="nowhere")
    printed = serve.print_report(BuildReport(True, (phot,)), source)
    said = capsys.readouterr().err
    assert "phot" in said and "未重复列出" not in said
    printed = serve.print_report(BuildReport(True, (phot, tagz)), source, printed)
    said = capsys.readouterr().err
    assert "phot" not in said and "tagz" in said and "另有1条警告或提示与上次相同" in said
    for _ in range(2):  # an error is said again after every save, until it is mended
        printed = serve.print_report(BuildReport(False, (error, phot, tagz)), source, printed)
        said = capsys.readouterr().err
        assert "nowhere" in said and "另有2条警告或提示与上次相同" in said
        assert "phot" not in said and "tagz" not in said
    serve.print_report(BuildReport(True, ()), source, printed)
    assert "未重复列出" not in capsys.readouterr().err


def test_each_save_prints_the_warnings_that_are_new_since_the_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import watchfiles

    page = "profiles/2025/a.md"
    source = write_site(tmp_path / "site", {page: profile(extra="phot: a.jpg\n")})
    state = serve.ServeState(BuildOptions(source=source, output=tmp_path / "out"))
    state.printed = serve.print_report(state.rebuild(), source)  # as serve starts
    state.started.set()
    assert "phot" in capsys.readouterr().err
    batch = {(watchfiles.Change.modified, str(source / page))}

    def saves(*_args: Any, **_kwargs: Any) -> Iterator[set[tuple[Any, str]]]:
        (source / page).write_text(profile(extra="phot: a.jpg\n", body="二。"), "utf-8")
        yield batch
        assert "phot" not in capsys.readouterr().err  # said when serve started
        (source / page).write_text(profile(extra="phot: a.jpg\ntagz: x\n", body="三。"), "utf-8")
        yield batch

    monkeypatch.setattr(watching, "batches", saves)
    serve.rebuild_on_change(state, source, threading.Event(), lambda: None)
    said = capsys.readouterr().err
    assert "tagz" in said and "phot" not in said and "另有1条警告或提示与上次相同" in said


def test_a_fault_of_the_tool_while_warming_up_is_said_and_the_cache_let_go_of(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _source, state = _built_with_a_cache(tmp_path)

    def broken(*args: object) -> None:
        raise RuntimeError("a fault of the tool")

    monkeypatch.setattr(state, "rebuild", broken)
    state._warm()
    said = capsys.readouterr().err
    assert state.store is None and "程序内部出错" in said and "Traceback" not in said
    Path(said.split("详细信息已保存到 ")[1].split("，")[0]).unlink()
