"""File digests that skip unchanged files, and re-read files changed within a clock tick."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from generator.base.config import BuildOptions
from generator.content import stamps
from generator.output import cache, freshness
from tests.conftest import EXAMPLE


class Memo:
    def __init__(self) -> None:
        self.tables: dict[str, dict[str, Any]] = {}

    def get_many(self, table: str, keys: Iterable[str]) -> dict[str, Any]:
        rows = self.tables.get(table, {})
        return {k: rows[k] for k in keys if k in rows}

    def put_many(self, table: str, items: Iterable[tuple[str, Any]]) -> None:
        self.tables.setdefault(table, {}).update(items)


def test_unchanged_files_are_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = tmp_path / "a.md", tmp_path / "b.md"
    a.write_text("甲", encoding="utf-8")
    b.write_text("乙", encoding="utf-8")
    old = 1_600_000_000
    for path in (a, b):
        os.utime(path, (old, old))
    memo = Memo()
    first = stamps.digests([str(a), str(b)], memo)
    assert first[str(a)][1] == hashlib.sha256("甲".encode()).hexdigest()
    read: list[str] = []
    real = stamps._hash
    monkeypatch.setattr(stamps, "_hash", lambda p: read.append(p) or real(p))
    again = stamps.digests([str(a), str(b)], memo)
    assert read == [] and again[str(b)][1] == first[str(b)][1]
    b.write_text("乙丙", encoding="utf-8")  # a new size and time: read again
    changed = stamps.digests([str(a), str(b)], memo)
    assert read == [str(b)]
    assert changed[str(b)][1] == hashlib.sha256("乙丙".encode()).hexdigest()


def test_a_file_changed_within_the_racy_window_is_always_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = tmp_path / "fresh.md"
    fresh.write_text("刚改过", encoding="utf-8")  # modified now: its stamp cannot be trusted
    memo = Memo()
    stamps.digests([str(fresh)], memo)
    read: list[str] = []
    real = stamps._hash
    monkeypatch.setattr(stamps, "_hash", lambda p: read.append(p) or real(p))
    stamps.digests([str(fresh)], memo)
    assert read == [str(fresh)]


def test_missing_files_are_left_out(tmp_path: Path) -> None:
    assert stamps.digests([str(tmp_path / "gone.md")], Memo()) == {}


def test_the_cache_writes_the_stamps_once_per_build_and_keeps_them_when_closed(
    tmp_path: Path,
) -> None:
    from generator.output import cache

    a, b = tmp_path / "a.md", tmp_path / "b.md"
    for path, text in ((a, "甲"), (b, "乙")):
        path.write_text(text, encoding="utf-8")
        os.utime(path, (1_600_000_000, 1_600_000_000))
    store = cache.Cache.open(tmp_path / "cache")
    writes: list[str] = []
    store._db.set_trace_callback(writes.append)  # type: ignore[union-attr]
    stamps.digests([str(a)], store)
    stamps.digests([str(b)], store)
    assert not any(w.startswith("INSERT") for w in writes)  # nothing written yet
    store.close()  # writes the table, once
    assert sum(w.startswith("INSERT") for w in writes) == 1
    again = cache.Cache.open(tmp_path / "cache")
    kept = again.get_many(stamps.TABLE, [str(a), str(b)])
    again.close()
    assert set(kept) == {str(a), str(b)}


def test_a_process_that_builds_again_takes_the_lines_of_unchanged_files_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The source state made again in one process (the daemon) looks at no file whose stat is
    as it was; a file changed, even back to its size and time, or changed within the racy
    window, is looked at again."""
    src = tmp_path / "src"
    shutil.copytree(EXAMPLE, src, ignore=shutil.ignore_patterns(".showcase-cache"))
    old = 1_600_000_000_000_000_000  # long before the racy window
    for path in src.rglob("*"):
        os.utime(path, ns=(old, old))
    options = BuildOptions(src, tmp_path / "out", cache_dir=tmp_path / "cache")
    store = cache.Cache.open(tmp_path / "cache", remember=True)
    looked: list[list[str]] = []
    real = stamps.digests

    def spy(paths: Iterable[str], memo: stamps.StampMemo) -> Any:
        looked.append(sorted(os.path.relpath(p, src) for p in paths if str(src) in p))
        return real(paths, memo)

    monkeypatch.setattr(stamps, "digests", spy)
    try:
        first = freshness.source_state(options, store)
        assert len(looked[-1]) > 10  # the first look reads the whole source
        assert freshness.source_state(options, store) == first
        assert looked[-1] == []  # nothing changed: no file looked at again
        page = src / "pages" / "about.md"
        text = page.read_text("utf-8")
        page.write_text(text.replace("。", "！", 1), encoding="utf-8")  # same size in bytes
        os.utime(page, ns=(old, old))  # and the same time: its change time moved
        changed = freshness.source_state(options, store)
        assert changed != first and looked[-1] == ["pages/about.md"]
        page.write_text(text, encoding="utf-8")  # modified now: within the racy window
        assert freshness.source_state(options, store) == freshness.source_state(options, store)
        assert looked[-2:] == [["pages/about.md"], ["pages/about.md"]]
        page.unlink()  # a file gone is no error, and its line goes
        gone = freshness.source_state(options, store)
        assert gone != first and looked[-1] == []
        assert not any("about.md" in path for path in store.memory("state-stats") or {})
    finally:
        store.close()


def test_a_new_year_is_a_new_source_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The items' years are measured against this year (a year in the future is a warning):
    on New Year a build with nothing changed in the source is made again, not replayed."""
    src = tmp_path / "src"
    shutil.copytree(EXAMPLE, src, ignore=shutil.ignore_patterns(".showcase-cache"))
    options = BuildOptions(src, tmp_path / "out", cache_dir=tmp_path / "cache")
    store = cache.Cache.open(tmp_path / "cache", remember=True)
    try:
        first = freshness.source_state(options, store)
        later = time.localtime(time.time() + 366 * 86400)
        monkeypatch.setattr(freshness.time, "localtime", lambda *_: later)
        assert freshness.source_state(options, store) != first
    finally:
        store.close()
