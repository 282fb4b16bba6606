"""What a site's own templates do that their editor cannot have meant, found without
rendering: a block that the template it extends does not have (its content is never shown:
``{% block mian %}``), and a template file that no build reads (``Profile.html`` where the
theme has ``profile.html``). Both are warnings; a template of a shipped theme is not looked
at."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, cast

import jinja2
import jinja2.nodes

from generator.base.errors import Diagnostic

# a template's parse: the template it extends (None when none, or not a plain name), the
# blocks it defines at its top (name, line) and every block it defines anywhere
Shape = tuple[str | None, tuple[tuple[str, int], ...], frozenset[str]]
Source = Callable[[str], tuple[str, str]]  # a template's name -> its source and file


def problems(
    names: Iterable[str],
    own: Callable[[str], str | None],
    source: Source,
    shipped: Iterable[str],
) -> list[Diagnostic]:
    """The warnings of the site's own templates among ``names`` (every template a build
    reads): ``own(name)`` is a template's path in the site, or None for one of a shipped
    theme; ``source(name)`` its text and file; ``shipped`` the names of the theme's own
    templates. A template that does not parse is left to the syntax checks."""
    names, shipped = list(names), frozenset(shipped)
    found: list[Diagnostic] = []
    extra: list[tuple[str, str]] = []  # the site's own templates of names no theme has
    for name in names:
        path = own(name)
        shape = _shape_of(name, source) if path is not None else None
        if path is None or shape is None:
            continue
        found.extend(_unknown_blocks(path, shape, source))
        if name not in shipped:
            extra.append((name, path))
    named = _named_anywhere(names, source) if extra else frozenset()
    for name, path in extra:
        if named is not None and name not in named:
            hint = _same_but_case(name, shipped)
            found.append(Diagnostic.warning(path, 0, "template-unused", name=name, **hint))
    return found


def _same_but_case(name: str, shipped: Iterable[str]) -> dict[str, str]:
    """The theme's name that ``name`` spells in other letter case, as the ``suggestion``."""
    same = sorted(known for known in shipped if known.lower() == name.lower())
    return {"suggestion": same[0]} if same else {}


def _unknown_blocks(path: str, shape: Shape, source: Source) -> list[Diagnostic]:
    """The top blocks of a template that the templates it extends do not have."""
    parent, top, _every = shape
    if parent is None:
        return []
    known = _blocks_above(parent, source)
    if known is None:
        return []
    return [
        Diagnostic.warning(path, line, "template-unknown-block", name=block, parent=parent, **hint)
        for block, line in top
        if block not in known
        for hint in [_closest(block, known)]
    ]


def _closest(name: str, known: Iterable[str]) -> dict[str, str]:
    near = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.7)
    return {"suggestion": near[0]} if near else {}


def _blocks_above(parent: str, source: Source) -> frozenset[str] | None:
    """Every block of ``parent`` and of the templates it extends; None when one of them
    cannot be read or parsed (the other checks say why)."""
    blocks: set[str] = set()
    seen: set[str] = set()
    current: str | None = parent
    while current is not None and current not in seen:
        seen.add(current)
        shape = _shape_of(current, source)
        if shape is None:
            return None
        blocks.update(shape[2])
        current = shape[0]
    return frozenset(blocks)


def _named_anywhere(names: list[str], source: Source) -> frozenset[str] | None:
    """The templates some template extends, includes or imports; None when one names a
    template by a value made as it renders (``{% include "cards/" ~ kind ~ ".html" %}``),
    or cannot be read or parsed (the syntax checks say why): any file could then be read."""
    named: set[str] = set()
    for name in names:
        try:
            text, filename = source(name)
            found = references(text, name, filename)
        except (jinja2.TemplateError, OSError, UnicodeDecodeError, RecursionError):
            return None
        if any(ref.name is None for ref in found):
            return None
        named.update(ref.name for ref in found if ref.name is not None)
    return frozenset(named)


class Reference(NamedTuple):
    """A template that a template names: its name (None when a value made as it renders
    names it), the line naming it, and whether it may be missing (``ignore missing``, or
    one of a list of which the first found is read)."""

    name: str | None
    line: int
    optional: bool


@functools.lru_cache(maxsize=512)
def references(text: str, name: str, filename: str | None) -> tuple[Reference, ...]:
    """The templates ``text`` extends, includes or imports, in order (a syntax error names
    the template's file)."""
    parsed = _ENV.parse(text, name, filename)
    found: list[Reference] = []
    kinds = (jinja2.nodes.Extends, jinja2.nodes.Include, jinja2.nodes.Import)
    for node in parsed.find_all((*kinds, jinja2.nodes.FromImport)):
        target = cast(Any, node).template
        optional = bool(getattr(node, "ignore_missing", False))
        if isinstance(target, jinja2.nodes.Const) and isinstance(target.value, str):
            found.append(Reference(target.value, node.lineno, optional))
        elif isinstance(target, jinja2.nodes.List | jinja2.nodes.Tuple):
            for item in target.items:
                value = item.value if isinstance(item, jinja2.nodes.Const) else None
                found.append(
                    Reference(value if isinstance(value, str) else None, node.lineno, True)
                )
        else:
            found.append(Reference(None, node.lineno, optional))
    return tuple(found)


def _shape_of(name: str, source: Source) -> Shape | None:
    try:
        text, filename = source(name)
        return _parse(text, name, filename)
    except (jinja2.TemplateError, OSError, UnicodeDecodeError, RecursionError):
        return None


@functools.lru_cache(maxsize=256)
def _parse(text: str, name: str, filename: str) -> Shape:
    parsed = _ENV.parse(text, name, filename)
    extends = next(iter(parsed.find_all(jinja2.nodes.Extends)), None)
    target = extends.template if extends is not None else None
    parent = target.value if isinstance(target, jinja2.nodes.Const) else None
    blocks = [node for node in parsed.body if isinstance(node, jinja2.nodes.Block)]
    top = tuple((block.name, block.lineno) for block in blocks)
    every = frozenset(block.name for block in parsed.find_all(jinja2.nodes.Block))
    return (parent if isinstance(parent, str) else None), top, every


_ENV = jinja2.Environment(extensions=["jinja2.ext.i18n"])
