"""Configuration values shared by every stage: the languages and the build's options (the
site's settings, read from site.yaml, are ``generator.content.settings.SiteConfig``), and where
the themes shipped with showcase live."""

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
    workers: int = 0  # processes for parsing, Markdown and rendering; 0: one per available core
    # build the archived edition of one year (that year's items only, no cache)
    edition_year: int | None = None
    # replace an output folder that holds files showcase did not write
    force: bool = False


CACHE_DIR = ".showcase-cache"  # the build cache's folder, inside the source unless told


PACKAGED_THEMES = Path(__file__).resolve().parents[2] / "themes"


def packaged_themes_dir() -> Path:
    """Where the themes shipped with showcase live (``themes/`` of the repository, installed
    as the ``generator.themes`` package)."""
    try:
        import generator.themes as shipped  # type: ignore[import-not-found,unused-ignore]

        for location in getattr(shipped, "__path__", []):
            if Path(location, "default").is_dir():
                return Path(location)
    except ImportError:  # pragma: no cover - the package data is missing
        pass
    return PACKAGED_THEMES
