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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from generator import build
from generator.base import messages
from generator.base.config import DEFAULT_LANGUAGE
from generator.cli import console, parsing
from generator.content import fields as schema
from generator.content import frontmatter
from generator.content.fields import Spec
from generator.content.settings import SiteConfig
from generator.kinds.kind import Kind
from generator.kinds.registry import BUILT_IN
from generator.site import model, urls

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
ASKED = ("text", "unit")  # the roles of the flags asked for on a terminal when missing


@dataclass(frozen=True, slots=True)
class Flag:
    """An option of ``showcase new <kind>``, read from the kind's declaration."""

    name: str  # the option without "--"
    attr: str  # the model attribute it fills ('' for the slug)
    role: str  # text, unit (checked against units.yaml), year, date, list (repeatable), slug


def _role(attr: str, spec: Spec) -> str:
    """The role of a required source field's flag; '' for fields the scaffold fills with a
    placeholder (records such as a pledge's items)."""
    if attr == "unit":
        return "unit"
    if spec.flag:
        return "list"
    roles: dict[schema.Checker, str] = {
        schema.text: "text",
        schema.year: "year",
        schema.date: "date",
    }
    return roles.get(spec.check, "")


def flags(kind: Kind[Any]) -> tuple[Flag, ...]:
    """The options of a kind: one per required source field (text and units are asked for on
    a terminal; year and date default to this year and today; a list takes its flag once per
    entry), and --slug unless the kind has one item per unit and year (its slug is the
    unit)."""
    found = []
    for attr, spec in kind.source_order():
        role = _role(attr, spec) if spec.required else ""
        if role:
            found.append(Flag(spec.flag or spec.key or attr, attr, role))
    if not kind.one_per_unit:
        found.append(Flag("slug", "", "slug"))
    return tuple(found)


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
    # what an import writes instead of the scaffold's example lines and body
    lines: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None

    @property
    def rel(self) -> str:
        return f"{self.folder}/{self.slug}.md"

    def text(self) -> str:
        slug_value = scalar(self.slug) if self.explicit else self.slug
        params = {**self.params, "slug": self.slug, "slug_value": slug_value}
        # every new file starts as a draft: deleting the line publishes it
        written = ("slug", "draft") if self.explicit else ("draft",)
        return scaffold(BUILT_IN[self.kind], self.language, params, written, self.lines, self.body)


def scaffold(
    kind: Kind[Any],
    language: str,
    params: Mapping[str, Any],
    written: Collection[str] = (),
    lines: Mapping[str, str] | None = None,
    body: str | None = None,
) -> str:
    """The text of a new file of ``kind``: the notes at the top, a note and a line for every
    source field in the kind's order (optional fields commented out, unless ``written``),
    then the body. The wording comes from the catalog, filled with ``params``; ``lines``
    (field key -> its line or lines) are written instead of the catalog's example and
    uncommented, and ``body`` instead of the catalog's body."""
    lines = lines or {}
    parts = ["---\n", messages.text(language, f"new-scaffold-{kind.name}", **params)]
    for attr, spec in kind.source_order():
        key = spec.key or attr
        code = f"new-field-{kind.name}-{key}"
        if code not in messages.catalog(language):
            code = f"new-field-{key}"  # a shared field of a kind without its own wording
        note = messages.text(language, code, **params).split("\n")
        given = lines.get(key)
        value = (given or messages.text(language, code, "value", **params)).split("\n")
        shown = spec.required or key in written or given is not None
        parts.extend(f"# {line}\n" for line in note)
        parts.extend(f"{line}\n" if shown else f"# {line}\n" for line in value)
    parts.append("---\n")
    if body is None:
        body = messages.text(language, f"new-scaffold-{kind.name}", "body", **params)
    parts.append(body)
    return "".join(parts)


def t(code: str) -> str:
    return messages.text(DEFAULT_LANGUAGE, code)


def add_parser(subparsers: Any) -> None:
    """Register ``showcase new <kind>`` on the CLI's sub-command parsers."""
    new = subparsers.add_parser("new", help=t("cli-new"), description=t("cli-new"))
    new.set_defaults(func=run, kind=None)
    kinds = new.add_subparsers(dest="kind", metavar=t("cli-metavar-kind"))
    for kind in BUILT_IN:
        help_text = t(f"cli-new-{kind.name}")
        k = kinds.add_parser(kind.name, help=help_text, description=help_text)
        k.add_argument(
            "source",
            nargs="?",
            default=None,
            metavar=t("cli-metavar-source"),
            help=t("cli-source"),
        )
        # the older spelling of the source folder, still understood
        k.add_argument("--source", dest="source_option", default=None, help=argparse.SUPPRESS)
        for flag in flags(kind):
            many: dict[str, Any] = {"action": "append", "default": []}
            options = many if flag.role == "list" else {}
            k.add_argument(f"--{flag.name}", help=t(f"cli-new-{flag.name}"), **options)
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
        modelled = build.model_site(source, drafts=True)
        # site.yaml as written: a year missing there is not derived from the content
        config = model.build_config(modelled.tree, [])
        language = config.language
        units = modelled.site.unit_by_id
        today = dt.date.today()
        _check_formats(args, config, today)  # before any question is asked
        values = _collect(args, language, units)
        _check_unit_kind(BUILT_IN[args.kind], values, units, config)
        draft = _draft(args.kind, values, config, units, language, today)
        draft, notes = settle(draft, modelled.site, source)
        path = source / draft.rel
        write(path, draft)
    except Stop as stop:
        print_problem(language, stop.code, stop.extra_hint, stop.params, "severity-error")
        return stop.exit_code
    console.say(messages.text(language, "new-created", path=console.pasteable(path)))
    same = source == parsing.source_folder(None)
    command = "showcase serve" if same else f"showcase serve {console.pasteable(source)}"
    console.say(messages.text(language, "new-next-step", command=command))
    for code, params in notes:
        print_problem(language, code, "", params, "severity-warning")
    return EXIT_OK


def print_problem(
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
    options = flags(BUILT_IN[kind])
    unit_flags = {f.name for f in options if f.role == "unit"}
    values = {f.name: _clean(getattr(args, f.name)) for f in options if f.role in ASKED}
    missing = [flag for flag, value in values.items() if not value]
    given = {f.name: getattr(args, f.name) for f in options if f.role not in ASKED}
    if missing and not _interactive():
        separator = messages.text(language, "new-list-separator")
        raise Stop(
            EXIT_USAGE,
            "new-missing-flags",
            flags=separator.join(f"--{flag}" for flag in missing),
            example=messages.text(language, f"new-example-{kind}"),
        )
    if unit_flags and not units:
        raise Stop(EXIT_INVALID, "new-no-units")
    for flag, value in values.items():
        if value and flag in unit_flags:
            values[flag] = resolve_unit(value, units, language)
    for flag in missing:
        values[flag] = _ask(flag, flag in unit_flags, language, units)
    return given | values


def _ask(flag: str, is_unit: bool, language: str, units: Mapping[str, model.Unit]) -> str:
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
        if not is_unit:
            return answer
        try:
            return resolve_unit(answer, units, language)
        except Stop as stop:
            print_problem(language, stop.code, stop.extra_hint, stop.params, "severity-error")


def resolve_unit(value: str, units: Mapping[str, model.Unit], language: str) -> str:
    """A unit id from an id or a unit's full name; unknown -> Stop with the closest unit."""
    if value in units:
        return value
    by_name = [u.id for u in units.values() if u.name == value]
    if len(by_name) == 1:
        return by_name[0]
    holding = [u for u in units.values() if value and value in u.name]
    if len(holding) > 1:  # a part of several units' names: each of them, to choose from
        separator = messages.text(language, "new-list-separator")
        shown = separator.join(
            messages.text(language, "new-unit-named", id=u.id, name=u.name)
            for u in holding[:UNITS_LISTED]
        )
        extra = messages.text(language, "new-unit-candidates", units=shown, count=len(holding))
        raise Stop(EXIT_INVALID, "new-unknown-unit", extra, unit=value)
    close = holding[0].id if holding else schema.suggest(value, list(units))
    if not close:
        names = {u.name: u.id for u in units.values()}
        close = names.get(schema.suggest(value, list(names)), "")
    extra = (
        messages.text(language, "new-unit-suggestion", id=close, name=units[close].name)
        if close
        else ""
    )
    raise Stop(EXIT_INVALID, "new-unknown-unit", extra, unit=value)


UNITS_LISTED = 8  # the units named when a unit written in part could be several


def _check_unit_kind(
    kind: Kind[Any], values: Mapping[str, Any], units: Mapping[str, model.Unit], config: SiteConfig
) -> None:
    """Refuse a unit the kind's items may not be filed for (a pledge for a plant)."""
    if kind.unit_kinds is None:
        return
    allowed = kind.unit_kinds(config)
    for flag in flags(kind):
        unit = units.get(values.get(flag.name, "")) if flag.role == "unit" else None
        if unit is not None and unit.kind and unit.kind not in allowed:
            raise Stop(
                EXIT_INVALID,
                f"wrong-unit-kind-{kind.name}",
                unit=unit.id,
                name=unit.name,
                got=unit.kind,
                allowed="、".join(allowed),
            )


def year_value(value: str | None, config: SiteConfig, today: dt.date) -> int:
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
    parts = schema.date_parts(value)
    if parts is None:
        raise Stop(EXIT_INVALID, "new-bad-date", got=value)
    try:
        return dt.date(*parts)
    except ValueError:
        raise Stop(EXIT_INVALID, "new-impossible-date", got=value) from None


def _slug(given: str | None, derive: Callable[[], str], text: str) -> tuple[str, bool]:
    """The slug given with --slug (checked) or derived from the name or title."""
    if given is not None:
        slug = given.strip()
        if not schema.SLUG_RE.match(slug) or len(slug) > schema.MAX_SLUG:
            shown = given if len(given) <= schema.MAX_SLUG else given[:40] + "…"
            raise Stop(EXIT_INVALID, "new-bad-slug", got=shown)
        return slug, True
    slug = derive()
    if not slug:
        raise Stop(EXIT_INVALID, "new-no-slug", text=text)
    return slug, False


def _check_formats(args: argparse.Namespace, config: SiteConfig, today: dt.date) -> None:
    """Check the formats of the optional flags given (year, date, slug)."""
    if getattr(args, "year", None) is not None:
        year_value(args.year, config, today)
    if getattr(args, "date", None) is not None:
        _date(args.date, today)
    if getattr(args, "slug", None) is not None:
        _slug(args.slug, str, "")


# ---------------------------------------------------------------------------------------------
# the file


def scalar(value: str) -> str:
    """``value`` as a YAML scalar: as it is when it reads back unchanged, else double-quoted
    (a JSON string is a valid YAML one)."""
    doc, problems = frontmatter.parse_yaml(f"v: {value}\n", "-")
    if not problems and doc is not None and doc.data == {"v": value}:
        return value
    return json.dumps(value, ensure_ascii=False)


def _fill(
    flag: Flag,
    value: Any,
    units: Mapping[str, model.Unit],
    language: str,
) -> dict[str, Any]:
    """The scaffold's parameters from one text, unit or list flag."""
    if flag.role == "unit":
        return {flag.name: scalar(value), f"{flag.name}_name": units[value].name}
    if flag.role == "list":
        entries = [h for h in (_clean(v) for v in value or ()) if h]
        entries = entries or [messages.text(language, f"new-placeholder-{flag.name}")]
        return {flag.attr: "\n".join(f"  - {scalar(h)}" for h in entries)}
    return {flag.name: scalar(value)}


def _year_of(
    options: tuple[Flag, ...], values: Mapping[str, Any], config: SiteConfig, today: dt.date
) -> tuple[int, dict[str, Any]]:
    """The year of the new file (from --year, else from --date; free pages have none) and
    the scaffold's date."""
    roles = {f.role for f in options}
    if "year" in roles:
        return year_value(values["year"], config, today), {}
    if "date" in roles:
        date = _date(values["date"], today)
        return date.year, {"date": date.isoformat()}
    return 0, {}


def _draft(
    kind_name: str,
    values: Mapping[str, Any],
    config: SiteConfig,
    units: Mapping[str, model.Unit],
    language: str,
    today: dt.date,
) -> Draft:
    """Check the remaining values and fill the scaffold of ``kind``."""
    kind = BUILT_IN[kind_name]
    options = flags(kind)
    year, params = _year_of(options, values, config, today)
    params |= {"today": today.isoformat(), "year": year}
    for flag in options:
        if flag.role in (*ASKED, "list"):
            params |= _fill(flag, values[flag.name], units, language)
    # the item as far as the values go, for its default slug
    known = {f.attr: values[f.name] for f in options if f.role in ASKED}
    item = kind.model(key="", kind=kind.name, **known)
    if any(f.role == "slug" for f in options):
        slug, given = _slug(values["slug"], item.default_slug, item.title)
    else:
        slug, given = item.default_slug(), False
    folder = f"{kind.folder}/{year}" if kind.yearly else kind.folder
    # a free page's address is only its slug: it is written out, so that the address stays
    # when the title is edited
    explicit = given or not kind.yearly
    name = item.title if kind.yearly else ""
    return Draft(kind.name, folder, slug, given, explicit, year, name, item.unit, language, params)


Note = tuple[str, dict[str, Any]]


def settle(draft: Draft, site: model.Site, source: Path) -> tuple[Draft, list[Note]]:
    """Refuse what would overwrite a file or fail the build (a second pledge of a branch in a
    year, a --slug already taken); give a derived slug that an existing page already has a
    suffix, so that no existing page changes its address. Returns notes for the editor."""
    target = source / draft.rel
    if target.exists():
        raise Stop(
            EXIT_INVALID, f"new-file-exists-{draft.kind}", path=target.as_posix(), slug=draft.slug
        )
    shown = {item.key: (source / item.key).as_posix() for item in site.all_items()}
    kind = BUILT_IN[draft.kind]
    if kind.one_per_unit:
        for other in site.of_kind(kind.name):
            if other.unit == draft.unit and other.year == draft.year:
                raise Stop(
                    EXIT_INVALID,
                    f"new-{kind.name}-exists",
                    path=shown[other.key],
                    year=draft.year,
                    **{kind.unit_key: draft.unit},
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


def write(path: Path, draft: Draft) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8", newline="\n") as fh:
            fh.write(draft.text())
    except FileExistsError:  # created since the check
        raise Stop(
            EXIT_INVALID, f"new-file-exists-{draft.kind}", path=path.as_posix(), slug=draft.slug
        ) from None
