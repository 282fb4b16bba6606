"""Which files of a folder tree changed, from the kernel's notifications (inotify, Linux),
so that a process that builds again need not look at every file of the source.

The kernel queues a notification while the change is being made (``write``, ``rename`` and
the others return after it is queued), so every change made before a build was asked for is
in the queue when the build reads it: no walk is needed to be sure. What notifications
cannot tell is said as "not known" (None), and the caller then walks the tree as before:
- the queue overflowed (the kernel dropped notifications), a folder was made, moved or
  removed (its files are not named one by one), a root was moved, removed or replaced (its
  inode is compared at each call), or the table of mounted file systems changed: once,
  every folder being watched again first;
- a file of the tree is a link to a file (a change to its target is not notified; a link to
  a folder is not followed by builds), or has other names (a change through another name is
  notified there; git's objects excepted, which a local clone links and nobody writes);
- a file system is mounted inside the tree, or the tree is on one whose changes may come
  from elsewhere (a network share, a folder shared with a virtual machine): only local file
  systems are watched;
- a watch could not be added (too many folders for the user's limit).
A watch that could not be trusted is tried again after ``RETRY_SECONDS``. Not seen at all: a
write through a memory map, and another name given from outside the tree to one of its
files once the watch started.

What was written into a new folder before it was watched is found by the walk its own
notification causes."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import functools
import os
import re
import stat
import struct
import sys
import time
from collections.abc import Iterable

from generator.output import writer

# the notifications asked for: every change of a file's content, times, mode or name
_IN_MODIFY, _IN_ATTRIB, _IN_CLOSE_WRITE = 0x2, 0x4, 0x8
_IN_MOVED_FROM, _IN_MOVED_TO, _IN_CREATE, _IN_DELETE = 0x40, 0x80, 0x100, 0x200
_IN_DELETE_SELF, _IN_MOVE_SELF = 0x400, 0x800
_IN_UNMOUNT, _IN_Q_OVERFLOW, _IN_IGNORED = 0x2000, 0x4000, 0x8000
_IN_ONLYDIR, _IN_DONT_FOLLOW, _IN_ISDIR = 0x01000000, 0x02000000, 0x40000000
_IN_NONBLOCK, _IN_CLOEXEC = 0o4000, 0o2000000  # Linux's values (os has them on Unix only)
_MASK = (
    _IN_MODIFY
    | _IN_ATTRIB
    | _IN_CLOSE_WRITE
    | _IN_MOVED_FROM
    | _IN_MOVED_TO
    | _IN_CREATE
    | _IN_DELETE
    | _IN_DELETE_SELF
    | _IN_MOVE_SELF
    | _IN_ONLYDIR
    | _IN_DONT_FOLLOW
)
_ROOT_GONE = _IN_DELETE_SELF | _IN_MOVE_SELF | _IN_IGNORED
_FOLDER_MOVES = _IN_CREATE | _IN_DELETE | _IN_MOVED_FROM | _IN_MOVED_TO
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, length of the name that follows
_READ_BYTES = 1 << 16
RETRY_SECONDS = 60.0  # a watch that could not be trusted is tried again after this long
# file systems whose every change is made by this machine's kernel, so notified
LOCAL_FILE_SYSTEMS = frozenset(
    {"ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "ramfs", "overlay", "f2fs", "zfs", "jfs"}
    | {"reiserfs", "bcachefs", "nilfs2"}
)


class SourceWatch:
    """The files changed under ``roots`` since the last ``changes()`` (each root a folder;
    folders named in ``skip`` are left out, as the state of the source leaves them out)."""

    def __init__(self, roots: Iterable[str], skip: frozenset[str]) -> None:
        self.roots = [os.path.abspath(root) for root in roots]
        self.skip = skip
        self.fd = -1
        self.folders: dict[int, str] = {}  # watch -> the folder it watches
        self.identities: dict[str, tuple[int, int]] = {}  # root -> its device and inode
        self.mounts = ""  # the table of mounted file systems when the watch started
        self.lost = False  # a change may have been missed, or a folder moved: started again
        self.broken = False  # notifications cannot be trusted now (tried again later)
        self.never = False  # nor ever here: not Linux, or not a local file system
        self.started = -RETRY_SECONDS  # when the watch was last started (time.monotonic)

    def start(self) -> bool:
        """Watch every folder of the roots; False (and nothing watched) where that cannot
        be done or trusted."""
        self.close()
        self.lost = self.broken = False  # what was lost is found by the caller's next walk
        self.started, self.mounts = time.monotonic(), _mounts()
        libc = _libc()
        self.never = libc is None or not all(_local(root) for root in self.roots)
        self.fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC) if libc is not None else -1
        for root in self.roots:
            identity = writer.file_key(root)
            if self.never or self.fd < 0 or identity is None:
                self.broken = True
                break
            self.identities[root] = identity
            self._watch_tree(root, identity[0])
        self.broken = self.broken or not set(self.roots) <= set(self.folders.values())
        if self.broken:
            self.close()
        return not self.broken

    def changes(self) -> frozenset[str] | None:
        """The paths changed since the last call, absolute; None when that is not known.
        The watch is then started again first (a watch that could not be trusted, once
        ``RETRY_SECONDS`` passed), so that the walk the caller makes next misses nothing
        that later notifications would not show."""
        if self.fd < 0:
            if not self.never and time.monotonic() - self.started >= RETRY_SECONDS:
                self.start()
            return None
        found: set[str] = set()
        while not self.broken:
            try:
                data = os.read(self.fd, _READ_BYTES)
            except BlockingIOError:
                break
            except OSError:
                self.broken = True
                break
            self._read(data, found)
        if self.broken:
            self.close()
            return None
        # a root removed while a file in it stays open is never said gone, nor is a mount
        moved_root = any(writer.file_key(root) != self.identities.get(root) for root in self.roots)
        if self.lost or moved_root or _mounts() != self.mounts:
            self.start()
            return None
        return frozenset(found)

    def close(self) -> None:
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
        self.fd = -1
        self.folders.clear()

    def _read(self, data: bytes, found: set[str]) -> None:
        offset = 0
        while offset + _EVENT.size <= len(data):
            wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
            offset += _EVENT.size
            name = data[offset : offset + length].rstrip(b"\0")
            offset += length
            if mask & (_IN_Q_OVERFLOW | _IN_UNMOUNT):
                self.lost = True
                continue
            folder = self.folders.get(wd)
            if folder is None:
                continue
            path = os.path.join(folder, os.fsdecode(name)) if name else folder
            if os.path.basename(path) in self.skip:
                continue  # left out of the source's state (a cache, byte code), as walked
            if (mask & _IN_ISDIR and mask & _FOLDER_MOVES) or (not name and mask & _ROOT_GONE):
                self.lost = True  # a folder made, moved or removed: its files are not named
            elif mask & (_IN_CREATE | _IN_MOVED_TO):
                self._check(path)
            found.add(path)

    def _check(self, path: str) -> None:
        """A file made in the tree: one whose changes would not be notified breaks the watch."""
        try:
            st = os.lstat(path)
        except OSError:
            return  # gone again: nothing to read
        root = max((r for r in self.roots if path.startswith(r + os.sep)), key=len, default="")
        self.broken = self.broken or not _trusted(path, st, root)

    def _watch_tree(self, root: str, device: int) -> None:
        """Watch ``root`` and every folder below it. What notifications would not show breaks
        the watch: a link (its target's changes), a file with other names (a change made
        through another name), a file system mounted inside."""
        libc = _libc()
        assert libc is not None
        pending = [root]
        while pending and not self.broken:
            folder = pending.pop()
            wd = libc.inotify_add_watch(self.fd, os.fsencode(folder), _MASK)
            if wd < 0:
                # gone meanwhile (its removal is notified); else the limit of watches
                self.broken = ctypes.get_errno() != errno.ENOENT
                continue
            self.folders[wd] = folder
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                if entry.name in self.skip:
                    continue  # as the walk leaves it out, whatever it is (a link to a cache)
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue  # gone meanwhile: notified
                if st.st_dev != device or not _trusted(entry.path, st, root):
                    self.broken = True
                elif stat.S_ISDIR(st.st_mode):
                    pending.append(entry.path)


def _trusted(path: str, st: os.stat_result, root: str) -> bool:
    """Whether every change of the file ``path`` (under ``root``) is notified where it is:
    not a link to a file, and not a file with other names (except git's objects, which a
    local clone links and which are never written again)."""
    if stat.S_ISLNK(st.st_mode):
        return os.path.isdir(path)  # a link to a folder is not followed by builds; to a file is
    git_object = f"{os.sep}.git{os.sep}objects{os.sep}" in path[len(root) :]
    return stat.S_ISDIR(st.st_mode) or st.st_nlink <= 1 or git_object


def _mounts() -> str:
    """This process's table of mounted file systems ('' when it cannot be read): a file
    system mounted inside a watched tree, or taken away, is not notified."""
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library with the inotify calls; None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.inotify_init1.argtypes = [ctypes.c_int]
        libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        libc.inotify_rm_watch.argtypes = [ctypes.c_int, ctypes.c_int]
    except (OSError, AttributeError):
        return None
    return libc


def _local(folder: str) -> bool:
    """Whether ``folder`` is on a file system of this machine (see LOCAL_FILE_SYSTEMS)."""
    return file_system(folder) in LOCAL_FILE_SYSTEMS


_OCTAL = re.compile(r"\\([0-7]{3})")  # a space, tab, newline or backslash in a mount point


def file_system(folder: str) -> str:
    """The type of the file system ``folder`` is on ('' when not known): that of the
    mount point that holds it most closely."""
    try:
        real = os.path.realpath(folder)
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as fh:
            mounts = [line.split()[1:3] for line in fh if len(line.split()) > 2]
    except OSError:
        return ""
    best, kind = "", ""
    for escaped, fs in mounts:
        point = _OCTAL.sub(lambda found: chr(int(found.group(1), 8)), escaped)
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fs
    return kind
