"""Limits on what a Markdown body may hold, checked before any conversion: constructs that
make the Markdown converter recurse deeply or take quadratic time are refused with their line.

- nesting: a line indented more than ``MAX_INDENT`` columns (lists nested about 50 deep), or
  more than ``MAX_QUOTES`` ``>`` quote markers;
- brackets: more than ``MAX_OPEN_PER_BLOCK`` unclosed ``[`` in one paragraph, or more than
  ``MAX_OPEN_PER_FILE`` in the whole body (the converter looks for the closing ``]`` of each).
"""

from __future__ import annotations

import re

from generator.base.errors import Diagnostic

MAX_INDENT = 100  # columns of leading white space (a tab counts 4)
MAX_QUOTES = 50
MAX_OPEN_PER_BLOCK = 200
MAX_OPEN_PER_FILE = 2000
BODY_CODES = frozenset({"body-too-deep", "too-many-brackets"})
_QUOTES = re.compile(r"[ \t]*(?:>[ \t]*)+")


def body_problems(body: str, path: str, first_line: int) -> list[Diagnostic]:
    """The first body line over each limit, as errors (file lines, from ``first_line``)."""
    found: list[Diagnostic] = []
    deep = _too_deep(body)
    if deep >= 0:
        line = first_line + deep
        found.append(Diagnostic.error(path, line, "body-too-deep", limit=MAX_INDENT))
    brackets = _open_brackets(body)
    if brackets >= 0:
        found.append(
            Diagnostic.error(
                path,
                first_line + brackets,
                "too-many-brackets",
                block=MAX_OPEN_PER_BLOCK,
                total=MAX_OPEN_PER_FILE,
            )
        )
    return found


def _too_deep(body: str) -> int:
    """The index of the first line nested too deep, or -1."""
    for index, line in enumerate(body.split("\n")):
        stripped = line.lstrip(" \t")
        indent = len(line[: len(line) - len(stripped)].expandtabs(4))
        quotes = _QUOTES.match(line)
        if indent > MAX_INDENT or (quotes and quotes.group().count(">") > MAX_QUOTES):
            return index
    return -1


def _open_brackets(body: str) -> int:
    """The index of the line where the unclosed ``[`` of a paragraph, or of the body, pass
    their limit, or -1."""
    if body.count("[") <= MAX_OPEN_PER_BLOCK:  # neither count can pass its limit
        return -1
    total = block = 0
    for index, line in enumerate(body.split("\n")):
        if not line.strip():
            total, block = total + block, 0
            continue
        for char in line:
            if char == "[":
                block += 1
            elif char == "]" and block:
                block -= 1
        if block > MAX_OPEN_PER_BLOCK or total + block > MAX_OPEN_PER_FILE:
            return index
    return -1
