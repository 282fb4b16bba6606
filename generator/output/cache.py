"""Incremental state, keyed by content hashes: parsed front matter by file digest, Markdown
output by body and link context, and for every output file its fingerprint, its byte hash and
the inputs it read through the site view while it rendered, each with its digest then. The
reads form an index from each input to the pages that read it (``readers``).

Everything lives in one SQLite file in a folder that can be deleted at any time. A cache from
another version, or one that cannot be read, is discarded with a warning and the build is a
clean one.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import operator
import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from generator import __version__
from generator.base.code import code_digest as code_digest  # re-exported: the cache's key
from generator.base.config import CACHE_DIR as CACHE_DIR  # re-exported
from generator.content import history
from generator.output import writer

SCHEMA = f"showcase-cache/14/{__version__}"
# the libraries whose version changes what a build writes
OUTPUT_LIBRARIES = ("jinja2", "markdown", "nh3", "pillow", "pypinyin", "pyyaml", "strokes")


@functools.cache
def schema() -> str:
    """The cache's format and the versions of the libraries that shape the output: a cache
    written under any other is discarded (a new Markdown or Pillow may write other bytes)."""
    found = [SCHEMA]
    for name in OUTPUT_LIBRARIES:
        try:
            found.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name}=?")
    return " ".join(found)


FILE = "build.sqlite"
# rows encoded and written at a time by ``put_many``
PUT_BATCH = 256
PAGE_SIZE = 16384  # bytes of a page of a new cache database
READERS_INDEX = "CREATE INDEX IF NOT EXISTS readers ON page_reads (input)"  # pages by read
# what a long-lived process keeps in memory: small, or read by every build
MEMORY_TABLES = frozenset({"meta", "parsed", "links", "search_shards", "folders"})
# what every build reads whole (the stamps of every file): kept as one JSON document, read
# with one query and kept in memory while the cache is open. A file that is gone keeps its
# entry: a few bytes, dropped with the cache when the schema changes.
WHOLE_TABLES = frozenset({"stamps"})


@dataclass(frozen=True, slots=True)
class OutputRecord:
    fingerprint: str
    sha: str
    # the inputs the page read through the site view (encoded reads) -> their digest then
    reads: Mapping[str, str] = field(default_factory=dict)
    # the keys of the items in its context and in the answers to its reads; None when
    # unknown or too many to keep (see ``fingerprints``): the page is always checked
    items: Collection[str] | None = None


class Holders:
    """Which output files hold each item, by the ``items`` of their records (a long-lived
    process keeps it beside the records in memory, and changes it with them)."""

    def __init__(self, records: Mapping[str, OutputRecord]) -> None:
        self._by_item: dict[str, set[str]] = {}
        self.unlisted: set[str] = set()  # files whose records list no items (None)
        for path, record in records.items():
            self.add(path, record)

    def add(self, path: str, record: OutputRecord) -> None:
        if record.items is None:
            self.unlisted.add(path)
            return
        for key in record.items:
            self._by_item.setdefault(key, set()).add(path)

    def remove(self, path: str, record: OutputRecord) -> None:
        self.unlisted.discard(path)
        for key in record.items or ():
            paths = self._by_item.get(key)
            if paths is not None:
                paths.discard(path)
                if not paths:  # an item no file holds any more (removed, renamed)
                    del self._by_item[key]

    def of(self, keys: Iterable[str]) -> set[str]:
        """The files whose records list one of the items ``keys``."""
        return set().union(*(self._by_item.get(key, ()) for key in keys))


def _items(text: str | None) -> frozenset[str] | None:
    """The item keys of a page as the outputs table keeps them (one a line)."""
    if text is None:
        return None
    return frozenset(text.split("\n")) if text else frozenset()


def _lines(items: Collection[str] | None) -> str | None:
    return None if items is None else "\n".join(sorted(items))


class _StoredReads(Mapping[str, str]):
    """The reads of one output file as the cache holds them (encoded read -> its digest
    then), read from the database when first asked for, or with every page's
    (``Cache.read_all_reads``)."""

    __slots__ = ("_db", "_found", "_path")

    def __init__(self, db: sqlite3.Connection, path: str) -> None:
        self._db, self._path = db, path
        self._found: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        if self._found is None:
            query = (
                "SELECT r.input, i.digest FROM page_reads r JOIN inputs i USING (input)"
                " WHERE r.path = ? ORDER BY r.input"
            )
            self._found = dict(self._db.execute(query, (self._path,)))
        return self._found

    def __getitem__(self, key: str) -> str:
        return self._load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


_INPUTS = "SELECT input, digest FROM inputs"
_PAGE_INPUTS = "SELECT path, input FROM page_reads ORDER BY path, input"


class Cache:
    """A handle on the cache database; ``Cache.disabled()`` gives one that remembers nothing."""

    def __init__(
        self, db: sqlite3.Connection | None, problem: str = "", remember: bool = False
    ) -> None:
        self._db = db
        self.path: Path | None = None  # the database file (``open`` sets it)
        self.identity: tuple[int, int] | None = None  # its device and inode when opened
        self.problem = problem  # why an existing cache was discarded, for a warning
        # a long-lived process (serve) keeps what it read and wrote in memory as well, so that
        # the next build does not read it from the database again
        self._memory: dict[str, dict[str, Any]] | None = {} if remember and db else None
        self._outputs: tuple[str, dict[str, OutputRecord]] | None = None
        self._holders: Holders | None = None  # of the records of ``_outputs``, once asked
        self._wholes: dict[str, dict[str, Any]] = {}
        self._unsaved: set[str] = set()  # whole tables changed since they were last written
        # rows put while writes are held (``hold_writes``), not yet encoded
        self._held: list[tuple[str, Iterable[tuple[str, Any]]]] | None = None

    @classmethod
    def disabled(cls) -> Cache:
        return cls(None)

    @classmethod
    def open(cls, folder: Path, remember: bool = False) -> Cache:
        """The cache in ``folder``; with ``remember``, what is read and written is also kept
        in memory for the next build in this process (see ``MEMORY_TABLES``)."""
        if history.tracked(folder):
            # committed to git: what it holds may come from anyone who can commit, and a
            # build trusts it (converted HTML, validated items)
            return cls(None, "tracked")
        path = folder / FILE
        problem = ""
        try:
            folder.mkdir(parents=True, exist_ok=True)
            db = cls._connect(path)
            row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None or row[0] != schema():
                problem = "stale"
                db.close()
                path.unlink(missing_ok=True)
                db = cls._connect(path)
        except (sqlite3.Error, OSError):
            problem = "corrupt"
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
            try:
                db = cls._connect(path)
            except (sqlite3.Error, OSError):
                return cls(None, problem)
        opened = cls(db, problem, remember)
        opened.path = path
        opened.identity = writer.file_key(path)
        return opened

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        fresh = not path.exists()
        # serve builds in its watcher thread, one build at a time
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        # set before the first table is made (a database made earlier keeps its own): most
        # rows are several kilobytes, which pages of 4 kB split into chains of overflow pages
        db.execute(f"PRAGMA page_size={PAGE_SIZE}")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(
            f"""
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
            CREATE TABLE IF NOT EXISTS parsed (digest TEXT PRIMARY KEY, data TEXT);
            CREATE TABLE IF NOT EXISTS markup (key TEXT PRIMARY KEY, data TEXT);
            CREATE TABLE IF NOT EXISTS items (key TEXT PRIMARY KEY, data TEXT);
            CREATE TABLE IF NOT EXISTS links (key TEXT PRIMARY KEY, data TEXT);
            CREATE TABLE IF NOT EXISTS search_docs (key TEXT PRIMARY KEY, data TEXT);
            CREATE TABLE IF NOT EXISTS search_shards (key TEXT PRIMARY KEY, data TEXT);
            CREATE TABLE IF NOT EXISTS outputs (path TEXT PRIMARY KEY, fingerprint TEXT,
                                                sha TEXT, items TEXT);
            CREATE TABLE IF NOT EXISTS inputs (input TEXT PRIMARY KEY, digest TEXT);
            CREATE TABLE IF NOT EXISTS page_reads (path TEXT, input TEXT,
                                                   PRIMARY KEY (path, input));
            {READERS_INDEX};
            CREATE TABLE IF NOT EXISTS folders (path TEXT PRIMARY KEY, ctime INTEGER);
            """
        )
        if fresh:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (schema(),))
        else:
            db.execute("SELECT count(*) FROM outputs").fetchone()  # fails if corrupt
        return db

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def replaced(self) -> bool:
        """Whether the database file is no longer the one opened (deleted, or replaced by
        another, as when the site folder is removed and copied back): a process that keeps
        the cache open opens it again."""
        return self.path is not None and writer.file_key(self.path) != self.identity

    def data_version(self) -> int:
        """A number that changes when another process writes the database (SQLite's
        ``data_version``): a process that keeps the cache in memory (the daemon) then knows
        its memory is out of date. 0 without a database."""
        if self._db is None:
            return 0
        try:
            return int(self._db.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            return -1

    def close(self) -> None:
        if self._db is not None:
            self.flush()
            self._db.close()
            self._db = None

    def flush(self) -> None:
        """Write the whole tables changed since they were last written (each is one document,
        so it is written once per build, not once per change)."""
        if self._db is None:
            return
        for table in sorted(self._unsaved):
            document = json.dumps(self._wholes[table], ensure_ascii=False, sort_keys=True)
            self._db.execute(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"table:{table}", document)
            )
        self._unsaved.clear()

    def get_meta(self, key: str) -> str:
        if self._db is None:
            return ""
        memory = self._table("meta")
        if key in memory:
            return str(memory[key])
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        memory[key] = str(row[0]) if row else ""
        return str(memory[key])

    def set_meta(self, key: str, value: str) -> None:
        if self._db is not None:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
            self._table("meta")[key] = value

    @property
    def remembers(self) -> bool:
        """Whether this cache keeps what it reads and writes in memory (a long-lived
        process: serve, the daemon)."""
        return self._memory is not None

    def memory(self, name: str) -> dict[Any, Any] | None:
        """A mapping kept in memory for the life of this process, for what the database does
        not hold as it is (the item objects of ``model.build_site``, the page jobs); None
        unless remembering."""
        if self._memory is None:
            return None
        return self._memory.setdefault(f"memory:{name}", {})

    def per_item(
        self,
        name: str,
        items: Iterable[Any],
        token: Callable[[Any], str],
        compute: Callable[[Any, str], str],
    ) -> dict[str, str]:
        """``compute(item, token(item))`` of every item, by key; in a process that builds
        again (remembering), computed once per item object and token, not once per build."""
        memo = self.memory(name)
        out: dict[str, str] = {}
        for item in items:
            mark = token(item)
            kept = memo.get(item.key) if memo is not None else None
            if kept is None or kept[0] is not item or kept[1] != mark:
                kept = (item, mark, compute(item, mark))
                if memo is not None:
                    memo[item.key] = kept
            out[item.key] = kept[2]
        return out

    def _table(self, table: str) -> dict[str, Any]:
        """What is kept in memory of ``table`` (a throwaway mapping when nothing is)."""
        if self._memory is None or table not in MEMORY_TABLES:
            return {}
        return self._memory.setdefault(table, {})

    # -- key/value tables -------------------------------------------------------------------

    def _whole(self, table: str) -> dict[str, Any]:
        """Every entry of a table of ``WHOLE_TABLES``, read once."""
        assert self._db is not None
        if table not in self._wholes:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (f"table:{table}",))
            found = row.fetchone()
            self._wholes[table] = json.loads(found[0]) if found else {}
        return self._wholes[table]

    def clear(self, table: str) -> None:
        """Forget every row of a key/value ``table``."""
        if self._db is not None:
            self._db.execute(f"DELETE FROM {table}")
            self._table(table).clear()

    def get_many(self, table: str, keys: Iterable[str]) -> dict[str, Any]:
        if self._db is None:
            return {}
        if table in WHOLE_TABLES:
            whole = self._whole(table)
            return {k: whole[k] for k in keys if k in whole}
        memory = self._table(table)
        found: dict[str, Any] = {}
        wanted = []
        for k in dict.fromkeys(keys):
            if k in memory:
                found[k] = memory[k]
            else:
                wanted.append(k)
        for k, data in select(self._db, table, wanted):
            found[k] = memory[k] = json.loads(data)
        return found

    def get_encoded(self, table: str, keys: Iterable[str]) -> dict[str, str | bytes]:
        """The rows of ``keys`` in ``table`` as they are stored (what ``put_encoded`` was
        given), not decoded: for rows their own module encodes."""
        if self._db is None:
            return {}
        return dict(select(self._db, table, list(dict.fromkeys(keys))))

    def put_many(self, table: str, items: Iterable[tuple[str, Any]]) -> None:
        """Store ``items`` (key, plain data) as JSON, encoded and written PUT_BATCH at a time
        (the JSON of all bodies at once would double the memory of a large build); while
        writes are held, kept as they are until ``write_held``."""
        if self._held is not None and self._db is not None:
            self._held.append((table, items))
            return
        self.put_encoded(table, _encoded(items))

    def hold_writes(self) -> None:
        """Keep the rows put from now on in memory, not encoded, until ``write_held``: what
        must be ready soon (serve's first page) does not wait for the cache. A row held is
        not found by ``get_many`` meanwhile."""
        if self._held is None:
            self._held = []

    def write_held(self) -> None:
        """Encode and write the rows held since ``hold_writes``; later rows are written at
        once again."""
        held, self._held = self._held, None
        for table, items in held or ():
            self.put_encoded(table, _encoded(items))

    def put_encoded(self, table: str, rows: Iterable[tuple[str, str | bytes]]) -> None:
        """Store ``rows`` (key, JSON made by ``encode``), as ``put_many`` does: for data
        encoded in another process. A row of a table that is neither in memory nor whole
        may be bytes of its own format instead (``get_encoded`` reads it)."""
        if self._db is None:
            return
        batches = _batches(iter(rows), PUT_BATCH)
        if table in WHOLE_TABLES:  # small: updated all at once, written by ``flush``
            found = {key: json.loads(text) for batch in batches for key, text in batch}
            if found:
                self._whole(table).update(found)
                self._unsaved.add(table)
            return
        first = next(batches, None)
        if first is None:
            return
        batches = itertools.chain((first,), batches)
        remembered: list[tuple[str, str | bytes]] = []
        keep = self._memory is not None and table in MEMORY_TABLES
        with self._transaction():
            for batch in batches:
                self._db.executemany(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", batch)
                if keep:
                    remembered.extend(batch)
        if remembered:
            self._table(table).update((key, json.loads(text)) for key, text in remembered)

    # -- outputs ----------------------------------------------------------------------------

    def knows_output(self, identity: str) -> bool:
        """Whether the last build recorded here wrote the output folder of ``identity``."""
        if self._db is None or not identity:
            return False
        row = self._db.execute("SELECT value FROM meta WHERE key = 'output'").fetchone()
        return row is not None and row[0] == identity

    def forget_output(self) -> None:
        """Forget which output folder the last build wrote: the next build renders every
        page and looks through the whole folder first (it was found not as written)."""
        if self._db is not None:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('output', '')")
        self._keep_outputs(None)

    def outputs(self, identity: str) -> dict[str, OutputRecord]:
        """What the last build wrote, if the output folder is still the one it wrote."""
        if self._db is None:
            return {}
        if self._outputs is not None and self._outputs[0] == identity:
            return dict(self._outputs[1])
        if not self.knows_output(identity):
            return {}
        # a page's reads are read when it is checked: most pages of a build are not
        query = "SELECT path, fingerprint, sha, items FROM outputs"
        db = self._db
        found = {
            path: OutputRecord(fp, sha, _StoredReads(db, path), _items(items))
            for path, fp, sha, items in db.execute(query)
        }
        if self._memory is not None:
            self._keep_outputs((identity, dict(found)))
        return found

    def read_all_reads(self, records: Mapping[str, OutputRecord]) -> None:
        """Read at once the reads of the ``records`` (``outputs``) not read yet, as each
        page's own query gives them: for a build that checks every page (a story added), one
        pass over the table rather than one query a page."""
        unread = {
            path: record.reads
            for path, record in records.items()
            if isinstance(record.reads, _StoredReads) and record.reads._found is None
        }
        if not unread or self._db is None:
            return
        # each input once, its text shared by the pages that read it
        known = {read: (read, digest) for read, digest in self._db.execute(_INPUTS)}
        found: dict[str, dict[str, str]] = {path: {} for path in unread}
        for path, read in self._db.execute(_PAGE_INPUTS):
            page, input_ = found.get(path), known.get(read)
            if page is not None and input_ is not None:  # an input gone is no read (a join)
                page[input_[0]] = input_[1]
        for path, reads in unread.items():
            reads._found = found[path]

    def kept_outputs(self) -> Mapping[str, OutputRecord] | None:
        """The records of the last build's output as this process keeps them in memory (the
        very mapping ``outputs`` copies, until a build or a forgotten file replaces it)."""
        return self._outputs[1] if self._outputs is not None else None

    def holders(self, identity: str) -> Holders | None:
        """Which files of the last build's output hold each item, when this process keeps
        its records in memory (as ``outputs`` gave them); None otherwise."""
        if self._outputs is None or self._outputs[0] != identity:
            return None
        if self._holders is None:
            self._holders = Holders(self._outputs[1])
        return self._holders

    def _keep_outputs(
        self,
        outputs: tuple[str, dict[str, OutputRecord]] | None,
        changes: Mapping[str, tuple[OutputRecord | None, OutputRecord | None]] | None = None,
    ) -> None:
        """Keep ``outputs`` in memory. When the ``changes`` (path -> its record before and
        now) made them from the last ones kept (a build changed that output: its identity
        may change too), the holders follow; else they are made again when next asked for."""
        holders = self._holders
        if changes is None or outputs is None or self._outputs is None:
            holders = None
        if holders is not None and changes is not None:
            for path, (before, now) in changes.items():
                if before is not None:
                    holders.remove(path, before)
                if now is not None:
                    holders.add(path, now)
        self._outputs, self._holders = outputs, holders

    def folder_times(self) -> dict[str, int]:
        """The change time of each folder of the output, as ``save_folder_times`` kept them
        (a long-lived process keeps them in memory: do not change the mapping)."""
        if self._db is None:
            return {}
        memory = self._table("folders")
        if not memory:
            memory.update(self._db.execute("SELECT path, ctime FROM folders"))
        return memory

    def save_folder_times(self, times: Mapping[str, int], whole: bool) -> None:
        """Keep the change ``times`` of folders of the output: all of them (``whole``), or
        those of folders that changed."""
        if self._db is None:
            return
        memory = self._table("folders")
        with self._transaction():
            if whole:
                self._db.execute("DELETE FROM folders")
                memory.clear()
            self._db.executemany("INSERT OR REPLACE INTO folders VALUES (?, ?)", times.items())
        memory.update(times)

    def save_outputs(
        self,
        identity: str,
        records: Mapping[str, OutputRecord],
        previous: Mapping[str, OutputRecord] | None = None,
        checked: Collection[str] | None = None,
    ) -> None:
        """Record what this build wrote. With the records the last build left (``previous``),
        only the rows of changed and removed files are written again; ``checked``, when
        given, holds every path whose record may differ from ``previous``."""
        if self._db is None:
            return
        previous = previous or {}
        paths: Iterable[str] = records if checked is None or not previous else sorted(checked)
        # a record kept from the last build is the same object: those are passed over first,
        # by the interpreter's own loops (a site has tens of thousands of files)
        other = map(operator.is_not, map(previous.get, paths), map(records.get, paths))
        changed = {
            p: r
            for p in itertools.compress(paths, other)
            if (r := records.get(p)) is not None and previous.get(p) != r
        }
        if checked is None:
            removed = sorted(previous.keys() - records.keys())
        else:
            removed = sorted(p for p in checked if p in previous and p not in records)
        with self._transaction():
            if previous:
                self._forget([*changed, *removed])
            else:  # every row anew: the index of readers made once, after (a third quicker)
                self._db.execute("DROP INDEX IF EXISTS readers")
                for table in ("outputs", "inputs", "page_reads"):
                    self._db.execute(f"DELETE FROM {table}")
            self._db.executemany(
                "INSERT INTO outputs VALUES (?, ?, ?, ?)",
                ((p, r.fingerprint, r.sha, _lines(r.items)) for p, r in sorted(changed.items())),
            )
            digests = {text: d for r in changed.values() for text, d in r.reads.items()}
            self._db.executemany(
                "INSERT OR REPLACE INTO inputs VALUES (?, ?)", sorted(digests.items())
            )
            self._db.executemany(
                "INSERT INTO page_reads VALUES (?, ?)",
                ((p, text) for p, r in sorted(changed.items()) for text in sorted(r.reads)),
            )
            if not previous:
                self._db.execute(READERS_INDEX)
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('output', ?)", (identity,))
        if self._memory is not None:
            changes: dict[str, tuple[OutputRecord | None, OutputRecord | None]] = {
                p: (previous.get(p), r) for p, r in changed.items()
            }
            changes.update((p, (previous[p], None)) for p in removed)
            self._keep_outputs((identity, dict(records)), changes if previous else None)

    def forget_outputs(self, paths: Collection[str]) -> None:
        """Forget the records of the output files ``paths`` (found gone from the output)."""
        if self._db is None or not paths:
            return
        with self._transaction():
            self._forget(list(paths))
        if self._outputs is not None:
            identity, records = self._outputs
            kept = {p: r for p, r in records.items() if p not in paths}
            self._keep_outputs(
                (identity, kept), {p: (records[p], None) for p in paths if p in records}
            )

    def _forget(self, paths: list[str]) -> None:
        """Remove the rows of ``paths`` (an input no page reads any more may stay: harmless)."""
        assert self._db is not None
        self._db.executemany("DELETE FROM outputs WHERE path = ?", ((p,) for p in paths))
        self._db.executemany("DELETE FROM page_reads WHERE path = ?", ((p,) for p in paths))

    def readers(self, read: str) -> list[str]:
        """The output paths whose pages read ``read`` (an encoded read) when they rendered."""
        if self._db is None:
            return []
        rows = self._db.execute(
            "SELECT path FROM page_reads WHERE input = ? ORDER BY path", (read,)
        )
        return [path for (path,) in rows]

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        assert self._db is not None
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def select(db: sqlite3.Connection, table: str, keys: Sequence[str]) -> Iterator[tuple[str, Any]]:
    """(key, JSON) of the rows of the key/value ``table`` with ``keys``, 500 at a time (the
    bytes of a row stored as bytes)."""
    column = "digest" if table == "parsed" else "key"
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ",".join("?" * len(chunk))
        yield from db.execute(
            f"SELECT {column}, data FROM {table} WHERE {column} IN ({marks})", chunk
        )


def read_only(path: Path) -> sqlite3.Connection:
    """A connection that only reads the cache database ``path`` (from another process while
    the build writes it: the database is in WAL mode, so each sees what the other committed)."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def encode(value: Any) -> str:
    """The JSON the cache keeps of ``value`` (plain data; TypeError or ValueError else)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _encoded(items: Iterable[tuple[str, Any]]) -> Iterator[tuple[str, str]]:
    """(key, JSON) of each item that is plain data (YAML !!binary or !!set is not: such a
    file is parsed again next time)."""
    for key, value in items:
        try:
            yield key, encode(value)
        except (TypeError, ValueError):
            continue


_Row = TypeVar("_Row")


def _batches(rows: Iterator[_Row], size: int) -> Iterator[list[_Row]]:
    while batch := list(itertools.islice(rows, size)):
        yield batch
