"""``showcase import roster FILE.xlsx|FILE.csv``: a profile stub for each person of an honour
roster.

A dry run unless ``--write``: it lists the files it would create, the rows it cannot use
(with their row number and, for a unit, the candidates) and the people who already have a
profile that year. With ``--write`` the stubs of the usable rows are written; running it
again after fixing the other rows creates only what is still missing.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.base import messages
from generator.base.config import DEFAULT_LANGUAGE
from generator.cli import console, new
from generator.cli.import_common import (
    EXIT_FAILED,
    EXIT_OK,
    Context,
    context,
    honor_lines,
    next_step,
    report,
    settle_notes,
    unique,
    write_failed,
)
from generator.importing import people, roster
from generator.importing.problems import Note, Refused
from generator.importing.units import Matcher
from generator.kinds.registry import BUILT_IN

# notes on rows that are left out (errors); the others are warnings
SKIPPED = (
    "import-roster-no-name",
    "import-roster-no-unit",
    "import-roster-unknown-unit",
    "import-roster-unknown-unit-alone",
    "import-roster-ambiguous-unit",
    "import-roster-bad-year",
)


@dataclass(frozen=True, slots=True)
class Planned:
    person: people.Person
    draft: new.Draft


def run(args: argparse.Namespace) -> int:
    try:
        ctx = context(Path(args.source))
        year = new.year_value(args.year, ctx.config, ctx.today) if args.year else None
    except new.Stop as stop:
        new.print_problem(
            DEFAULT_LANGUAGE, stop.code, stop.extra_hint, stop.params, "severity-error"
        )
        return stop.exit_code
    honors = tuple(h.strip() for h in args.honor if h.strip())
    try:
        table = roster.read(Path(args.file))
    except Refused as refusal:
        report(refusal.note, ctx, "severity-error")
        return EXIT_FAILED
    defaults = people.Defaults(year, honors, ctx.default_year())
    found, notes = people.people(table, Matcher.of(ctx.units), defaults)
    planned = _plan(found, table.file, ctx, notes, args.write)
    notes.sort(key=lambda note: int(note.params.get("row", 0)))  # told row by row
    for note in notes:
        report(note, ctx, "severity-error" if note.code in SKIPPED else "severity-warning")
    try:
        for plan in planned:
            _show(plan, ctx, args.write)
    except (new.Stop, OSError) as problem:
        write_failed(problem, ctx)
        return EXIT_FAILED
    _summary(table, planned, notes, ctx, args.write)
    return EXIT_FAILED if any(n.code in SKIPPED for n in notes) else EXIT_OK


Existing = dict[tuple[str, int], list[tuple[str, str]]]


def _profiles(ctx: Context) -> Existing:
    """The profiles of the site by name and year: (path, unit) of each."""
    found: Existing = {}
    for item in ctx.site.of_kind("profile"):
        key = (str(getattr(item, "name", "")), item.year)
        found.setdefault(key, []).append(((ctx.source / item.key).as_posix(), item.unit))
    return found


def _existing(person: people.Person, profiles: Existing) -> tuple[str, bool]:
    """The path of a profile of the same name that year, and whether it is of the same
    unit (the same person) or another (a namesake)."""
    same = profiles.get((person.name, person.year), [])
    for path, unit in same:
        if unit == person.unit:
            return path, True
    return (same[0][0], False) if same else ("", False)


def _plan(
    found: list[people.Person], file: str, ctx: Context, notes: list[Note], write: bool
) -> list[Planned]:
    """The drafts of the people without a profile that year; ``notes`` gets what the editor
    should know of each row, worded for a dry run unless ``write``."""
    planned: list[Planned] = []
    taken: set[str] = set()
    profiles = _profiles(ctx)
    for person in found:
        where = {"file": file, "row": person.rows[0], "name": person.name, "year": person.year}
        path, same = _existing(person, profiles)
        if path and same:
            notes.append(Note("import-roster-exists", where | {"path": path}))
            continue
        if path:
            code = "import-roster-namesake" if write else "import-roster-namesake-dry"
            notes.append(Note(code, where | {"path": path}))
        try:
            draft, found_notes = new.settle(_draft(person, ctx), ctx.site, ctx.source)
        except new.Stop as stop:
            notes.append(
                Note("import-roster-file-exists", where | {"path": stop.params.get("path", "")})
            )
            continue
        settled = unique(draft, taken, ctx.source)
        planned.append(Planned(person, settled))
        notes.extend(_settle_notes(found_notes, where, settled.slug, write))
    return planned


def _settle_notes(
    found: list[tuple[str, dict[str, Any]]], where: dict[str, Any], slug: str, write: bool
) -> list[Note]:
    """The notes of ``new.settle`` on a row: a namesake is told by the row's own note
    (``import-roster-namesake``); a slug changed because another page has it, with the row
    and the slug the file gets, unless that page is the namesake's (the file to be created
    shows its slug)."""
    namesakes = {params["path"] for code, params in found if code == "new-namesake"}
    slug_code = "import-roster-slug-changed" if write else "import-roster-slug-changed-dry"
    notes: list[Note] = []
    for code, params in found:
        if code == "new-slug-changed" and params["path"] not in namesakes:
            notes.append(Note(slug_code, where | params | {"new": slug}))
        elif code not in ("new-namesake", "new-slug-changed"):
            notes.extend(settle_notes([(code, params)]))
    return notes


def _lines(person: people.Person, language: str) -> dict[str, str]:
    """The lines the roster fills besides the required ones; what the site does not show
    (gender, ethnicity) is kept as a comment."""
    lines: dict[str, str] = {}
    if person.position:
        lines["position"] = f"position: {new.scalar(person.position)}"
    if person.party_member is not None:
        lines["party_member"] = f"party_member: {'true' if person.party_member else 'false'}"
    if person.extra:
        words = messages.text(language, "new-list-separator").join(
            messages.text(language, f"import-roster-column-{column}", value=value)
            for column, value in sorted(person.extra.items())
        )
        comment = messages.text(language, "import-roster-extra", values=words)
        lines["name"] = f"name: {new.scalar(person.name)}\n# {comment}"
    return lines


def _draft(person: people.Person, ctx: Context) -> new.Draft:
    kind = BUILT_IN["profile"]
    params = {
        "name": new.scalar(person.name),
        "unit": new.scalar(person.unit),
        "unit_name": ctx.units[person.unit].name,
        "year": person.year,
        "today": ctx.today.isoformat(),
        "honors": honor_lines(person.honors, ctx.language),
    }
    item = kind.model(key="", kind="profile", title=person.name)
    return new.Draft(
        "profile",
        f"{kind.folder}/{person.year}",
        item.default_slug(),
        False,
        False,
        person.year,
        person.name,
        person.unit,
        ctx.language,
        params,
        _lines(person, ctx.language),
    )


def _show(plan: Planned, ctx: Context, write: bool) -> None:
    path = ctx.source / plan.draft.rel
    separator = messages.text(ctx.language, "new-list-separator")
    honors = separator.join(plan.person.honors) or messages.text(
        ctx.language, "import-roster-no-honor"
    )
    params = {
        "path": console.pasteable(path),
        "name": plan.person.name,
        "unit": ctx.units[plan.person.unit].name,
        "honors": honors,
        "rows": separator.join(str(r) for r in plan.person.rows),
    }
    if write:
        new.write(path, plan.draft)
        console.say(messages.text(ctx.language, "import-roster-created", **params))
    else:
        console.say(messages.text(ctx.language, "import-roster-would-create", **params))


def _summary(
    table: roster.Table, planned: list[Planned], notes: list[Note], ctx: Context, write: bool
) -> None:
    skipped = len({n.params.get("row") for n in notes if n.code in SKIPPED})
    params: dict[str, Any] = {
        "file": table.file,
        "rows": len(table.rows),
        "files": len(planned),
        "skipped": skipped,
        "header": table.header_row,
    }
    code = "import-roster-summary-written" if write else "import-roster-summary-dry"
    console.say(messages.text(ctx.language, code, **params))
    if write and planned:
        next_step(ctx)
