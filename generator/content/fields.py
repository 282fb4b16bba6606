"""The field vocabulary: typed checkers, and validation that turns raw YAML into checked values.

The fields of each content kind are declared once, on its model class (``generator.kinds``),
with ``front``: the declaration carries the checker and reads as documentation. Validation
never raises: it returns the clean values it could read and a diagnostic (with file, line and
field) for each problem, so an editor sees every mistake at once.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
import reprlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from generator.base.errors import Diagnostic

MAX_SLUG = 100  # characters of a slug or unit id (a path segment; file systems allow 255)
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# 2025-06-18, 2025/6/18, 2025.6.18 and 2025年6月18日: one separator throughout, or 年 月 日
DATE_RE = re.compile(
    r"^(\d{4})(?:-(\d{1,2})-(\d{1,2})|/(\d{1,2})/(\d{1,2})|\.(\d{1,2})\.(\d{1,2})"
    r"|\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?)$"
)


def date_parts(text: str) -> tuple[int, int, int] | None:
    """Year, month and day of a date written in one of the forms of ``DATE_RE``."""
    match = DATE_RE.match(text.strip())
    if match is None:
        return None
    year, *rest = (int(part) for part in match.groups() if part is not None)
    return year, rest[0], rest[1]


YEAR_MIN, YEAR_MAX = 1949, 2100
PLEDGE_STATUSES = ("planned", "in_progress", "done")
# control characters (a YAML escape such as "\x0b" makes one): never part of a text field
CONTROL_RE = re.compile("[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]")
# the statuses as editors write them in Chinese (the site shows 推进中; 进行中 is as common)
STATUS_WORDS = {
    "计划中": "planned",
    "计划": "planned",
    "推进中": "in_progress",
    "进行中": "in_progress",
    "已完成": "done",
    "完成": "done",
}

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


INTEGER_RE = re.compile(r"^[+-]?\d+$")


def text(ctx: Context, key: str, value: Value) -> Value:
    if isinstance(value, str):  # the usual case first; plain tuples, not unions: called often
        if control := CONTROL_RE.search(value):
            ctx.error(key, "control-character", got=f"U+{ord(control.group()):04X}")
            return INVALID
        return value.strip()
    if isinstance(value, bool):
        # true or false where text was meant: YAML reads them as yes and no
        ctx.error(key, "text-read-as-yes-no", got=str(value).lower())
        return INVALID
    if isinstance(value, (dict, list)):
        ctx.error(key, "expected-text", got=_shown(value))
        return INVALID
    if isinstance(value, (int, float, dt.date)):
        return str(value)
    ctx.error(key, "expected-text", got=_shown(value))
    return INVALID


def integer(ctx: Context, key: str, value: Value) -> Value:
    if isinstance(value, bool):
        ctx.error(key, "expected-int", got=_shown(value))
        return INVALID
    if isinstance(value, int):
        return value
    if isinstance(value, str) and INTEGER_RE.match(value.strip()):
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
    parts = date_parts(str(value)) if isinstance(value, str | int) else None
    if parts is None:
        ctx.error(key, "expected-date", got=_shown(value))
        return INVALID
    try:
        return dt.date(*parts)
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
    if len(value) > MAX_SLUG:
        ctx.error(key, "slug-too-long", got=_shown(value), limit=MAX_SLUG)
        return INVALID
    return value


def theme_name(ctx: Context, key: str, value: Value) -> Value:
    """A theme's name, or a folder relative to the site: never absolute, never out of it."""
    value = text(ctx, key, value)
    if value is INVALID:
        return INVALID
    parts = re.split(r"[/\\]", value)
    if not value or value.startswith(("/", "\\", "~")) or ":" in value or ".." in parts:
        ctx.error(key, "theme-outside-site", got=_shown(value))
        return INVALID
    return value


def web_address(ctx: Context, key: str, value: Value) -> Value:
    """An http(s) address or a path from the server's root (``/site/``), or nothing."""
    value = text(ctx, key, value)
    if value is INVALID or not value:
        return value
    lowered = value.lower()
    usable = lowered.startswith(("http://", "https://")) or (
        value.startswith("/") and not value.startswith("//")
    )
    if not usable or any(c.isspace() or ord(c) < 32 for c in value):
        ctx.error(key, "bad-base-url", got=_shown(value))
        return INVALID
    return value


# what separates the items of a list written on one line: full-width commas, the enumeration
# comma, semicolons
ONE_LINE_LIST_MARKS = ("、", "，", "；", ";")


def text_list(ctx: Context, key: str, value: Value) -> Value:
    """A list of texts; a single text is read as a list of one (a common shorthand), with a
    warning when it looks like several written on one line (``优秀党员、先进工作者``)."""
    if isinstance(value, str):
        if any(mark in value for mark in ONE_LINE_LIST_MARKS):
            ctx.warning(key, "list-on-one-line", got=_shown(value))
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


def record(cls: type) -> Checker:
    """A mapping checked against the fields declared on the dataclass ``cls`` (see
    ``front``), read into an instance of it."""

    def check(ctx: Context, key: str, value: Value) -> Value:
        if not isinstance(value, dict):
            ctx.error(key, "expected-mapping", got=_shown(value))
            return INVALID
        clean = check_fields(ctx, declared(cls), value, prefix=key + ".")
        return cls(**{f.attr: clean[f.name] for f in declared(cls) if f.name in clean})

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
    written = value.strip()
    # English in any case, with a space or hyphen for the underscore (In progress, Done)
    english = "_".join(written.lower().replace("-", " ").split())
    value = STATUS_WORDS.get(written) or (english if english in PLEDGE_STATUSES else value)
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
    """One field as validation sees it: its name in the source, its checker, and the name of
    the attribute its value becomes."""

    name: str
    check: Checker
    required: bool = False
    attr: str = ""


SPEC = "showcase.field"  # the key of a field's Spec in a dataclass field's metadata


@dataclass(frozen=True, slots=True)
class Spec:
    """The declaration of one source field, kept in the metadata of the dataclass field that
    holds its value: validation, the docs' field reference and the scaffold read it there."""

    check: Checker
    required: bool = False
    key: str = ""  # the name in the source, when it differs from the attribute's
    asset: bool = False  # a path (or paths) of a source file, resolved to the file
    # "words": indexed with the body text; "honours", "people", "tags": search fields of
    # their own, weighted above the body
    search: str = ""
    type_doc: str = ""  # the type column of the field reference; default: by the checker
    doc: str = ""  # the notes column of the field reference
    flag: str = ""  # a list's option of ``showcase new``, given once per entry


def front(
    check: Checker,
    *,
    required: bool = False,
    key: str = "",
    asset: bool = False,
    search: str = "",
    type_doc: str = "",
    doc: str = "",
    flag: str = "",
) -> dict[str, Spec]:
    """Metadata for ``dataclasses.field``: the attribute is read from the source field ``key``
    (default: the attribute's name) and checked by ``check``."""
    return {SPEC: Spec(check, required, key, asset, search, type_doc, doc, flag)}


def spec_of(item: Any) -> tuple[tuple[str, Spec], ...]:
    """(attribute, Spec) of every declared source field of a dataclass (class or instance),
    in declaration order."""
    return _specs(item if isinstance(item, type) else type(item))


@functools.cache
def _specs(cls: Any) -> tuple[tuple[str, Spec], ...]:
    found = ((f.name, f.metadata.get(SPEC)) for f in fields(cls))
    return tuple((name, spec) for name, spec in found if isinstance(spec, Spec))


def declared(cls: type) -> tuple[Field, ...]:
    """The source fields declared on the dataclass ``cls``, for ``check_fields``."""
    return _declared(cls)


@functools.cache
def _declared(cls: Any) -> tuple[Field, ...]:
    if not is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    return tuple(
        Field(spec.key or attr, spec.check, spec.required, attr) for attr, spec in spec_of(cls)
    )


def check_fields(
    ctx: Context, fields: tuple[Field, ...], raw: Mapping[str, Value], prefix: str = ""
) -> dict[str, Value]:
    """Check ``raw`` against ``fields``: required, types, unknown keys. Returns clean values."""
    known = {f.name for f in fields}
    clean: dict[str, Value] = {}
    for f in fields:
        key = prefix + f.name
        value = raw.get(f.name)
        if value is None or value == "" or value == [] or value == {}:
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


def validate(
    spec: tuple[Field, ...],
    raw: Mapping[str, Value],
    path: str,
    lines: Mapping[str, int],
    default_line: int = 1,
) -> tuple[dict[str, Value], list[Diagnostic]]:
    """Check one document's front matter (or one unit, or site.yaml) against its fields."""
    problems: list[Diagnostic] = []
    ctx = Context(path, lines, problems, default_line)
    return check_fields(ctx, spec, raw), problems
