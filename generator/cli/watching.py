"""Batches of changes to a site's source folder, from the kernel's notifications (watchfiles),
for serve's rebuilds.

Hidden folders (the build cache, which holds the folder serve builds into, and .git) are not
watched at all: a build writes tens of thousands of files and folders into serve's folder,
and a watch over them would cost the system a watch per folder and the watcher seconds of
work per build. So the source folder is watched alone, for its own files and the folders
added, removed or renamed in it, and each of its other folders with everything below it. A
folder added, removed or renamed at the top has the folders watched again before its change
is told; what is written into a new folder before its watch starts is found by the walk of
the whole source that a new folder causes."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Change = tuple[Any, str]  # (watchfiles.Change, path)
Filter = Callable[[Any, str], bool]
RETRY_SECONDS = 1.0  # a watch that could not start is tried again after this long


class _Either:
    """Set once any of ``events`` is: what ends one watch (watchfiles asks ``is_set``)."""

    def __init__(self, *events: threading.Event) -> None:
        self._events = events

    def is_set(self) -> bool:
        return any(event.is_set() for event in self._events)


def folders(source: Path) -> list[Path]:
    """The folders at the top of ``source`` that are watched with everything below them:
    all but hidden ones and links."""
    try:
        entries = list(source.iterdir())
    except OSError:
        return []
    return sorted(
        p for p in entries if not p.name.startswith(".") and p.is_dir() and not p.is_symlink()
    )


def batches(
    source: Path, wanted: Filter, stopping: threading.Event, debounce: int, step: int
) -> Iterator[set[Change]]:
    """Each batch of changes under ``source`` that ``wanted`` keeps (debounced by ``debounce``
    ms, looked for every ``step`` ms) until ``stopping`` is set; what both watches found
    while the caller handled the last batch comes as one."""
    source = source.resolve()  # the paths told are then under it as the filter sees it
    found: queue.Queue[set[Change] | None] = queue.Queue()  # None: a watch has ended
    again = threading.Event()  # the folders at the top changed
    options = {"watch_filter": wanted, "debounce": debounce, "step": step}
    shared = _Watches(source, found, again, stopping, options)
    watches = [
        threading.Thread(target=_top, args=(shared,)),
        threading.Thread(target=_below, args=(shared,)),
    ]
    for watch in watches:
        watch.daemon = True
        watch.start()
    running = len(watches)
    while running:
        batch: set[Change] = set()
        for more in _waiting(found):
            if more is None:
                running -= 1
            else:
                batch |= more
        if batch:
            yield batch


def _waiting(found: queue.Queue[set[Change] | None]) -> Iterator[set[Change] | None]:
    """The next entry of ``found`` (waited for), then every other one already there."""
    yield found.get()
    while True:
        try:
            yield found.get_nowait()
        except queue.Empty:
            return


@dataclass(frozen=True)
class _Watches:
    """What the two watches share: the source, where they tell what they found (None: a
    watch has ended), whether the folders at the top changed (``again``), when to stop, and
    watchfiles' options."""

    source: Path
    found: queue.Queue[set[Change] | None]
    again: threading.Event
    stopping: threading.Event
    options: dict[str, Any]


def _top(w: _Watches) -> None:
    """Watch the source folder alone; when its folders change, have them watched again
    (``again``) before the change is told."""
    import watchfiles

    watched = folders(w.source)
    try:
        for changes in watchfiles.watch(
            w.source, recursive=False, stop_event=w.stopping, raise_interrupt=False, **w.options
        ):
            now = folders(w.source)
            if now != watched:
                watched = now
                w.again.set()
            w.found.put(changes)
    finally:
        w.found.put(None)


def _below(w: _Watches) -> None:
    """Watch each folder at the top with everything below it, again whenever ``again`` is
    set, until ``stopping`` is (or a watch ends by itself)."""
    import watchfiles

    source, found, again, stopping, options = w.source, w.found, w.again, w.stopping, w.options
    ended = _Either(stopping, again)
    try:
        while not stopping.is_set():
            again.clear()
            roots = folders(source)
            try:
                for changes in (
                    watchfiles.watch(*roots, stop_event=ended, raise_interrupt=False, **options)
                    if roots
                    else _idle(ended, options["step"])
                ):
                    found.put(changes)
            except OSError:  # a folder went away as its watch started, or no watch is left
                stopping.wait(RETRY_SECONDS)
                continue
            if not again.is_set():
                return
    finally:
        found.put(None)


def _idle(ended: _Either, step: int) -> Iterator[set[Change]]:
    """No folder to watch: nothing, until ``ended``."""
    while not ended.is_set():
        time.sleep(step / 1000)
    yield from ()
