"""The field reference of docs/content-format.md, written from the declarations: the settings
of site.yaml, the fields of units.yaml and the front matter of every content kind; and the
editors' field reference in Chinese (docs/fields.md), each field in its kind's order with the
wording ``showcase new`` uses.

``python3 -m generator.cli.docs`` rewrites each part between its markers
(``<!-- reference:NAME -->`` … ``<!-- /reference:NAME -->``); a test checks that the committed
page matches the declarations.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from generator.base import messages
from generator.base.config import DEFAULT_LANGUAGE
from generator.content import fields as f
from generator.content.fields import Spec, spec_of
from generator.content.settings import SiteConfig
from generator.kinds.kind import Kind, Registry
from generator.kinds.registry import BUILT_IN
from generator.site.model import Unit

DOCS = Path(__file__).resolve().parents[2] / "docs" / "content-format.md"
# the editors' field reference, in the default language, from the same declarations
FIELDS_DOC = DOCS.with_name("fields.md")
# the type column of the checkers that do not say it themselves (``Spec.type_doc``)
TYPE_DOCS: dict[f.Checker, str] = {
    f.text: "text",
    f.integer: "int",
    f.year: "int",
    f.boolean: "true/false",
    f.date: "YYYY-MM-DD",
    f.slug: "ASCII slug",
    f.text_list: "list of text",
    f.non_empty_text_list: "list of text, not empty",
    f.status: "planned, in_progress or done",
}


def _first_line(text: str | None) -> str:
    return inspect.cleandoc(text or "").split("\n\n")[0].replace("\n", " ")


def _type(spec: Spec) -> str:
    return spec.type_doc or TYPE_DOCS.get(spec.check, "")


def _table(header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _notes(kind: Kind[Any], attr: str, spec: Spec) -> str:
    if attr == "slug":
        rule = _first_line(kind.model.default_slug.__doc__).rstrip(".")
        rule = rule[:1].lower() + rule[1:]
        return f"{spec.doc}; default: {rule}" if spec.doc else f"default: {rule}"
    return spec.doc


def _field_rows(
    fields: Iterable[tuple[str, Spec]], notes: Callable[[str, Spec], str]
) -> Iterator[tuple[str, ...]]:
    for attr, spec in fields:
        yield (
            f"`{spec.key or attr}`",
            "yes" if spec.required else "",
            _type(spec),
            notes(attr, spec),
        )


def kinds_reference(kinds: Registry = BUILT_IN) -> str:
    """The front matter of every kind: its folder, what it is, one row per field."""
    lines: list[str] = []
    for kind in kinds:
        rows = _field_rows(kind.source_order(), functools.partial(_notes, kind))
        lines += [f"### {kind.name} ({kind.folder}/**.md)", "", _first_line(kind.model.__doc__)]
        lines += ["", *_table(("field", "required", "type", "notes"), rows), ""]
    return "\n".join(lines)


def _default(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    return str(value) if value not in ("", 0, None) else ""


def settings_reference() -> str:
    """Every setting of site.yaml with its default."""
    defaults = {f.name: f.default for f in dataclasses.fields(SiteConfig)}
    rows = (
        (f"`{attr}`", _type(spec), _default(defaults[attr]), spec.doc)
        for attr, spec in spec_of(SiteConfig)
    )
    return "\n".join([*_table(("field", "type", "default", "meaning"), rows), ""])


def units_reference() -> str:
    """The fields of one unit of units.yaml."""
    rows = _field_rows(spec_of(Unit), lambda _attr, spec: spec.doc)
    return "\n".join([*_table(("field", "required", "type", "notes"), rows), ""])


def references(kinds: Registry = BUILT_IN) -> dict[str, str]:
    return {
        "site.yaml": settings_reference(),
        "units.yaml": units_reference(),
        "kinds": kinds_reference(kinds),
    }


def rewritten(page: str, kinds: Registry = BUILT_IN) -> str:
    """``page`` with the text between each pair of markers replaced by its reference."""
    for name, text in references(kinds).items():
        begin, end = f"<!-- reference:{name} -->", f"<!-- /reference:{name} -->"
        head, found_begin, rest = page.partition(begin)
        _old, found_end, tail = rest.partition(end)
        if not found_begin or not found_end:
            raise ValueError(f"the markers {begin!r} and {end!r} are missing")
        page = f"{head}{begin}\n{text}{end}{tail}"
    return page


# sample values that fill the examples of the editors' field reference
SAMPLE = {
    "name": "张秀兰",
    "unit": "caiyou-1-zhibu-2",
    "unit_name": "第一采油厂采油二队党支部",
    "branch": "caiyou-1-zhibu-2",
    "branch_name": "第一采油厂采油二队党支部",
    "year": 2025,
    "today": "2025-06-18",
    "date": "2025-06-18",
    "title": "党建引领数字化转型",
    "slug": "zhang-xiu-lan",
    "slug_value": "zhang-xiu-lan",
    "honors": "  - 劳动模范",
}


def _cell(text: str) -> str:
    return " ".join(text.split("\n")).replace("|", "\\|")


def _example(text: str) -> str:
    """A sample front matter line (or lines) as code in a table cell."""
    return "<br>".join(f"`{line}`" for line in text.split("\n") if line.strip())


def _field_code(kind: Kind[Any], key: str, language: str) -> str:
    code = f"new-field-{kind.name}-{key}"
    return code if code in messages.catalog(language) else f"new-field-{key}"


def fields_page(language: str = DEFAULT_LANGUAGE, kinds: Registry = BUILT_IN) -> str:
    """The editors' field reference (docs/fields.md): every field of every kind in the
    kind's order, with the wording and example that ``showcase new`` writes into a new file."""

    def say(code: str, part: str = "message") -> str:
        return messages.text(language, code, part, **SAMPLE)

    lines = [f"# {say('docs-fields-title')}", "", say("docs-fields-intro"), ""]
    for kind in kinds:
        lines += [f"## {say(f'cli-new-{kind.name}')}", ""]
        lines += [
            f"| {say('docs-fields-field')} | {say('docs-fields-meaning')} "
            f"| {say('docs-fields-example')} |",
            "|---|---|---|",
        ]
        for attr, spec in kind.source_order():
            code = _field_code(kind, spec.key or attr, language)
            lines.append(
                f"| `{spec.key or attr}` | {_cell(say(code))} | {_example(say(code, 'value'))} |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    page = DOCS.read_text(encoding="utf-8")
    new = rewritten(page)
    if new != page:
        DOCS.write_text(new, encoding="utf-8")
        print(f"updated {DOCS}", file=sys.stderr)
    fields = fields_page()
    if not FIELDS_DOC.is_file() or FIELDS_DOC.read_text(encoding="utf-8") != fields:
        FIELDS_DOC.write_text(fields, encoding="utf-8")
        print(f"updated {FIELDS_DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
