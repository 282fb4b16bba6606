"""File digests that skip reading unchanged files, as git's index does: the digest of a file
is remembered with its size, modification time, inode and change time, and taken as it is
while all four are unchanged. A file modified within ``RACY_NS`` of when its digest was
taken is read again, since a second change in the same clock tick would not show."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable
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


def digests(paths: Iterable[str], memo: StampMemo) -> dict[str, tuple[os.stat_result, str]]:
    """path -> (its stat, the sha256 of its content) for every file of ``paths`` that can be
    read; unchanged files are not read."""
    wanted = list(paths)
    known = memo.get_many(TABLE, wanted)
    now = time.time_ns()
    found: dict[str, tuple[os.stat_result, str]] = {}
    fresh: list[tuple[str, Any]] = []
    for path in wanted:
        try:
            st = os.stat(path)
            stamp = known.get(path)
            if stamp is not None and stamp[0] == _stat_key(st) and st.st_mtime_ns < stamp[2]:
                found[path] = (st, stamp[1])
                continue
            digest = _hash(path)
        except OSError:
            continue
        found[path] = (st, digest)
        fresh.append((path, [_stat_key(st), digest, now - RACY_NS]))
    memo.put_many(TABLE, fresh)
    return found
