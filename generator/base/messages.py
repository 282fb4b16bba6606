"""The editor-facing message catalog (zh-CN by default, en available).

Every message an editor reads in a diagnostic is looked up here by its code, so wording lives in
``generator/catalog/<language>.yaml`` and never in code.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from generator.base.config import DEFAULT_LANGUAGE, LANGUAGES

CATALOG_DIR = Path(__file__).parent.parent / "catalog"
# the C loader when PyYAML has one: every command reads the catalogs before anything else
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def catalog(language: str) -> dict[str, dict[str, str]]:
    """Messages of ``language``: ``<language>.yaml`` merged with ``<language>.<topic>.yaml``
    (one file per command keeps each command's wording together)."""
    lang = language if language in LANGUAGES else DEFAULT_LANGUAGE
    data: dict[str, dict[str, str]] = {}
    files = [CATALOG_DIR / f"{lang}.yaml", *sorted(CATALOG_DIR.glob(f"{lang}.*.yaml"))]
    for file in files:
        with open(file, encoding="utf-8") as fh:
            data.update(yaml.load(fh, Loader=_LOADER) or {})
    return data


class _Safe(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def text(language: str, code: str, part: str = "message", **params: Any) -> str:
    """The ``part`` (message, hint, or a word) of ``code`` in ``language``, filled with params."""
    entry = catalog(language).get(code) or catalog(DEFAULT_LANGUAGE).get(code)
    if entry is None:
        raise KeyError(f"message code {code!r} is missing from the catalog")
    template = entry.get(part, "")
    return template.format_map(_Safe(params))
