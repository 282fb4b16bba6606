"""``showcase check``: everything the build would report, plus content checks a build does not
need to fail on (links that point nowhere, very large files, profiles without a photo, pledges
never started, speakers without a profile, one person honoured twice in a year).

``findings()`` is pure: it takes the ``Analysis`` of a site (nothing is rendered or written)
and returns diagnostics; ``run()`` is the command around it (text or JSON, exit code).
"""

from __future__ import annotations

import argparse
import json
import os
import posixpath
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import markdown
from markdown.treeprocessors import Treeprocessor

from generator import pages
from generator.base import messages
from generator.base.config import DEFAULT_LANGUAGE
from generator.base.errors import Diagnostic, Severity
from generator.build import Analysis, analyse, sampled_pages, system_error
from generator.cli import console as reporting
from generator.content import limits, loader, paths
from generator.content.loader import SourceDoc
from generator.kinds.registry import BUILT_IN
from generator.output import markup, theme, writer
from generator.site import model, stats, urls

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
MB = 1024 * 1024
ATTACHMENT_LIMIT_MB = 5  # attachments above this size get a warning
IMAGE_LIMIT_MB = 2  # photos and images in a body above this size get a warning
FORMATS = ("text", "json")


# ---------------------------------------------------------------------------------------------
# links and images in bodies


@dataclass(frozen=True, slots=True)
class Reference:
    """A link (``href``) or an image (``src``) found in a Markdown body."""

    tag: str
    target: str

    @property
    def is_image(self) -> bool:
        return self.tag == "img"


class _Collector(Treeprocessor):
    """Collects every ``href`` and ``src`` in document order, as the build's link rewriter
    sees them (same extensions, same stage)."""

    def __init__(self, md: markdown.Markdown) -> None:
        super().__init__(md)
        self.found: list[Reference] = []

    def run(self, root: ET.Element) -> None:
        for element in root.iter():
            for attr in ("href", "src"):
                value = element.get(attr)
                if value:
                    self.found.append(Reference(str(element.tag), value))


class LinkParser:
    """Python-Markdown with the build's extensions; returns the references of a body."""

    def __init__(self) -> None:
        self._md = markdown.Markdown(extensions=list(markup.EXTENSIONS), output_format="html")
        self._collector = _Collector(self._md)
        self._md.treeprocessors.register(self._collector, "showcase-check-links", 1)

    def references(self, body: str) -> list[Reference]:
        self._collector.found = []
        self._md.reset()
        self._md.convert(body)
        return list(self._collector.found)


def output_candidates(ref_path: str, page: str) -> list[str]:
    """Output paths a link already written as a URL may mean, from the page it is on."""
    if ref_path.startswith("/"):
        base = posixpath.normpath(ref_path.lstrip("/") or ".")
    else:
        base = posixpath.normpath(posixpath.join(posixpath.dirname(page), ref_path))
    if base == ".":
        return [urls.INDEX]
    return [base, urls.join(base, urls.INDEX)]


_LINK_START = re.compile(r"(?:\]\(\s*<?|\]:\s*<?|(?:href|src)\s*=\s*[\"']?)$")


class _Locator:
    """Finds where each link target stands in a body: the n-th reference to a target is its
    n-th occurrence written as a link (``](target`` or ``]: target``), else as plain text."""

    def __init__(self, body: str) -> None:
        self.body = body
        self.used: dict[str, int] = {}

    def locate(self, target: str) -> tuple[int, int]:
        """(line within the body from 0, column from 1); (0, 0) when it cannot be found."""
        for needle in dict.fromkeys((target, unquote(target))):
            positions = [m.start() for m in re.finditer(re.escape(needle), self.body)]
            as_link = [p for p in positions if _LINK_START.search(self.body[max(0, p - 12) : p])]
            for candidates in (as_link, positions):
                count = self.used.get(needle, 0)
                if candidates:
                    self.used[needle] = count + 1
                    position = candidates[min(count, len(candidates) - 1)]
                    line_start = self.body.rfind("\n", 0, position) + 1
                    return self.body.count("\n", 0, position), position - line_start + 1
        return 0, 0


@dataclass(frozen=True, slots=True)
class _Targets:
    sources: Mapping[str, str]  # source path -> output path (what the build rewrites)
    outputs: frozenset[str]  # every planned output path
    files: Mapping[str, int]  # every file of the source, with its size


def page_paths(site: model.Site, plan: urls.UrlPlan) -> set[str]:
    """The output path of every page the build makes, as the page families plan them (no
    page is rendered)."""
    return {job.path for job in pages.pages(site, plan)}


def _targets(analysis: Analysis) -> _Targets:
    plan = analysis.plan
    outputs = page_paths(analysis.site, plan)
    outputs.update(plan.assets.values())
    if analysis.theme is not None:
        outputs.update(urls.join(urls.THEME_ASSETS, rel) for rel in analysis.theme.static_files())
    return _Targets({**plan.items, **plan.assets}, frozenset(outputs), analysis.tree.files)


def _check_body(
    item: model.Item, page: str, targets: _Targets, parser: LinkParser
) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    locator = _Locator(item.body)
    for ref in parser.references(item.body):
        parts = urlsplit(ref.target)
        if parts.scheme or parts.netloc or not parts.path or ref.target.startswith("#"):
            continue
        line, column = locator.locate(ref.target)
        where = (item.key, item.body_line + line)
        path = unquote(parts.path)
        source = paths.resolve(path, item.key, targets.sources)
        diagnostic: Diagnostic | None = None
        if source is not None:
            size = targets.files.get(source, 0)
            if ref.is_image and size > IMAGE_LIMIT_MB * MB:
                diagnostic = Diagnostic.warning(
                    *where,
                    "large-image",
                    name=ref.target,
                    size=_megabytes(size),
                    limit=IMAGE_LIMIT_MB,
                )
        elif any(c in targets.outputs for c in output_candidates(path, page)):
            continue
        else:
            unpublished = paths.resolve(path, item.key, targets.files)
            if unpublished is not None:
                diagnostic = Diagnostic.warning(
                    *where, "link-unpublished", target=ref.target, file=unpublished
                )
            elif ref.is_image:
                diagnostic = Diagnostic.warning(*where, "broken-image", target=ref.target)
            else:
                diagnostic = Diagnostic.warning(*where, "broken-link", target=ref.target)
        if diagnostic is not None:
            found.append(replace(diagnostic, column=column))
    return found


# ---------------------------------------------------------------------------------------------
# front matter checks


def _megabytes(size: int) -> str:
    return f"{size / MB:.1f}"


def _raw_list(doc: SourceDoc | None, field: str) -> list[tuple[str, str]]:
    """(line key, value) of each entry of a list field as written (a single text is a list of
    one, as the schema reads it)."""
    raw: Any = doc.meta.get(field) if doc is not None else None
    if isinstance(raw, str):
        return [(field, raw.strip())]
    if isinstance(raw, list):
        return [(f"{field}.{i}", str(v).strip()) for i, v in enumerate(raw) if v is not None]
    return []


def _line(item: model.Item, key: str) -> int:
    while key:
        if key in item.lines:
            return item.lines[key]
        key = key.rpartition(".")[0]
    return 1


def _check_profile(profile: model.Profile) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    if profile.photo is None:
        found.append(
            Diagnostic.info(
                profile.key,
                _line(profile, "name"),
                "profile-without-photo",
                name=profile.name,
            )
        )
    elif profile.photo.size > IMAGE_LIMIT_MB * MB:
        found.append(
            Diagnostic.warning(
                profile.key,
                _line(profile, "photo"),
                "large-photo",
                "photo",
                name=profile.photo.name,
                size=_megabytes(profile.photo.size),
                limit=IMAGE_LIMIT_MB,
            )
        )
    return found


def _check_report(
    report: model.Report, doc: SourceDoc | None, site: model.Site, files: Mapping[str, int]
) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for key, ref in _raw_list(doc, "attachments"):
        source = paths.resolve(ref, report.key, files)
        size = files.get(source, 0) if source is not None else 0
        if size > ATTACHMENT_LIMIT_MB * MB:
            found.append(
                Diagnostic.warning(
                    report.key,
                    _line(report, key),
                    "large-attachment",
                    key,
                    name=posixpath.basename(ref),
                    size=_megabytes(size),
                    limit=ATTACHMENT_LIMIT_MB,
                )
            )
    # each speaker's line key: where the name is first written
    keys = {name: key for key, name in reversed(_raw_list(doc, "speakers"))}
    for speaker in report.speakers:
        if (report.key, speaker) in site.speaker_links:
            continue
        key = keys.get(speaker, "speakers")
        # a speaker need not be a model worker: a note, which --strict does not fail on
        found.append(
            Diagnostic.info(
                report.key,
                _line(report, key),
                "speaker-without-profile",
                key,
                name=speaker,
                year=report.year,
            )
        )
    return found


def _check_pledge(pledge: model.Pledge, site: model.Site) -> list[Diagnostic]:
    """A pledge whose items are all still planned once its year is over. Over means what
    "overdue" means on every page: before the site's current year (site.yaml, else the newest
    year with content), so that the check and the pages agree."""
    current = site.config.current_year
    overdue = [i for i in pledge.items if stats.is_overdue(pledge, i, current)]
    if not overdue or any(i.status != "planned" for i in pledge.items):
        return []
    unit = site.unit_by_id.get(pledge.unit)
    return [
        Diagnostic.warning(
            pledge.key,
            _line(pledge, "items"),
            "pledge-not-started",
            "items",
            year=pledge.year,
            count=len(pledge.items),
            current=current,
            branch=unit.name if unit is not None else pledge.unit,
        )
    ]


def _check_honoured_twice(site: model.Site) -> list[Diagnostic]:
    """Two profiles of one name and one unit in one year are one person honoured twice
    (namesakes in different units are different people)."""
    first: dict[tuple[int, str, str], model.Profile] = {}
    found: list[Diagnostic] = []
    for profile in sorted(site.profiles, key=lambda p: p.key):
        key = (profile.year, profile.name, profile.unit)
        if key not in first:
            first[key] = profile
            continue
        unit = site.unit_by_id.get(profile.unit)
        found.append(
            Diagnostic.warning(
                profile.key,
                _line(profile, "name"),
                "duplicate-honoree",
                "name",
                name=profile.name,
                year=profile.year,
                unit=unit.name if unit is not None else profile.unit,
                first=first[key].key,
            )
        )
    return found


# ---------------------------------------------------------------------------------------------
# all findings


def content_checks(analysis: Analysis) -> list[Diagnostic]:
    """The checks of ``showcase check`` that the build does not make."""
    site, tree = analysis.site, analysis.tree
    docs = {doc.path: doc for doc in tree.docs}
    found: list[Diagnostic] = []
    targets = _targets(analysis)
    found.extend(urls.clashes(page_paths(site, analysis.plan), analysis.plan.assets))
    parser = LinkParser()
    # a body over the limits of content.limits is not parsed (it is reported already)
    over = {d.path for d in analysis.diagnostics if d.code in limits.BODY_CODES}
    for item in site.all_items():
        page = analysis.plan.items.get(item.key)
        if page is not None and item.key not in over:
            found.extend(_check_body(item, page, targets, parser))
    for profile in site.profiles:
        found.extend(_check_profile(profile))
    for report in site.reports:
        found.extend(_check_report(report, docs.get(report.key), site, tree.files))
    for pledge in site.pledges:
        found.extend(_check_pledge(pledge, site))
    found.extend(_check_honoured_twice(site))
    found.extend(_check_site_year(site, tree))
    return found


def _check_site_year(site: model.Site, tree: loader.SourceTree) -> list[Diagnostic]:
    """A note when the site's year, taken from its newest content (site.yaml does not set
    ``current_year``), has neither a profile nor a pledge while an earlier year has profiles:
    the home page then shows no honour roll and no pledge progress (a report filed early in
    a year moves the whole site to that year). It names the newest file of that year."""
    given = tree.site.data if tree.site is not None else None
    year, profiles = site.config.current_year, site.of_kind("profile")
    if (isinstance(given, dict) and "current_year" in given) or not profiles:
        return []
    if any(i.year == year for i in (*profiles, *site.of_kind("pledge"))):
        return []
    newest = max((i for i in site.items() if i.year == year), key=lambda i: i.key, default=None)
    if newest is None:
        return []
    line = newest.lines.get("date") or newest.lines.get("year") or 1
    last = max(p.year for p in profiles)
    return [
        Diagnostic.info(newest.key, line, "current-year-without-profiles", year=year, last=last)
    ]


def findings(analysis: Analysis, more: Iterable[Diagnostic] = ()) -> tuple[Diagnostic, ...]:
    """Every validation diagnostic of the build, every content check and ``more`` (the
    templates' syntax errors), sorted by file, line and column."""
    every = {*analysis.diagnostics, *content_checks(analysis), *more}
    return tuple(sorted(every, key=Diagnostic.sort_key))


def counts(diagnostics: Iterable[Diagnostic]) -> dict[Severity, int]:
    out = dict.fromkeys(Severity, 0)
    for diagnostic in diagnostics:
        out[diagnostic.severity] += 1
    return out


def exit_code(diagnostics: Sequence[Diagnostic], strict: bool) -> int:
    number = counts(diagnostics)
    if number[Severity.ERROR] or (strict and number[Severity.WARNING]):
        return EXIT_FAILED
    return EXIT_OK


# ---------------------------------------------------------------------------------------------
# output and the command


def as_json(diagnostics: Sequence[Diagnostic], language: str) -> dict[str, Any]:
    number = counts(diagnostics)
    return {
        "findings": [
            {
                "file": d.path,
                "line": d.line,
                "column": d.column,
                "field": d.field,
                "code": d.code,
                "severity": d.severity.value,
                "message": reporting.message(d, language),
                "hint": reporting.hint(d, language),
            }
            for d in diagnostics
        ],
        "errors": number[Severity.ERROR],
        "warnings": number[Severity.WARNING],
        "infos": number[Severity.INFO],
    }


NOTES_SHOWN = 5  # notes of one kind listed before the rest are counted, unless --all


def _shown(diagnostics: Sequence[Diagnostic], language: str, root: Path, every: bool) -> list[str]:
    """Errors and warnings, then the notes kind by kind: on a large site thousands of notes
    (a profile without a photo...) would bury the few findings that matter, so of each kind
    the first NOTES_SHOWN are listed and the others counted, unless ``every``."""
    lines: list[str] = []
    notes: dict[str, list[Diagnostic]] = {}
    for diagnostic in diagnostics:
        if diagnostic.severity is Severity.INFO:
            notes.setdefault(diagnostic.code, []).append(diagnostic)
        else:
            lines.append(reporting.format_diagnostic(diagnostic, language, root))
    for kind in notes.values():
        shown = kind if every else kind[:NOTES_SHOWN]
        lines.extend(reporting.format_diagnostic(d, language, root) for d in shown)
        if len(kind) > len(shown):
            more = len(kind) - len(shown)
            lines.append(messages.text(language, "check-notes-folded", count=more))
    return lines


def as_text(
    diagnostics: Sequence[Diagnostic], language: str, root: Path, strict: bool, every: bool = True
) -> str:
    number = counts(diagnostics)
    lines = _shown(diagnostics, language, root, every)
    if not diagnostics:
        lines.append(messages.text(language, "check-clean"))
    else:
        lines.append(
            messages.text(
                language,
                "check-summary",
                errors=number[Severity.ERROR],
                warnings=number[Severity.WARNING],
                infos=number[Severity.INFO],
            )
        )
        if strict and number[Severity.WARNING] and not number[Severity.ERROR]:
            lines.append(messages.text(language, "check-strict-failed"))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# check --fix-encoding


@dataclass(frozen=True, slots=True)
class Converted:
    """A file converted to UTF-8; the original bytes are kept as ``backup``."""

    path: str
    backup: str
    encoding: str


BACKUP_SUFFIX = {"GB18030/GBK": ".gbk", "UTF-16": ".utf16"}


def fix_encoding(source: Path) -> list[Converted]:
    """Convert site.yaml, units.yaml and the Markdown files of the content folders that are
    saved as GB18030/GBK (or UTF-16) to UTF-8. The original file is renamed to
    ``<name>.gbk.bak`` (``.gbk.2.bak`` ... when taken), which the build ignores, and the
    converted text is written in its place: nothing is lost, line ends are kept."""
    done: list[Converted] = []
    themes = [theme.OVERRIDE_DIR, *(f"themes/{name}" for name in theme.site_themes(source))]
    for found in loader.misencoded(source, BUILT_IN.folders(), themes):
        path = source / found.path
        stem = found.path + BACKUP_SUFFIX[found.encoding]
        backup, n = stem + ".bak", 2
        while (source / backup).exists():
            backup, n = f"{stem}.{n}.bak", n + 1
        with writer.atomic_path(path) as temp:  # moved into place when the block ends
            temp.write_text(found.text, encoding="utf-8", newline="")
            shutil.copymode(path, temp)
            os.replace(path, source / backup)  # the original bytes, kept under a new name
        done.append(Converted(found.path, backup, found.encoding))
    return done


def converted_text(converted: Sequence[Converted], language: str) -> str:
    if not converted:
        return messages.text(language, "fix-encoding-none")
    return "\n".join(
        messages.text(
            language, "fix-encoding-done", path=c.path, encoding=c.encoding, backup=c.backup
        )
        for c in converted
    )


def _t(code: str) -> str:
    return messages.text(DEFAULT_LANGUAGE, code)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``showcase check`` on the CLI's subparsers."""
    c: argparse.ArgumentParser = subparsers.add_parser(
        "check", help=_t("cli-check"), description=_t("cli-check")
    )
    c.add_argument(
        "source",
        nargs="?",
        default=None,
        metavar=_t("cli-metavar-source"),
        help=_t("cli-source"),
    )
    c.add_argument("--format", choices=FORMATS, default="text", help=_t("cli-check-format"))
    c.add_argument("--strict", action="store_true", help=_t("cli-strict"))
    c.add_argument("--drafts", action="store_true", help=_t("cli-drafts"))
    c.add_argument("--fix-encoding", action="store_true", help=_t("cli-fix-encoding"))
    c.add_argument(
        "--all",
        action="store_true",
        help=messages.text(DEFAULT_LANGUAGE, "cli-check-all", shown=NOTES_SHOWN),
    )
    c.set_defaults(func=run)
    return c


def _checked(source: Path, drafts: bool) -> tuple[str, tuple[Diagnostic, ...]]:
    """The site's language and every finding; a failure of the machine (an unreadable
    folder) or content nested beyond every limit is a finding too, never a traceback."""
    try:
        analysis = analyse(source, drafts=drafts)
        language = analysis.site.config.language
        used = [kind.template for kind in analysis.site.kinds]
        templates = (
            theme.template_problems(analysis.theme, language, used) if analysis.theme else []
        )
        if not any(d.is_error for d in templates):  # faults that show as pages render
            templates.extend(sampled_pages(analysis))
        return language, findings(analysis, templates)
    except OSError as exc:
        return DEFAULT_LANGUAGE, (system_error(exc),)
    except RecursionError:
        return DEFAULT_LANGUAGE, (Diagnostic.error(str(source), 0, "nested-too-deep"),)


def run(args: argparse.Namespace) -> int:
    source = Path(args.source)
    if not source.is_dir():
        message = messages.text(DEFAULT_LANGUAGE, "check-source-missing", path=source)
        print(message, file=sys.stderr)
        return EXIT_USAGE
    converted = fix_encoding(source) if getattr(args, "fix_encoding", False) else None
    language, diagnostics = _checked(source, args.drafts)
    if args.format == "json":
        data = as_json(diagnostics, language)
        if converted is not None:
            data["converted"] = [
                {"file": c.path, "backup": c.backup, "encoding": c.encoding} for c in converted
            ]
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        if converted is not None:
            reporting.say(converted_text(converted, language))
        if reporting.VERBOSITY.quiet:
            # only what fails the check: errors, and warnings with --strict
            failing = (Severity.ERROR, Severity.WARNING) if args.strict else (Severity.ERROR,)
            for diagnostic in (d for d in diagnostics if d.severity in failing):
                print(reporting.format_diagnostic(diagnostic, language, source))
        else:
            print(as_text(diagnostics, language, source, args.strict, args.all))
    return exit_code(diagnostics, args.strict)
