"""A template's fault as a diagnostic: the template's file and line as the editor opens it,
and Jinja's English words replaced by a catalog code for the common syntax faults (the
English stays in ``problem``, shown with ``--verbose``)."""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

import jinja2
import jinja2.filters
import jinja2.tests

from generator.base.errors import Diagnostic
from generator.kinds.registry import BUILT_IN
from generator.output import guard
from generator.pages.base import PageJob
from generator.pages.view import SiteView
from generator.site.model import Unit


class TemplateFolders(Protocol):
    """Where templates are read from: the folders of the themes' templates, most specific
    first, and the site folder (``None`` when the theme is not read from a site)."""

    @property
    def templates(self) -> list[str]: ...

    @property
    def source(self) -> Path | None: ...


_NO_FILTER = r"^No filter named '(?P<name>[^']*)'"
_NO_TEST = r"^No test named '(?P<name>[^']*)'"

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
        (r"^tag name expected$", "template-syntax-no-tag"),
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
        (_NO_FILTER, "template-syntax-no-filter"),
        (_NO_TEST, "template-syntax-no-test"),
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
            if code == "template-syntax-misplaced-tag" and params["tag"] not in JINJA_TAGS:
                code = "template-syntax-unknown-tag"  # a misspelt tag, not a misplaced one
            if code == "template-syntax-unknown-tag" and params["tag"] in JINJA_TAGS:
                code = "template-syntax-stray-tag"  # an end or else with nothing open
            if code == "template-syntax-unknown-tag":
                params.update(_suggested(params["tag"], JINJA_TAGS))
            if code in ("template-syntax-no-filter", "template-syntax-no-test"):
                known = FILTERS if code == "template-syntax-no-filter" else TESTS
                params.update(_suggested(params["name"], known))
            if "looking" in params:
                tags = re.findall(r"'([^']*)'", params["looking"])
                params["looking"] = " / ".join(f"{{% {tag} %}}" for tag in tags)
            for key in ("expected", "got"):
                if key in params:
                    params[key] = _TOKENS.get(params[key], params[key])
            return code, params
    return "template-syntax", {}


# the tags of Jinja and of its i18n extension (the only one templates are compiled with)
JINJA_TAGS = frozenset(
    [
        "if",
        "elif",
        "else",
        "endif",
        "for",
        "endfor",
        "block",
        "endblock",
        "extends",
        "include",
        "import",
        "from",
        "macro",
        "endmacro",
        "call",
        "endcall",
        "filter",
        "endfilter",
        "set",
        "endset",
        "raw",
        "endraw",
        "with",
        "endwith",
        "autoescape",
        "endautoescape",
        "trans",
        "pluralize",
        "endtrans",
    ]
)
FILTERS = frozenset([*jinja2.filters.FILTERS, "size"])  # "size": theme.file_size
TESTS = frozenset(jinja2.tests.TESTS)


@functools.cache
def field_names() -> frozenset[str]:
    """What a template reads of an item, a unit or the site view, for "did you mean": the
    fields of the built-in kinds' items and of a unit, and the site view's names."""
    models = [kind.model for kind in BUILT_IN]
    names = {f.name for model in (*models, Unit) for f in dataclasses.fields(model)}
    names.update(name for name in dir(SiteView) if not name.startswith("_"))
    return frozenset(names)


def _suggested(name: str, known: Iterable[str]) -> dict[str, str]:
    """The known name closest to a misspelt ``name``, as the ``suggestion`` parameter."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.7)
    return {"suggestion": close[0]} if close else {}


class Undecodable(jinja2.TemplateError):
    """A template file that is not UTF-8 text: its path, and how a content file saved so
    would be told (``content.loader.decode``: its encoding, the first line that fails)."""

    def __init__(self, filename: str, problems: list[Diagnostic]) -> None:
        super().__init__(filename)
        self.filename = filename
        self.problems = problems


class MissingTemplate(jinja2.TemplateNotFound):
    """A template that another names (extends, includes or imports) and no folder holds:
    its name, the file of the template that names it and the line there, and the name of
    a template it may be a misspelling of."""

    def __init__(self, name: str, filename: str, lineno: int, suggestion: str = "") -> None:
        super().__init__(name)
        self.filename, self.lineno, self.suggestion = filename, lineno, suggestion


def template_error(exc: BaseException, theme: TemplateFolders) -> Diagnostic:
    """A diagnostic for a template problem, pointing at the template file and line."""
    roots = [Path(t) for t in theme.templates]
    if isinstance(exc, MissingTemplate):
        path = shown_path(exc.filename, roots, theme.source)
        named = {"suggestion": exc.suggestion} if exc.suggestion else {}
        return Diagnostic.error(path, exc.lineno, "template-missing", name=exc.name, **named)
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
    code, params = _runtime_words(exc)
    return Diagnostic.error(path, line, code, **params)


def too_nested(filename: str, theme: TemplateFolders) -> Diagnostic:
    """A template whose blocks or expressions nest deeper than Python can compile or parse
    (Jinja says nothing of the line)."""
    roots = [Path(t) for t in theme.templates]
    return Diagnostic.error(shown_path(filename, roots, theme.source), 0, "template-too-nested")


def _runtime_words(exc: BaseException) -> tuple[str, dict[str, str]]:
    """The catalog code and parameters of a fault found while a page renders."""
    plain = _kind_words(exc)
    if plain is not None:
        return plain
    said = _shortened(str(exc))
    runtime = isinstance(exc, jinja2.TemplateRuntimeError)
    if runtime and (re.match(_NO_FILTER, said) or re.match(_NO_TEST, said)):
        code, params = syntax_words(said)  # a filter or test met only when its line runs
        return code, {**params, "problem": said}
    problem = f"{type(exc).__name__}: {said}"
    for kind, pattern, code in _PYTHON_FAULTS:
        found = pattern.search(said) if isinstance(exc, kind) else None
        if found:
            words = {k: v for k, v in found.groupdict().items() if v is not None}
            return code, {**words, "problem": problem}
    named = _QUOTED.findall(said)  # "'x' is undefined", "'… object' has no attribute 'x'"
    if isinstance(exc, jinja2.UndefinedError) and named:
        return "template-undefined", {"name": named[-1], **_suggested(named[-1], field_names())}
    return "template-error", {"problem": problem}


def _while_compiling(exc: BaseException) -> bool:
    """Whether ``exc`` was raised as Jinja read or compiled a template (not as one ran)."""
    parts = ("parser.py", "compiler.py", "lexer.py", "idtracking.py", "optimizer.py")
    return any(
        "jinja2" in frame.f_code.co_filename and frame.f_code.co_filename.endswith(parts)
        for frame, _line in _frames(exc)
    )


SAID_MAX = 200  # characters of an error's words kept (a key a template made may be huge)


def _shortened(said: str) -> str:
    """``said`` cut to ``SAID_MAX`` characters (what is looked at and shown of it)."""
    return said if len(said) <= SAID_MAX else said[:SAID_MAX] + "…"


def _kind_words(exc: BaseException) -> tuple[str, dict[str, str]] | None:
    """The catalog code and parameters of a fault told by its kind alone; None for others."""
    if isinstance(exc, RecursionError) and not _while_compiling(exc):
        return "template-calls-itself", {}  # a macro or include that calls itself
    if isinstance(exc, SyntaxError | RecursionError):  # nested deeper than Python goes
        return "template-too-nested", {}
    if isinstance(exc, jinja2.TemplateNotFound):
        return "template-missing", {"name": str(exc.name)}
    if isinstance(exc, guard.TooSlow):
        return "template-too-slow", {"seconds": f"{exc.seconds:g}"}
    if isinstance(exc, MemoryError):
        return "template-too-big", {"limit": str(guard.PAGE_MEMORY // (1024 * 1024))}
    if isinstance(exc, jinja2.exceptions.SecurityError):
        return "template-unsafe", {"problem": _shortened(str(exc))}
    return None


# a name that ``{% from "x.html" import name %}`` imports and the template does not define
_UNEXPORTED = re.compile(
    r"^the template '(?P<template>[^']*)' \(imported on line \d+ in '[^']*'\) "
    r"does not export the requested name '(?P<name>[^']*)'"
)

# Python's faults that a template line commonly makes, each with the catalog code that words
# it for an editor; the named groups are its parameters (Python's words kept as ``problem``)
_PYTHON_FAULTS: tuple[tuple[type[BaseException], re.Pattern[str], str], ...] = (
    (jinja2.UndefinedError, _UNEXPORTED, "template-no-macro"),
    (TypeError, re.compile(r"^'[^']*' object is not callable"), "template-not-callable"),
    (
        TypeError,
        re.compile(r"unsupported operand|can only concatenate|must be str, not|not supported betw"),
        "template-mixed-types",
    ),
    (ZeroDivisionError, re.compile(""), "template-divided-by-zero"),
    (KeyError, re.compile(r"^'?(?P<name>.*?)'?$"), "template-no-key"),
    (IndexError, re.compile(""), "template-no-index"),
    (jinja2.UndefinedError, re.compile(r"has no element"), "template-no-index"),
    (StopIteration, re.compile(""), "template-nothing-left"),
)


def while_rendering(problem: Diagnostic, job: PageJob) -> Diagnostic:
    """``problem`` naming the page it was found on: its content file (``content``) when it is
    an item's page, else its path (``page``)."""
    item = job.context.get("item")
    where = {"content": item.key} if item is not None else {"page": job.path}
    return dataclasses.replace(problem, params=tuple(sorted((*problem.params, *where.items()))))


def one_per_fault(problems: list[Diagnostic]) -> list[Diagnostic]:
    """One diagnostic for each fault of a template, however many pages it was found on: that
    of the first page by its content file's path (else its own), with how many ``others``
    had it."""
    found: dict[Diagnostic, list[Diagnostic]] = {}
    for problem in problems:
        found.setdefault(_fault(problem), []).append(problem)
    out = []
    for same in found.values():
        first = min(same, key=lambda d: d.params)
        if len(same) > 1:
            first = dataclasses.replace(
                first, params=tuple(sorted((*first.params, ("others", str(len(same) - 1)))))
            )
        out.append(first)
    return out


def _fault(problem: Diagnostic) -> Diagnostic:
    """What ``problem`` is the same fault as others by: its template, line and code. Its
    words are left out: they may hold the value the line met (a key that is not there,
    ``KeyError: '技术创新'``), another on every page; and a page stops at its first fault,
    so the next one on the line shows once the first is mended."""
    return dataclasses.replace(problem, params=())


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
