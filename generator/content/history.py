"""Dates from git history: when each file was first committed and last changed.

One ``git log`` call covers the whole source folder. Outside a git repository (or without
git) every lookup is empty and the caller falls back to file times.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class FileDates:
    created: dt.date
    updated: dt.date


def _git(root: Path, *args: str, timeout: int = 120) -> str | None:
    """The output of ``git args`` run in ``root``; None without git, outside a repository or
    when it fails."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        result = subprocess.run(
            [git, *args],
            cwd=root,
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=False,
            timeout=timeout,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


def git_dates(root: Path) -> dict[str, FileDates]:
    """First and last commit date (author date) of every committed file under ``root``, by
    path relative to ``root`` (POSIX)."""
    log = "--relative", "--no-renames", "--format=%x00%as", "--name-only", "--", "."
    output = _git(root, "log", *log)
    if output is None:
        return {}
    created: dict[str, dt.date] = {}
    updated: dict[str, dt.date] = {}
    for block in output.split("\0")[1:]:  # newest commit first
        lines = block.strip("\n").split("\n")
        try:
            day = dt.date.fromisoformat(lines[0].strip())
        except ValueError:
            continue
        for name in lines[1:]:
            name = name.strip()
            if not name:
                continue
            updated.setdefault(name, day)
            created[name] = day
    return {name: FileDates(created[name], updated[name]) for name in created}


def tracked(folder: Path) -> bool:
    """Whether git tracks any file in ``folder`` (False outside git, or when it is missing)."""
    if not folder.is_dir():
        return False
    return bool(_git(folder, "ls-files", "-z", "--", ".", timeout=30))


def head(root: Path) -> str:
    """The commit checked out at ``root`` ('' outside git)."""
    return (_git(root, "rev-parse", "HEAD", timeout=30) or "").strip()


def uncommitted(root: Path) -> list[str] | None:
    """The files under ``root`` (relative to it, POSIX, sorted) that differ from the commit
    checked out: changed, added, deleted or not yet in git (ignored files aside); None outside
    git. Hidden folders and ``editions/``, which are never read as content, are left out."""
    shown = _git(root, "rev-parse", "--show-prefix", timeout=30)
    options = "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", "--", "."
    status = _git(root, "status", *options)
    if shown is None or status is None:
        return None
    prefix = shown.strip()
    found = set()
    for entry in status.split("\0"):
        name = entry[3:]
        if not name.startswith(prefix):
            continue
        rel = name[len(prefix) :]
        top = rel.partition("/")[0]
        if rel and not top.startswith(".") and top != "editions":
            found.add(rel)
    return sorted(found)
