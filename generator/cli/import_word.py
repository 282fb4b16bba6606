"""``showcase import word FILE.docx …``: each Word document becomes a profile or a report.

Every document is converted and checked first; when any cannot be imported (an old .doc, a
password, a damaged file, a file that is not Word, a file name already taken), nothing at all
is written, so the same command can run again once it is fixed.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from generator.base import hanzi, messages
from generator.base.config import DEFAULT_LANGUAGE
from generator.cli import console, new
from generator.cli.import_common import (
    EXIT_FAILED,
    EXIT_OK,
    Context,
    context,
    honor_lines,
    next_step,
    placeholder,
    report,
    settle_notes,
    stop_note,
    unique,
    write_failed,
)
from generator.importing import infer, word
from generator.importing.problems import Note, Refused
from generator.importing.units import Matcher
from generator.kinds.registry import BUILT_IN


@dataclass(frozen=True, slots=True)
class Options:
    """What the command line gives: the kind, unit, year and honours of every document."""

    kind: str
    unit: str
    year: int | None
    honors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Planned:
    """A document ready to write: its file, its pictures (path, bytes) and its notes."""

    draft: new.Draft
    images: tuple[tuple[Path, bytes], ...]
    notes: tuple[Note, ...]


def run(args: argparse.Namespace) -> int:
    try:
        ctx = context(Path(args.source))
        unit = new.resolve_unit(args.unit, ctx.units, ctx.language) if args.unit else ""
        year = new.year_value(args.year, ctx.config, ctx.today) if args.year else None
    except new.Stop as stop:
        new.print_problem(
            DEFAULT_LANGUAGE, stop.code, stop.extra_hint, stop.params, "severity-error"
        )
        return stop.exit_code
    options = Options(args.kind or "", unit, year, tuple(h.strip() for h in args.honor if h))
    planned, refused = _plan_all([Path(f) for f in args.files], options, ctx)
    if refused:
        for note in refused:
            report(note, ctx, "severity-error")
        console.say(messages.text(ctx.language, "import-word-nothing-written"))
        return EXIT_FAILED
    try:
        for plan in planned:
            _write(plan, ctx)
    except (new.Stop, OSError) as problem:
        write_failed(problem, ctx)
        return EXIT_FAILED
    next_step(ctx)
    return EXIT_OK


def _plan_all(
    files: list[Path], options: Options, ctx: Context
) -> tuple[list[Planned], list[Note]]:
    matcher = Matcher.of(ctx.units)
    planned: list[Planned] = []
    refused: list[Note] = []
    taken: set[str] = set()
    for path in files:
        try:
            planned.append(_plan(path, options, ctx, matcher, taken))
        except Refused as refusal:
            refused.append(refusal.note)
        except new.Stop as stop:
            refused.append(stop_note(stop))
    return planned, refused


def _read(path: Path) -> bytes:
    name = path.as_posix()
    if not path.is_file():
        raise Refused("import-file-missing", file=name)
    try:
        return path.read_bytes()
    except OSError:
        raise Refused("import-file-unreadable", file=name) from None


def _plan(path: Path, options: Options, ctx: Context, matcher: Matcher, taken: set[str]) -> Planned:
    name = path.as_posix()
    doc = word.convert(_read(path), name)
    kind = options.kind or infer.guess_kind(doc)
    if not kind:
        raise Refused("import-word-kind-unknown", file=name)
    found = infer.infer(doc, kind, matcher, ctx.today.year)
    notes = list(doc.notes)
    unit = options.unit or _unit(found, name, notes)
    draft = (_profile if kind == "profile" else _report)(doc, found, unit, options, ctx, notes)
    draft, found_notes = new.settle(draft, ctx.site, ctx.source)
    draft = unique(draft, taken, ctx.source)
    notes.extend(settle_notes(found_notes))
    return _with_images(draft, doc, ctx.source, notes)


def _unit(found: infer.Inferred, name: str, notes: list[Note]) -> str:
    if len(found.units) == 1:
        return found.units[0]
    if found.units:
        notes.append(Note("import-word-unit-ambiguous", {"file": name, "candidates": found.units}))
    else:
        notes.append(Note("import-word-unit-unknown", {"file": name}))
    return ""


def _unit_params(unit: str, ctx: Context) -> tuple[dict[str, Any], dict[str, str]]:
    """The scaffold's unit values, or the placeholder line when no unit is known."""
    if unit:
        return {"unit": new.scalar(unit), "unit_name": ctx.units[unit].name}, {}
    return {}, {"unit": f"unit: {placeholder(ctx.language, 'unit')}"}


def _slug(title: str, derived: str, path_stem: str) -> str:
    """The slug of the name or title; of the file's name when the document gave none."""
    return derived if title and derived else hanzi.title_slug(path_stem) or "document"


def _year_notes(found: infer.Inferred, file: str, year: int, language: str) -> list[Note]:
    """What the editor should check of a profile's year: none found (a birth year or the
    year of joining work or the party left out), or only the latest year found."""
    if found.year is None:
        code = "import-word-year-skipped" if found.years_skipped else "import-word-year-default"
    elif found.year_guessed:
        code = "import-word-year-guessed"
    else:
        return []
    separator = messages.text(language, "new-list-separator")
    skipped = separator.join(str(y) for y in found.years_skipped)
    return [Note(code, {"file": file, "year": year, "skipped": skipped})]


def _profile(
    doc: word.Converted,
    found: infer.Inferred,
    unit: str,
    options: Options,
    ctx: Context,
    notes: list[Note],
) -> new.Draft:
    kind = BUILT_IN["profile"]
    year = options.year or found.year or ctx.default_year()
    if options.year is None:
        notes.extend(_year_notes(found, doc.file, year, ctx.language))
    if not found.name:
        notes.append(Note("import-word-name-unknown", {"file": doc.file}))
    name = found.name or placeholder(ctx.language, "name")
    params, lines = _unit_params(unit, ctx)
    params |= {
        "name": new.scalar(name),
        "year": year,
        "today": ctx.today.isoformat(),
        "honors": honor_lines(options.honors, ctx.language),
    }
    item = kind.model(key="", kind="profile", title=found.name)
    slug = _slug(found.name, item.default_slug(), Path(doc.file).stem)
    return new.Draft(
        "profile",
        f"{kind.folder}/{year}",
        slug,
        False,
        False,
        year,
        found.name,
        unit,
        ctx.language,
        params,
        lines,
        "\n" + doc.body,
    )


def _report(
    doc: word.Converted,
    found: infer.Inferred,
    unit: str,
    options: Options,
    ctx: Context,
    notes: list[Note],
) -> new.Draft:
    kind = BUILT_IN["report"]
    params, lines = _unit_params(unit, ctx)
    if found.date is None:
        notes.append(Note("import-word-date-unknown", {"file": doc.file}))
        lines["date"] = f"date: {placeholder(ctx.language, 'date')}"
    year = found.date.year if found.date else options.year or found.year or ctx.default_year()
    if not found.title:
        notes.append(Note("import-word-title-unknown", {"file": doc.file}))
    if found.speakers:
        lines["speakers"] = "speakers:\n" + "\n".join(
            f"  - {new.scalar(s)}" for s in found.speakers
        )
    title = found.title or placeholder(ctx.language, "title")
    params |= {
        "title": new.scalar(title),
        "year": year,
        "today": ctx.today.isoformat(),
        "date": found.date.isoformat() if found.date else "",
    }
    item = kind.model(key="", kind="report", title=found.title)
    slug = _slug(found.title, item.default_slug(), Path(doc.file).stem)
    return new.Draft(
        "report",
        f"{kind.folder}/{year}",
        slug,
        False,
        False,
        year,
        found.title,
        unit,
        ctx.language,
        params,
        lines,
        "\n" + doc.body,
    )


def _image_names(draft: new.Draft, doc: word.Converted) -> tuple[dict[int, str], str]:
    """The file name of each picture, and the photo's: the first portrait of a profile is
    its photo, named as the story; the others are numbered."""
    names: dict[int, str] = {}
    photo = ""
    if draft.kind == "profile":
        portrait = next((i for i in doc.images if i.portrait and i.for_web), None)
        if portrait is not None:
            photo = names[portrait.number] = f"{draft.slug}{portrait.suffix}"
    for image in doc.images:
        names.setdefault(image.number, f"{draft.slug}-img{image.number}{image.suffix}")
    return names, photo


def _with_images(draft: new.Draft, doc: word.Converted, source: Path, notes: list[Note]) -> Planned:
    names, photo = _image_names(draft, doc)
    body = draft.body or ""

    def link(match: re.Match[str]) -> str:
        name = names[int(match["number"])]
        return "" if name == photo else f"![{match['alt']}]({name})"

    body = re.sub(r"\n{3,}", "\n\n", word.IMAGE_LINK.sub(link, body))
    lines = dict(draft.lines)
    if photo:
        lines["photo"] = f"photo: {new.scalar(photo)}"
    folder = source / draft.folder
    images = tuple((folder / names[i.number], i.data) for i in doc.images)
    for path, _data in images:
        if path.exists():
            raise Refused("import-word-image-exists", file=doc.file, path=path.as_posix())
    return Planned(replace(draft, body=body, lines=lines), images, tuple(notes))


def _write(plan: Planned, ctx: Context) -> None:
    path = ctx.source / plan.draft.rel
    new.write(path, plan.draft)
    for image, data in plan.images:
        with open(image, "xb") as fh:
            fh.write(data)
    console.say(messages.text(ctx.language, "new-created", path=console.pasteable(path)))
    for image, _data in plan.images:
        console.say(
            messages.text(ctx.language, "import-word-image-saved", path=console.pasteable(image))
        )
    for note in plan.notes:
        report(note, ctx, "severity-warning")
