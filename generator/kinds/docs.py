"""The field reference of the content format, written from the kinds' declarations.

``python3 -m generator.kinds.docs`` rewrites the part of docs/content-format.md between the
markers; a test checks that the committed page matches the declarations.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from generator.content import fields as f
from generator.content.fields import Spec
from generator.kinds.kind import Kind, Registry
from generator.kinds.registry import BUILT_IN

BEGIN = "<!-- fields:begin (written by python3 -m generator.kinds.docs; do not edit) -->"
END = "<!-- fields:end -->"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "content-format.md"
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


def _notes(kind: Kind[Any], attr: str, spec: Spec) -> str:
    if attr == "slug":
        rule = _first_line(kind.model.default_slug.__doc__).rstrip(".")
        rule = rule[:1].lower() + rule[1:]
        return f"{spec.doc}; default: {rule}" if spec.doc else f"default: {rule}"
    return spec.doc


def _rows(kind: Kind[Any]) -> Iterator[str]:
    yield "| field | required | type | notes |"
    yield "|---|---|---|---|"
    for attr, spec in kind.source_order():
        type_doc = spec.type_doc or TYPE_DOCS.get(spec.check, "")
        cells = (f"`{spec.key or attr}`", "yes" if spec.required else "", type_doc,
                 _notes(kind, attr, spec))
        yield "| " + " | ".join(cells) + " |"


def reference(kinds: Registry = BUILT_IN) -> str:
    """The front matter of every kind: its folder, what it is, one row per field."""
    parts: list[str] = []
    for kind in kinds:
        parts.append(f"### {kind.name} ({kind.folder}/**.md)")
        parts.append("")
        parts.append(_first_line(kind.model.__doc__))
        parts.append("")
        parts.extend(_rows(kind))
        parts.append("")
    return "\n".join(parts)


def rewritten(page: str, kinds: Registry = BUILT_IN) -> str:
    """``page`` with the text between the markers replaced by the reference."""
    head, begin, rest = page.partition(BEGIN)
    _old, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"the markers {BEGIN!r} and {END!r} are missing")
    return f"{head}{BEGIN}\n{reference(kinds)}{END}{tail}"


def main() -> int:
    page = DOCS.read_text(encoding="utf-8")
    new = rewritten(page)
    if new != page:
        DOCS.write_text(new, encoding="utf-8")
        print(f"updated {DOCS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
