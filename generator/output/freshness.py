"""Whether a build has anything to do: a digest of everything a build reads (every file of the
source and of the shipped themes, the git commit, the generator's code, the versions of the
libraries that shape the output, the options, SOURCE_DATE_EPOCH), compared with the one the
last good build into the same output folder left.

Light on purpose: the command line asks it before the rendering stack (Jinja, Markdown, the
site model) is even imported, so that a build that finds nothing changed ends at once."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from generator.base.config import BuildOptions, packaged_themes_dir
from generator.base.errors import Diagnostic
from generator.base.report import BuildReport
from generator.content import history, stamps
from generator.output import cache, writer

# folders (by name) the state of the source leaves out: the cache, byte code
NOT_WALKED = frozenset({cache.CACHE_DIR, "__pycache__"})
# meta: the identity (``writer.identity``) of the output folder whose folders' change times the
# cache keeps (``Cache.folder_times``)
OUTPUT_FOLDERS = "output-folders"
CLOCK_TICK_NS = 10_000_000  # at least the tick of the clock of files' change times


def source_state(
    options: BuildOptions, store: cache.Cache, changed: frozenset[str] | None = None
) -> str:
    """A digest of everything a build reads ('' without a cache). Files whose size, time and
    inode are as last seen are not read again. ``changed`` (paths relative to the source)
    are the only files changed since the last call in this process, as a watcher saw them:
    when each is a file seen then, the others are not looked at again."""
    if not store.enabled:
        return ""
    digest = hashlib.sha256()
    settings = (
        cache.schema(),
        cache.code_digest(),
        options.drafts,
        options.strict,
        options.edition_year,
        # file dates outside git are capped by it
        os.environ.get("SOURCE_DATE_EPOCH", "").strip(),
        # the year the items' years are measured against (a year in the future is a warning)
        time.localtime().tm_year,
    )
    digest.update(repr(settings).encode())
    digest.update(b"".join(_file_lines(options, store, changed).values()))
    digest.update(history.head(options.source).encode())
    return digest.hexdigest()


def _file_lines(
    options: BuildOptions, store: cache.Cache, changed: frozenset[str] | None
) -> dict[str, bytes]:
    """path -> the line of the state that stands for that file (its size, time and digest),
    in walking order; in a process that builds again, the last lines with those of the
    ``changed`` files made again, when each of them is a file known then, or else the last
    line of each file whose stat is as it was then (``_reused``)."""
    kept, kept_stats = store.memory("state-lines"), store.memory("state-stats")
    source = str(options.source)
    # taken out until the new lines are made: a call that fails half-way leaves nothing
    last: dict[str, bytes] | None = kept.pop(source, None) if kept else None
    stats: Stats = kept_stats.pop(source, None) or {} if kept_stats is not None else {}
    paths: list[str] = []
    patched = False  # the last lines, with those of the changed files to make again
    previous = last  # the lines a walk may take again (``_reused``)
    if last is not None and changed is not None:
        paths = [os.path.join(source, *rel.split("/")) for rel in changed]
        gone = _gone_unknown([path for path in paths if path not in last], last)
        paths = [path for path in paths if path not in gone]
        if all(path in last and os.path.isfile(path) for path in paths):
            last = {**last, **dict.fromkeys(paths, b"")}
            patched = True
        else:
            last = None
    if last is None or changed is None:
        paths = []
        for root in (options.source, packaged_themes_dir()):
            _walk(str(root), paths)
        last = dict.fromkeys(paths, b"")
        if previous is not None and kept_stats is not None:
            paths = _reused(paths, previous, stats, last)
    horizon = time.time_ns() - stamps.RACY_NS  # see _as_then
    found = stamps.digests(paths, store)
    for path, (st, content) in found.items():
        last[path] = f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0{content}\n".encode()
        if kept_stats is not None:
            stats[path] = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns, horizon)
    # the files gone since they were listed have no line: left out, unless there are none
    # (the last lines were patched, and the line of every changed file was made)
    whole = patched and len(found) == len(paths)
    lines = last if whole else {path: line for path, line in last.items() if line}
    if kept is not None and kept_stats is not None:
        kept[source] = lines
        kept_stats[source] = (
            {path: stats[path] for path in lines} if len(stats) > len(lines) else stats
        )
    return lines


def _gone_unknown(paths: list[str], last: dict[str, bytes]) -> set[str]:
    """Those of ``paths`` (none of them a file of the ``last`` state) that are gone and held
    no file of it: a file made and gone again between two builds (an editor's temporary
    file, saved then renamed over the document) leaves nothing to look at. A folder moved
    away held some."""
    gone = [path for path in paths if not os.path.lexists(path)]
    if len(gone) > 8:  # the folders of every known file, once, rather than a search each
        held = _ancestors({os.path.dirname(known) for known in last})
        return {path for path in gone if path not in held}
    return {path for path in gone if not any(k.startswith(path + os.sep) for k in last)}


def _ancestors(folders: set[str]) -> set[str]:
    """``folders`` and every folder above them."""
    found: set[str] = set()
    for folder in folders:
        while folder and folder not in found:
            found.add(folder)
            parent = os.path.dirname(folder)
            folder = "" if parent == folder else parent
    return found


# path -> the size, modification time, inode and change time of the file when its line was
# made, and a time its modification must be older than for the line to be taken again
Stats = dict[str, tuple[int, int, int, int, int]]


def _reused(
    paths: list[str], last: dict[str, bytes], stats: Stats, out: dict[str, bytes]
) -> list[str]:
    """Put into ``out`` the ``last`` line of each of ``paths`` whose stat is as it was when
    that line was made (``stats``); the other paths, to be looked at as ``stamps`` does."""
    todo = []
    for path in paths:
        then, line = stats.get(path), last.get(path)
        if then is not None and line and _as_then(path, then):
            out[path] = line
        else:
            todo.append(path)
    return todo


def _as_then(path: str, then: tuple[int, int, int, int, int]) -> bool:
    """Whether the file ``path`` has the size, times and inode it had ``then``, and was
    modified before the time ``then`` ends with: as ``stamps.known`` trusts a digest (a file
    modified within ``stamps.RACY_NS`` of when its digest was taken is not, since a second
    change in the same clock tick would not show)."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    now = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
    return now == then[:4] and st.st_mtime_ns < then[4]


def _walk(folder: str, found: list[str]) -> None:
    """Append the files under ``folder`` to ``found``, in name order, leaving out the cache
    and Python's byte code (links to files count, links to folders are not followed)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if entry.name not in NOT_WALKED:
                _walk(entry.path, found)
        elif not entry.is_dir():  # a link to a folder is not followed
            found.append(entry.path)


def last_report(
    options: BuildOptions,
    store: cache.Cache,
    state: str,
    looked: Callable[[], Mapping[str, int] | None] | None = None,
) -> BuildReport | None:
    """The report of the last build, its warnings included, when nothing it read has changed
    since (``state``) and its output folder is still the one it wrote, with no file added,
    deleted or replaced in any of its folders (as ``looked`` found them, when given); None
    when there is something to do."""
    if not state or store.get_meta("source") != state + writer.identity(options.output):
        return None
    found = looked() if looked is not None else None
    if not folders_intact(options.output, kept_folders(options.output, store), found):
        return None
    diagnostics = _diagnostics(store.get_meta("diagnostics") or "[]")
    if diagnostics is None:
        return None
    return BuildReport(
        True,
        diagnostics,
        language=store.get_meta("language") or "zh-CN",
        counts=json.loads(store.get_meta("counts") or "{}"),
    )


def remember(options: BuildOptions, store: cache.Cache, state: str, report: BuildReport) -> None:
    """Record what the next build compares with: the state and the report, when this build
    was good (warnings are kept to be shown again); nothing (so the next build runs)
    otherwise."""
    if report.ok and state:
        store.set_meta("source", state + writer.identity(options.output))
        store.set_meta("language", report.language)
        store.set_meta("counts", json.dumps(report.counts))
        rows = [
            [d.path, *d.as_row()]
            for d in report.diagnostics
            if not d.code.startswith("cache-")  # about the cache as that build found it
        ]
        store.set_meta("diagnostics", json.dumps(rows, ensure_ascii=False))
    else:
        store.set_meta("source", "")


def _diagnostics(text: str) -> tuple[Diagnostic, ...] | None:
    """The diagnostics ``remember`` kept (None if they cannot be read)."""
    try:
        return tuple(Diagnostic.from_row(str(row[0]), row[1:]) for row in json.loads(text))
    except (ValueError, TypeError, IndexError, AssertionError):
        return None


Stamps = dict[str, int]  # folder of an output (relative to it) -> its change time


def kept_folders(output: Path, store: cache.Cache, identity: str | None = None) -> Stamps | None:
    """The change times of the folders of ``output`` the last build there kept
    (``remember_folders``), if it is the same folder (``identity``, default: its identity
    now); None otherwise. Not to be changed."""
    if identity is None:
        identity = writer.identity(output)
    if not identity or store.get_meta(OUTPUT_FOLDERS) != identity:
        return None
    return store.folder_times()


def folders_intact(
    output: Path, stamps: Stamps | None, found: Mapping[str, int] | None = None
) -> bool:
    """Whether every folder of ``output`` is as the last build there left it (``stamps``, see
    ``kept_folders``): no file in it added, deleted, or replaced by a link since. One look
    at each folder, not a walk of every file, unless another process just looked (``found``:
    the times it found). A folder kept as unknown (a negative time) never is."""
    if not stamps or min(stamps.values()) < 0:
        return False
    if found is None:
        found = writer.folder_stamps(output, stamps)
    return found is stamps or found == stamps


def changed_since(output: Path, files: Iterable[str], stamps: Stamps) -> frozenset[str]:
    """The folders of ``files`` whose change time is no longer the one in ``stamps``: what a
    build that checked them when it started finds, just before it changes files in them."""
    folders = [folder for folder in writer.folders_of(files) if folder in stamps]
    now = writer.folder_stamps(output, folders) or {}
    return frozenset(folder for folder in folders if now.get(folder) != stamps[folder])


def remember_folders(
    output: Path,
    store: cache.Cache,
    files: Iterable[str],
    touched: tuple[Iterable[str], Iterable[str]] | None = None,
    since: int | None = None,
) -> None:
    """Keep the change time of every folder of ``output`` that holds ``files``, the files a
    build has just committed there, for ``kept_folders``. A build that changed files in place
    in a folder whose kept times held when it started (or that only a watcher writes) gives
    the files it touched and the folders that changed while it ran (kept as unknown, so that
    the next build looks through the output): only the folders of those files are looked
    at again. ``since``: when the build's last change was made (``time.monotonic_ns``), so
    that a tick of the clock of change times is waited out (see below); None: no wait."""
    if not store.enabled:
        return
    files, unknown = touched if touched is not None else (files, ())
    stamps = writer.folder_stamps(output, writer.folders_of(files))
    if stamps is None:  # the output cannot be looked at: nothing is kept
        store.set_meta(OUTPUT_FOLDERS, "")
        return
    stamps.update(dict.fromkeys(unknown, -2))
    stamps = _coarse_as_unknown(stamps)
    store.save_folder_times(stamps, whole=touched is None)
    store.set_meta(OUTPUT_FOLDERS, writer.identity(output))
    # The clock of change times moves in ticks of a few milliseconds: a file deleted within
    # the tick of the build's last change could leave its folder's time as kept. Once a tick
    # has passed, any change gives a later time.
    if since is not None:
        wait = since + CLOCK_TICK_NS - time.monotonic_ns()
        if wait > 0:
            time.sleep(wait / 1e9)


def _coarse_as_unknown(stamps: Stamps) -> Stamps:
    """``stamps`` with those of the last two seconds as unknown, on a file system that keeps
    change times in whole seconds (FAT, some older or network ones), where a change in the
    same second as the build's would leave a folder's time as kept."""
    newest = max(stamps.values(), default=0)
    if newest <= 0 or newest % 1_000_000_000:
        return stamps
    recent = newest - 2_000_000_000
    return {folder: -2 if stamp >= recent else stamp for folder, stamp in stamps.items()}
