"""The editor-facing message catalog (zh-CN by default, en available).

Every message an editor reads in a diagnostic is looked up here by its code, so wording lives in
``generator/catalog/<language>.yaml`` and never in code.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from generator.base.config import DEFAULT_LANGUAGE, LANGUAGES

CATALOG_DIR = Path(__file__).parent.parent / "catalog"
# the parsed catalogs, kept as JSON beside the YAML files as Python keeps its byte code: every
# command reads them before anything else, and JSON is read far sooner than YAML is parsed
PARSED_DIR = CATALOG_DIR / "__pycache__"


@functools.cache
def catalog(language: str) -> dict[str, dict[str, str]]:
    """Messages of ``language``: ``<language>.yaml`` merged with ``<language>.<topic>.yaml``
    (one file per command keeps each command's wording together)."""
    lang = language if language in LANGUAGES else DEFAULT_LANGUAGE
    files = [CATALOG_DIR / f"{lang}.yaml", *sorted(CATALOG_DIR.glob(f"{lang}.*.yaml"))]
    texts = [file.read_bytes() for file in files]
    hashed = hashlib.sha256()
    for file, text in zip(files, texts, strict=True):
        hashed.update(b"%s\0%d\0%s" % (file.name.encode(), len(text), text))
    digest = hashed.hexdigest()[:20]
    parsed = PARSED_DIR / f"{lang}.{digest}.json"
    with contextlib.suppress(OSError, ValueError), open(parsed, encoding="utf-8") as fh:
        found: dict[str, dict[str, str]] = json.load(fh)
        return found
    data = _parse(texts)
    if _plain(data):  # what JSON gives back as it was
        _keep(parsed, data)
    return data


def _plain(data: object) -> bool:
    """Whether ``data`` is text by code, each entry text by part (as the catalogs must be)."""
    return isinstance(data, dict) and all(
        isinstance(code, str)
        and isinstance(entry, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in entry.items())
        for code, entry in data.items()
    )


def _parse(texts: list[bytes]) -> dict[str, dict[str, str]]:
    """The catalog files' texts, parsed and merged in order."""
    import yaml  # only when the catalogs changed since they were last parsed

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader when present
    data: dict[str, dict[str, str]] = {}
    for text in texts:
        data.update(yaml.load(text.decode("utf-8"), Loader=loader) or {})
    return data


def _keep(parsed: Path, data: dict[str, dict[str, str]]) -> None:
    """Write the parsed catalog to ``parsed`` in one step, unless the folder cannot be
    written (an installation owned by another user: the catalogs are then parsed each
    time); older parsed versions of that language are removed."""
    with contextlib.suppress(OSError):
        parsed.parent.mkdir(exist_ok=True)
        temp = parsed.parent / f".partial-{os.getpid()}-{os.urandom(4).hex()}"
        try:
            with open(temp, "x", encoding="utf-8") as fh:
                json.dump(data, fh, ensure_ascii=False)
            os.replace(temp, parsed)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
        language = parsed.name.split(".", 1)[0]
        for old in parsed.parent.glob(f"{language}.*.json"):
            if old != parsed:
                old.unlink(missing_ok=True)


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


def os_reason(language: str, exc: OSError) -> str:
    """Why the system refused, in ``language``: the catalog's words for the common errors
    (``os-EEXIST``), else the system's own text."""
    return os_words(language, errno.errorcode.get(exc.errno or 0, ""), exc.strerror or "")


def os_words(language: str, name: str, said: str) -> str:
    """The catalog's words for the system error ``name`` (``EEXIST``) in ``language``, else
    what the system ``said``."""
    entry = catalog(language).get(f"os-{name}") or catalog(DEFAULT_LANGUAGE).get(f"os-{name}")
    return entry["message"] if entry else said or name
