"""Configuration values shared by every stage: the site's settings and the build's options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_LANGUAGE = "zh-CN"
LANGUAGES = ("zh-CN", "en")


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """The settings of one site, read from site.yaml."""

    title: str = "创先争优先进典型展示"
    subtitle: str = ""
    campaign: str = "创先争优"
    language: str = DEFAULT_LANGUAGE
    page_size: int = 12
    current_year: int = 0
    name_order: str = "pinyin"
    honours: tuple[str, ...] = ()  # the official order of honours on the honour roll
    theme: str = "default"
    base_url: str = ""
    summary_length: int = 120
    feed_size: int = 30


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
