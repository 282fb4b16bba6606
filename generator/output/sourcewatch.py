"""Which files of a folder tree changed, from the kernel's notifications (inotify, Linux),
so that a process that builds again need not look at every file of the source.

The kernel queues a notification while the change is being made (``write``, ``rename`` and
the others return after it is queued), so every change made before a build was asked for is
in the queue when the build reads it: no walk is needed to be sure. What notifications
cannot tell is said as "not known" (None), and the caller then walks the tree as before:
- the queue overflowed (the kernel dropped notifications);
- a file of the tree is a symbolic link (a change to its target is not notified);
- the tree is on a file system whose changes may come from elsewhere (a network share, a
  folder shared with a virtual machine): only local file systems are watched;
- a watch could not be added (too many folders for the user's limit).

A folder created in the tree is watched as soon as its notification is read; what was
written into it before is found by the walk its own notification causes (a new path is
never one the caller knew)."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import struct
import sys
from collections.abc import Iterable

# the notifications asked for: every change of a file's content, times, mode or name
_IN_MODIFY, _IN_ATTRIB, _IN_CLOSE_WRITE = 0x2, 0x4, 0x8
_IN_MOVED_FROM, _IN_MOVED_TO, _IN_CREATE, _IN_DELETE = 0x40, 0x80, 0x100, 0x200
_IN_DELETE_SELF, _IN_MOVE_SELF = 0x400, 0x800
_IN_UNMOUNT, _IN_Q_OVERFLOW, _IN_IGNORED = 0x2000, 0x4000, 0x8000
_IN_ONLYDIR, _IN_DONT_FOLLOW, _IN_ISDIR = 0x01000000, 0x02000000, 0x40000000
_IN_NONBLOCK, _IN_CLOEXEC = os.O_NONBLOCK, os.O_CLOEXEC
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
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, length of the name that follows
_READ_BYTES = 1 << 16
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
        self.lost = False  # a change may have been missed since the last changes()
        self.broken = False  # notifications cannot be trusted here at all

    def start(self) -> bool:
        """Watch every folder of the roots; False (and nothing watched) where that cannot
        be done or trusted."""
        libc = _libc()
        if libc is None or not all(_local(root) for root in self.roots):
            self.broken = True
            return False
        fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            self.broken = True
            return False
        self.fd = fd
        for root in self.roots:
            self._watch_tree(root)
        if self.broken:
            self.close()
        return not self.broken

    def changes(self) -> frozenset[str] | None:
        """The paths changed since the last call (files, and folders created or removed),
        absolute; None when that is not known."""
        if self.broken or self.fd < 0:
            return None
        found: set[str] = set()
        while True:
            try:
                data = os.read(self.fd, _READ_BYTES)
            except BlockingIOError:
                break
            except OSError:
                self.broken = True
                return None
            self._read(data, found)
        lost, self.lost = self.lost, False
        return None if lost or self.broken else frozenset(found)

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
            if mask & _IN_IGNORED:  # the folder is gone (its parent said so)
                del self.folders[wd]
                continue
            path = os.path.join(folder, os.fsdecode(name)) if name else folder
            found.add(path)
            self._follow(path, mask)

    def _follow(self, path: str, mask: int) -> None:
        """Keep the watches true to the tree after the change of ``path``."""
        if mask & _IN_ISDIR and mask & (_IN_CREATE | _IN_MOVED_TO):
            if os.path.basename(path) not in self.skip:
                self._watch_tree(path)
        elif mask & _IN_ISDIR and mask & _IN_MOVED_FROM:
            self._forget(path)
        elif mask & (_IN_CREATE | _IN_MOVED_TO) and os.path.islink(path):
            self.broken = True  # a link: changes of what it points to are not notified

    def _watch_tree(self, top: str) -> None:
        """Watch ``top`` and every folder below it; a link in it breaks the watch."""
        libc = _libc()
        assert libc is not None
        pending = [top]
        while pending and not self.broken:
            folder = pending.pop()
            wd = libc.inotify_add_watch(self.fd, os.fsencode(folder), _MASK)
            if wd < 0:
                # gone meanwhile (its removal is notified); else the limit of watches
                self.broken = ctypes.get_errno() != _ENOENT
                continue
            self.folders[wd] = folder
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                if entry.is_symlink():
                    self.broken = True
                elif entry.is_dir(follow_symlinks=False) and entry.name not in self.skip:
                    pending.append(entry.path)

    def _forget(self, folder: str) -> None:
        """Stop watching ``folder`` and the folders below it (moved away: a move back in is
        notified, and watched again)."""
        libc = _libc()
        assert libc is not None
        below = folder + os.sep
        for wd, path in list(self.folders.items()):
            if path == folder or path.startswith(below):
                libc.inotify_rm_watch(self.fd, wd)
                self.folders.pop(wd, None)


_ENOENT = 2


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
    for point, fs in mounts:
        point = point.replace("\\040", " ")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fs
    return kind
