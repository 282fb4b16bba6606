"""The placeholders ``showcase new`` writes into a new file, found again in a content file.

``showcase new`` fills a new file with bracketed instructions: the paragraphs of the body
("（用一两段话介绍……）"), the values of records such as a pledge's items and the honour to edit.
Their wording lives in the editor catalog (the ``body`` of ``new-scaffold-<kind>``, the
``value`` of ``new-field-…`` and the ``message`` of ``new-placeholder-…``); this module turns
every bracketed line of that wording into a pattern (a ``{parameter}`` matches any text), so a
published file that still holds one is reported with its line.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

from generator.base import messages
from generator.base.config import LANGUAGES
from generator.base.errors import Diagnostic

# the parts of catalog entries that hold text written into a new file
_PARTS = (("new-scaffold-", "body"), ("new-field-", "value"), ("new-placeholder-", "message"))
# a whole line that is a bracketed instruction, after a comment mark, a list dash or a key
_BRACKETED = re.compile(r"^(?:#\s*)?(?:-\s+)?(?:\w+:\s+)?(?P<text>[（(][^\n]{4,}[）)])$")
_PARAMETER = re.compile(r"\{\w+\}")
SHOWN = 30  # characters of a placeholder quoted in the message


def _pattern(template: str) -> str:
    """A regular expression for one placeholder template: literal text, parameters as any."""
    pieces = _PARAMETER.split(template)
    return ".+?".join(re.escape(piece) for piece in pieces)


@functools.cache
def pattern() -> re.Pattern[str]:
    """One expression matching every placeholder of every language's catalog."""
    found: set[str] = set()
    for language in LANGUAGES:
        for code, entry in messages.catalog(language).items():
            part = next((p for prefix, p in _PARTS if code.startswith(prefix)), "")
            for line in entry.get(part, "").split("\n") if part else ():
                match = _BRACKETED.match(line.strip())
                if match:
                    found.add(_pattern(match.group("text")))
    return re.compile("|".join(sorted(found)) or r"(?!)")


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every text in a front matter value with its dotted path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, child in value.items():
            yield from _strings(child, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _strings(child, f"{path}.{index}" if path else str(index))


def _problem(path: str, line: int, field: str, text: str) -> Diagnostic:
    shown = text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"
    return Diagnostic.error(path, line, "placeholder-left", field, text=shown)


def find(
    path: str, meta: Mapping[str, Any], lines: Mapping[str, int], body: str, body_line: int
) -> list[Diagnostic]:
    """The placeholders left in one content file: front matter values, then body lines."""
    rx = pattern()
    problems = [
        _problem(path, lines.get(key, 1), key, match.group(0))
        for key, value in _strings(meta, "")
        if (match := rx.search(value))
    ]
    if rx.search(body) is None:
        return problems
    for number, line in enumerate(body.split("\n")):
        match = rx.search(line)
        if match:
            problems.append(_problem(path, body_line + number, "", match.group(0)))
    return problems
