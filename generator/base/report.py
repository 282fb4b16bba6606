"""What a build reports: whether it succeeded, its diagnostics, and what it made."""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.base.errors import Diagnostic


@dataclass(frozen=True, slots=True)
class BuildReport:
    ok: bool
    diagnostics: tuple[Diagnostic, ...]
    pages: int = 0  # files rendered from templates: HTML pages, feeds, the search index's
    html: int = 0  # of those, the HTML pages a visitor opens (what the editor calls pages)
    files: int = 0
    removed: int = 0  # files of the last build taken out of the output
    seconds: float = 0.0
    language: str = "zh-CN"
    counts: dict[str, int] = field(default_factory=dict)
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage
    handed: bool = False  # made by the daemon this build was handed to (``showcase daemon``)
