"""The only reader of the site source folder: files -> SourceDocs and parsed YAML.

Everything later in the pipeline works on what this module returns and never opens a
content file itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import Diagnostic
from generator.frontmatter import YamlDocument, normalise_text, parse_yaml, split
from generator.history import git_dates

CONTENT_KINDS = {"profiles": "profile", "reports": "report", "pledges": "pledge", "pages": "page"}
MARKDOWN_SUFFIXES = (".md", ".markdown")
SKIPPED_PREFIXES = (".", "_", "~")


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


def _walk(root: Path, problems: list[Diagnostic]) -> list[str]:
    """Every file of the source, sorted; links that lead outside the source are refused."""
    found: list[str] = []
    real_root = root.resolve()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(SKIPPED_PREFIXES))
        rel_dir = Path(dirpath).relative_to(root)
        for name in sorted(filenames):
            if name.startswith(SKIPPED_PREFIXES):
                continue
            rel = (rel_dir / name).as_posix()
            full = Path(dirpath, name)
            if full.is_symlink() and not full.resolve().is_relative_to(real_root):
                problems.append(Diagnostic.error(rel, 0, "link-outside-source", target=rel))
                continue
            if not full.is_file():
                continue
            found.append(rel)
    return found


def read_text(root: Path, rel: str) -> tuple[str | None, str, list[Diagnostic]]:
    """Read a UTF-8 text file (BOM and any line ends accepted). Returns text and digest."""
    data = (root / rel).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        guess = "GB18030/GBK" if _decodes(data, "gb18030") else ""
        code = "encoding-gbk" if guess else "encoding-unknown"
        return None, digest, [Diagnostic.error(rel, line, code, encoding=guess)]
    return normalise_text(raw), digest, []


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def load(root: Path) -> tuple[SourceTree, list[Diagnostic]]:
    """Read every file of a site source. Problems are returned, never raised."""
    problems: list[Diagnostic] = []
    files: dict[str, int] = {}
    mtimes: dict[str, float] = {}
    for rel in _walk(root, problems):
        st = (root / rel).stat()
        files[rel] = st.st_size
        mtimes[rel] = st.st_mtime
    history = git_dates(root)
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    site = _yaml_file(root, "site.yaml", files, problems)
    units = _yaml_file(root, "units.yaml", files, problems)
    docs: list[SourceDoc] = []
    digests: dict[str, str] = {}
    for rel in files:
        top, _, rest = rel.partition("/")
        kind = CONTENT_KINDS.get(top)
        if kind is None or not rest or not rel.endswith(MARKDOWN_SUFFIXES):
            continue
        text, digest, read_problems = read_text(root, rel)
        digests[rel] = digest
        problems.extend(read_problems)
        if text is None:
            continue
        front, split_problems = split(text, rel)
        problems.extend(split_problems)
        if front is None:
            continue
        dates = history.get(rel)
        if dates is not None:
            created, updated = dates.created, dates.updated
        else:
            stamp = min(mtimes[rel], float(epoch)) if epoch.isdigit() else mtimes[rel]
            created, updated = dt.datetime.fromtimestamp(stamp, dt.UTC).date(), None
        docs.append(
            SourceDoc(
                kind,
                rel,
                front.meta,
                front.lines,
                front.body,
                front.body_line,
                digest,
                created,
                updated,
            )
        )
    return SourceTree(root, site, units, tuple(docs), files, digests), problems


def _yaml_file(
    root: Path, rel: str, files: dict[str, int], problems: list[Diagnostic]
) -> YamlDocument | None:
    if rel not in files:
        problems.append(Diagnostic.error(rel, 0, "missing-config-file"))
        return None
    text, _digest, read_problems = read_text(root, rel)
    problems.extend(read_problems)
    if text is None:
        return None
    doc, parse_problems = parse_yaml(text, rel)
    problems.extend(parse_problems)
    return doc
