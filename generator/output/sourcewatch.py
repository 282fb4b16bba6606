"""Which files of a folder tree changed, from the kernel's notifications (inotify, Linux),
so that a process that builds again need not look at every file of the source.

The kernel queues a notification while the change is being made (``write``, ``rename`` and
the others return after it is queued), so every change made before a build was asked for is
in the queue when the build reads it: no walk is needed to be sure. What notifications
cannot tell is said as "not known" (None), and the caller then walks the tree as before:
- the queue overflowed (the kernel dropped notifications), or a root was moved or removed:
  once, every folder being watched again first;
- a file of the tree is a symbolic link (a change to its target is not notified), or has
  other names outside hidden folders (a change through another name is notified there);
- a file system is mounted inside the tree, or the tree is on one whose changes may come
  from elsewhere (a network share, a folder shared with a virtual machine): only local file
  systems are watched;
- a watch could not be added (too many folders for the user's limit).
Not seen at all: a write through a memory map, and another name given from outside the tree
to one of its files once the watch started.

A folder created in the tree is watched as soon as its notification is read; what was
written into it before is found by the walk its own notification causes (a new path is
never one the caller knew)."""

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
from collections.abc import Iterable

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
        self.devices: dict[str, int] = {}  # root -> the device it is on
        self.identities: dict[str, tuple[int, int]] = {}  # root -> its device and inode
        self.lost = False  # a change may have been missed: watched again from scratch
        self.moved = False  # a folder was made, moved or removed: its files are not named
        self.broken = False  # notifications cannot be trusted here at all

    def start(self) -> bool:
        """Watch every folder of the roots; False (and nothing watched) where that cannot
        be done or trusted."""
        self.close()
        self.lost = self.moved = False  # what was lost or moved is found by the next walk
        libc = _libc()
        if libc is None or not all(_local(root) for root in self.roots):
            self.broken = True
            return False
        self.fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if self.fd < 0:
            self.broken = True
            return False
        for root in self.roots:
            identity = _identity(root)
            if identity is None:
                self.broken = True
                break
            self.identities[root] = identity
            self.devices[root] = identity[0]
            self._watch_tree(root, self.devices[root])
        self.broken = self.broken or not set(self.roots) <= set(self.folders.values())
        if self.broken:
            self.close()
        return not self.broken

    def changes(self) -> frozenset[str] | None:
        """The paths changed since the last call (files, and folders created or removed),
        absolute; None when that is not known. After notifications were lost (the queue
        overflowed, a root moved), every folder is watched again first, so that the walk
        the caller then makes misses nothing that later notifications would not show."""
        if self.broken or self.fd < 0:
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
        # a root removed while a file in it stays open is never said gone: it is looked at
        if self.lost or any(_identity(root) != self.identities.get(root) for root in self.roots):
            self.start()
            return None
        moved, self.moved = self.moved, False
        return None if moved else frozenset(found)

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
            if folder in self.devices and not name and mask & _ROOT_GONE:
                self.lost = True  # a root moved or removed: watched again where it is now
            if mask & _IN_IGNORED:  # the folder is gone (its parent said so)
                del self.folders[wd]
                continue
            path = os.path.join(folder, os.fsdecode(name)) if name else folder
            found.add(path)
            self._follow(path, mask)

    def _follow(self, path: str, mask: int) -> None:
        """Keep the watches true to the tree after the change of ``path``."""
        if mask & _IN_ISDIR and os.path.basename(path) in self.skip:
            return
        if mask & _IN_ISDIR and mask & _FOLDER_MOVES:
            self.moved = True
        if mask & _IN_ISDIR and mask & (_IN_CREATE | _IN_MOVED_TO):
            self._watch_tree(path, self._device_of(path))
        elif mask & _IN_ISDIR and mask & _IN_MOVED_FROM:
            self._forget(path)
        elif mask & (_IN_CREATE | _IN_MOVED_TO):
            try:
                st = os.lstat(path)
            except OSError:
                return  # gone again: nothing to read
            self.broken = self.broken or not _trusted(path, st, self._root_of(path))

    def _root_of(self, path: str) -> str:
        """The root ``path`` is under (the closest)."""
        roots = [root for root in self.roots if path == root or path.startswith(root + os.sep)]
        return max(roots, key=len) if roots else ""

    def _device_of(self, path: str) -> int:
        """The device of the root ``path`` is under."""
        return self.devices.get(self._root_of(path), -1)

    def _watch_tree(self, top: str, device: int) -> None:
        """Watch ``top`` and every folder below it. What notifications would not show breaks
        the watch: a link (its target's changes), a file with other names (a change made
        through another name), a file system mounted inside."""
        libc = _libc()
        assert libc is not None
        pending, root = [top], self._root_of(top)
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
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue  # gone meanwhile: notified
                if st.st_dev != device or not _trusted(entry.path, st, root):
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


def _identity(folder: str) -> tuple[int, int] | None:
    """The device and inode of ``folder`` (None: it is not there)."""
    try:
        st = os.lstat(folder)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _trusted(path: str, st: os.stat_result, root: str) -> bool:
    """Whether every change of the file ``path`` (under ``root``) is notified where it is:
    not a link, and not a file with other names (except in hidden folders such as .git,
    whose files no build reads as content: git links the objects of a local clone)."""
    if stat.S_ISLNK(st.st_mode):
        return False
    folders = path[len(root) :].split(os.sep)[:-1]
    hidden = any(part.startswith(".") for part in folders)
    return stat.S_ISDIR(st.st_mode) or st.st_nlink <= 1 or hidden


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
