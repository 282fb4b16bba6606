"""One declarative spec per content kind; validation turns raw YAML into checked values.

The specs read as documentation of the content format: see ``SPECS``. Validation never raises:
it returns the clean values it could read and a diagnostic (with file, line and field) for each
problem, so an editor sees every mistake at once.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import reprlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from generator.base.errors import Diagnostic

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
YEAR_MIN, YEAR_MAX = 1949, 2100
PLEDGE_STATUSES = ("planned", "in_progress", "done")

Value = Any
Checker = Callable[["Context", str, Value], Value]


@dataclass(frozen=True, slots=True)
class Context:
    """Where the values being checked come from, and where problems are collected."""

    path: str
    lines: Mapping[str, int]
    problems: list[Diagnostic]
    default_line: int = 1

    def line(self, key: str) -> int:
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key.rpartition(".")[0]
        return self.default_line

    def error(self, key: str, code: str, **params: object) -> None:
        self.problems.append(Diagnostic.error(self.path, self.line(key), code, key, **params))

    def warning(self, key: str, code: str, **params: object) -> None:
        self.problems.append(Diagnostic.warning(self.path, self.line(key), code, key, **params))


INVALID = object()  # a value that failed its check (already reported)


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxstring = 2, 4, 4, 40


def _shown(value: Value) -> str:
    # containers through reprlib: a nested, recursive or alias-bomb value is never expanded
    text = _SHORT.repr(value) if isinstance(value, list | dict | set | tuple) else str(value)
    return text if len(text) <= 40 else text[:40] + "…"


def text(ctx: Context, key: str, value: Value) -> Value:
    if isinstance(value, (bool, dict | list)):
        ctx.error(key, "expected-text", got=_shown(value))
        return INVALID
    if isinstance(value, int | float | dt.date):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    ctx.error(key, "expected-text", got=_shown(value))
    return INVALID


def integer(ctx: Context, key: str, value: Value) -> Value:
    if isinstance(value, bool):
        ctx.error(key, "expected-int", got=_shown(value))
        return INVALID
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    ctx.error(key, "expected-int", got=_shown(value))
    return INVALID


def year(ctx: Context, key: str, value: Value) -> Value:
    number = integer(ctx, key, value)
    if number is INVALID:
        return INVALID
    if not YEAR_MIN <= number <= YEAR_MAX:
        ctx.error(key, "year-out-of-range", got=number, low=YEAR_MIN, high=YEAR_MAX)
        return INVALID
    return number


def boolean(ctx: Context, key: str, value: Value) -> Value:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip() in ("是", "否"):
        return value.strip() == "是"
    ctx.error(key, "expected-bool", got=_shown(value))
    return INVALID


def date(ctx: Context, key: str, value: Value) -> Value:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    match = DATE_RE.match(str(value).strip()) if isinstance(value, str | int) else None
    if match is None:
        ctx.error(key, "expected-date", got=_shown(value))
        return INVALID
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        ctx.error(key, "impossible-date", got=_shown(value))
        return INVALID


def slug(ctx: Context, key: str, value: Value) -> Value:
    value = text(ctx, key, value)
    if value is INVALID:
        return INVALID
    if not SLUG_RE.match(value):
        ctx.error(key, "bad-slug", got=_shown(value))
        return INVALID
    return value


def text_list(ctx: Context, key: str, value: Value) -> Value:
    """A list of texts; a single text is read as a list of one (a common shorthand)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        ctx.error(key, "expected-list", got=_shown(value))
        return INVALID
    out: list[str] = []
    for index, item in enumerate(value):
        checked = text(ctx, f"{key}.{index}", item)
        if checked is not INVALID and checked:
            out.append(checked)
    return tuple(dict.fromkeys(out))


def non_empty_text_list(ctx: Context, key: str, value: Value) -> Value:
    checked = text_list(ctx, key, value)
    if checked is not INVALID and not checked:
        ctx.error(key, "empty-list")
        return INVALID
    return checked


def mapping(fields: tuple[Field, ...]) -> Checker:
    def check(ctx: Context, key: str, value: Value) -> Value:
        if not isinstance(value, dict):
            ctx.error(key, "expected-mapping", got=_shown(value))
            return INVALID
        return check_fields(ctx, fields, value, prefix=key + ".")

    return check


def list_of(checker: Checker, non_empty: bool = False) -> Checker:
    def check(ctx: Context, key: str, value: Value) -> Value:
        if not isinstance(value, list):
            ctx.error(key, "expected-list", got=_shown(value))
            return INVALID
        if non_empty and not value:
            ctx.error(key, "empty-list")
            return INVALID
        items = [checker(ctx, f"{key}.{i}", item) for i, item in enumerate(value)]
        return tuple(item for item in items if item is not INVALID)

    return check


def status(ctx: Context, key: str, value: Value) -> Value:
    value = text(ctx, key, value)
    if value is INVALID:
        return INVALID
    if value not in PLEDGE_STATUSES:
        suggestion = _suggest(value, PLEDGE_STATUSES)
        ctx.error(key, "bad-status", got=_shown(value), suggestion=suggestion)
        return INVALID
    return value


def choice(options: tuple[str, ...]) -> Checker:
    def check(ctx: Context, key: str, value: Value) -> Value:
        value = text(ctx, key, value)
        if value is INVALID:
            return INVALID
        if value not in options:
            ctx.error(key, "bad-choice", got=_shown(value), options=" / ".join(options))
            return INVALID
        return value

    return check


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    check: Checker
    required: bool = False


def check_fields(
    ctx: Context, fields: tuple[Field, ...], raw: Mapping[str, Value], prefix: str = ""
) -> dict[str, Value]:
    """Check ``raw`` against ``fields``: required, types, unknown keys. Returns clean values."""
    known = {f.name for f in fields}
    clean: dict[str, Value] = {}
    for f in fields:
        key = prefix + f.name
        value = raw.get(f.name)
        if value is None or value == "" or value == []:
            if f.required:
                if f.name in raw:
                    ctx.error(key, "empty-list" if value == [] else "empty-field")
                else:
                    line = ctx.line(prefix.rstrip(".")) if prefix else ctx.default_line
                    ctx.problems.append(
                        Diagnostic.error(ctx.path, line, "missing-field", key, name=f.name)
                    )
            continue
        checked = f.check(ctx, key, value)
        if checked is not INVALID:
            clean[f.name] = checked
    for name in raw:
        if name not in known:
            ctx.warning(
                prefix + str(name),
                "unknown-field",
                name=name,
                suggestion=_suggest(str(name), sorted(known)),
            )
    return clean


def _suggest(word: str, options: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return close[0] if close else ""


def suggest(word: str, options: list[str]) -> str:
    """The closest of ``options`` to a mistyped ``word``, or an empty string."""
    return _suggest(word, options)


class Suggestions:
    """``suggest`` over one fixed list of options, computed once per mistyped word: with
    50,000 units, a thousand files with the same typo must not each compare it with every
    unit again."""

    def __init__(self, options: Iterable[str]) -> None:
        self._options = list(options)
        self._found: dict[str, str] = {}

    def __call__(self, word: str) -> str:
        if word not in self._found:
            self._found[word] = _suggest(word, self._options)
        return self._found[word]


COMMON = (
    Field("tags", text_list),
    Field("slug", slug),
    Field("draft", boolean),
)

PLEDGE_ITEM = (
    Field("text", text, required=True),
    Field("status", status, required=True),
    Field("note", text),
)

REVIEW = (
    Field("rating", text),
    Field("comment", text),
)

SPECS: dict[str, tuple[Field, ...]] = {
    "profile": (
        Field("name", text, required=True),
        Field("unit", text, required=True),
        Field("year", year, required=True),
        Field("honors", non_empty_text_list, required=True),
        Field("position", text),
        Field("photo", text),
        Field("party_member", boolean),
        Field("summary", text),
        Field("date", date),
        *COMMON,
    ),
    "report": (
        Field("title", text, required=True),
        Field("unit", text, required=True),
        Field("date", date, required=True),
        Field("event", text),
        Field("speakers", text_list),
        Field("attachments", text_list),
        Field("summary", text),
        *COMMON,
    ),
    "pledge": (
        Field("branch", text, required=True),
        Field("year", year, required=True),
        Field("items", list_of(mapping(PLEDGE_ITEM), non_empty=True), required=True),
        Field("date", date),
        Field("secretary", text),
        Field("review", mapping(REVIEW)),
        Field("summary", text),
        *COMMON,
    ),
    "page": (
        Field("title", text, required=True),
        Field("order", integer),
        Field("slug", slug),
        Field("draft", boolean),
    ),
    "unit": (
        Field("id", slug, required=True),
        Field("name", text, required=True),
        Field("parent", text),
        Field("kind", text),
        Field("order", integer),
    ),
    "site": (
        Field("title", text),
        Field("subtitle", text),
        Field("campaign", text),
        Field("language", choice(("zh-CN", "en"))),
        Field("page_size", integer),
        Field("current_year", year),
        Field("name_order", choice(("pinyin", "strokes"))),
        Field("honours", text_list),
        Field("theme", text),
        Field("base_url", text),
        Field("summary_length", integer),
        Field("feed_size", integer),
    ),
}


def validate(
    kind: str, raw: Mapping[str, Value], path: str, lines: Mapping[str, int], default_line: int = 1
) -> tuple[dict[str, Value], list[Diagnostic]]:
    """Check one document's front matter (or one unit, or site.yaml) against its spec."""
    problems: list[Diagnostic] = []
    ctx = Context(path, lines, problems, default_line)
    return check_fields(ctx, SPECS[kind], raw), problems
