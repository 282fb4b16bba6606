"""A template's fault as a diagnostic: the template's file and line as the editor opens it,
and Jinja's English words replaced by a catalog code for the common syntax faults (the
English stays in ``problem``, shown with ``--verbose``)."""

from __future__ import annotations

import dataclasses
import re
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import jinja2

from generator.base.errors import Diagnostic


class TemplateFolders(Protocol):
    """Where templates are read from: the folders of the themes' templates, most specific
    first, and the site folder (``None`` when the theme is not read from a site)."""

    @property
    def templates(self) -> list[str]: ...

    @property
    def source(self) -> Path | None: ...


# Jinja's syntax messages (jinja2 3.x: parser, lexer, compiler), each with the catalog code
# that words it; the named groups are its parameters. The first that matches is taken.
_SYNTAX: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), code)
    for pattern, code in (
        (
            r"^Encountered unknown tag '(?P<tag>[^']*)'\. (?:You probably made a nesting mistake"
            r"|Jinja was looking for).*?(?P<looking>'[^.]*')\. The innermost block that needs "
            r"to be closed is '(?P<block>[^']*)'\.$",
            "template-syntax-misplaced-tag",
        ),
        (r"^Encountered unknown tag '(?P<tag>[^']*)'\.", "template-syntax-unknown-tag"),
        (
            r"^Unexpected end of template\. Jinja was looking for the following tags: "
            r"(?P<looking>'[^.]*')\. The innermost block that needs to be closed is "
            r"'(?P<block>[^']*)'\.$",
            "template-syntax-unclosed-block",
        ),
        (r"^unexpected end of template, expected '(?P<expected>[^']*)'", "template-syntax-cut"),
        (r"^unexpected 'end of template'$", "template-syntax-cut-tag"),
        (r"^Unexpected end of template", "template-syntax-cut-tag"),
        (r"^Missing end of (?:comment tag|raw directive)", "template-syntax-cut-tag"),
        (
            r"^expected token '(?P<expected>[^']*)', got '(?P<got>[^']*)'$",
            "template-syntax-got",
        ),
        (r"^Expected an expression, got '(?P<got>[^']*)'$", "template-syntax-no-expression"),
        (r"^expected name or number$", "template-syntax-no-expression"),
        (r"^unexpected '(?P<got>[^']*)', expected '(?P<expected>[^']*)'$", "template-syntax-pair"),
        (r"^unexpected '(?P<got>[^']*)'$", "template-syntax-unexpected"),
        (r"^unexpected char '(?P<got>.)' at \d+$", "template-syntax-unexpected"),
        (r"^No filter named '(?P<name>[^']*)'", "template-syntax-no-filter"),
        (r"^No test named '(?P<name>[^']*)'", "template-syntax-no-test"),
        (r"^block '(?P<name>[^']*)' defined twice$", "template-syntax-block-twice"),
    )
)

# Jinja's names of the tokens, as the editor types them
_TOKENS = {
    "end of print statement": "}}",
    "begin of print statement": "{{",
    "end of statement block": "%}",
    "begin of statement block": "{%",
    "end of comment": "#}",
    "begin of comment": "{#",
}


def syntax_words(message: str) -> tuple[str, dict[str, str]]:
    """The catalog code of Jinja's syntax ``message`` and its parameters (the tags a block
    may end with as they are written: ``{% endfor %} / {% else %}``); ``template-syntax``
    (with Jinja's words) when it is none of the known ones."""
    for pattern, code in _SYNTAX:
        found = pattern.match(message)
        if found:
            params = {k: v for k, v in found.groupdict().items() if v is not None}
            if "looking" in params:
                tags = re.findall(r"'([^']*)'", params["looking"])
                params["looking"] = " / ".join(f"{{% {tag} %}}" for tag in tags)
            for key in ("expected", "got"):
                if key in params:
                    params[key] = _TOKENS.get(params[key], params[key])
            return code, params
    return "template-syntax", {}


class Undecodable(jinja2.TemplateError):
    """A template file that is not UTF-8 text: its path, and how a content file saved so
    would be told (``content.loader.decode``: its encoding, the first line that fails)."""

    def __init__(self, filename: str, problems: list[Diagnostic]) -> None:
        super().__init__(filename)
        self.filename = filename
        self.problems = problems


def template_error(exc: BaseException, theme: TemplateFolders) -> Diagnostic:
    """A diagnostic for a template problem, pointing at the template file and line."""
    roots = [Path(t) for t in theme.templates]
    if isinstance(exc, Undecodable):
        path = shown_path(exc.filename, roots, theme.source)
        first = exc.problems[0] if exc.problems else Diagnostic.error(path, 0, "encoding-unknown")
        return dataclasses.replace(first, path=path)
    if isinstance(exc, jinja2.TemplateSyntaxError):
        code, params = syntax_words(exc.message or "")
        return Diagnostic.error(
            shown_path(exc.filename or exc.name or "?", roots, theme.source),
            exc.lineno,
            code,
            problem=exc.message or str(exc),
            **params,
        )
    path, line = "?", 0
    for frame, lineno in _frames(exc):
        filename = frame.f_code.co_filename
        if filename.endswith((".html", ".xml", ".txt")):
            path, line = shown_path(filename, roots, theme.source), lineno
    if isinstance(exc, jinja2.TemplateNotFound):
        return Diagnostic.error(path, line, "template-missing", name=exc.name)
    if isinstance(exc, jinja2.exceptions.SecurityError):
        return Diagnostic.error(path, line, "template-unsafe", problem=str(exc))
    if isinstance(exc, jinja2.UndefinedError):
        named = _QUOTED.findall(str(exc))  # "'x' is undefined", "'… object' has no attribute 'x'"
        if named:
            return Diagnostic.error(path, line, "template-undefined", name=named[-1])
    return Diagnostic.error(path, line, "template-error", problem=f"{type(exc).__name__}: {exc}")


_QUOTED = re.compile(r"'([^']*)'")


def _frames(exc: BaseException) -> Iterator[tuple[Any, int]]:
    yield from traceback.walk_tb(exc.__traceback__)


def shown_path(filename: str, roots: list[Path], site: Path | None) -> str:
    """A template's file as a diagnostic names it: its path in the ``site`` when it is there
    (the site's theme/ overrides, a theme inside the site), as content files are named;
    else ``theme:<name>``, relative to the first of the themes' templates folders (``roots``)
    that holds it."""
    path = Path(filename).resolve()
    if site is not None and path.is_relative_to(site.resolve()):
        return path.relative_to(site.resolve()).as_posix()
    for root in roots:
        if path.is_relative_to(root.resolve()):
            return "theme:" + path.relative_to(root.resolve()).as_posix()
    return filename
