"""Converted bodies kept in the cache rather than in memory, for a large build.

The HTML and text of ten thousand bodies take about a hundred megabytes in the build process,
and the render workers forked from it would hold them too. As each chunk of bodies is
converted, a large build stores it in the cache and keeps only what pages of other items read
(the summary and the link resolutions) and a digest of the HTML. A page that shows a body
(its detail page, its search result) reads it back from the cache, in whichever process
renders it; what is read must have the digest kept, so a cache changed behind the build's back
gives nothing it did not make: such a body is converted again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from generator.output import cache, markup
from generator.site.bodies import Rendered

TABLE = "markup"  # the rows of converted bodies: [HTML, summary, links], by Markdown key
KEPT_FROM = 1000  # bodies converted: from this many, a build keeps them in the cache


def _digest(html: str) -> bytes:
    # a lone surrogate (from a changed cache) gives another digest, not an error
    return hashlib.sha256(html.encode("utf-8", "surrogatepass")).digest()


class KeptBodies(Mapping[str, Rendered]):
    """Bodies by item key; those ``add``ed light hold no HTML nor text here (``full`` reads
    them). ``keys``: each item's Markdown cache key (the row of its body); ``convert``
    converts an item's body again."""

    def __init__(
        self,
        database: Path,
        keys: Mapping[str, str],
        convert: Callable[[str], Rendered],
        bodies: Mapping[str, Rendered] | None = None,
    ) -> None:
        self._entries: dict[str, Rendered] = dict(bodies or {})
        self._digests: dict[str, bytes] = {}
        self._database, self._keys, self._convert = database, keys, convert
        self._db: tuple[int, sqlite3.Connection] | None = None  # (process, connection)
        # connections of the process this one was forked from: never used, nor closed, here
        self._inherited: list[sqlite3.Connection] = []

    def lighten(self, bodies: Mapping[str, Rendered]) -> dict[str, Rendered]:
        """Keep ``bodies`` (stored in the cache already) by their summary and links, and the
        digest of their HTML; returns what is kept."""
        light = {}
        for key, body in bodies.items():
            self._digests[key] = _digest(body.html)
            light[key] = self._entries[key] = Rendered("", body.text_summary, body.links)
        return light

    def __getitem__(self, key: str) -> Rendered:
        return self._entries[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def full(self, key: str, text: bool = True) -> Rendered | None:
        """The body of ``key`` with its HTML, and its text unless not ``text``."""
        body, digest = self._entries.get(key), self._digests.get(key)
        if body is None or digest is None:
            return body
        html = self._read(self._keys[key])
        if html is None or _digest(html) != digest:
            return self._convert(key)
        plain = markup.plain_text(html) if text else ""
        return Rendered(html, body.text_summary, body.links, plain)

    def _read(self, row: str) -> str | None:
        """The HTML of the body in ``row`` of the cache; None if it is not there as stored."""
        try:
            found = dict(cache.select(self._connection(), TABLE, [row]))
            html = json.loads(found[row])[0] if row in found else None
        except (sqlite3.Error, ValueError, TypeError, IndexError, KeyError):
            return None
        return html if isinstance(html, str) else None

    def _connection(self) -> sqlite3.Connection:
        # one connection per process: a worker forked from the build opens its own
        if self._db is None or self._db[0] != os.getpid():
            if self._db is not None:
                self._inherited.append(self._db[1])
            self._db = (os.getpid(), cache.read_only(self._database))
        return self._db[1]

    def close(self) -> None:
        """Close this process's connection, if open."""
        if self._db is not None and self._db[0] == os.getpid():
            with contextlib.suppress(sqlite3.Error):
                self._db[1].close()
        self._db = None
