"""The term tables of the search index as the cache keeps them, and the postings shards of a
large index computed from them in a fresh Python process.

Made in the build process, the postings of every term (tens of millions on a site of ten
thousand documents) would grow it by well over a hundred megabytes while its workers render,
and it is the largest process of a build. A fresh process holds nothing but the postings, and
gives back only the shards. The build runs ``python -m generator.output.indexer`` with the
request on its stdin (the cache's file, the tables' signatures in document order, the number
of shards) and reads the shards, as JSON, from its stdout; when that process cannot start or
fails, the build makes the postings itself, as it does for a smaller site.
"""

from __future__ import annotations

import contextlib
import json
import struct
import subprocess
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from generator.base import memory
from generator.base.code import helper_process
from generator.output import cache, writer
from generator.site import search
from generator.site.termcodes import Table

TABLES = "search_docs"  # signature -> a term table (``encode_table``)
ELSEWHERE_FROM = 2000  # documents: from this many, the postings are made in a fresh process
BATCH = 500  # tables read from the cache at a time
HEAD = 4  # bytes before a table's numbers (``encode_table``)
MODULE = "generator.output.indexer"


def encode_table(table: Table) -> bytes:
    """A term table as the cache keeps it: the length of its numbers in bytes (4 bytes,
    little-endian), the numbers of its Chinese terms as they are, then, as JSON, its other
    terms (one a line) and the masks of the terms in fields. The numbers, most of a table,
    are thus neither encoded nor decoded."""
    rest = cache.encode(["\n".join(table.others), dict(table.fielded)]).encode("utf-8")
    return b"".join((struct.pack("<I", len(table.codes)), table.codes, rest))


def split_row(entry: object) -> Table:
    """A table as the cache holds it (``encode_table``); ValueError when it is not one (a
    cache changed behind the build's back)."""
    if not isinstance(entry, bytes) or len(entry) < HEAD:
        raise ValueError("not a term table")
    (size,) = struct.unpack_from("<I", entry)
    if size % 8 or HEAD + size > len(entry):
        raise ValueError("not a term table")
    rest = json.loads(entry[HEAD + size :])
    if not (isinstance(rest, list) and len(rest) == 2):
        raise ValueError("not a term table")
    others, fielded = rest
    if not (isinstance(others, str) and isinstance(fielded, dict)) or not all(
        type(mask) is int for mask in fielded.values()
    ):
        raise ValueError("not a term table")
    words = tuple(others.split("\n")) if others else ()
    return Table(entry[HEAD : HEAD + size], words, fielded)


def postings(tables: Iterable[Table], count: int, bulk: bool) -> list[dict[str, str]]:
    """``search.postings`` of ``tables``; with ``bulk`` (a large site), made with numpy."""
    if bulk and search.arrays_loadable():
        import generator.site.termarrays as termarrays  # numpy: loaded for bulk work alone

        return termarrays.postings(tables, count)
    return search.postings(tables, count)


def computed_elsewhere(
    database: Path, sigs: Sequence[str], count: int
) -> list[dict[str, str]] | None:
    """``search.postings`` of the tables ``sigs`` (signatures, in document order; every one in
    the cache ``database``, committed) in ``count`` shards, made in a fresh process; None when
    that process could not start or failed."""
    # the process runs in another folder: a path relative to this one would not be found
    request = json.dumps([str(database.absolute()), list(sigs), count])
    command, env, root = helper_process(MODULE)
    try:
        done = subprocess.run(
            command,
            input=request.encode("utf-8"),
            capture_output=True,
            env=env,
            cwd=root,
            check=False,
        )
        shards = json.loads(done.stdout) if done.returncode == 0 else None
    except (OSError, ValueError):
        return None
    return shards if _are_shards(shards, count) else None


def _are_shards(value: object, count: int) -> bool:
    return (
        isinstance(value, list)
        and len(value) == count
        and all(
            isinstance(shard, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in shard.items())
            for shard in value
        )
    )


def _tables(database: Path, sigs: Sequence[str]) -> Iterator[Table]:
    """The tables ``sigs`` from the cache, in order, BATCH at a time (KeyError: one is not
    there)."""
    with contextlib.closing(cache.read_only(database)) as db:
        for start in range(0, len(sigs), BATCH):
            part = sigs[start : start + BATCH]
            rows = dict(cache.select(db, TABLES, part))
            for sig in part:
                yield split_row(rows[sig])


def main() -> None:
    """The fresh process: the request from stdin, the shards to stdout."""
    memory.keep_freed_pages()  # the postings' arrays are made and freed again and again
    database, sigs, count = json.loads(sys.stdin.buffer.read())
    shards = postings(_tables(Path(database), sigs), count, bulk=True)
    send(json.dumps(shards, ensure_ascii=False).encode("utf-8"))


def send(data: bytes) -> None:
    """Write ``data`` to stdout whole, with the system's calls (``writer.write_whole``): a
    write cut short, as when a profiler samples the process, goes on where it stopped, where
    Python's buffered stdout was seen to leave the rest unwritten and exit 0."""
    sys.stdout.flush()
    writer.write_whole(sys.stdout.fileno(), data)


if __name__ == "__main__":
    main()
