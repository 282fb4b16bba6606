"""serve's watcher: changes under the source come in batches, and hidden folders (the build
cache, which holds serve's own folder) are not watched at all."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import watchfiles

from generator.cli import serve, watching


def _watching(source: Path) -> tuple[list[set[str]], threading.Event, threading.Thread]:
    """The batches (relative paths) told for ``source``, collected in a thread until the
    event is set."""
    told: list[set[str]] = []
    stopping = threading.Event()

    def collect() -> None:
        for batch in watching.batches(source, serve.watched(source), stopping, 100, 20):
            told.append({Path(p).relative_to(source.resolve()).as_posix() for _, p in batch})

    thread = threading.Thread(target=collect, daemon=True)
    thread.start()
    time.sleep(0.6)  # the watches are set
    return told, stopping, thread


def _until(told: list[set[str]], path: str, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(path in batch for batch in told):
            return True
        time.sleep(0.05)
    return False


def test_changes_at_the_top_below_it_and_in_a_folder_added_later_are_told(
    tmp_path: Path,
) -> None:
    source = tmp_path / "site"
    (source / "profiles" / "2025").mkdir(parents=True)
    (source / "site.yaml").write_text("title: 网站\n", "utf-8")
    told, stopping, thread = _watching(source)
    try:
        (source / "site.yaml").write_text("title: 新网站\n", "utf-8")
        assert _until(told, "site.yaml")
        (source / "profiles" / "2025" / "a.md").write_text("一", "utf-8")
        assert _until(told, "profiles/2025/a.md")
        (source / "reports").mkdir()  # a folder added at the top is watched from then on
        assert _until(told, "reports")
        time.sleep(0.3)
        (source / "reports" / "b.md").write_text("二", "utf-8")
        assert _until(told, "reports/b.md")
    finally:
        stopping.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_hidden_folders_are_neither_watched_nor_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "site"
    (source / "profiles").mkdir(parents=True)
    (source / ".showcase-cache" / "serve-site").mkdir(parents=True)
    asked: list[tuple[tuple[Path, ...], bool]] = []
    real = watchfiles.watch

    def watch(*paths: Any, **options: Any) -> Iterator[set[tuple[Any, str]]]:
        asked.append((tuple(Path(p) for p in paths), options.get("recursive", True)))
        return real(*paths, **options)

    monkeypatch.setattr(watchfiles, "watch", watch)
    told, stopping, thread = _watching(source)
    try:
        for n in range(50):  # as a build writes into serve's folder
            page = source / ".showcase-cache" / "serve-site" / f"p{n}" / "index.html"
            page.parent.mkdir()
            page.write_text("页", "utf-8")
        (source / "profiles" / "a.md").write_text("一", "utf-8")
        assert _until(told, "profiles/a.md")
    finally:
        stopping.set()
        thread.join(timeout=10)
    assert all(not p.startswith(".") for batch in told for p in batch)
    whole = [paths for paths, recursive in asked if recursive]
    assert whole and all(source.resolve() not in paths for paths in whole)
    assert all(
        p.parent == source.resolve() and not p.name.startswith(".") for ps in whole for p in ps
    )
