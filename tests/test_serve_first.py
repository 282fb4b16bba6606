"""The first preview of a site: its pages are made as they are asked for while the first
build runs, byte for byte as the build writes them (photos aside), then served from it."""

from __future__ import annotations

import dataclasses
import io
import re
import threading
import time
from pathlib import Path
from typing import Any

import jinja2
import PIL.Image
import pytest

from generator.base import messages
from generator.base.config import DEFAULT_LANGUAGE, BuildOptions
from generator.build import build, on_demand
from generator.cli import serve
from generator.output.ondemand import OnDemand
from generator.site import model
from tests.conftest import profile, write_site
from tests.golden import SOURCE_DATE_EPOCH
from tests.test_serve import fetch, free_port, start, wait_until

# an <img> of a page made on demand shows the photo as it is, not the build's resized copies:
# its class and its text are compared, not where it points
IMG = re.compile(rb"<img [^>]*>")
KEPT = re.compile(rb' (?:class|alt)="[^"]*"')


def _without_photos(page: bytes) -> bytes:
    return IMG.sub(lambda tag: b"<img" + b"".join(KEPT.findall(tag.group())) + b">", page)


def _made_on_demand(source: Path, tmp_path: Path) -> OnDemand:
    found = on_demand(BuildOptions(source=source, output=tmp_path / "unused"))
    assert found is not None
    return found


@pytest.fixture
def dated(monkeypatch: pytest.MonkeyPatch) -> None:
    """The build date of the golden example build."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)


@pytest.mark.usefixtures("dated")
def test_every_page_made_on_demand_is_the_page_the_build_wrote(
    example_build: Path, tmp_path: Path
) -> None:
    preview = _made_on_demand(example_build.parent / "site_content", tmp_path)
    exact = later = 0
    for path in sorted(preview.jobs):
        made = preview.get(path)
        if made is None:  # only the build makes the search index's manifest and shards
            assert path == "search/index.js" or path.startswith("search/t/"), path
            later += 1
            continue
        built = (example_build / path).read_bytes()
        exact += made == built
        assert _without_photos(made) == _without_photos(built), path
    assert later == 2 and exact > len(preview.jobs) // 2
    images = 0
    for path in preview.files.paths:  # photos published (scaled, upright) as the build does
        assert preview.get(path) == (example_build / path).read_bytes(), path
        images += path in preview.files.published
    assert images > 0
    assert preview.get("no/such/page.html") is None


def test_pages_made_on_demand_at_scale_are_the_built_ones(
    scale_build: tuple[Path, Path], tmp_path: Path
) -> None:
    source, out = scale_build
    preview = _made_on_demand(source, tmp_path)
    lists = sorted(p for p in preview.jobs if p.startswith("profiles/page/"))
    units = sorted(p for p in preview.jobs if p.startswith("units/"))
    details = sorted(p for p in preview.jobs if p.startswith("profiles/2"))
    wanted = ["index.html", "feed.xml", lists[-1], units[0], units[-1], details[-1], details[0]]
    for path in wanted:
        made = preview.get(path)
        assert made is not None, path
        assert _without_photos(made) == _without_photos((out / path).read_bytes()), path


def _call(app: object, path: str) -> tuple[str, dict[str, str], bytes]:
    seen: dict[str, object] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(app({"PATH_INFO": path}, start_response))  # type: ignore[operator]
    return str(seen["status"]), seen["headers"], body  # type: ignore[return-value]


def test_the_preview_serves_pages_made_on_demand_until_the_first_build_is_done(
    tmp_path: Path,
) -> None:
    source = write_site(tmp_path / "src", {"profiles/2025/a.md": profile(body="第一版事迹。")})
    options = BuildOptions(source=source, output=tmp_path / "out", cache_dir=tmp_path / "c")
    state = serve.ServeState(options)
    serve.start_preview(state)
    preview = state.preview
    assert preview is not None and not options.output.exists() and not state.started.is_set()
    app = serve.make_app(state)
    status, headers, body = _call(app, "/")
    assert status == "200 OK" and body == preview.get("index.html")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    page = next(p for p in preview.jobs if p.startswith("profiles/2025/"))
    assert _call(app, "/" + page)[2] == preview.get(page)
    assert "第一版事迹" in _call(app, "/" + page)[2].decode("utf-8")
    folder = "/" + page.removesuffix("/index.html")
    status, headers, _ = _call(app, folder)
    assert status == "301 Moved Permanently" and headers["Location"] == folder + "/"
    assert _call(app, folder + "/")[2] == preview.get(page)
    assert _call(app, "/assets/css/site.css")[0] == "200 OK"
    status, _, body = _call(app, "/search/index.js")  # waits for the build
    later = messages.text(DEFAULT_LANGUAGE, "serve-first-page-later")
    assert status.startswith("503") and later in body.decode("utf-8")
    assert _call(app, "/no/such/")[0] == "404 Not Found"
    reloads: list[bool] = []
    serve.first_build(state, lambda: reloads.append(True))
    assert state.preview is None and state.started.is_set() and reloads == [True]
    assert (options.output / "search" / "index.js").is_file()
    assert _call(app, "/search/index.js")[0] == "200 OK"
    assert state.store is not None
    state.store.close()


def test_the_first_start_validates_each_file_once_for_its_pages_and_its_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stories = {f"profiles/2025/p{n}.md": profile(name=f"王{chr(0x4E00 + n)}") for n in range(3)}
    source = write_site(tmp_path / "src", stories)
    options = BuildOptions(source=source, output=tmp_path / "out", cache_dir=tmp_path / "c")
    validated: list[str] = []
    checker = model.build_item

    def counted(doc: Any, *args: Any) -> Any:
        validated.append(doc.path)
        return checker(doc, *args)

    monkeypatch.setattr(model, "build_item", counted)
    state = serve.ServeState(options)
    serve.start_preview(state)
    assert state.preview is not None and sorted(validated) == sorted(stories)
    serve.first_build(state, lambda: None)
    assert state.report is not None and state.report.ok
    assert sorted(validated) == sorted(stories)  # the build took the preview's analysis
    assert state.store is not None
    state.store.close()
    validated.clear()  # what was validated is in the cache for a build in another process
    assert build(dataclasses.replace(options, output=tmp_path / "again")).ok
    assert validated == []


def test_a_served_folder_already_there_is_served_at_once(tmp_path: Path) -> None:
    source = write_site(tmp_path / "src", {"profiles/2025/a.md": profile()})
    options = BuildOptions(source=source, output=tmp_path / "out", cache_dir=tmp_path / "c")
    state = serve.ServeState(options)
    serve.start_preview(state)
    assert state.preview is not None
    serve.first_build(state, lambda: None)
    assert state.store is not None
    state.store.close()
    again = serve.ServeState(options)
    serve.start_preview(again)
    assert again.preview is None and again.started.is_set() and again.built_once
    assert again.store is not None
    again.store.close()


def test_content_errors_at_the_first_start_are_shown_not_made_on_demand(tmp_path: Path) -> None:
    bad = profile().replace("name: 王进喜", "name:")
    source = write_site(tmp_path / "src", {"profiles/2025/a.md": bad})
    options = BuildOptions(source=source, output=tmp_path / "out", cache_dir=tmp_path / "c")
    state = serve.ServeState(options)
    serve.start_preview(state)
    assert state.preview is None and state.report is not None and not state.report.ok
    _, _, body = _call(serve.make_app(state), "/")
    assert serve.OVERLAY_ID in body.decode("utf-8")
    assert state.store is not None
    state.store.close()


def test_changes_seen_during_the_first_build_show_once_it_is_done(tmp_path: Path) -> None:
    source = write_site(tmp_path / "src", {"profiles/2025/a.md": profile(body="第一版。")})
    options = BuildOptions(source=source, output=tmp_path / "out", cache_dir=tmp_path / "c")
    state = serve.ServeState(options)
    serve.start_preview(state)
    stopping = threading.Event()
    watcher = threading.Thread(
        target=serve.rebuild_on_change, args=(state, source, stopping, lambda: None)
    )
    watcher.start()
    first = threading.Thread(target=serve.first_build, args=(state, lambda: None))
    try:
        with state.lock:  # the first build starts, and waits here until the change is seen
            first.start()
            time.sleep(0.5)  # the watcher is watching
            (source / "profiles/2025/a.md").write_text(profile(body="第二版。"), "utf-8")
            time.sleep(1.5)  # the change is seen, and its rebuild waits for the first build
            assert state.report is None and state.preview is not None
            page = next(p for p in state.preview.jobs if p.startswith("profiles/2025/"))
            assert "第一版" in (state.preview.get(page) or b"").decode("utf-8")
        first.join(timeout=30)
        wait_until(lambda: state.report is not None and state.report.ok, timeout=30)
        page = next((options.output / "profiles" / "2025").rglob("index.html"))
        assert "第二版" in page.read_text(encoding="utf-8")
    finally:
        stopping.set()
        watcher.join(timeout=10)
        if state.store is not None:
            state.store.close()


def test_a_first_start_says_that_pages_are_made_as_they_are_opened(tmp_path: Path) -> None:
    write_site(tmp_path / "src", {"profiles/2025/a.md": profile()})
    port = free_port()
    proc = start(["src", "--port", str(port)], tmp_path)
    base = f"http://127.0.0.1:{port}/"
    try:
        wait_until(lambda: fetch(base + "search/index.js")[0] == 200, timeout=30)
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert messages.text(DEFAULT_LANGUAGE, "serve-first-build") in out
    assert "Traceback" not in out + err


def test_a_page_whose_template_fails_waits_for_the_build(
    example_build: Path, tmp_path: Path
) -> None:
    preview = _made_on_demand(example_build.parent / "site_content", tmp_path)
    detail = preview.jobs[next(p for p in preview.jobs if p.startswith("profiles/2"))]
    env = preview._env
    env.globals["broken"] = lambda: 1 // 0
    env.loader = jinja2.ChoiceLoader([jinja2.DictLoader({detail.template: "{{ broken() }}"})])
    env.cache = None
    assert preview.get(detail.path) is None  # the first build says the fault, with its place
    env.loader = jinja2.DictLoader({detail.template: "{{ 1 + 1 }}"})
    assert preview.get(detail.path) == b"2"


def _jpeg_with_exif() -> bytes:
    exif = PIL.Image.Exif()
    exif[0x010F] = "相机厂商"  # the camera's maker: metadata the site does not publish
    buffer = io.BytesIO()
    PIL.Image.new("RGB", (64, 48), "red").save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_a_file_made_on_demand_is_the_published_one_and_stays_in_the_site(
    tmp_path: Path,
) -> None:
    source = write_site(tmp_path / "src", {"profiles/2025/a.md": profile()})
    (source / "static").mkdir()
    (source / "static/photo.jpg").write_bytes(_jpeg_with_exif())
    (source / "static/notice.txt").write_text("通知", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("机密", encoding="utf-8")
    options = BuildOptions(source=source, output=tmp_path / "out", cache_dir=tmp_path / "c")
    preview = on_demand(options)
    assert preview is not None and build(options).ok
    photo = next(p for p in preview.files.paths if p.endswith("photo.jpg"))
    made = preview.get(photo)
    assert made == (options.output / photo).read_bytes() != _jpeg_with_exif()
    assert made is not None and "相机厂商".encode() not in made
    notice = next(p for p in preview.files.paths if p.endswith("notice.txt"))
    assert preview.get(notice) == "通知".encode()
    (source / "static/notice.txt").unlink()  # a link put in its place after the site was read
    (source / "static/notice.txt").symlink_to(tmp_path / "secret.txt")
    assert preview.get(notice) is None


def test_serve_exits_once_a_first_build_done_has_written_its_cache_not_before(
    tmp_path: Path,
) -> None:
    source = write_site(tmp_path / "src", {"profiles/2025/a.md": profile()})
    options = BuildOptions(source=source, output=tmp_path / "out", cache_dir=tmp_path / "c")
    state = serve.ServeState(options)
    serve.start_preview(state)
    assert state.preview is not None and state.store is not None
    assert not serve.close_on_exit(state)  # the first build is still to make the pages
    assert state.store is not None
    state.preview = None  # built: its cache is being written, under the lock
    closed: list[bool] = []
    with state.lock:
        exiting = threading.Thread(target=lambda: closed.append(serve.close_on_exit(state)))
        exiting.start()
        time.sleep(0.3)
        assert not closed and state.store is not None  # waits for the rows to be written
    exiting.join(timeout=10)
    assert closed == [True] and state.store is not None
    assert state.store._db is None


def test_pages_of_a_site_own_templates_wait_for_the_build(tmp_path: Path) -> None:
    # they render in the build's limited workers alone (a loop for ever would hold the preview)
    files = {"profiles/2025/a.md": profile(), "theme/templates/404.html": "<p>own</p>\n"}
    preview = _made_on_demand(write_site(tmp_path / "site", files), tmp_path)
    assert preview.holds("404.html") and preview.holds("index.html")
    assert preview.get("404.html") is None and preview.get("index.html") is None
    assert preview.get(next(iter(preview.files.paths))) is not None  # files are still read
