"""``showcase edition YEAR``: freeze one campaign year's showcase as an archived edition.

An edition is the site restricted to one year (that year's profiles, reports and pledges,
every unit, the free pages), built with a banner into ``<source>/editions/<year>/`` with a
``manifest.json`` (generator version, source commit, build date, SHA-256 of every file). Editors
commit the folder; ``showcase build`` then copies it byte for byte into the output's
``editions/<year>/``, so it keeps looking as it did whatever happens to the theme or content.

Links are relative and the search index is made of scripts, so an edition works under any
sub-path and from file://, also unzipped from the deterministic ``--zip`` file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator import __version__, build
from generator.base import messages
from generator.base.config import DEFAULT_LANGUAGE, BuildOptions
from generator.cli import console as reporting
from generator.cli import parsing
from generator.content import history, loader
from generator.output import writer

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
ZIP_EARLIEST = dt.datetime(1980, 1, 1, tzinfo=dt.UTC)  # the zip format starts in 1980
YEAR_RANGE = range(1900, 2201)
EXIT_OK, EXIT_CONTENT, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Manifest:
    year: int
    generator: str
    source_commit: str | None
    built: str  # ISO 8601, UTC
    files: Mapping[str, str] = field(default_factory=dict)  # path -> SHA-256
    # source files that differed from ``source_commit`` (built with --allow-dirty); None
    # outside git
    uncommitted: tuple[str, ...] | None = ()

    def to_json(self) -> str:
        data = {
            "format": MANIFEST_FORMAT,
            "edition": self.year,
            "generator": self.generator,
            "source_commit": self.source_commit,
            "uncommitted": None if self.uncommitted is None else list(self.uncommitted),
            "built": self.built,
            "files": dict(sorted(self.files.items())),
        }
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"

    @staticmethod
    def from_json(text: str) -> Manifest | None:
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        files = data.get("files")
        year = data.get("edition")
        if not isinstance(files, dict) or not isinstance(year, int):
            return None
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
            return None
        commit = data.get("source_commit")
        dirty = data.get("uncommitted")
        return Manifest(
            year,
            str(data.get("generator", "")),
            commit if isinstance(commit, str) else None,
            str(data.get("built", "")),
            files,
            tuple(map(str, dirty)) if isinstance(dirty, list) else None,
        )


@dataclass(frozen=True, slots=True)
class Verification:
    """Files that differ from the manifest (paths relative to the edition folder)."""

    changed: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    checked: int = 0

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.extra)


@dataclass(frozen=True, slots=True)
class Frozen:
    """The outcome of freezing: the build's report, and the folder (None when it failed)."""

    report: build.BuildReport
    folder: Path | None
    manifest: Manifest | None = None
    problem: str = ""  # a catalog code when nothing was frozen for another reason
    files: tuple[str, ...] = ()  # the files the problem is about


def build_time() -> dt.datetime:
    """Now, or SOURCE_DATE_EPOCH when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def source_commit(source: Path) -> str | None:
    """The commit the source is at (``git rev-parse HEAD``), None outside git."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        result = subprocess.run(
            [git, "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and commit else None


def file_digest(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every file of an edition folder except the manifest."""
    return {
        rel: file_digest(folder / rel) for rel in loader.edition_files(folder) if rel != MANIFEST
    }


def freeze(source: Path, year: int, force: bool = False, allow_dirty: bool = False) -> Frozen:
    """Build the edition of ``year`` into ``<source>/editions/<year>/`` with its manifest.
    Refuses to replace an existing edition unless ``force``, and to freeze content that
    differs from the git commit unless ``allow_dirty`` (the manifest then lists those files);
    an edition is swapped in whole (a failed build leaves the previous one as it was)."""
    target = loader.edition_folder(source, year)
    empty = build.BuildReport(True, ())
    if target.exists() and not force:
        return Frozen(empty, None, problem="edition-exists")
    dirty = history.uncommitted(source)
    if dirty and not allow_dirty:
        return Frozen(empty, None, problem="edition-dirty", files=tuple(dirty))
    target.parent.mkdir(parents=True, exist_ok=True)
    # hidden work folder beside the target: same file system (atomic rename), never read as
    # content (the loader skips names starting with ".")
    work = Path(tempfile.mkdtemp(prefix=f".{year}.building-", dir=target.parent))
    try:
        output = work / "site"
        options = BuildOptions(source=source, output=output, edition_year=year)
        report = build.build(options)
        if not report.ok:
            return Frozen(report, None)
        if not any(report.counts.get(k, 0) for k in ("profiles", "reports", "pledges")):
            return Frozen(report, None, problem="edition-empty")
        (output / writer.MARKER).unlink(missing_ok=True)
        manifest = Manifest(
            year,
            f"showcase {__version__}",
            source_commit(source),
            build_time().strftime("%Y-%m-%dT%H:%M:%SZ"),
            digests(output),
            None if dirty is None else tuple(dirty),
        )
        (output / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
        writer.swap_folder(output, target)
        return Frozen(report, target, manifest)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def read_manifest(folder: Path) -> Manifest | None:
    try:
        text = (folder / MANIFEST).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return Manifest.from_json(text)


def verify(folder: Path, manifest: Manifest) -> Verification:
    """Compare an edition folder with its manifest."""
    return compare(digests(folder), manifest)


def compare(found: Mapping[str, str], manifest: Manifest) -> Verification:
    """Compare the SHA-256 of an edition's files (the manifest left out) with its manifest."""
    expected = dict(manifest.files)
    changed = tuple(sorted(p for p in expected if p in found and found[p] != expected[p]))
    missing = tuple(sorted(p for p in expected if p not in found))
    extra = tuple(sorted(p for p in found if p not in expected))
    return Verification(changed, missing, extra, len(expected))


def zip_time(manifest: Manifest) -> tuple[int, int, int, int, int, int]:
    try:
        when = dt.datetime.fromisoformat(manifest.built.replace("Z", "+00:00"))
    except ValueError:
        when = ZIP_EARLIEST
    when = max(when if when.tzinfo else when.replace(tzinfo=dt.UTC), ZIP_EARLIEST)
    return (when.year, when.month, when.day, when.hour, when.minute, when.second - when.second % 2)


def write_zip(folder: Path, manifest: Manifest, target: Path, top: str) -> int:
    """The edition as one deterministic zip (sorted names, the build date as every file's
    time, fixed permissions) under the folder ``top``. Returns the number of files besides
    the manifest (as ``showcase edition`` and ``--verify`` count them)."""
    names = sorted([*manifest.files, MANIFEST])
    stamp = zip_time(manifest)
    with writer.atomic_path(target) as partial, zipfile.ZipFile(partial, "w") as archive:
        for rel in names:
            info = zipfile.ZipInfo(f"{top}/{rel}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the permissions below are read
            info.external_attr = 0o644 << 16
            archive.writestr(info, (folder / rel).read_bytes(), compresslevel=9)
    return len(manifest.files)


# ---------------------------------------------------------------------------------------------
# command line


def add_parser(sub: Any) -> None:
    text = _text
    p = sub.add_parser("edition", help=text("cli-edition"), description=text("cli-edition"))
    p.add_argument(
        "year", type=int, metavar=text("cli-metavar-year"), help=text("cli-edition-year")
    )
    p.add_argument(
        "source",
        nargs="?",
        default=None,
        metavar=text("cli-metavar-source"),
        help=text("cli-source"),
    )
    p.add_argument("--zip", action="store_true", help=text("cli-edition-zip"))
    p.add_argument("-o", "--output", default=None, help=text("cli-edition-output"))
    p.add_argument("--force", action="store_true", help=text("cli-edition-force"))
    p.add_argument("--verify", action="store_true", help=text("cli-edition-verify"))
    p.add_argument("--allow-dirty", action="store_true", help=text("cli-edition-allow-dirty"))
    p.set_defaults(func=run)


def _text(code: str, part: str = "message", **params: Any) -> str:
    return messages.text(DEFAULT_LANGUAGE, code, part, **params)


def _say(code: str, err: bool = True, **params: Any) -> None:
    """A message with its hint (when the catalog has one) on stderr or stdout."""
    out = sys.stderr if err else sys.stdout
    print(_text(code, **params), file=out)
    hint = _text(code, "hint", **params)
    if hint:
        print("    " + _text("edition-hint-label") + hint, file=out)


def default_zip(year: int) -> Path:
    return Path(f"edition-{year}.zip")


def run(args: argparse.Namespace) -> int:
    source = Path(args.source)
    year: int = args.year
    given = _given_edition(source, year) if args.verify else None
    if given is None and not source.is_dir():
        print(_text("source-missing", path=source, command=f"edition {year}"), file=sys.stderr)
        return EXIT_USAGE
    if year not in YEAR_RANGE:
        _say("edition-bad-year", year=year)
        return EXIT_USAGE
    folder = loader.edition_folder(source, year)
    if args.verify:
        return _run_verify(given or folder, year)
    frozen_before = folder.exists()
    if frozen_before and not args.force:
        if args.zip:  # hand out the frozen edition as it is
            return _run_zip(folder, year, zip_path(args, source))
        _say("edition-exists", year=year, path=folder)
        return EXIT_CONTENT
    result = freeze(source, year, force=args.force, allow_dirty=args.allow_dirty)
    if result.folder is None:
        return _report_failure(result, source, year)
    assert result.manifest is not None
    reporting.say(
        _text(
            "edition-done",
            year=year,
            pages=result.report.html,
            files=len(result.manifest.files),
            path=result.folder,
        )
    )
    if result.manifest.uncommitted:
        _say("edition-dirty-recorded", count=len(result.manifest.uncommitted))
    if args.zip:
        return _run_zip(result.folder, year, zip_path(args, source))
    return EXIT_OK


def zip_path(args: argparse.Namespace, source: Path) -> str:
    """The zip file of --output, else edition-<year>.zip next to the source folder."""
    return str(args.output or parsing.beside_source(source, default_zip(args.year).name))


def _report_failure(result: Frozen, source: Path, year: int) -> int:
    lang = result.report.language
    for diagnostic in result.report.diagnostics:
        if diagnostic.is_error:
            print(reporting.format_diagnostic(diagnostic, lang, source), file=sys.stderr)
    if result.report.diagnostics:
        print(reporting.summary(result.report.diagnostics, lang), file=sys.stderr)
    if result.problem:
        shown = ", ".join(result.files[:5]) + (", …" if len(result.files) > 5 else "")
        path = loader.edition_folder(source, year)
        _say(result.problem, year=year, path=path, count=len(result.files), files=shown)
    else:
        _say("edition-failed", year=year)
    return EXIT_CONTENT


def _given_edition(given: Path, year: int) -> Path | None:
    """The edition ``--verify`` was given in place of the site folder: a zip file, an edition
    folder (it holds manifest.json) or the folder it was unzipped into; None for a site."""
    if given.is_file():
        return given
    for folder in (given, given / f"edition-{year}"):
        if (folder / MANIFEST).is_file():
            return folder
    return None


def _read_edition(where: Path) -> tuple[Manifest | None, dict[str, str], str]:
    """The manifest of an edition folder or zip, the SHA-256 of its other files, and the
    prefix its files are shown under."""
    if where.is_dir():
        return read_manifest(where), digests(where), where.as_posix()
    try:
        with zipfile.ZipFile(where) as archive:
            return _zip_edition(where, archive)
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError):
        return None, {}, where.as_posix()


def _zip_edition(
    where: Path, archive: zipfile.ZipFile
) -> tuple[Manifest | None, dict[str, str], str]:
    """``_read_edition`` of a zip: its files under one top folder (as ``--zip`` writes them)
    or at its root; read as they are unpacked, nothing written."""
    names = [n for n in archive.namelist() if not n.endswith("/")]
    tops = {n.partition("/")[0] for n in names}
    top = next(iter(tops)) if len(tops) == 1 and all("/" in n for n in names) else ""
    inner = {n[len(top) + 1 :] if top else n: n for n in names}
    if MANIFEST not in inner:
        return None, {}, where.as_posix()
    manifest = Manifest.from_json(archive.read(inner[MANIFEST]).decode("utf-8"))
    found = {}
    for rel, name in inner.items():
        if rel != MANIFEST:
            digest = hashlib.sha256()
            with archive.open(name) as fh:
                while chunk := fh.read(1 << 20):
                    digest.update(chunk)
            found[rel] = digest.hexdigest()
    return manifest, found, f"{where.as_posix()}:{top}"


def _run_verify(where: Path, year: int) -> int:
    """Check an edition (a folder, or a zip file) against its manifest."""
    if not where.exists():
        _say("edition-missing", year=year, path=where)
        return EXIT_CONTENT
    manifest, found, shown = _read_edition(where)
    if manifest is None or manifest.year != year:
        _say("edition-manifest-bad", year=year, path=f"{shown}/{MANIFEST}")
        return EXIT_CONTENT
    result = compare(found, manifest)
    if result.ok:
        reporting.say(_text("edition-verify-ok", year=year, count=result.checked, path=where))
        return EXIT_OK
    for code, paths in (
        ("edition-file-changed", result.changed),
        ("edition-file-missing", result.missing),
        ("edition-file-extra", result.extra),
    ):
        for rel in paths:
            print(_text(code, path=f"{shown}/{rel}"), file=sys.stderr)
    _say(
        "edition-verify-failed",
        year=year,
        changed=len(result.changed),
        missing=len(result.missing),
        extra=len(result.extra),
        path=shown,
    )
    return EXIT_CONTENT


def _run_zip(folder: Path, year: int, output: str | None) -> int:
    manifest = read_manifest(folder)
    if manifest is None or manifest.year != year:
        _say("edition-manifest-bad", year=year, path=folder / MANIFEST)
        return EXIT_CONTENT
    checked = verify(folder, manifest)
    if not checked.ok:  # never hand out an edition that is not what was frozen
        return _run_verify(folder, year)
    target = Path(output) if output else default_zip(year)
    count = write_zip(folder, manifest, target, f"edition-{year}")
    reporting.say(_text("edition-zip-done", year=year, count=count, path=target))
    return EXIT_OK
