"""The only reader of the site source folder: files -> SourceDocs and parsed YAML.

Everything later in the pipeline works on what this module returns and never opens a
content file itself.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import hashlib
import os
import stat
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from generator.base.errors import Diagnostic
from generator.content import stamps
from generator.content.frontmatter import (
    FrontMatter,
    YamlDocument,
    normalise_text,
    parse_yaml,
    split,
)
from generator.content.history import FileDates, git_dates, head
from generator.content.paths import EDITIONS_DIR, SKIPPED_PREFIXES, STATIC_DIR

MB = 1024 * 1024
MARKDOWN_SUFFIXES = (".md", ".markdown")
# backups (``a.md.gbk.bak`` from ``check --fix-encoding``, ``a.md~`` from editors) are never
# read nor published
SKIPPED_SUFFIXES = (".bak", "~")
TEXT_LIMIT_MB = 5  # a Markdown file above this size is refused, not read
CONFIG_LIMIT_MB = 20  # site.yaml and units.yaml (a unit list of a huge group is long)


class Memo(Protocol):
    """Where parsed front matter is kept between builds, by file digest (the build's cache)."""

    def get_many(self, table: str, keys: Iterable[str]) -> dict[str, Any]: ...

    def put_many(self, table: str, items: Iterable[tuple[str, Any]]) -> None: ...


class _NoMemo:
    def get_many(self, table: str, keys: Iterable[str]) -> dict[str, Any]:
        return {}

    def put_many(self, table: str, items: Iterable[tuple[str, Any]]) -> None:
        return None


@dataclass(frozen=True, slots=True)
class SourceDoc:
    """One Markdown file: its kind, its path (relative to the source, POSIX) and its parts."""

    kind: str
    path: str
    meta: dict[str, Any]
    lines: dict[str, int]
    body: str
    body_line: int
    digest: str
    # first commit of the file in git, else its modification time (SOURCE_DATE_EPOCH caps it)
    created: dt.date | None = None
    # last commit of the file in git; None outside git
    updated: dt.date | None = None


@dataclass(frozen=True, slots=True)
class SourceTree:
    root: Path
    site: YamlDocument | None
    units: YamlDocument | None
    docs: tuple[SourceDoc, ...]
    # every regular file of the source (relative POSIX path -> size in bytes), for checks of
    # photo and attachment paths without touching the disk again
    files: dict[str, int] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    # year -> the files of that frozen edition (POSIX, relative to editions/<year>/)
    editions: dict[int, tuple[str, ...]] = field(default_factory=dict)
    # the tree this one was made from by reading some documents again, and their paths
    # (``patched_from``)
    _patch: tuple[SourceTree, frozenset[str]] | None = field(
        default=None, init=False, compare=False, repr=False
    )

    def patched_from(self, other: SourceTree) -> frozenset[str] | None:
        """The paths of the documents read again when this tree was made from ``other`` by
        reading those alone (every other file the same, and every other document the very
        object of ``other``); None when it was not."""
        patch = self._patch
        return patch[1] if patch is not None and patch[0] is other else None


def _walk(
    root: Path,
    problems: list[Diagnostic],
    published: Collection[str] = (),
    links: list[str] | None = None,
) -> dict[str, os.stat_result]:
    """Every file of the source (relative POSIX path -> its stat), each folder's files sorted
    before its subfolders; links that lead outside the source are refused, linked folders
    are not entered. One stat a file. Every link to a file is told to ``links``."""
    found: dict[str, os.stat_result] = {}
    real_root = root.resolve()

    def visit(folder: str, prefix: str) -> None:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda e: e.name)
        folders = []
        for entry in entries:
            name = entry.name
            if entry.is_dir():
                if _entered(entry, prefix, problems, published):
                    folders.append(entry)
                continue
            if name.startswith(SKIPPED_PREFIXES) or name.endswith(SKIPPED_SUFFIXES):
                continue
            rel = prefix + name
            if entry.is_symlink() and _refused_link(entry, rel, real_root, problems, links):
                continue
            try:
                st = entry.stat()
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                found[rel] = st
        for entry in folders:
            visit(entry.path, f"{prefix}{entry.name}/")

    visit(str(root), "")
    return found


def _refused_link(
    entry: os.DirEntry[str],
    rel: str,
    real_root: Path,
    problems: list[Diagnostic],
    links: list[str] | None,
) -> bool:
    """Whether the link to a file ``entry`` (``rel``) leads outside the source, and is
    refused; it is told to ``links``."""
    if links is not None:
        links.append(rel)
    if Path(entry.path).resolve().is_relative_to(real_root):
        return False
    problems.append(Diagnostic.error(rel, 0, "link-outside-source", target=rel))
    return True


def _entered(
    entry: os.DirEntry[str], prefix: str, problems: list[Diagnostic], published: Collection[str]
) -> bool:
    """Whether the walk enters the folder ``entry`` (under ``prefix``): not a hidden one, nor
    the frozen editions, nor a link to a folder. A link inside the ``published`` top folders
    (content and static files) is named with a warning: what it holds is left out of the
    site. Elsewhere (a theme, which Jinja reads through links) it is not."""
    name = entry.name
    if name.startswith(SKIPPED_PREFIXES) or (not prefix and name == EDITIONS_DIR):
        return False
    if entry.is_symlink():
        if (prefix + name).split("/", 1)[0] in published:
            problems.append(Diagnostic.warning(prefix + name, 0, "linked-folder"))
        return False
    return True


def read_text(root: Path, rel: str) -> tuple[str | None, str, list[Diagnostic]]:
    """Read a UTF-8 text file (BOM and any line ends accepted). Returns text and digest."""
    data = _read(root, rel)
    text, problems = decode(data, rel)
    return text, _digest(data), problems


def decode(data: bytes, rel: str) -> tuple[str | None, list[Diagnostic]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, [Diagnostic.error(rel, 0, "encoding-utf16")]
    if b"\0" in data:  # no text file holds a NUL byte: an image or document renamed to .md
        return None, [Diagnostic.error(rel, 0, "binary-file")]
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        guess = "GB18030/GBK" if _decodes(data, "gb18030") else ""
        code = "encoding-gbk" if guess else "encoding-unknown"
        return None, [Diagnostic.error(rel, line, code, encoding=guess)]
    return normalise_text(raw), []


def too_large(rel: str, size: int, limit: int = TEXT_LIMIT_MB) -> Diagnostic:
    return Diagnostic.error(rel, 0, "file-too-large", size=f"{size / MB:.1f}", limit=limit)


@dataclass(frozen=True, slots=True)
class Misencoded:
    """A text file of the source saved in another encoding than UTF-8, with its text."""

    path: str
    encoding: str  # "GB18030/GBK" or "UTF-16"
    text: str


def misencoded(root: Path, folders: Iterable[str], themes: Iterable[str] = ()) -> list[Misencoded]:
    """site.yaml, units.yaml, the Markdown files of the content ``folders`` and what a build
    reads as text of the ``themes`` folders (their templates and catalogs; not their static
    files, which are published as they are) that are saved as GB18030/GBK or UTF-16 (for
    ``check --fix-encoding``); the text is kept as it is."""
    found: list[Misencoded] = []
    content_folders = set(folders)
    theme_texts = tuple(f"{t}/templates/" for t in themes)
    theme_catalogs = tuple(f"{t}/i18n/" for t in themes)
    for rel in _walk(root, []):
        top, _, rest = rel.partition("/")
        is_content = top in content_folders and rest and rel.endswith(MARKDOWN_SUFFIXES)
        is_theme = rel.startswith(theme_texts) or (
            rel.startswith(theme_catalogs) and rel.endswith((".yaml", ".yml"))
        )
        if not (is_content or is_theme or rel in ("site.yaml", "units.yaml")):
            continue
        if (root / rel).stat().st_size > CONFIG_LIMIT_MB * MB:
            continue
        data = (root / rel).read_bytes()
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            encoding, codec = "UTF-16", "utf-16"
        elif b"\0" in data or _decodes(data, "utf-8"):
            continue
        else:
            encoding, codec = "GB18030/GBK", "gb18030"
        try:
            found.append(Misencoded(rel, encoding, data.decode(codec)))
        except UnicodeDecodeError:
            continue
    return found


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def load(
    root: Path,
    cache: Memo | None = None,
    *,
    folders: Mapping[str, str],
    changed: frozenset[str] | None = None,
    kept: dict[str, Any] | None = None,
    parse: Parse | None = None,
) -> tuple[SourceTree, list[Diagnostic]]:
    """Read every file of a site source; the Markdown files of each content folder of
    ``folders`` (folder -> kind) are that kind's documents. Problems are returned, never
    raised. With a cache, front matter is parsed only for files whose content changed;
    ``parse`` parses them (``parse_files``, in this process, unless given).

    A process that loads again keeps the last tree in ``kept``; when ``changed`` (paths
    relative to the source) are the only files changed since, as a watcher saw them, and
    each is a document of that tree, only they are read and the tree is patched; when they
    are documents added to the folders of that tree's documents, or taken away from them,
    only the added ones are read (``_grown``)."""
    cache = cache or _NoMemo()
    parse = parse or parse_files
    found = None
    # taken out while loading: a load that fails half-way leaves nothing to patch
    last = kept.pop("last", None) if kept is not None else None
    if last is not None and kept is not None and changed is not None:
        found = _from_last(root, cache, folders, changed, (last, kept), parse)
    if found is None:
        found = _load(root, cache, folders, kept, parse)
    if kept is not None:
        kept["last"] = (root, dict(folders), *found)
    return found


def _load(
    root: Path, cache: Memo, folders: Mapping[str, str], kept: dict[str, Any] | None, parse: Parse
) -> tuple[SourceTree, list[Diagnostic]]:
    """Read the whole source (see ``load``)."""
    problems: list[Diagnostic] = []
    links: list[str] = []
    walked = _walk(root, problems, {*folders, STATIC_DIR}, links)
    if kept is not None:
        kept["file_links"] = bool(links)
    files = {rel: st.st_size for rel, st in walked.items()}
    site = _yaml_file(root, "site.yaml", files, problems)
    units = _yaml_file(root, "units.yaml", files, problems)
    raw = _content_files(files, folders, problems)
    history = _history(root, kept)
    docs, digests = _documents(root, raw, cache, walked, history, problems, parse)
    tree = SourceTree(root, site, units, tuple(docs), files, digests, editions(root))
    return tree, problems


def _from_last(
    root: Path,
    cache: Memo,
    folders: Mapping[str, str],
    changed: frozenset[str],
    kept: tuple[tuple[Any, ...], dict[str, Any]],
    parse: Parse,
) -> tuple[SourceTree, list[Diagnostic]] | None:
    """The last tree (``kept``: it, and the memory it was kept in) patched with the files
    ``changed`` (``_patched``) or grown by them (``_grown``), when it may be
    (``_may_patch``); else None: the source is read whole."""
    last, memory = kept
    if not _may_patch(root, folders, last, memory):
        return None
    dates = memory["history"][1]  # those of the commit checked out
    found = _patched(root, cache, changed, last[2:], dates, parse)
    return found or _grown(root, cache, folders, changed, last[2:], dates, parse)


def _may_patch(
    root: Path, folders: Mapping[str, str], last: tuple[Any, ...], kept: Mapping[str, Any]
) -> bool:
    """Whether the ``last`` tree (root, folders, tree, problems) may be patched with the
    files a watcher saw change: it is of the same source and content folders, none of its
    files is a link (what a link shows changes with its target, which the watcher names
    alone), and the commit checked out is the one its documents were dated by (the watcher
    does not look into .git)."""
    if last[0] != root or last[1] != dict(folders) or kept.get("file_links", True):
        return False
    dated = kept.get("history")
    return dated is not None and dated[0] == head(root)


def _patched(
    root: Path,
    cache: Memo,
    changed: frozenset[str],
    last: tuple[SourceTree, list[Diagnostic]],
    dates: Mapping[str, FileDates],
    parse: Parse,
) -> tuple[SourceTree, list[Diagnostic]] | None:
    """The ``last`` tree (and its problems) with the ``changed`` documents read again (dated
    by ``dates``, git's); None when something else changed (a new, removed or moved file, a
    folder, the configuration)."""
    tree, problems = last
    position = {doc.path: n for n, doc in enumerate(tree.docs)}
    folder = str(root).rstrip(os.sep) + os.sep
    stats: dict[str, os.stat_result] = {}
    for rel in changed:
        try:  # a link is looked at by the walk (it may lead outside the source)
            st = os.lstat(folder + rel.replace("/", os.sep))
        except OSError:
            return None
        if rel not in position or not stat.S_ISREG(st.st_mode):
            return None
        if st.st_size > TEXT_LIMIT_MB * MB:
            return None
        stats[rel] = st
    found = [p for p in problems if p.path not in changed]
    raw = {rel: tree.docs[position[rel]].kind for rel in sorted(changed)}
    docs, digests = _documents(root, raw, cache, stats, dates, found, parse)
    if len(docs) != len(raw):
        return None  # a file that could not be read now: read everything again
    all_docs = list(tree.docs)
    for doc in docs:
        all_docs[position[doc.path]] = doc
    files = {**tree.files, **{rel: st.st_size for rel, st in stats.items()}}
    patched = dataclasses.replace(
        tree, docs=tuple(all_docs), files=files, digests={**tree.digests, **digests}
    )
    object.__setattr__(patched, "_patch", (tree, frozenset(raw)))
    object.__setattr__(tree, "_patch", None)  # one step back at most: no chain is kept
    return patched, found


def _grown(
    root: Path,
    cache: Memo,
    folders: Mapping[str, str],
    changed: frozenset[str],
    last: tuple[SourceTree, list[Diagnostic]],
    dates: Mapping[str, FileDates],
    parse: Parse,
) -> tuple[SourceTree, list[Diagnostic]] | None:
    """The ``last`` tree (and its problems) with the ``changed`` documents added (new plain
    Markdown files in a folder that holds its documents) or taken away, and the added ones
    read: what a whole load finds, in the same order, without walking the source again (not
    a patch: the tree's items are not the same). None when something else changed."""
    tree, problems = last
    gone = {rel for rel in changed if rel in tree.digests and not os.path.lexists(root / rel)}
    added = _added_documents(root, changed - gone, tree)
    if added is None or not (added or gone):
        return None
    found: list[Diagnostic] = []
    raw = _content_files({rel: st.st_size for rel, st in added.items()}, folders, found)
    found.extend(p for p in problems if p.path not in gone)
    docs, digests = _documents(root, raw, cache, added, dates, found, parse)
    if digests.keys() != added.keys():
        return None  # a file that could not be read, or too large: read everything again
    all_docs = _in_walk_order([d for d in tree.docs if d.path not in gone], docs, _doc_order)
    files = {**tree.files, **{rel: st.st_size for rel, st in added.items()}}
    digests = {**tree.digests, **digests}
    paths = _in_walk_order([rel for rel in tree.files if rel not in gone], added, _walk_order)
    read = _in_walk_order([rel for rel in tree.digests if rel not in gone], added, _walk_order)
    grown = SourceTree(
        root,
        tree.site,
        tree.units,
        tuple(all_docs),
        {rel: files[rel] for rel in paths},
        {rel: digests[rel] for rel in read},
        tree.editions,
    )
    return grown, found


def _added_documents(
    root: Path, changed: Iterable[str], tree: SourceTree
) -> dict[str, os.stat_result] | None:
    """The stat of each of ``changed``, when all are new plain Markdown files, of a name the
    walk does not skip, in a folder that holds documents of ``tree``; else None."""
    homes = {doc.path.rpartition("/")[0] for doc in tree.docs}
    added: dict[str, os.stat_result] = {}
    for rel in changed:
        home, _, name = rel.rpartition("/")
        if rel in tree.files or home not in homes or not name.endswith(MARKDOWN_SUFFIXES):
            return None
        if name.startswith(SKIPPED_PREFIXES) or name.endswith(SKIPPED_SUFFIXES):
            return None
        try:
            st = os.lstat(root / rel)
            # spelt as the folder spells it (a file system may ignore the letters' case)
            if not stat.S_ISREG(st.st_mode) or name not in os.listdir(root / home):
                return None
        except OSError:
            return None
        added[rel] = st
    return added


_T = TypeVar("_T")


def _in_walk_order(
    found: list[_T], added: Iterable[_T], order: Callable[[_T], tuple[tuple[int, str], ...]]
) -> list[_T]:
    """``found`` (in the walk's ``order``) with each of ``added`` put in its place: only a
    few of ``found`` are looked at for each."""
    for one in sorted(added, key=order):
        found.insert(bisect.bisect_left(found, order(one), key=order), one)
    return found


def _doc_order(doc: SourceDoc) -> tuple[tuple[int, str], ...]:
    return _walk_order(doc.path)


def _walk_order(rel: str) -> tuple[tuple[int, str], ...]:
    """Where ``_walk`` finds the file ``rel``: each folder's files, sorted by name, before
    its subfolders, sorted by name."""
    *above, name = rel.split("/")
    return (*((1, part) for part in above), (0, name))


def _history(root: Path, kept: dict[str, Any] | None) -> Mapping[str, FileDates]:
    """``git_dates`` of ``root``; in a process that loads again, asked of git again only
    when the checked-out commit changed."""
    if kept is None:
        return git_dates(root)
    now = head(root)
    last = kept.get("history")
    if last is None or last[0] != now:
        last = kept["history"] = (now, git_dates(root))
    dates: Mapping[str, FileDates] = last[1]
    return dates


def _documents(
    root: Path,
    raw: Mapping[str, str],
    cache: Memo,
    walked: Mapping[str, os.stat_result],
    history: Mapping[str, FileDates],
    problems: list[Diagnostic],
    parse: Parse,
) -> tuple[list[SourceDoc], dict[str, str]]:
    """The documents of ``raw`` (path -> kind) and their digests; ``walked`` holds the
    stat of each file. Front matter is parsed (by ``parse``) only for contents the cache does
    not know."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    digests, contents = _digests(root, raw, cache, walked)
    cached = cache.get_many("parsed", digests.values())
    todo = [rel for rel in raw if rel in digests and digests[rel] not in cached]
    files = _to_parse(root, todo, contents, digests)
    parsed = dict(zip([rel for rel, _ in files], parse(files), strict=True))
    del files
    fresh: list[tuple[str, Any]] = []
    docs: list[SourceDoc] = []
    for rel, kind in raw.items():
        digest = digests.get(rel)
        if digest is None:
            continue  # vanished while the build ran
        front, doc_problems = parsed.get(rel) or _from_cache(rel, cached[digest])
        problems.extend(doc_problems)
        if front is None:
            continue
        if rel in parsed:
            fresh.append((digest, _to_cache(front, doc_problems)))
        dates = history.get(rel)
        if dates is not None:
            created, updated = dates.created, dates.updated
        else:
            created, updated = _file_date(walked[rel].st_mtime, epoch), None
        meta, lines, body, body_line = front.meta, front.lines, front.body, front.body_line
        docs.append(SourceDoc(kind, rel, meta, lines, body, body_line, digest, created, updated))
    cache.put_many("parsed", fresh)
    return docs, digests


def _to_parse(
    root: Path, todo: list[str], contents: Mapping[str, bytes], digests: dict[str, str]
) -> list[tuple[str, bytes]]:
    """The files of ``todo`` with their bytes: those read for their digest, else read now (a
    file known by its stamp whose parse is not cached). A file read now gets the digest of
    what was read (it may have changed since); one that cannot be read any more is left out,
    and its digest with it."""
    files = []
    for rel in todo:
        if rel in contents:
            files.append((rel, contents[rel]))
            continue
        try:
            data = _read(root, rel)
        except OSError:
            del digests[rel]
            continue
        digests[rel] = _digest(data)
        files.append((rel, data))
    return files


def _read(root: Path, rel: str) -> bytes:
    return (root / rel).read_bytes()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# the endings of a Markdown file that is not read as one: another case (a Windows editor's
# .MD), or a text editor's .txt added
MISNAMED_SUFFIXES = (*MARKDOWN_SUFFIXES, *(suffix + ".txt" for suffix in MARKDOWN_SUFFIXES))


def _misnamed(rel: str) -> Diagnostic:
    """The warning for ``rel``, a Markdown file not read as one for its name's ending."""
    name = rel.rpartition("/")[2]
    stem = name[:-4] if name.lower().endswith(".txt") else name
    base, dot, _suffix = stem.rpartition(".")
    return Diagnostic.warning(rel, 0, "misnamed-markdown", name=name, fixed=f"{base}{dot}md")


def _content_files(
    files: Mapping[str, int], folders: Mapping[str, str], problems: list[Diagnostic]
) -> dict[str, str]:
    """The Markdown files of the content folders: path -> kind; too large ones are reported,
    not read."""
    raw: dict[str, str] = {}
    for rel in files:
        top, _, rest = rel.partition("/")
        kind = folders.get(top)
        if kind is None or not rest:
            continue
        if not rel.endswith(MARKDOWN_SUFFIXES):
            if rel.lower().endswith(MISNAMED_SUFFIXES):
                problems.append(_misnamed(rel))
            continue
        if files[rel] > TEXT_LIMIT_MB * MB:
            problems.append(too_large(rel, files[rel]))
            continue
        raw[rel] = kind
    return raw


def _digests(
    root: Path, raw: Mapping[str, str], cache: Memo, walked: Mapping[str, os.stat_result]
) -> tuple[dict[str, str], dict[str, bytes]]:
    """The content digest of each file of ``raw``, and the bytes of the files that had to be
    read for it (unchanged files are not read; the others are read once). ``walked`` holds
    the stat of each file, taken while walking the source."""
    # the full path of each file, made by joining strings (a Path per file costs more)
    folder = str(root).rstrip(os.sep) + os.sep
    full = {rel: folder + rel.replace("/", os.sep) for rel in raw}
    stats = {full[rel]: walked[rel] for rel in raw}
    trusted, unread = stamps.known(stats, cache, stats)
    digests: dict[str, str] = {}
    contents: dict[str, bytes] = {}
    read: list[tuple[str, os.stat_result, str]] = []
    for rel in raw:
        path = full[rel]
        if path in trusted:
            digests[rel] = trusted[path][1]
        elif path in unread:
            try:
                data = _read(root, rel)
            except OSError:
                continue
            digests[rel] = _digest(data)
            contents[rel] = data
            read.append((path, unread[path], digests[rel]))
    stamps.remember(cache, read)
    return digests, contents


def _file_date(mtime: float, epoch: str) -> dt.date:
    """A file's date outside git: its modification day, capped by SOURCE_DATE_EPOCH."""
    stamp = min(mtime, float(epoch)) if epoch.isdigit() else mtime
    return dt.datetime.fromtimestamp(stamp, dt.UTC).date()


def edition_folder(root: Path, year: int) -> Path:
    return root / EDITIONS_DIR / str(year)


def editions(root: Path) -> dict[int, tuple[str, ...]]:
    """The frozen editions of a source: every folder ``editions/<year>/`` (four digits) with
    its files, sorted; hidden files (``.DS_Store``) and links are left out."""
    found: dict[int, tuple[str, ...]] = {}
    base = root / EDITIONS_DIR
    if not base.is_dir():
        return found
    for folder in sorted(base.iterdir()):
        if not (len(folder.name) == 4 and folder.name.isdigit() and folder.is_dir()):
            continue
        if folder.is_symlink():
            continue
        files = edition_files(folder)
        if files:
            found[int(folder.name)] = files
    return found


def edition_files(folder: Path) -> tuple[str, ...]:
    """Every file of one edition folder (relative POSIX paths, sorted), without hidden files
    and links."""
    files: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel_dir = Path(dirpath).relative_to(folder)
        for name in sorted(filenames):
            full = Path(dirpath, name)
            if name.startswith(".") or full.is_symlink() or not full.is_file():
                continue
            files.append((rel_dir / name).as_posix())
    return tuple(sorted(files))


# what parses Markdown files, given as (path, bytes), in order: ``parse_files``, or one that
# shares the files out among worker processes
Parsed = tuple[FrontMatter | None, list[Diagnostic]]
Parse = Callable[[Sequence[tuple[str, bytes]]], list[Parsed]]


def parse_files(files: Sequence[tuple[str, bytes]]) -> list[Parsed]:
    return [parse_file(rel, data) for rel, data in files]


def parse_file(rel: str, data: bytes) -> Parsed:
    """Split and parse one Markdown file."""
    text, problems = decode(data, rel)
    if text is None:
        return None, problems
    front, split_problems = split(text, rel)
    return front, [*problems, *split_problems]


def _from_cache(rel: str, cached: Any) -> Parsed:
    """A file's parse as the cache keeps it (``_to_cache``)."""
    meta, lines, body, body_line, found = cached
    problems = [Diagnostic.from_row(rel, row) for row in found]
    return FrontMatter(meta, lines, body, body_line), problems


def _to_cache(front: FrontMatter, problems: list[Diagnostic]) -> Any:
    found = [d.as_row() for d in problems]
    return [front.meta, front.lines, front.body, front.body_line, found]


def _yaml_file(
    root: Path, rel: str, files: dict[str, int], problems: list[Diagnostic]
) -> YamlDocument | None:
    if rel not in files:
        problems.append(Diagnostic.error(rel, 0, "missing-config-file"))
        return None
    if files[rel] > CONFIG_LIMIT_MB * MB:
        problems.append(too_large(rel, files[rel], CONFIG_LIMIT_MB))
        return None
    text, _digest, read_problems = read_text(root, rel)
    problems.extend(read_problems)
    if text is None:
        return None
    doc, parse_problems = parse_yaml(text, rel)
    problems.extend(parse_problems)
    return doc
