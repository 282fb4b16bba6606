"""What an import reports: a catalog code and its parameters, never worded here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Note:
    """Something an editor should know or check: the code of a catalog entry and the values
    that fill it (the file, the paragraph or row, what was found)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)


class Refused(Exception):
    """A file that cannot be imported at all; nothing of it is written."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.note = Note(code, params)
