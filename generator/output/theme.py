"""The Jinja environment of a theme: template lookup (site overrides first), autoescape,
StrictUndefined, the translation catalog, and template errors turned into diagnostics.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import functools
import hashlib
import os
import pickle
import stat
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
import jinja2.sandbox
from markupsafe import Markup

from generator.base.config import DEFAULT_LANGUAGE, packaged_themes_dir
from generator.base.errors import Diagnostic
from generator.content import stamps
from generator.content.frontmatter import normalise_text, parse_yaml
from generator.content.loader import SKIPPED_SUFFIXES, decode
from generator.output import cache, jinjaruntime, templatefaults, templateuse

OVERRIDE_DIR = "theme"  # inside the site source
DEFAULT_THEME = "default"  # its template names are those the page families render


@dataclass(frozen=True, slots=True)
class ThemeDirs:
    """The folders a theme is read from, most specific first."""

    folders: tuple[Path, ...]
    name: str
    # templates render in the sandbox unless every folder is a theme shipped with showcase
    sandboxed: bool = True
    source: Path | None = None  # the site's folder: a template in it is named by its path

    @property
    def templates(self) -> list[str]:
        return [str(f / "templates") for f in self.folders if (f / "templates").is_dir()]

    def has_template(self, name: str) -> bool:
        """Whether a folder of the theme (or the site's override) holds the template."""
        return any((Path(folder) / name).is_file() for folder in self.templates)

    def static_files(self) -> dict[str, Path]:
        """Static files of the theme by relative path; a site override wins."""
        found: dict[str, Path] = {}
        for folder in reversed(self.folders):
            root = folder / "static"
            if not root.is_dir():
                continue
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames.sort()
                for name in sorted(filenames):
                    full = Path(dirpath, name)
                    found[full.relative_to(root).as_posix()] = full
        return dict(sorted(found.items()))

    def catalog(self, language: str) -> dict[str, str]:
        """The visitor strings of ``language``, a site override's entries first; a file that
        cannot be read adds nothing (``catalog_problems`` says why)."""
        merged: dict[str, str] = {}
        for folder in reversed(self.folders):
            merged.update(_read_catalog(folder, language)[0])
        return merged

    def catalog_problems(self, language: str) -> list[Diagnostic]:
        """What is wrong with the theme's catalog files of ``language``."""
        return [p for folder in self.folders for p in _read_catalog(folder, language)[1]]


def _read_catalog(folder: Path, language: str) -> tuple[dict[str, str], tuple[Diagnostic, ...]]:
    """The entries of the catalog file of ``language`` in ``folder``, and its problems; read
    again only when the file's size, times or inode changed (a process that builds again
    reads it for every build)."""
    file = folder / "i18n" / f"{language}.yaml"
    try:
        st = file.stat()
    except OSError:
        return {}, ()
    if not stat.S_ISREG(st.st_mode):
        return {}, ()
    key = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    shown = f"{folder.name}/i18n/{language}.yaml"
    if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) < stamps.RACY_NS:
        # changed just now: a change in the same tick of the clock would keep these times
        return _parsed_catalog.__wrapped__(file, shown, key)
    found = _parsed_catalog(file, shown, key)
    return dict(found[0]), found[1]


@functools.lru_cache(maxsize=16)
def _parsed_catalog(
    file: Path, shown: str, _stamp: tuple[int, ...]
) -> tuple[dict[str, str], tuple[Diagnostic, ...]]:
    try:
        text = normalise_text(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return {}, (Diagnostic.error(shown, 1, "yaml-syntax", problem=str(exc)),)
    doc, problems = parse_yaml(text, shown)
    if doc is None:
        return {}, tuple(problems)
    if doc.data is None:
        return {}, tuple(problems)
    if not isinstance(doc.data, dict):
        return {}, (*problems, Diagnostic.error(shown, 1, "theme-i18n-not-mapping"))
    return {str(k): str(v) for k, v in doc.data.items()}, tuple(problems)


def locate(source: Path, name: str) -> ThemeDirs | None:
    """Find theme ``name``: a path relative to the source, ``<source>/themes/<name>``, or a
    shipped theme. The site's ``theme/`` folder overrides single files of any of them."""
    candidates = [source / name, source / "themes" / name, packaged_themes_dir() / name]
    if "/" not in name and "\\" not in name:
        candidates = candidates[1:]
    base = next((c for c in candidates if (c / "templates").is_dir()), None)
    if base is None:
        return None
    override = source / OVERRIDE_DIR
    folders = (override, base) if override.is_dir() else (base,)
    shipped = packaged_themes_dir().resolve()
    trusted = all(folder.resolve().is_relative_to(shipped) for folder in folders)
    return ThemeDirs(folders, name, sandboxed=not trusted, source=source)


def site_themes(source: Path) -> list[str]:
    """The names of the themes inside the site (``themes/<name>``)."""
    root = source / "themes"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "templates").is_dir())


def available_themes(source: Path) -> list[str]:
    shipped = packaged_themes_dir()
    names = {p.name for p in shipped.iterdir() if (p / "templates").is_dir()}
    return sorted(names.union(site_themes(source)))


# the text types of values whose translations with placeholders are remembered (the type is
# part of the key: a str is escaped, Markup not); ints are remembered too
_TEXTS = frozenset({str, Markup})
MEMO_LIMIT = 50_000  # translations with placeholders remembered, at most (then forgotten)
MEMO_TEXT = 200  # characters of a text value, at most, for its translation to be remembered


class Catalog:
    def __init__(self, messages: dict[str, str]) -> None:
        self.messages = messages
        # strings without placeholders, translated and escaped once for every call
        self._fixed: dict[str, Markup] = {}
        # strings with placeholders, by the string and the values: pages repeat them
        self._formatted: dict[tuple[Any, ...], Markup] = {}

    def gettext(self, message: str) -> str:
        return self.messages.get(message) or message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)

    def markup_gettext(self, message: str, **variables: Any) -> Markup:
        # a catalog string is text, never markup: a site's theme/i18n file cannot add tags
        if variables:
            return self._format(self.gettext(message), variables)
        found = self._fixed.get(message)
        if found is None:
            found = self._fixed[message] = Markup.escape(self.gettext(message)) % {}
        return found

    def markup_ngettext(self, singular: str, plural: str, num: int, **variables: Any) -> Markup:
        variables.setdefault("num", num)
        return self._format(self.ngettext(singular, plural, num), variables)

    def _format(self, text: str, variables: dict[str, Any]) -> Markup:
        """``text`` (a translation) escaped, with ``variables`` put in; remembered by the text
        and the values when every value is plain (``_rememberable``)."""
        key = _memo_key(text, variables)
        if key is None:
            return Markup.escape(text) % variables
        found = self._formatted.get(key)
        if found is None:
            if len(self._formatted) >= MEMO_LIMIT:
                self._formatted.clear()
            found = self._formatted[key] = Markup.escape(text) % variables
        return found


def _memo_key(text: str, variables: dict[str, Any]) -> tuple[Any, ...] | None:
    """What the translation ``text`` with ``variables`` put in is remembered by: the text,
    and the name, type and value of each variable (by name); None when a value is not
    plain (an int, or a text no longer than ``MEMO_TEXT``). One variable is the common
    case, and is taken without sorting."""
    if len(variables) == 1:
        ((name, value),) = variables.items()
        return (text, name, type(value), value) if _rememberable(value) else None
    key: list[Any] = [text]
    for name in sorted(variables):
        value = variables[name]
        if not _rememberable(value):
            return None
        key += (name, type(value), value)
    return tuple(key)


def _rememberable(value: Any) -> bool:
    """Whether a translation with ``value`` put in may be remembered: a plain value, a text
    no longer than ``MEMO_TEXT``."""
    kind = type(value)
    return kind is int or (kind in _TEXTS and len(value) <= MEMO_TEXT)


MAX_REPEAT = 1_000_000  # longest text or list a template may make with ``*``
MAX_EXPONENT = 1_000  # largest exponent of ``**`` in a template
MAX_POWER_BITS = 100_000  # largest whole number ``**`` may make (about 30,000 digits)


class TrustedEnvironment(jinjaruntime.Fast, jinja2.Environment):
    """What the shipped themes render in: Jinja, with the runtime of ``jinjaruntime``."""


class SafeEnvironment(jinjaruntime.Fast, jinja2.sandbox.SandboxedEnvironment):
    """Jinja's sandbox, with ``*`` and ``**`` bounded so a template cannot exhaust memory
    (and the runtime of ``jinjaruntime``)."""

    intercepted_binops = frozenset(["*", "**"])
    code_generator_class = jinjaruntime.ContentCodeGenerator

    def __init__(self, **options: Any) -> None:
        # nothing of a template is computed as it compiles (``ContentCodeGenerator``)
        super().__init__(**{**options, "optimized": False})

    def call_binop(
        self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any
    ) -> Any:
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise jinja2.exceptions.SecurityError(f"exponent over {MAX_EXPONENT}")
            if _power_bits(left, right) > MAX_POWER_BITS:  # ((10 ** 1000) ** 1000)
                raise jinja2.exceptions.SecurityError(f"power over {MAX_POWER_BITS} bits")
            return left**right
        if _repeat_size(left, right) > MAX_REPEAT or _repeat_size(right, left) > MAX_REPEAT:
            raise jinja2.exceptions.SecurityError(f"repetition longer than {MAX_REPEAT}")
        return left * right


def _power_bits(base: Any, exponent: Any) -> int:
    """How many bits ``base ** exponent`` takes when both are whole numbers (else 0)."""
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        return abs(base).bit_length() * exponent
    return 0


def _repeat_size(sequence: Any, times: Any) -> int:
    if isinstance(sequence, str | list | tuple) and isinstance(times, int):
        return len(sequence) * times
    return 0


KB = 1024


def file_size(size: int) -> str:
    """A file size as editors and visitors read it everywhere: KB below one MB, else MB, one
    decimal (``991 B`` is ``1.0 KB``; 1 KB is 1024 bytes, as file managers count)."""
    kilobytes = max(size, 1) / KB
    if round(kilobytes, 1) < KB:
        return f"{kilobytes:.1f} KB"
    return f"{size / (KB * KB):.1f} MB"


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept in this process from build to build (serve rebuilds often),
    and on disk for the next process, by name and file; Jinja compares the source's checksum
    before using one. On disk means Jinja's own folder for the user in the system's temporary
    folder, which Jinja makes readable and writable by the user alone (never the site's
    cache folder: bytecode from a folder the content could fill would run as code); files
    are named by the generator's code (the options of the environment), the versions of
    Jinja, of the other libraries and of Python, and the kind of environment. Without such a
    folder, templates are kept in memory only."""

    def __init__(self, kind: str) -> None:
        self._code: dict[str, bytes] = {}
        self._kind = kind

    @functools.cached_property
    def _disk(self) -> jinja2.FileSystemBytecodeCache | None:
        # the generator's code, the versions of Jinja and the other libraries, and Python's
        version = f"{cache.schema()}\0{cache.code_digest()}\0{sys.implementation.cache_tag}"
        name = hashlib.sha256(version.encode()).hexdigest()[:20]
        pattern = f"showcase-{self._kind}-{name}-%s.cache"
        try:
            return jinja2.FileSystemBytecodeCache(pattern=pattern)
        except (RuntimeError, OSError):  # no safe folder of the user's own
            return None

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)
            return
        disk = self._disk
        if disk is not None:
            # a damaged file is compiled again and replaced
            with contextlib.suppress(OSError, ValueError, EOFError, TypeError, pickle.PickleError):
                disk.load_bytecode(bucket)
            if bucket.code is None:
                bucket.reset()
            else:
                self._code[bucket.key] = bucket.bytecode_to_string()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()
        disk = self._disk
        if disk is not None:
            with contextlib.suppress(OSError):
                disk.dump_bytecode(bucket)


# one per kind of environment: the sandbox compiles ``*`` and ``**`` to checked calls
_COMPILED: dict[type[jinja2.Environment], _CompiledTemplates] = {}


def _compiled(kind: type[jinja2.Environment]) -> _CompiledTemplates:
    if kind not in _COMPILED:
        _COMPILED[kind] = _CompiledTemplates(kind.__name__)
    return _COMPILED[kind]


def environment(
    theme: ThemeDirs, language: str, globals_: dict[str, Any] | None = None
) -> jinja2.Environment:
    # Templates of the site's theme/ folder (or of a theme inside the site) are content: they
    # render in Jinja's sandbox, which refuses private attributes, Python internals and unsafe
    # calls (``cycler.__init__.__globals__``) with a SecurityError. The shipped themes alone
    # render without it (the sandbox costs about a fifth of the render time).
    kind: type[jinja2.Environment] = SafeEnvironment if theme.sandboxed else TrustedEnvironment
    env = kind(
        loader=_Loader(theme.templates),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=_compiled(kind),
        # an environment serves one build: its templates are read once, not checked for
        # changes at every page (a change starts another build, with another environment)
        auto_reload=False,
    )
    catalog = Catalog(theme.catalog(language or DEFAULT_LANGUAGE))
    env.install_gettext_callables(  # type: ignore[attr-defined]
        catalog.gettext, catalog.ngettext, newstyle=True
    )
    # The same behaviour as the i18n extension's new-style callables (autoescape is always
    # on, placeholders filled with escaping), without a context call per string: pages call
    # _() dozens of times and this was a third of a detail page's render time.
    env.globals["_"] = env.globals["gettext"] = catalog.markup_gettext
    env.globals["ngettext"] = catalog.markup_ngettext
    env.globals["lang"] = language
    env.filters["size"] = file_size
    env.globals.update(globals_ or {})
    return env


def precompile(theme: ThemeDirs, language: str) -> None:
    """Compile every template of ``theme`` into this process's cache, for a process that
    renders later (serve, warming up); a template that does not compile is left for the
    render to report."""
    env = environment(theme, language)
    for name in env.list_templates():
        with contextlib.suppress(jinja2.TemplateError, OSError, UnicodeDecodeError):
            env.get_template(name)


def _as_template(problem: Diagnostic) -> Diagnostic:
    """A decoding problem of a template file, in words for a template (not an article)."""
    if problem.code == "binary-file":
        return dataclasses.replace(problem, code="template-binary")
    return problem


def template_names(env: jinja2.Environment) -> list[str]:
    """Every template of ``env`` a build reads: every name that is not hidden, nor a backup
    (``profile.html.gbk.bak``, ``profile.html~``: the source folders' rule)."""
    return env.list_templates(filter_func=_read_by_builds)


# what a template's name ends with (a picture or a system file such as Thumbs.db left in a
# templates folder is no template)
TEMPLATE_SUFFIXES = (".html", ".htm", ".xml", ".txt", ".js", ".json", ".csv", ".css", ".svg")


def _read_by_builds(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    hidden = name.startswith(".") or base.startswith(".") or base.endswith(SKIPPED_SUFFIXES)
    return not hidden and base.lower().endswith(TEMPLATE_SUFFIXES)


class _Loader(jinja2.FileSystemLoader):
    """Jinja's loader of template files, which says which file is not UTF-8 text
    (``templatefaults.Undecodable``, worded as a content file's encoding is) instead of
    failing with Python's decoding error."""

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        try:
            return super().get_source(environment, template)
        except UnicodeDecodeError:
            for folder in self.searchpath:
                path = Path(folder, template)
                if path.is_file():
                    _text, problems = decode(path.read_bytes(), str(path))
                    told = [_as_template(problem) for problem in problems]
                    raise templatefaults.Undecodable(str(path), told) from None
            raise


def template_closure(env: jinja2.Environment, name: str) -> tuple[str, ...]:
    """The template and every template it extends, includes or imports (its dependencies);
    one that may be missing (``ignore missing``, one of a list) and is, is left out. A
    template named by a value made as it renders may be any: every template of ``env`` is
    then a dependency."""
    assert env.loader is not None
    every = functools.cache(lambda: template_names(env))  # listed once, if a name is made
    seen: list[str] = []
    todo: list[tuple[str, tuple[str, templateuse.Reference] | None]] = [(name, None)]
    while todo:
        current, named_by = todo.pop()
        if current in seen:
            continue
        try:
            source, filename, _uptodate = env.loader.get_source(env, current)
        except jinja2.TemplateNotFound:
            if named_by is None:
                raise
            if named_by[1].optional:
                continue
            raise _missing(env, current, *named_by) from None
        seen.append(current)
        for ref in templateuse.references(source, current, filename):
            names = [ref.name] if ref.name is not None else every()
            todo.extend((n, (filename or current, ref._replace(name=n))) for n in names)
    return tuple(sorted(seen))


def _missing(
    env: jinja2.Environment, name: str, filename: str, ref: templateuse.Reference
) -> templatefaults.MissingTemplate:
    """The fault of ``name``, named at ``ref`` in ``filename`` and missing, with the name of
    a template of the theme it may be a misspelling of (compared without the suffix)."""
    stems = {n.rsplit(".", 1)[0]: n for n in template_names(env)}
    close = difflib.get_close_matches(name.rsplit(".", 1)[0], sorted(stems), n=1, cutoff=0.75)
    suggestion = stems[close[0]] if close else ""
    return templatefaults.MissingTemplate(name, filename, ref.line, suggestion)


def template_problems(
    theme: ThemeDirs, language: str, used: Iterable[str] = ()
) -> list[Diagnostic]:
    """A syntax error in any template of ``theme`` the build would read (every name not
    hidden), found without rendering and without keeping compiled code (``showcase check``
    writes nothing): each template is parsed, compiled and its named templates looked up;
    and the warnings of the site's own templates (``use_problems``; ``used``: the names of
    the templates the site's kinds render their items with)."""
    env = environment(theme, language)
    assert env.loader is not None
    problems = []
    for name in template_names(env):
        try:
            source, filename, _uptodate = env.loader.get_source(env, name)
            templateuse.references(source, name, filename)  # parsed as the build parses it
            env.compile(source, name, filename)  # and compiled: an unknown filter or test
            template_closure(env, name)  # and every template it names is there
        except (
            jinja2.TemplateSyntaxError,
            templatefaults.Undecodable,
            templatefaults.MissingTemplate,
        ) as exc:
            problems.append(templatefaults.template_error(exc, theme))
        except (SyntaxError, RecursionError):  # nested deeper than Python compiles or parses
            problems.append(templatefaults.too_nested(filename or name, theme))
        except (jinja2.TemplateError, OSError, UnicodeDecodeError):
            continue  # found when a page renders it
    problems.extend(use_problems(theme, env, used))
    return problems


def has_own_templates(theme: ThemeDirs) -> bool:
    """Whether a folder of the theme's templates is in the site (its theme/ overrides, or a
    theme inside it): content, which the checks look at more closely than a shipped theme."""
    return bool(_own_folders(theme))


def use_problems(
    theme: ThemeDirs, env: jinja2.Environment, used: Iterable[str] = ()
) -> list[Diagnostic]:
    """The warnings of the templates of the site itself (``templateuse``): a block that the
    template it extends does not have, a file that no build reads (``used``: the names of
    the templates the site's kinds render their items with, read whatever the theme has)."""
    folders = [Path(folder) for folder in theme.templates]
    own_folders = _own_folders(theme)
    if not own_folders:
        return []
    assert env.loader is not None
    loader = env.loader

    def source(name: str) -> tuple[str, str]:
        text, filename, _uptodate = loader.get_source(env, name)
        return text, filename or name

    shipped = {n for f in folders if f not in own_folders for n in _names_in(f)} | set(used)
    shipped.update(_names_in(packaged_themes_dir() / DEFAULT_THEME / "templates"))
    own = functools.partial(own_path, theme)
    return templateuse.problems(template_names(env), own, source, shipped)


def _own_folders(theme: ThemeDirs) -> list[Path]:
    """The folders of the theme's templates that are in the site."""
    if theme.source is None:
        return []
    site = theme.source.resolve()
    return [Path(f) for f in theme.templates if Path(f).resolve().is_relative_to(site)]


def own_path(theme: ThemeDirs, name: str) -> str | None:
    """The path in the site of the template ``name`` builds read, when it is the site's own
    (None when a shipped theme's, or none)."""
    first = next((Path(f) for f in theme.templates if (Path(f) / name).is_file()), None)
    if first is None or first not in _own_folders(theme) or theme.source is None:
        return None
    return (first / name).resolve().relative_to(theme.source.resolve()).as_posix()


def _names_in(folder: Path) -> list[str]:
    """The names of the templates in ``folder``."""
    if not folder.is_dir():
        return []
    return [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
