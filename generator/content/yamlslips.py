"""The slips editors make in YAML, found on the line where they are made.

The YAML parser reports where it gave up, often the line after the slip, in English. When
parsing fails, ``explain`` looks at the lines up to that point for a known slip (a full-width
colon, no space after a colon, a tab, an unclosed quote, a full-width quote, a list item out of
line) and names it at its own line; the parser's words stay in the ``problem`` parameter, shown
only with ``--verbose``. ``lint`` finds the slips that parse but change the meaning (a
full-width comma in ``[a，b]``, a list item that became part of the item above).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from generator.base.errors import Diagnostic

_ITEM = r"^(?P<indent>[ \t]*)(?:-[ \t]+)*"
_KEY = r"(?P<key>[A-Za-z_][\w-]*)"
FULL_WIDTH_COLON = re.compile(_ITEM + _KEY + r"[ \t]*：")
NO_SPACE = re.compile(_ITEM + _KEY + r":(?![\s/]|$)")
TAB = re.compile(r"^ *\t")
VALUE = re.compile(_ITEM + r"(?:" + _KEY + r":[ \t]+)?(?P<value>.*)$")
FULL_WIDTH_QUOTES = "“”‘’「」"
LIST_ITEM = re.compile(r"^(?P<indent> *)- ")
FLOW_LIST = re.compile(r":[ \t]+\[(?P<inside>[^\]]*)\][ \t]*$")
FULL_WIDTH_COMMAS = "，、"

Finder = Callable[[list[str], int], dict[str, str] | None]


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _value(line: str) -> str:
    match = VALUE.match(line)
    return match.group("value").strip() if match else ""


def _full_width_colon(lines: list[str], number: int) -> dict[str, str] | None:
    match = FULL_WIDTH_COLON.match(lines[number])
    return {"key": match.group("key")} if match and ": " not in lines[number] else None


def _no_space(lines: list[str], number: int) -> dict[str, str] | None:
    match = NO_SPACE.match(lines[number])
    return {"key": match.group("key")} if match else None


def _tab(lines: list[str], number: int) -> dict[str, str] | None:
    return {} if TAB.match(lines[number]) else None


def _unclosed_quote(lines: list[str], number: int) -> dict[str, str] | None:
    value = _value(lines[number])
    if not value or value[0] not in "\"'":
        return None
    quote = value[0]
    rest = value[1:].replace("\\\\", "").replace('\\"', "") if quote == '"' else value[1:]
    rest = rest.replace("''", "") if quote == "'" else rest
    return {"quote": quote} if quote not in rest else None


def _unclosed_bracket(lines: list[str], number: int) -> dict[str, str] | None:
    """A list in brackets (``[a, b``) or a mapping in braces not closed on its line, the next
    line being a field of its own, where the parser stops."""
    value = _value(lines[number])
    if not value or value[0] not in "[{":
        return None
    closing = "]" if value[0] == "[" else "}"
    if value.count(value[0]) <= value.count(closing):
        return None
    below = next((line for line in lines[number + 1 :] if line.strip()), "")
    return {"bracket": value[0], "closing": closing} if FIELD.match(below) else None


def _full_width_quote(lines: list[str], number: int) -> dict[str, str] | None:
    value = _value(lines[number])
    if value[:1] in FULL_WIDTH_QUOTES and (": " in value or " #" in value):
        return {"quote": value[0]}
    return None


def _list_indent(lines: list[str], number: int) -> dict[str, str] | None:
    """A list item whose dash is not in line with the item above it."""
    match = LIST_ITEM.match(lines[number])
    if match is None:
        return None
    indent = len(match.group("indent"))
    before = _line_above(lines, number)
    above = LIST_ITEM.match(before) if before is not None else None
    if before is None or above is None:
        return None
    width = len(above.group("indent"))
    return {} if width != indent and not _nested(before, width, indent) else None


def _line_above(lines: list[str], number: int) -> str | None:
    """The nearest line above line ``number`` that is neither blank nor a comment."""
    for before in reversed(lines[:number]):
        if before.strip() and not _is_comment(before):
            return before
    return None


def _nested(item: str, width: int, indent: int) -> bool:
    """A deeper dash under an item that opens a list or a record of its own (``- items:``)."""
    return indent > width and item.rstrip().endswith(":")


FIELD = re.compile(r"^(?P<indent> *)[A-Za-z_][\w-]*:(?:\s|$)")
RECORD = re.compile(r"^(?P<dash> *- +)[A-Za-z_][\w-]*:(?:\s|$)")


def _record_indent(lines: list[str], number: int) -> dict[str, str] | None:
    """A field of a list item (``status:`` under ``- text:``) not in line with the first."""
    match = FIELD.match(lines[number])
    if match is None:
        return None
    indent = len(match.group("indent"))
    before = _line_above(lines, number)
    if before is None:
        return None
    record = RECORD.match(before)
    if record is None:
        field = FIELD.match(before)
        return {} if field and 0 < indent != len(field.group("indent")) else None
    column = len(record.group("dash"))
    return {} if indent != column and indent > column - 2 else None


# the slips in the order they are looked for on each line
FINDERS: tuple[tuple[str, Finder], ...] = (
    ("yaml-tab", _tab),
    ("yaml-full-width-colon", _full_width_colon),
    ("yaml-no-space-after-colon", _no_space),
    ("yaml-unclosed-quote", _unclosed_quote),
    ("yaml-unclosed-bracket", _unclosed_bracket),
    ("yaml-full-width-quote", _full_width_quote),
    ("yaml-list-indent", _list_indent),
    ("yaml-item-field-indent", _record_indent),
)


def _slips(lines: list[str], last: int) -> Iterator[tuple[int, str, dict[str, str]]]:
    for number in range(min(last + 1, len(lines))):
        if not lines[number].strip() or _is_comment(lines[number]):
            continue
        for code, finder in FINDERS:
            found = finder(lines, number)
            if found is not None:
                yield number, code, found
                break


def explain(text: str, path: str, first_line: int, error_line: int, problem: str) -> Diagnostic:
    """The diagnostic of a YAML text that does not parse: the first known slip at or before
    the line where the parser stopped (a file line), else a plain syntax error there."""
    offset = first_line - 1
    lines = _lines(text)
    for number, code, params in _slips(lines, error_line - offset - 1):
        return Diagnostic.error(path, number + 1 + offset, code, problem=problem, **params)
    return Diagnostic.error(path, error_line, "yaml-syntax", problem=problem)


def lint(text: str, path: str, first_line: int) -> list[Diagnostic]:
    """Slips in a YAML text that parses, but not as the editor meant."""
    offset = first_line - 1
    found: list[Diagnostic] = []
    lines = _lines(text)
    for number, line in enumerate(lines):
        if _is_comment(line):
            continue
        flow = FLOW_LIST.search(line)
        if flow and any(c in flow.group("inside") for c in FULL_WIDTH_COMMAS):
            found.append(Diagnostic.warning(path, number + 1 + offset, "yaml-full-width-comma"))
        elif _full_width_quote(lines, number) is not None:
            found.append(Diagnostic.warning(path, number + 1 + offset, "yaml-full-width-quote"))
        elif _continued_item(lines, number):
            found.append(Diagnostic.warning(path, number + 1 + offset, "yaml-list-indent"))
        elif _whole_value(lines, number) and (quote := _unpaired_quote(_value(line))):
            found.append(
                Diagnostic.warning(path, number + 1 + offset, "yaml-unpaired-quote", quote=quote)
            )
    return found


def _whole_value(lines: list[str], number: int) -> bool:
    """Whether line ``number`` is a field or a list item whose value is all on that line: not
    a block of text (``>``, ``|``), not followed by a line that goes on with its text."""
    match = FIELD.match(lines[number]) or LIST_ITEM.match(lines[number])
    if match is None or _value(lines[number])[:1] in (">", "|"):
        return False
    below = next((line for line in lines[number + 1 :] if line.strip()), None)
    if below is None:
        return True
    deeper = len(below) - len(below.lstrip(" ")) > len(match.group("indent"))
    return not deeper or bool(FIELD.match(below) or LIST_ITEM.match(below))


# the opening and closing Chinese quotation marks, in pairs
QUOTE_PAIRS = (("“", "”"), ("‘", "’"), ("「", "」"), ("『", "』"))


def _unpaired_quote(value: str) -> str | None:
    """A Chinese quotation mark of ``value`` without its other half (``“邓志远``), which the
    page would show as it is."""
    for opening, closing in QUOTE_PAIRS:
        if value.count(opening) != value.count(closing):
            return opening if value.count(opening) > value.count(closing) else closing
    return None


def _continued_item(lines: list[str], number: int) -> bool:
    """A ``- `` line read as the continuation of the plain text of the item above."""
    match = LIST_ITEM.match(lines[number])
    if match is None or number == 0:
        return False
    above = LIST_ITEM.match(lines[number - 1])
    if above is None:
        return False
    deeper = len(match.group("indent")) > len(above.group("indent"))
    value = lines[number - 1][above.end() :].strip()
    return deeper and bool(value) and not value.endswith(":") and ": " not in value
