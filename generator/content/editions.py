"""Frozen editions are checked against their manifest before they are published: an edition
folder whose files differ from ``manifest.json`` (changed, missing or added) is reported."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from generator.base.errors import Diagnostic
from generator.content.loader import edition_folder
from generator.content.paths import EDITIONS_DIR

MANIFEST = "manifest.json"


def problems(root: Path, editions: dict[int, tuple[str, ...]]) -> list[Diagnostic]:
    """One error per edition whose files do not match its manifest."""
    found: list[Diagnostic] = []
    for year, files in sorted(editions.items()):
        folder = edition_folder(root, year)
        shown = f"{EDITIONS_DIR}/{year}/{MANIFEST}"
        expected = _manifest_files(folder / MANIFEST)
        if expected is None:
            found.append(Diagnostic.error(shown, 0, "edition-manifest-unreadable", year=year))
            continue
        present = [rel for rel in files if rel != MANIFEST]
        changed = sorted(
            rel for rel in present if rel in expected and _digest(folder / rel) != expected[rel]
        )
        missing = sorted(set(expected) - set(present))
        extra = sorted(set(present) - set(expected))
        if changed or missing or extra:
            first = (changed + missing + extra)[0]
            found.append(
                Diagnostic.error(
                    shown,
                    0,
                    "edition-tampered",
                    year=year,
                    changed=len(changed),
                    missing=len(missing),
                    extra=len(extra),
                    first=first,
                )
            )
    return found


def _manifest_files(path: Path) -> dict[str, str] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        return None
    return files


def _digest(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return ""
