"""Diagnostics: errors and warnings as values, each pointing at its source position.

This module imports only the standard library so every other module can use it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding about the input.

    ``path`` is relative to the site source folder (POSIX separators) so messages read the
    same on every machine; ``line`` and ``column`` are 1-based and 0 when unknown.
    ``code`` names the entry of the message catalog that words the finding for the editor and
    ``params`` fills it (see ``messages.describe``), so the language is chosen when it is shown.
    """

    path: str
    line: int
    severity: Severity
    code: str
    field: str = ""
    params: tuple[tuple[str, str], ...] = ()
    column: int = 0

    @classmethod
    def error(
        cls, path: str, line: int, code: str, field: str = "", **params: object
    ) -> Diagnostic:
        return cls(path, line, Severity.ERROR, code, field, _params(params))

    @classmethod
    def warning(
        cls, path: str, line: int, code: str, field: str = "", **params: object
    ) -> Diagnostic:
        return cls(path, line, Severity.WARNING, code, field, _params(params))

    @classmethod
    def info(cls, path: str, line: int, code: str, field: str = "", **params: object) -> Diagnostic:
        return cls(path, line, Severity.INFO, code, field, _params(params))

    def param_dict(self) -> dict[str, str]:
        return dict(self.params)

    def as_row(self) -> list[object]:
        """The diagnostic as JSON values, without its path (``from_row`` makes it again)."""
        params = [list(p) for p in self.params]
        return [self.line, self.severity.value, self.code, self.field, params, self.column]

    @classmethod
    def from_row(cls, path: str, row: Sequence[object]) -> Diagnostic:
        """The diagnostic of ``path`` that ``as_row`` gave ``row``."""
        line, severity, code, field, params, column = row
        assert isinstance(line, int) and isinstance(column, int) and isinstance(params, list)
        pairs = tuple((str(k), str(v)) for k, v in params)
        return cls(path, line, Severity(severity), str(code), str(field), pairs, column)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.column, self.code, self.field)


def _params(params: dict[str, object]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, str(v)) for k, v in params.items()))


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)
