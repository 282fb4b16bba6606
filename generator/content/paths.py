"""Which source file a path written in a content file names.

One rule for every path an editor writes, in front matter (``photo``, ``attachments``) and in
a Markdown body (links and images): a path is relative to the file it is written in, else
relative to ``static/``; a path that starts with ``/`` is relative to the source folder, else
to ``static/``. Backslashes count as slashes; a path that leaves the source folder names
nothing. Pure: the caller gives the set of files to look in.
"""

from __future__ import annotations

import posixpath
import unicodedata
from collections.abc import Container, Iterable

from generator.base.errors import Diagnostic

# names starting with these are never read nor published (hidden files, drafts of folders)
SKIPPED_PREFIXES = (".", "_", "~")
# frozen yearly editions (editions/<year>/), built output kept in git: never content,
# never static files, only copied as they are into the output's editions/<year>/
EDITIONS_DIR = "editions"


def is_safe(path: str) -> bool:
    """A planned output path must stay inside the output folder."""
    norm = posixpath.normpath(path)
    return not (norm.startswith(("/", "../")) or norm == ".." or "\\" in path or "\0" in path)


STATIC_DIR = "static"  # files copied as they are, and the second place a path is looked up
# Files a browser runs rather than shows: never published from the content folders or
# static/, since nothing sanitises them (a script in one would run on the site's address).
ACTIVE_SUFFIXES = (
    ".html",
    ".htm",
    ".xhtml",
    ".shtml",
    ".svg",
    ".svgz",
    ".xml",
    ".xsl",
    ".xslt",
    ".js",
    ".mjs",
    ".swf",
    ".php",
    ".jsp",
    ".asp",
    ".aspx",
    ".htaccess",
    ".appcache",
    ".manifest",
)


def active(rel: str) -> bool:
    """Whether the file ``rel`` is of a type a browser would run (see ``ACTIVE_SUFFIXES``)."""
    name = rel.rpartition("/")[2].lower().rstrip(". ")
    return name.endswith(ACTIVE_SUFFIXES)


def candidates(ref: str, source: str) -> list[str]:
    """The source paths ``ref`` (written in the file ``source``) may name, in the order they
    are tried; paths that leave the source folder are left out."""
    clean = ref.strip().replace("\\", "/")
    if not clean:
        return []
    if clean.startswith("/"):
        first = clean.lstrip("/")
    else:
        first = posixpath.join(posixpath.dirname(source), clean)
    found = []
    for path in (first, posixpath.join(STATIC_DIR, clean.lstrip("/"))):
        normal = posixpath.normpath(path)
        if normal not in found and normal != "." and not _leaves(normal):
            found.append(normal)
    return found


def resolve(ref: str, source: str, files: Container[str]) -> str | None:
    """The file of ``files`` (source paths, relative to the source folder, with ``/``) that
    the path ``ref`` written in the file ``source`` names, or None when there is none."""
    return next((path for path in candidates(ref, source) if path in files), None)


def _leaves(path: str) -> bool:
    return path == ".." or path.startswith("../")


def name_clashes(files: Iterable[str]) -> list[Diagnostic]:
    """Files whose paths differ only in letter case or Unicode form (NFC/NFD): one file on
    Windows and macOS, and a different page or link depending on the machine."""
    seen: dict[str, str] = {}
    found: list[Diagnostic] = []
    for rel in sorted(files):
        key = unicodedata.normalize("NFC", rel).casefold()
        if key in seen:
            found.append(Diagnostic.error(rel, 0, "name-clash", other=seen[key]))
        else:
            seen[key] = rel
    return found
