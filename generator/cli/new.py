"""``showcase new``: a correctly named, ready-to-fill Markdown file for a profile, report,
pledge or free page.

The file is written from a scaffold text of the message catalog (``new-scaffold-<kind>``),
with a comment on every field in the site's language, and builds as it is. Values given on the
command line are checked at once (units against units.yaml, years, dates, slugs); an existing
file is never overwritten.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from generator.base import hanzi, messages
from generator.base.config import DEFAULT_LANGUAGE, BuildOptions
from generator.base.errors import Diagnostic
from generator.content import fields as schema
from generator.content import frontmatter, loader
from generator.content.settings import SiteConfig
from generator.kinds.kind import Kind
from generator.kinds.registry import BUILT_IN
from generator.site import model, urls

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
DEFAULT_SOURCE = "site_content"
# the flags each kind needs; asked for on a terminal, else reported (exit 2)
REQUIRED: dict[str, tuple[str, ...]] = {
    "profile": ("name", "unit"),
    "report": ("title", "unit"),
    "pledge": ("branch",),
    "page": ("title",),
}
UNIT_FLAGS = ("unit", "branch")
OPTIONAL = ("year", "date", "slug", "honor")


class Stop(Exception):
    """Ends the command with an exit code and a catalog message (message and hint)."""

    def __init__(self, exit_code: int, code: str, extra_hint: str = "", **params: Any) -> None:
        super().__init__(code)
        self.exit_code = exit_code
        self.code = code
        self.extra_hint = extra_hint
        self.params = params


@dataclass(frozen=True, slots=True)
class Draft:
    """The file to create: where it goes, the slug it gets and the values of its scaffold."""

    kind: str
    folder: str  # relative to the source
    slug: str  # also the file name
    given: bool  # the slug came from --slug
    explicit: bool  # the slug is written in the front matter
    year: int
    name: str
    unit: str
    language: str
    params: Mapping[str, Any]

    @property
    def rel(self) -> str:
        return f"{self.folder}/{self.slug}.md"

    def text(self) -> str:
        slug_value = _scalar(self.slug) if self.explicit else self.slug
        params = {**self.params, "slug": self.slug, "slug_value": slug_value}
        written = ("slug",) if self.explicit else ()
        return scaffold(BUILT_IN[self.kind], self.language, params, written)


def scaffold(
    kind: Kind[Any], language: str, params: Mapping[str, Any], written: Collection[str] = ()
) -> str:
    """The text of a new file of ``kind``: the notes at the top, a note and a line for every
    source field in the kind's order (optional fields commented out, unless ``written``),
    then the body. The wording comes from the catalog, filled with ``params``."""
    parts = ["---\n", messages.text(language, f"new-scaffold-{kind.name}", **params)]
    for attr, spec in kind.source_order():
        key = spec.key or attr
        code = f"new-field-{kind.name}-{key}"
        if code not in messages.catalog(language):
            code = f"new-field-{key}"  # a shared field of a kind without its own wording
        note = messages.text(language, code, **params).split("\n")
        value = messages.text(language, code, "value", **params).split("\n")
        shown = spec.required or key in written
        parts.extend(f"# {line}\n" for line in note)
        parts.extend(f"{line}\n" if shown else f"# {line}\n" for line in value)
    parts.append("---\n")
    parts.append(messages.text(language, f"new-scaffold-{kind.name}", "body", **params))
    return "".join(parts)


def t(code: str) -> str:
    return messages.text(DEFAULT_LANGUAGE, code)


def add_parser(subparsers: Any) -> None:
    """Register ``showcase new <kind>`` on the CLI's sub-command parsers."""
    new = subparsers.add_parser("new", help=t("cli-new"), description=t("cli-new"))
    new.set_defaults(func=run, kind=None)
    kinds = new.add_subparsers(dest="kind", metavar="KIND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--source", default=DEFAULT_SOURCE, help=t("cli-new-source"))
    for kind in REQUIRED:
        help_text = t(f"cli-new-{kind}")
        k = kinds.add_parser(kind, parents=[common], help=help_text, description=help_text)
        if kind == "profile":
            k.add_argument("--name", help=t("cli-new-name"))
            k.add_argument("--unit", help=t("cli-new-unit"))
            k.add_argument("--year", help=t("cli-new-year"))
            k.add_argument("--honor", action="append", default=[], help=t("cli-new-honor"))
        elif kind == "report":
            k.add_argument("--title", help=t("cli-new-title"))
            k.add_argument("--unit", help=t("cli-new-unit"))
            k.add_argument("--date", help=t("cli-new-date"))
        elif kind == "pledge":
            k.add_argument("--branch", help=t("cli-new-branch"))
            k.add_argument("--year", help=t("cli-new-year"))
        else:
            k.add_argument("--title", help=t("cli-new-title"))
        if kind != "pledge":
            k.add_argument("--slug", help=t("cli-new-slug"))
        k.set_defaults(func=run)
    new.set_defaults(print_help=new.print_help)


# ---------------------------------------------------------------------------------------------
# the command


def run(args: argparse.Namespace) -> int:
    if args.kind is None:
        args.print_help(sys.stderr)
        return EXIT_USAGE
    source = Path(args.source)
    language = DEFAULT_LANGUAGE
    try:
        if not source.is_dir():
            raise Stop(EXIT_USAGE, "new-source-missing", path=source)
        tree, _problems = loader.load(source, folders=BUILT_IN.folders())
        problems: list[Diagnostic] = []
        config = model.build_config(tree, problems)
        language = config.language
        units = {u.id: u for u in model.build_units(tree, problems)}
        today = dt.date.today()
        _check_formats(args, config, today)  # before any question is asked
        values = _collect(args, language, units)
        draft = _draft(args.kind, values, config, units, language, today)
        draft, notes = _settle(draft, tree, source)
        path = source / draft.rel
        _write(path, draft)
    except Stop as stop:
        _print_problem(language, stop.code, stop.extra_hint, stop.params, "severity-error")
        return stop.exit_code
    print(messages.text(language, "new-created", path=path.as_posix()))
    command = "showcase serve" if args.source == DEFAULT_SOURCE else f"showcase serve {source}"
    print(messages.text(language, "new-next-step", command=command))
    for code, params in notes:
        _print_problem(language, code, "", params, "severity-warning")
    return EXIT_OK


def _print_problem(
    language: str, code: str, extra_hint: str, params: Mapping[str, Any], severity: str
) -> None:
    label = messages.text(language, severity)
    lines = [f"{label}: {messages.text(language, code, **params)}"]
    hint = " ".join(
        part for part in (messages.text(language, code, "hint", **params), extra_hint) if part
    )
    if hint:
        lines.append(f"    {messages.text(language, 'how-to-fix')}{hint}")
    print("\n".join(lines), file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# values: from the flags, else asked for on a terminal


def _clean(value: str | None) -> str:
    """One line of text with single spaces; '' for a missing value."""
    return " ".join(str(value).split()) if value is not None else ""


def _interactive() -> bool:
    stdin = sys.stdin
    return stdin is not None and stdin.isatty()


def _collect(
    args: argparse.Namespace, language: str, units: Mapping[str, model.Unit]
) -> dict[str, Any]:
    """The required values (checked, asked for on a terminal) and the optional ones as given."""
    kind: str = args.kind
    values = {flag: _clean(getattr(args, flag)) for flag in REQUIRED[kind]}
    missing = [flag for flag, value in values.items() if not value]
    given: dict[str, Any] = {flag: getattr(args, flag, None) for flag in OPTIONAL}
    if missing and not _interactive():
        separator = messages.text(language, "new-list-separator")
        raise Stop(
            EXIT_USAGE,
            "new-missing-flags",
            flags=separator.join(f"--{flag}" for flag in missing),
            example=messages.text(language, f"new-example-{kind}"),
        )
    if any(flag in UNIT_FLAGS for flag in REQUIRED[kind]) and not units:
        raise Stop(EXIT_INVALID, "new-no-units")
    for flag, value in values.items():
        if value and flag in UNIT_FLAGS:
            values[flag] = _resolve_unit(value, units, language)
    for flag in missing:
        values[flag] = _ask(flag, language, units)
    return given | values


def _ask(flag: str, language: str, units: Mapping[str, model.Unit]) -> str:
    """Ask for one value until it is usable; a unit is checked against units.yaml at once."""
    prompt = messages.text(language, f"new-prompt-{flag}")
    while True:
        try:
            answer = _clean(input(prompt))
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            raise Stop(EXIT_USAGE, "new-cancelled") from None
        if not answer:
            print(messages.text(language, "new-prompt-empty"), file=sys.stderr)
            continue
        if flag not in UNIT_FLAGS:
            return answer
        try:
            return _resolve_unit(answer, units, language)
        except Stop as stop:
            _print_problem(language, stop.code, stop.extra_hint, stop.params, "severity-error")


def _resolve_unit(value: str, units: Mapping[str, model.Unit], language: str) -> str:
    """A unit id from an id or a unit's full name; unknown -> Stop with the closest unit."""
    if value in units:
        return value
    by_name = [u.id for u in units.values() if u.name == value]
    if len(by_name) == 1:
        return by_name[0]
    close = schema.suggest(value, list(units))
    if not close:
        names = {u.name: u.id for u in units.values()}
        close = names.get(schema.suggest(value, list(names)), "")
    extra = (
        messages.text(language, "new-unit-suggestion", id=close, name=units[close].name)
        if close
        else ""
    )
    raise Stop(EXIT_INVALID, "new-unknown-unit", extra, unit=value)


def _year(value: str | None, config: SiteConfig, today: dt.date) -> int:
    if value is None:
        return config.current_year or today.year
    text = value.strip()
    if not text.isdigit() or not schema.YEAR_MIN <= int(text) <= schema.YEAR_MAX:
        raise Stop(
            EXIT_INVALID, "new-bad-year", got=value, low=schema.YEAR_MIN, high=schema.YEAR_MAX
        )
    return int(text)


def _date(value: str | None, today: dt.date) -> dt.date:
    if value is None:
        return today
    match = schema.DATE_RE.match(value.strip())
    if match is None:
        raise Stop(EXIT_INVALID, "new-bad-date", got=value)
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        raise Stop(EXIT_INVALID, "new-impossible-date", got=value) from None


def _slug(given: str | None, derive: Callable[[], str], text: str) -> tuple[str, bool]:
    """The slug given with --slug (checked) or derived from the name or title."""
    if given is not None:
        slug = given.strip()
        if not schema.SLUG_RE.match(slug):
            raise Stop(EXIT_INVALID, "new-bad-slug", got=given)
        return slug, True
    slug = derive()
    if not slug:
        raise Stop(EXIT_INVALID, "new-no-slug", text=text)
    return slug, False


def _check_formats(args: argparse.Namespace, config: SiteConfig, today: dt.date) -> None:
    """Check the formats of the optional flags given (year, date, slug)."""
    if getattr(args, "year", None) is not None:
        _year(args.year, config, today)
    if getattr(args, "date", None) is not None:
        _date(args.date, today)
    if getattr(args, "slug", None) is not None:
        _slug(args.slug, str, "")


# ---------------------------------------------------------------------------------------------
# the file


def _scalar(value: str) -> str:
    """``value`` as a YAML scalar: as it is when it reads back unchanged, else double-quoted
    (a JSON string is a valid YAML one)."""
    doc, problems = frontmatter.parse_yaml(f"v: {value}\n", "-")
    if not problems and doc is not None and doc.data == {"v": value}:
        return value
    return json.dumps(value, ensure_ascii=False)


def _draft(
    kind: str,
    values: Mapping[str, Any],
    config: SiteConfig,
    units: Mapping[str, model.Unit],
    language: str,
    today: dt.date,
) -> Draft:
    """Check the remaining values and fill the scaffold of ``kind``."""
    params: dict[str, Any] = {"today": today.isoformat()}
    name = unit = ""
    if kind == "profile":
        name, unit = values["name"], values["unit"]
        year = _year(values["year"], config, today)
        slug, given = _slug(values["slug"], lambda: hanzi.name_slug(name), name)
        honors = [_clean(h) for h in values["honor"] or ()]
        honors = [h for h in honors if h] or [messages.text(language, "new-placeholder-honor")]
        params |= {
            "name": _scalar(name),
            "honors": "\n".join(f"  - {_scalar(h)}" for h in honors),
        }
    elif kind == "report":
        title, unit = values["title"], values["unit"]
        date = _date(values["date"], today)
        year = date.year
        slug, given = _slug(values["slug"], lambda: hanzi.title_slug(title), title)
        params |= {"title": _scalar(title), "date": date.isoformat()}
    elif kind == "pledge":
        unit = values["branch"]
        year = _year(values["year"], config, today)
        slug, given = unit, False  # the build's default slug of a pledge: the branch id
        params |= {"branch": _scalar(unit), "branch_name": units[unit].name}
    else:
        title = values["title"]
        year = 0  # free pages have no year
        slug, given = _slug(values["slug"], lambda: hanzi.title_slug(title), title)
        params |= {"title": _scalar(title)}
    if unit and kind != "pledge":
        params |= {"unit": _scalar(unit), "unit_name": units[unit].name}
    params["year"] = year
    folder = BUILT_IN[kind].folder
    folder = folder if not BUILT_IN[kind].yearly else f"{folder}/{year}"
    # a page's slug is always written out: its address stays when its title is edited
    explicit = given or kind == "page"
    return Draft(kind, folder, slug, given, explicit, year, name, unit, language, params)


Note = tuple[str, dict[str, Any]]


def _settle(draft: Draft, tree: loader.SourceTree, source: Path) -> tuple[Draft, list[Note]]:
    """Refuse what would overwrite a file or fail the build (a second pledge of a branch in a
    year, a --slug already taken); give a derived slug that an existing page already has a
    suffix, so that no existing page changes its address. Returns notes for the editor."""
    target = source / draft.rel
    if target.exists():
        raise Stop(
            EXIT_INVALID, f"new-file-exists-{draft.kind}", path=target.as_posix(), slug=draft.slug
        )
    options = BuildOptions(source=source, output=source, drafts=True)
    site, _problems = model.build_site(tree, options)
    shown = {item.key: (source / item.key).as_posix() for item in (*site.items(), *site.pages)}
    if draft.kind == "pledge":
        for pledge in site.pledges:
            if pledge.unit == draft.unit and pledge.year == draft.year:
                raise Stop(
                    EXIT_INVALID,
                    "new-pledge-exists",
                    path=shown[pledge.key],
                    branch=draft.unit,
                    year=draft.year,
                )
        return draft, []
    group = [item for item in site.of_kind(draft.kind) if item.year == draft.year]
    plan, _url_problems = urls.plan(site, ())
    slugs = {item.key: {item.slug, plan.slugs.get(item.key, "")} - {""} for item in group}
    notes: list[Note] = [
        ("new-namesake", {"path": shown[item.key], "name": draft.name, "year": item.year})
        for item in group
        if draft.name and getattr(item, "name", None) == draft.name
    ]
    clash = next((item for item in group if draft.slug in slugs[item.key]), None)
    if clash is None:
        return draft, notes
    if draft.given:
        raise Stop(EXIT_INVALID, "new-slug-taken", path=shown[clash.key], slug=draft.slug)
    taken = set().union(*slugs.values())
    number = 2
    while (
        f"{draft.slug}-{number}" in taken
        or (source / draft.folder / f"{draft.slug}-{number}.md").exists()
    ):
        number += 1
    settled = replace(draft, slug=f"{draft.slug}-{number}", explicit=True)
    notes.append(
        ("new-slug-changed", {"path": shown[clash.key], "slug": draft.slug, "new": settled.slug})
    )
    return settled, notes


def _write(path: Path, draft: Draft) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8", newline="\n") as fh:
            fh.write(draft.text())
    except FileExistsError:  # created since the check
        raise Stop(
            EXIT_INVALID, f"new-file-exists-{draft.kind}", path=path.as_posix(), slug=draft.slug
        ) from None
