"""The one writer of files: a whole site atomically (into a temporary folder beside the output,
swapped in only when every file is written; a failed or interrupted build leaves the last good
output as it was), and single files atomically (``atomic_path``, ``write_atomic``,
``swap_folder``) for the cache, compiled documents, editions and converted sources.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import posixpath
import secrets
import shutil
import signal
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # not a POSIX system: builds are not locked
    fcntl = None  # type: ignore[assignment]

from generator.base import stopping
from generator.content.paths import EDITIONS_DIR, SKIPPED_PREFIXES, is_safe

# marks a folder as showcase output and lists every file the build wrote there: only those
# files are replaced without --force
MARKER = ".showcase-build"
MARKER_FORMAT = 2
# files a desktop leaves in any folder it shows, replaced without asking
DESKTOP_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
FOREIGN_SHOWN = 5  # files named in the message when an output folder holds foreign files


def identity(output: Path) -> str:
    """Tells one committed output folder from another (each build swaps in a new folder, or
    rewrites its marker when a small build changes its list of files); a marker edited by
    anyone else makes another identity too."""
    try:
        st = output.stat()
        mark = (output / MARKER).stat()
    except OSError:
        return ""
    if not stat.S_ISREG(mark.st_mode):
        return ""
    return (
        f"{st.st_dev}:{st.st_ino}:{st.st_mtime_ns}:{mark.st_ino}:{mark.st_size}:{mark.st_mtime_ns}"
    )


def marker_text(files: Iterable[str]) -> str:
    """The marker of an output folder holding ``files`` (paths relative to it)."""
    data = {"generator": "showcase", "format": MARKER_FORMAT, "files": sorted(files)}
    return json.dumps(data, ensure_ascii=False, indent=0) + "\n"


def marked_files(output: Path) -> set[str] | None:
    """The files the marker of ``output`` lists; None without a valid marker (a file merely
    named like it, or one of another format, marks nothing)."""
    try:
        data = json.loads((output / MARKER).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("format") != MARKER_FORMAT:
        return None
    files = data.get("files")
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None
    return set(files)


def foreign_files(output: Path, listing: Listing | None = None) -> list[str]:
    """The files of ``output`` that the last build there did not write (all of them without
    a valid marker), sorted; a linked folder counts as one file, and a link is never one of
    ours, whatever its name. ``listing``: ``list_files(output)``, when already made."""
    ours = marked_files(output) or set()
    return sorted(
        rel
        for rel, _plain, link in (list_files(output) if listing is None else listing)
        if rel != MARKER
        and posixpath.basename(rel) not in DESKTOP_FILES
        and (rel not in ours or link)
    )


# every file of a folder, links to folders included: (path, a plain file?, a link?)
Listing = list[tuple[str, bool, bool]]


def list_files(output: Path) -> Listing:
    """Everything but folders in ``output``, found in one walk that follows no link."""
    found: Listing = []
    stack = [(str(output), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                stack.append((entry.path, prefix + entry.name + "/"))
            else:
                rel = prefix + entry.name
                found.append((rel, entry.is_file(follow_symlinks=False), entry.is_symlink()))
    return found


def plain_files(listing: Listing) -> set[str]:
    """The paths of a ``list_files`` listing that are plain files (no link on the way)."""
    return {rel for rel, plain, _link in listing if plain}


def folders_of(files: Iterable[str]) -> set[str]:
    """Every folder holding ``files`` (paths relative to an output folder), the output
    itself ("") included."""
    folders = {""}
    for rel in files:
        folder = posixpath.dirname(rel)
        while folder not in folders:
            folders.add(folder)
            folder = posixpath.dirname(folder)
    return folders


def folder_stamps(output: Path, folders: Iterable[str]) -> dict[str, int] | None:
    """The change time of each of ``folders`` of ``output`` (-1: gone, or not a folder); None
    when ``output`` cannot be opened. The system sets a folder's change time whenever a file
    in it is added, deleted, renamed or replaced by a link, and no one can set it back."""
    try:
        root = os.open(output, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return None
    out: dict[str, int] = {}
    try:
        for rel in folders:
            try:  # relative to the open folder: each path is looked up from there, not from /
                st = os.stat(rel, dir_fd=root, follow_symlinks=False) if rel else os.fstat(root)
            except OSError:
                out[rel] = -1
                continue
            out[rel] = st.st_ctime_ns if stat.S_ISDIR(st.st_mode) else -1
    finally:
        os.close(root)
    return out


class OutputError(Exception):
    """The output folder cannot be used; ``code`` names the catalog message, ``params`` fill
    it."""

    def __init__(self, code: str, path: Path, **params: object) -> None:
        super().__init__(f"{code}: {path}")
        self.code = code
        self.path = path
        self.params = params


def check_output(output: Path, source: Path, look_inside: bool = True) -> None:
    """Refuse an output folder that would destroy something that is not a previous build:
    the source, a file, or (with ``look_inside``) a folder holding files the last build there
    did not write; without it, the caller looks for those later (``refuse_foreign``) or was
    told not to (``--force``)."""
    out, src = output.resolve(), source.resolve()
    if out == src or out in src.parents:
        raise OutputError("output-contains-source", output)
    if src in out.parents and not _never_read(out.relative_to(src).parts[0]):
        # the output would be read as source by the next build, and grow with each one
        raise OutputError("output-inside-source", output)
    if output.exists() and not output.is_dir():
        raise OutputError("output-not-folder", output)
    if look_inside:
        refuse_foreign(output)


def refuse_foreign(
    output: Path,
    added: Iterable[str] | None = None,
    touched: Iterable[str] = (),
    listing: Listing | None = None,
) -> None:
    """OutputError if ``output`` holds files the last build there did not write: anywhere in
    it, or, for a small build, only where it would lose or follow something: a file at a
    path it ``added``, a folder at a path it replaces or removes (``touched``), a link or a
    file where a folder above one of those goes. ``listing``: see ``foreign_files``."""
    if not output.is_dir():
        return
    if added is None:
        foreign = foreign_files(output, listing)
    else:
        foreign = _in_the_way(output, added, touched)
    if foreign:
        shown = ", ".join(foreign[:FOREIGN_SHOWN]) + (", …" if len(foreign) > FOREIGN_SHOWN else "")
        raise OutputError("output-not-ours", output, count=len(foreign), files=shown)


def _in_the_way(output: Path, added: Iterable[str], touched: Iterable[str]) -> list[str]:
    """The paths of ``refuse_foreign`` for a small build, sorted."""
    found = [rel for rel in added if os.path.lexists(output / rel)]
    ours = (marked_files(output) or set()) if found else set()
    odd = {rel for rel in found if rel not in ours}
    folders: set[str] = set()
    for rel in touched:
        mode = _mode(output / rel)
        if mode is not None and stat.S_ISDIR(mode):
            odd.add(rel)
        parent = posixpath.dirname(rel)
        while parent and parent not in folders:
            folders.add(parent)
            parent = posixpath.dirname(parent)
    for folder in folders:
        mode = _mode(output / folder)
        if mode is not None and not stat.S_ISDIR(mode):  # a link or a file, not a folder
            odd.add(folder)
    return sorted(odd)


def _mode(path: Path) -> int | None:
    """The mode of ``path`` itself (a link is not followed); None when nothing is there."""
    try:
        return os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None


def _never_read(top: str) -> bool:
    """Whether the loader never reads a folder of the source so named: hidden ones (serve's
    private output in the cache) and ``editions/`` (where an edition is built)."""
    return top.startswith(SKIPPED_PREFIXES) or top == EDITIONS_DIR


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back until the block is done (they are delivered right after)."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A fresh temporary path beside ``target`` (same folder, so the same file system) for the
    block to write the new file to; it is moved over ``target`` in one step when the block ends
    without an error, and removed otherwise. Readers see the old file or the new one, never
    half of one. The file gets the usual permissions (the umask's), like a plain write."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.partial")
    try:
        yield temp
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def write_atomic(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically (see ``atomic_path``)."""
    with atomic_path(target) as temp, open(temp, "xb") as fh:
        fh.write(data)


def swap_folder(new: Path, target: Path) -> None:
    """Put the folder ``new`` in the place of ``target`` (which may be missing), with
    SIGINT/SIGTERM held back between the two renames so that one of the two folders is always
    in place. ``new`` must be on the same file system as ``target``."""
    with _signals_deferred():  # Ctrl-C or kill between the two renames would lose both
        old: Path | None = None
        if target.exists():
            prefix = f".{target.name}.old-{os.getpid()}-"
            old = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
            os.replace(target, old / "site")
        os.replace(new, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def write_new(root: Path, rel: str, data: bytes) -> None:
    """Write the new file ``rel`` (claimed with ``StagedOutput.claim``) under ``root``, the
    staged folder, making its folder first when it is missing. Any process may call it: a
    folder made by another meanwhile is no error, a file written twice is."""
    target = root / rel
    try:
        _write_new_file(target, data)
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_new_file(target, data)


# a new file, written only, never one that is there, not inherited by a process started
_NEW_FILE = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
)


def _write_new_file(path: Path, data: bytes) -> None:
    """Write ``data`` to the new file ``path`` (FileExistsError when it exists), with the
    system's calls alone: a Python file object asks the system three more questions per file
    (its size, whether it is a terminal, where it stands)."""
    fd = os.open(path, _NEW_FILE, 0o666)
    try:
        write_whole(fd, data)
    finally:
        os.close(fd)


def write_whole(fd: int, data: bytes) -> None:
    """Write all of ``data`` to the open file ``fd``: each write the system cuts short (a
    pipe's, interrupted) goes on where it stopped."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _new_folder_mode(parent: Path) -> int:
    """The permissions a folder made in ``parent`` gets (the process's umask applied): those
    an output takes when it is swapped in (a web server run as another user reads it)."""
    probe = new_folder(parent, ".showcase-mode-")
    try:
        return stat.S_IMODE(probe.stat().st_mode)
    finally:
        probe.rmdir()


def new_folder(parent: Path, prefix: str) -> Path:
    """A new empty folder in ``parent``, named ``prefix`` and random letters, with the
    permissions of any folder made there (``tempfile.mkdtemp`` makes it the owner's alone)."""
    for _ in range(100):
        path = parent / f"{prefix}{secrets.token_hex(6)}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise FileExistsError(errno.EEXIST, "no free name for a new folder", str(parent / prefix))


class StagedOutput:
    """A temporary folder beside ``output``; ``commit()`` swaps it in, ``abort()`` removes it."""

    def __init__(self, output: Path) -> None:
        self.output = output
        output.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(output)
        prefix = f"{_staging_prefix(output)}{os.getpid()}-"
        # the owner's alone while the build writes into it (no one else can put a file or a
        # link in it), opened to what any new folder gets when it becomes the output
        self.root = Path(tempfile.mkdtemp(prefix=prefix, dir=output.parent))
        self._dirs: set[Path] = set()
        self._written: set[str] = set()
        self._moving = False  # files are being moved into the output (``commit_changes``)

    def _claim(self, rel: str) -> None:
        # two spellings of one file (a/./x, a/x) are one claim
        norm = posixpath.normpath(rel)
        if not is_safe(rel) or norm in self._written:
            raise ValueError(f"refusing to write {rel!r} twice or outside the output")
        self._written.add(norm)

    def claim(self, rels: Iterable[str]) -> None:
        """Check and record the paths of files that ``write_new`` will write here, in this
        process or in a forked worker (which cannot tell this object what it wrote)."""
        for rel in rels:
            self._claim(rel)

    def _target(self, rel: str) -> Path:
        self._claim(rel)
        target = self.root / rel
        parent = target.parent
        if parent not in self._dirs:
            parent.mkdir(parents=True, exist_ok=True)
            self._dirs.add(parent)
        return target

    def copy(self, rel: str, source: Path) -> None:
        shutil.copyfile(source, self._target(rel))

    def copy_all(self, files: Iterable[tuple[str, Path]]) -> None:
        for rel, source in files:
            self.copy(rel, source)

    def keep(self, rel: str, previous: Path, plain: set[str]) -> None:
        """Carry an unchanged file over from the previous output: a hard link where the file
        system allows (no bytes written), a copy otherwise. ``plain``: the files of
        ``previous`` that are files in folders, no links (``plain_files``); a file that is
        not among them (a link put in its place, or gone) is not carried: OutputError."""
        if rel not in plain:
            raise OutputError("output-link", previous, file=rel)
        source, target = previous / rel, self._target(rel)
        try:
            os.link(source, target, follow_symlinks=False)
        except OSError:
            shutil.copyfile(source, target, follow_symlinks=False)

    def commit(self) -> None:
        stopping.check()
        (self.root / MARKER).write_text(marker_text(self._written), encoding="utf-8")
        self.root.chmod(_new_folder_mode(self.output.parent))
        swap_folder(self.root, self.output)

    def commit_changes(
        self, changed: Iterable[str], removed: Iterable[str], every: Iterable[str] | None
    ) -> None:
        """Move the files written here into the existing output and delete ``removed``: for
        small incremental builds, where rebuilding the whole folder would cost more than the
        change; the marker then lists ``every`` file of the output (None: the same files as
        before, the marker stays). Signals wait until the moves are done; a journal beside
        the output lets the next build finish them if the process dies half-way (see
        ``recover``)."""
        stopping.check()
        changed, removed = sorted(changed), sorted(removed)
        for rel in (*changed, *removed):
            if not _in_real_folders(self.output / rel, self.output):
                raise OutputError("output-link", self.output, file=rel)
        if every is not None:
            (self.root / MARKER).write_text(marker_text(every), encoding="utf-8")
            changed.append(MARKER)
        journal = _journal(self.output)
        plan = {"root": str(self.root), "changed": changed, "removed": removed}
        write_atomic(journal, json.dumps(plan).encode("utf-8"))
        with _signals_deferred():
            self._moving = True
            _apply(self.output, self.root, changed, removed)
            journal.unlink()
            self._moving = False

    def abort(self) -> None:
        """Remove the folder, unless a move of its files into the output stopped half-way:
        the journal beside the output names it then, and the next build finishes the move
        (``recover``), the files that moved and the marker that lists them included."""
        if self._moving:
            return
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.root)


def _journal(output: Path) -> Path:
    return output.parent / f".{output.name}.journal.json"


def _in_real_folders(path: Path, top: Path) -> bool:
    """Whether every folder between ``top`` and ``path`` that exists is a folder, not a link
    (writing or deleting ``path`` then stays inside ``top``)."""
    parent = path.parent
    while parent != top:
        mode = _mode(parent)
        if mode is not None and not stat.S_ISDIR(mode):
            return False
        if parent == parent.parent:
            return False  # not below ``top`` at all
        parent = parent.parent
    return True


def _apply(output: Path, root: Path, changed: list[str], removed: list[str]) -> None:
    """Move the files ``changed`` from ``root`` into ``output`` and delete ``removed``. Each
    path is checked just before it is acted on: one that would leave the output (``..``, a
    link on the way) is left alone, and only files (no links) are moved in. The journal that
    ``recover`` replays lies beside the output, where anyone who can write there could edit
    it."""
    made: set[Path] = set()
    for rel in changed:
        source, target = root / rel, output / rel
        if not (_safe_in(output, rel) and _safe_in(root, rel)):
            continue
        mode = _mode(source)
        if mode is None or not stat.S_ISREG(mode):
            continue  # already moved by an interrupted run, or not a file
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        os.replace(source, target)
    for rel in removed:
        if not _safe_in(output, rel):
            continue
        target = output / rel
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            target.unlink()
        parent = target.parent
        while parent != output and _safe_in(output, parent.relative_to(output).as_posix()):
            if not parent.is_dir() or any(parent.iterdir()):
                break
            parent.rmdir()
            parent = parent.parent
    shutil.rmtree(root, ignore_errors=True)


def _safe_in(top: Path, rel: str) -> bool:
    """Whether acting on ``top / rel`` stays inside ``top``: a plain relative path with no
    link among the folders on the way."""
    return is_safe(rel) and _in_real_folders(top / rel, top)


STALE_AFTER = 24 * 3600  # seconds: a staging folder without a process id is stale after this


def remove_stale(output: Path) -> list[Path]:
    """Remove the staging folders beside ``output`` that a killed build left: those whose
    process is gone (or, without a process id in the name, older than ``STALE_AFTER``).
    A concurrent build's folder stays. Returns what was removed."""
    removed = []
    for prefix in (_staging_prefix(output), f".{output.name}.old-"):
        for folder in output.parent.glob(prefix + "*"):
            pid = folder.name[len(prefix) :].partition("-")[0]
            if folder.is_dir() and not folder.is_symlink() and _stale(folder, pid):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    return removed


def _stale(folder: Path, pid: str) -> bool:
    if pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except OSError:  # the process exists, owned by someone else
            return False
        return False
    try:
        return time.time() - folder.stat().st_mtime > STALE_AFTER
    except OSError:
        return False


def recover(output: Path) -> None:
    """Finish an incremental commit that a killed build left half done (or one whose move
    failed half-way: ``StagedOutput.abort`` kept its folder). The journal names the staged
    folder: only a staging folder of ``output`` is acted on, and it is removed even when
    the move fails again."""
    journal = _journal(output)
    if not journal.is_file():
        return
    try:
        plan = json.loads(journal.read_text(encoding="utf-8"))
        root = Path(plan["root"])
        if _staging_of(output, root) and output.is_dir():
            try:
                _apply(output, root, list(plan["changed"]), list(plan["removed"]))
            finally:
                shutil.rmtree(root, ignore_errors=True)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    journal.unlink(missing_ok=True)


def _staging_of(output: Path, folder: Path) -> bool:
    """Whether ``folder`` is named as the staging folders of ``output`` are (beside it)."""
    return folder.parent == output.parent and folder.name.startswith(_staging_prefix(output))


def _staging_prefix(output: Path) -> str:
    """How the names of the staging folders of ``output`` begin (the process id follows)."""
    return f".{output.name}.building-"


# -- one build at a time ------------------------------------------------------------------


@contextlib.contextmanager
def exclusive(
    output: Path, cache_dir: Path | None, waiting: Callable[[Path], None]
) -> Iterator[None]:
    """Hold the locks of ``output`` and of the cache folder ``cache_dir`` while a build runs:
    another build into the same output, or with the same cache, waits until this one ends
    (``waiting(folder)`` is called when it has to wait). The system releases a lock when its
    process and the workers it forked end, however they end; where a lock file cannot be made
    or locked (a read-only folder, some network folders, no POSIX locks), the build runs
    without it."""
    with contextlib.ExitStack() as stack:
        if cache_dir is not None:
            stack.enter_context(_locked(cache_dir / CACHE_LOCK, cache_dir, waiting))
        stack.enter_context(_locked(lock_file(output), output, waiting))
        yield


CACHE_LOCK = "lock"  # in the cache folder


def lock_file(output: Path) -> Path:
    """The lock of an output folder: a hidden file beside it (the folder is swapped whole),
    one for every spelling of its path."""
    output = output.resolve()
    return output.parent / f".{output.name}.lock"


@contextlib.contextmanager
def _locked(path: Path, folder: Path, waiting: Callable[[Path], None]) -> Iterator[None]:
    """The lock file ``path`` held, made if missing and removed when released (so that no
    lock file stays beside the output); a build that waited on a file the holder removed
    meanwhile locks the new one instead. Without POSIX locks, or where the file cannot be
    made or locked (some network folders), nothing is held."""
    fd = _held(path, folder, waiting) if fcntl is not None else -1
    try:
        yield
    finally:
        if fd >= 0:
            with contextlib.suppress(OSError):
                path.unlink()
            os.close(fd)


def _held(path: Path, folder: Path, waiting: Callable[[Path], None]) -> int:
    """A descriptor of the lock file ``path``, locked; -1 when it cannot be."""
    told = False
    while True:
        fd = _open_lock(path)
        if fd < 0:
            return -1
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not told:
                    waiting(folder)
                    told = True
                fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:  # locks not supported here (nobody holds one): the build runs unlocked
            os.close(fd)
            with contextlib.suppress(OSError):
                path.unlink()
            return -1
        except BaseException:  # interrupted while waiting
            os.close(fd)
            raise
        if _is_file_at(fd, path):
            return fd
        os.close(fd)  # the holder removed the file we waited on: lock the one there now


def _open_lock(path: Path) -> int:
    """A descriptor of the lock file ``path`` (made if missing), or -1 when it cannot be."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError:
        return -1


def _is_file_at(fd: int, path: Path) -> bool:
    """Whether the open file ``fd`` is still the file at ``path``."""
    mine = os.fstat(fd)
    return file_key(path) == (mine.st_dev, mine.st_ino)


def file_key(path: str | Path) -> tuple[int, int] | None:
    """The device and inode of ``path`` (a link not followed): what tells one file or folder
    from another put at the same path. None when nothing is there."""
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    return st.st_dev, st.st_ino
