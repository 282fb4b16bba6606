"""Configuration values shared by every stage: the languages and the build's options (the
site's settings, read from site.yaml, are ``generator.content.settings.SiteConfig``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_LANGUAGE = "zh-CN"
LANGUAGES = ("zh-CN", "en")


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """What the user asked of this build."""

    source: Path
    output: Path
    drafts: bool = False
    strict: bool = False
    cache_dir: Path | None = None  # incremental state; None: a clean build every time
    workers: int = 0  # processes for Markdown and rendering; 0: one per available core
    # build the archived edition of one year (that year's items only, no cache)
    edition_year: int | None = None
    # replace an output folder that holds files showcase did not write
    force: bool = False
