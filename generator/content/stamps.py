"""File digests that skip reading unchanged files, as git's index does: the digest of a file
is remembered with its size, modification time, inode and change time, and taken as it is
while all four are unchanged. A file modified within ``RACY_NS`` of when its digest was
taken is read again, since a second change in the same clock tick would not show."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

TABLE = "stamps"
RACY_NS = 2_000_000_000


class StampMemo(Protocol):
    """Where the remembered stamps live (the build cache)."""

    def get_many(self, table: str, keys: Iterable[str]) -> dict[str, Any]: ...

    def put_many(self, table: str, items: Iterable[tuple[str, Any]]) -> None: ...


def _stat_key(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns]


def _hash(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def known(
    paths: Iterable[str], memo: StampMemo, stats: Mapping[str, os.stat_result] | None = None
) -> tuple[dict[str, tuple[os.stat_result, str]], dict[str, os.stat_result]]:
    """(path -> (stat, digest) of the files unchanged since their digest was remembered,
    path -> stat of the others, which must be read); files that cannot be seen are left out.
    ``stats`` holds the stats already taken (the others are taken here)."""
    wanted = list(paths)
    remembered = memo.get_many(TABLE, wanted)
    trusted: dict[str, tuple[os.stat_result, str]] = {}
    unread: dict[str, os.stat_result] = {}
    taken = stats or {}
    for path in wanted:
        try:
            st = taken.get(path) or os.stat(path)
        except OSError:
            continue
        stamp = remembered.get(path)
        if stamp is not None and stamp[0] == _stat_key(st) and st.st_mtime_ns < stamp[2]:
            trusted[path] = (st, stamp[1])
        else:
            unread[path] = st
    return trusted, unread


def remember(
    memo: StampMemo, read: Iterable[tuple[str, os.stat_result, str]], since: int | None = None
) -> None:
    """Remember the digests of files just read, with their stat; ``since``: a time
    (``time.time_ns``) before their stat was taken (default: now)."""
    now = time.time_ns() if since is None else since
    memo.put_many(
        TABLE, ((path, [_stat_key(st), digest, now - RACY_NS]) for path, st, digest in read)
    )


def digests(paths: Iterable[str], memo: StampMemo) -> dict[str, tuple[os.stat_result, str]]:
    """path -> (its stat, the sha256 of its content) for every file of ``paths`` that can be
    read, in the order of ``paths``; unchanged files are not read."""
    wanted = list(paths)
    since = time.time_ns()
    trusted, unread = known(wanted, memo)
    read: list[tuple[str, os.stat_result, str]] = []
    for path, st in unread.items():
        try:
            read.append((path, st, _hash(path)))
        except OSError:
            continue
    remember(memo, read, since)
    found = {**trusted, **{path: (st, digest) for path, st, digest in read}}
    return {path: found[path] for path in wanted if path in found}
