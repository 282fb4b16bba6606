"""The source watch (``output/sourcewatch.py``): the kernel's notifications say which files
changed, and whatever they cannot vouch for is said as not known, so that the caller walks."""

from __future__ import annotations

import ctypes
import dataclasses
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.base.config import packaged_themes_dir
from generator.output import cache, freshness, sourcewatch
from generator.output.sourcewatch import SourceWatch
from tests.conftest import profile
from tests.test_daemon import _clean, _daemon, _site
from tests.test_incremental import tree

SKIP = frozenset({".showcase-cache", "__pycache__"})
pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="inotify: Linux only (elsewhere the daemon walks)"
)


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[Path, SourceWatch]]:
    root = tmp_path / "src"
    (root / "profiles" / "2025").mkdir(parents=True)
    (root / ".showcase-cache").mkdir()
    (root / "profiles" / "2025" / "a.md").write_text("甲", encoding="utf-8")
    (root / "site.yaml").write_text("title: x\n", encoding="utf-8")
    watch = SourceWatch([str(root)], SKIP)
    assert watch.start(), sourcewatch.file_system(str(root))
    yield root, watch
    watch.close()


def test_changed_files_are_named_and_the_cache_is_not_watched(
    watched: tuple[Path, SourceWatch],
) -> None:
    root, watch = watched
    assert watch.changes() == frozenset()
    with open(root / "profiles" / "2025" / "a.md", "a", encoding="utf-8") as fh:
        fh.write("又一句")
    os.utime(root / "site.yaml")  # a new time alone is a change of the state
    (root / ".showcase-cache" / "db").write_bytes(b"kept")
    assert watch.changes() == {str(root / "profiles/2025/a.md"), str(root / "site.yaml")}
    assert watch.changes() == frozenset()  # said once
    (root / "profiles" / "2025" / "a.md").unlink()
    (root / "site.yaml").rename(root / "settings.yaml")
    assert watch.changes() == {
        str(root / "profiles/2025/a.md"),
        str(root / "site.yaml"),
        str(root / "settings.yaml"),
    }


def test_a_new_or_moved_folder_makes_the_changes_unknown_then_is_watched(
    watched: tuple[Path, SourceWatch], tmp_path: Path
) -> None:
    root, watch = watched
    new = root / "reports" / "2025"
    new.mkdir(parents=True)
    (new / "r.md").write_text("乙", encoding="utf-8")  # maybe before its watch: walked
    assert watch.changes() is None  # a new folder's files are not named: walked
    (new / "r.md").write_text("乙丙", encoding="utf-8")
    assert watch.changes() == {str(new / "r.md")}
    moved = root / "elsewhere"
    (root / "reports").rename(moved)
    assert watch.changes() is None
    (moved / "2025" / "r.md").write_text("丁", encoding="utf-8")
    assert watch.changes() == {str(moved / "2025" / "r.md")}
    (moved).rename(tmp_path / "archive")  # moved out of the tree: one notice, for the folder
    assert watch.changes() is None
    (tmp_path / "archive" / "2025" / "r.md").write_text("戊", encoding="utf-8")
    assert watch.changes() == frozenset()  # no longer in the tree
    (root / ".showcase-cache" / "more").mkdir()  # the cache's folders are not the source's
    assert watch.changes() == frozenset()


def test_a_root_removed_and_put_back_while_a_file_in_it_stays_open_is_watched_again(
    watched: tuple[Path, SourceWatch], tmp_path: Path
) -> None:
    root, watch = watched
    shutil.copytree(root, tmp_path / "copy")
    with open(root / ".showcase-cache" / "db", "wb"):  # as the daemon holds its cache open
        shutil.rmtree(root)
        (tmp_path / "copy").rename(root)
        assert watch.changes() is None
        page = root / "profiles" / "2025" / "a.md"
        page.write_text("己", encoding="utf-8")
        assert watch.changes() == {str(page)}


def test_notifications_the_kernel_dropped_make_the_changes_unknown(
    watched: tuple[Path, SourceWatch],
) -> None:
    root, watch = watched
    a, b = root / "profiles" / "2025" / "a.md", root / "site.yaml"
    limit = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    for _ in range(limit // 2 + 10):  # alternating, so that none is merged with the last
        os.utime(a)
        os.utime(b)
    late = root / "reports"  # made when the queue was full: its notification is lost
    late.mkdir()
    assert watch.changes() is None
    a.write_text("戊", encoding="utf-8")
    (late / "r.md").write_text("己", encoding="utf-8")
    assert watch.changes() == {str(a), str(late / "r.md")}  # every folder watched again


def test_a_root_moved_away_and_made_again_is_watched_where_it_is(
    watched: tuple[Path, SourceWatch], tmp_path: Path
) -> None:
    root, watch = watched
    root.rename(tmp_path / "old")
    shutil.copytree(tmp_path / "old", root)
    assert watch.changes() is None
    page = root / "profiles" / "2025" / "a.md"
    page.write_text("庚", encoding="utf-8")
    assert watch.changes() == {str(page)}


def test_a_file_with_another_name_or_another_file_system_makes_the_changes_unknown(
    watched: tuple[Path, SourceWatch], tmp_path: Path
) -> None:
    root, watch = watched
    objects = root / ".git" / "objects" / "ab"
    objects.mkdir(parents=True)
    assert watch.changes() is None  # new folders
    (objects / "one").write_bytes(b"blob")
    os.link(objects / "one", objects / "two")  # as a local clone of git does
    assert watch.changes() is not None
    os.link(root / "site.yaml", root / ".git" / "x")  # a second name for a document
    assert watch.changes() is None
    (root / ".git" / "x").unlink()
    os.link(root / "site.yaml", tmp_path / "elsewhere.yaml")  # a change there is not seen
    again = SourceWatch([str(root)], SKIP)
    assert not again.start()
    (tmp_path / "elsewhere.yaml").unlink()
    mounted = SourceWatch([str(root)], SKIP)
    assert mounted.start()
    mounted._watch_tree(str(root / "profiles"), device=-1)  # as a folder mounted there
    assert mounted.changes() is None
    mounted.close()


def test_a_file_system_mounted_or_taken_away_later_has_the_tree_watched_again(
    watched: tuple[Path, SourceWatch], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, watch = watched
    monkeypatch.setattr(sourcewatch, "_mounts", lambda: "another table")
    assert watch.changes() is None
    page = root / "profiles" / "2025" / "a.md"
    page.write_text("壬", encoding="utf-8")
    assert watch.changes() == {str(page)}


def test_two_folders_exchanged_are_both_watched_after(watched: tuple[Path, SourceWatch]) -> None:
    root, watch = watched
    other = root / "profiles" / "2024"
    other.mkdir()
    (other / "b.md").write_text("乙", encoding="utf-8")
    assert watch.changes() is None
    libc = ctypes.CDLL(None, use_errno=True)
    exchanged = libc.renameat2(
        -100,
        bytes(root / "profiles" / "2025"),
        -100,
        bytes(other),
        2,  # RENAME_EXCHANGE
    )
    if exchanged != 0:
        pytest.skip("this file system cannot exchange two names")
    assert watch.changes() is None
    for page in (root / "profiles" / "2025" / "b.md", other / "a.md"):
        page.write_text("癸", encoding="utf-8")
        assert watch.changes() == {str(page)}


def test_a_watch_that_could_not_be_trusted_is_tried_again_later(
    watched: tuple[Path, SourceWatch], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, watch = watched
    link = root / "profiles" / "link.md"
    link.symlink_to(root / "site.yaml")
    assert watch.changes() is None
    link.unlink()
    assert watch.changes() is None  # not yet: RETRY_SECONDS have not passed
    monkeypatch.setattr(sourcewatch, "RETRY_SECONDS", 0.0)
    assert watch.changes() is None  # started again; the caller walks once more
    page = root / "profiles" / "2025" / "a.md"
    page.write_text("子", encoding="utf-8")
    assert watch.changes() == {str(page)}
    cache = tmp_path / "cache-elsewhere"
    cache.mkdir()
    shutil.rmtree(root / ".showcase-cache")
    (root / ".showcase-cache").symlink_to(cache)  # a cache kept elsewhere through a link
    (root / "photos").symlink_to(cache)  # a link to a folder: builds do not follow it
    assert watch.changes() == {str(root / "photos")}
    page.write_text("丑", encoding="utf-8")
    assert watch.changes() == {str(page)}


def test_a_link_in_the_tree_makes_the_changes_unknown(
    watched: tuple[Path, SourceWatch], tmp_path: Path
) -> None:
    root, watch = watched
    outside = tmp_path / "outside.md"
    outside.write_text("己", encoding="utf-8")
    (root / "profiles" / "link.md").symlink_to(outside)
    assert watch.changes() is None  # a change of the target would not be notified
    outside.write_text("庚", encoding="utf-8")
    assert watch.changes() is None
    again = SourceWatch([str(root)], SKIP)
    assert not again.start()  # nor is a tree holding a link watched
    assert again.changes() is None


def test_a_folder_on_a_network_share_is_not_watched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sourcewatch, "file_system", lambda folder: "nfs4")
    watch = SourceWatch([str(tmp_path)], SKIP)
    assert not watch.start()
    (tmp_path / "a.md").write_text("辛", encoding="utf-8")
    assert watch.changes() is None


def test_the_file_system_of_a_folder_is_that_of_its_closest_mount() -> None:
    assert sourcewatch.file_system("/proc/self") == "proc"
    assert sourcewatch.file_system("/") != ""


def _counting_walks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    walked: list[str] = []
    real = freshness._walk

    def walk(folder: str, found: list[str]) -> None:
        walked.append(folder)
        real(folder, found)

    monkeypatch.setattr(freshness, "_walk", walk)
    return walked


def test_the_daemon_builds_an_edit_without_walking_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, options = _site(tmp_path)
    kept = _daemon(options)
    try:
        assert kept.watch is not None and not kept.watch.broken
        walked = _counting_walks(monkeypatch)
        page = src / "profiles" / "2025" / "p1.md"
        page.write_text(profile(name="李华", body="改过的事迹。"), encoding="utf-8")
        assert kept.build(options).ok
        assert walked == []
        assert tree(options.output) == _clean(options, tmp_path / "clean")
        (src / "profiles" / "2025" / "p2.md").write_text(profile(name="赵六"), encoding="utf-8")
        walked.clear()  # the clean build walked its own
        assert kept.build(options).ok
        assert walked  # a new file: the source is walked
        assert tree(options.output) == _clean(options, tmp_path / "clean")
    finally:
        kept.close()


def test_a_document_saved_through_a_temporary_file_is_built_without_a_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, options = _site(tmp_path)
    kept = _daemon(options)
    try:
        walked = _counting_walks(monkeypatch)
        page = src / "profiles" / "2025" / "p1.md"
        temporary = page.with_name(".p1.md.swp")  # written whole, then renamed over the page
        temporary.write_text(profile(name="李华", body="另存的事迹。"), encoding="utf-8")
        temporary.replace(page)
        assert kept.build(options).ok
        assert walked == []
        assert tree(options.output) == _clean(options, tmp_path / "clean")
    finally:
        kept.close()


def test_a_folder_moved_out_of_the_site_leaves_the_daemon_s_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, options = _site(tmp_path)
    kept = _daemon(options)
    try:
        (src / "profiles" / "2024").rename(tmp_path / "archive")
        assert kept.build(options).ok
        assert tree(options.output) == _clean(options, tmp_path / "clean")
        assert not (options.output / "profiles" / "2024").exists()
    finally:
        kept.close()


def test_a_site_removed_and_copied_back_under_the_daemon_is_built_as_it_is_now(
    tmp_path: Path,
) -> None:
    src, options = _site(tmp_path)
    options = dataclasses.replace(options, cache_dir=src / ".showcase-cache")  # inside, open
    kept = _daemon(options)
    try:
        shutil.copytree(src, tmp_path / "copy", symlinks=True)
        shutil.rmtree(src)
        (tmp_path / "copy").rename(src)
        assert kept.build(options).ok
        page = src / "profiles" / "2025" / "p1.md"
        page.write_text(profile(name="李华", body="复制回来以后改过。"), encoding="utf-8")
        (src / "profiles" / "2025" / "p9.md").write_text(profile(name="钱七"), encoding="utf-8")
        assert kept.build(options).ok
        assert tree(options.output) == _clean(options, tmp_path / "clean")
    finally:
        kept.close()


def test_a_cache_knows_when_its_file_was_replaced(tmp_path: Path) -> None:
    store = cache.Cache.open(tmp_path / "cache")
    try:
        assert store.path is not None and not store.replaced()
        shutil.copy(store.path, tmp_path / "copy")
        (tmp_path / "copy").replace(store.path)  # the folder copied back over it
        assert store.replaced()
    finally:
        store.close()


def test_the_daemon_walks_when_the_watch_cannot_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, options = _site(tmp_path)
    kept = _daemon(options)
    try:
        assert kept.watch is not None
        monkeypatch.setattr(kept.watch, "changes", lambda: None)  # dropped notifications
        walked = _counting_walks(monkeypatch)
        page = src / "profiles" / "2025" / "p1.md"
        page.write_text(profile(name="李华", body="改过的事迹。"), encoding="utf-8")
        assert kept.build(options).ok
        assert walked
        assert tree(options.output) == _clean(options, tmp_path / "clean")
    finally:
        kept.close()


def test_a_change_to_a_shipped_theme_is_walked(tmp_path: Path) -> None:
    _src, options = _site(tmp_path)
    kept = _daemon(options)
    theme_file = next(p for p in sorted(packaged_themes_dir().rglob("*.html")))
    times = theme_file.stat()
    try:
        assert kept.watch is not None and kept._watched() == frozenset()
        os.utime(theme_file)  # a new time: the theme is walked, as everything outside the source
        assert kept._watched() is None
    finally:
        os.utime(theme_file, ns=(times.st_atime_ns, times.st_mtime_ns))
        kept.close()


@pytest.mark.parametrize("temporary", [1, 12], ids=["one", "many"])
def test_vanished_names_that_held_no_known_file_are_dropped(tmp_path: Path, temporary: int) -> None:
    known = {str(tmp_path / "a" / "b" / "c.md"): b"", str(tmp_path / "d.md"): b""}
    saved = [str(tmp_path / "a" / f".c.md.{n}.swp") for n in range(temporary)]
    moved_away = [str(tmp_path / "a"), str(tmp_path / "a" / "b")]  # they held c.md
    gone = freshness._gone_unknown([*saved, *moved_away], known)
    assert gone == set(saved)
