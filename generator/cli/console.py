"""Diagnostics shown to an editor: ``path:line: 错误: message``, the offending source line and a
hint on how to fix it, in the site's language."""

from __future__ import annotations

import os
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

from generator.base import messages
from generator.base.config import DEFAULT_LANGUAGE
from generator.base.errors import Diagnostic


@dataclass(slots=True)
class Verbosity:
    """How much the commands print, set once from -v/--verbose and -q/--quiet."""

    verbose: bool = False
    quiet: bool = False


VERBOSITY = Verbosity()


def configure(*, verbose: bool, quiet: bool) -> None:
    VERBOSITY.verbose, VERBOSITY.quiet = verbose and not quiet, quiet


def say(text: str) -> None:
    """A line of a command's progress or result, on stdout; nothing with --quiet."""
    if not VERBOSITY.quiet:
        print(text, flush=True)


def pasteable(path: Path) -> str:
    """``path`` as the editor can paste it where they stand: relative to the current folder
    when it is inside it, else absolute."""
    absolute = path.absolute()
    try:
        relative = Path(os.path.relpath(absolute, Path.cwd()))
    except ValueError:  # another drive on Windows
        return absolute.as_posix()
    return absolute.as_posix() if relative.parts[:1] == ("..",) else relative.as_posix()


def shown_path(root: Path, path: str) -> str:
    """A path of the source (relative to ``root``) as the editor can paste it: relative to the
    current folder when the source is inside it; else, and for a source folder that does not
    exist or a theme file, relative to the source as it is."""
    if path.startswith("theme:") or not root.is_dir():
        return path
    shown = pasteable(root / path)
    return path if Path(shown).is_absolute() else shown


# the encoding a file is read in when a diagnostic says it was saved in another
ENCODING_OF = {"encoding-gbk": "gb18030"}


def source_line(root: Path, diagnostic: Diagnostic) -> str:
    """The line a diagnostic points at, decoded as the file is saved (GBK when found so)."""
    if diagnostic.line <= 0 or diagnostic.path.startswith("theme:"):
        return ""
    encoding = ENCODING_OF.get(diagnostic.code, "utf-8-sig")
    try:
        with open(root / diagnostic.path, encoding=encoding, errors="replace") as fh:
            for number, line in enumerate(fh, start=1):
                if number == diagnostic.line:
                    return line.rstrip("\r\n")
    except OSError:
        return ""
    return ""


def field_label(field: str, language: str) -> str:
    """``items.0.status`` -> ``items 第 1 项的 status`` (list positions counted from 1)."""
    parts: list[str] = []
    for part in field.split("."):
        if part.isdigit():
            parts.append(messages.text(language, "list-position", number=int(part) + 1))
        else:
            parts.append(part)
    return " ".join(parts)


def params_of(diagnostic: Diagnostic, language: str) -> dict[str, str]:
    """The parameters of ``diagnostic`` for its words in ``language``: a system error's
    reason in the catalog's words (``os``: its name, such as EEXIST)."""
    params = diagnostic.param_dict()
    if params.get("os"):
        params["problem"] = messages.os_words(language, params["os"], params.get("problem", ""))
    return params


def message(diagnostic: Diagnostic, language: str) -> str:
    params = params_of(diagnostic, language)
    label = field_label(diagnostic.field, language)
    text = messages.text(language, diagnostic.code, **params, field=label)
    if diagnostic.field:
        text = messages.text(language, "field-prefix", field=label) + text
    return _rendering(text, params, language)


def _rendering(text: str, params: dict[str, str], language: str) -> str:
    """``text`` of a template's fault found as a page rendered: after the page it was found
    on, and before how many other pages had it."""
    if "content" in params:
        where = messages.text(language, "rendering-item", content=params["content"])
    elif "page" in params:
        where = messages.text(language, "rendering-page", page=params["page"])
    else:
        return text
    if "others" in params:
        text += messages.text(language, "rendering-others", others=params["others"])
    return where + text


def hint(diagnostic: Diagnostic, language: str) -> str:
    params = params_of(diagnostic, language)
    text = messages.text(
        language, diagnostic.code, "hint", **params, field=field_label(diagnostic.field, language)
    )
    suggestion = params.get("suggestion")
    if suggestion:
        text = (text + " " if text else "") + messages.text(
            language, "did-you-mean", "message", suggestion=suggestion
        )
    return text


def format_diagnostic(diagnostic: Diagnostic, language: str, root: Path) -> str:
    severity = messages.text(language, f"severity-{diagnostic.severity.value}")
    location = shown_path(root, diagnostic.path) + (
        f":{diagnostic.line}" if diagnostic.line > 0 else ""
    )
    lines = [f"{location}: {severity}: {message(diagnostic, language)}"]
    src = source_line(root, diagnostic)
    if src.strip():
        lines.append(f"    {diagnostic.line:>4} | {src}")
    fix = hint(diagnostic, language)
    if fix:
        lines.append("    " + messages.text(language, "how-to-fix") + fix)
    detail = diagnostic.param_dict().get("problem", "")
    if VERBOSITY.verbose and detail:
        # the YAML parser's own words, for whoever helps the editor
        lines.append("    " + messages.text(language, "parser-said", problem=detail))
    return "\n".join(lines)


def summary(diagnostics: tuple[Diagnostic, ...], language: str) -> str:
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    return messages.text(language, "summary-counts", errors=errors, warnings=warnings)


def internal_error(exc: BaseException) -> str:
    """What to tell of a fault of showcase itself (not of the content): what failed, in
    the catalog's words, and the file that keeps its traceback for whoever maintains the
    tool (printed too with --verbose)."""
    details = "".join(traceback.format_exception(exc))
    report = ""
    try:
        fd, report = tempfile.mkstemp(prefix="showcase-error-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(details)
    except OSError:
        report = ""
    code = "internal-error" if report else "internal-error-unsaved"
    text = messages.text(
        DEFAULT_LANGUAGE, code, problem=f"{type(exc).__name__}: {exc}", report=report
    )
    return text + ("\n" + details if VERBOSITY.verbose or not report else "")
