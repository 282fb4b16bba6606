"""Split YAML front matter from a Markdown body and parse it, keeping *file* line numbers.

Every value of the front matter is mapped to the line it stands on in the file, as a dotted
path (``honors``, ``items.2.status``), so later stages can point an editor at the exact line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from generator.base.errors import Diagnostic
from generator.content import limits, yamlslips

try:  # the C loader is several times faster; fall back when libyaml is missing
    _BaseLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _BaseLoader = yaml.SafeLoader


# resolvers left out: what they read stays text, and the field's checker reads it. Dates stay
# text so that the schema can check them and point at their line (PyYAML would fail on
# 2025-02-30 with no position); numbers, so that text is kept as written (``0123`` would be
# 83, ``1.50`` 1.5, ``12:30`` 750) and the checker of a number field reads the digits; yes, no,
# on and off, so that they are text too (the YAML 1.2 rule).
_AS_TEXT = frozenset(f"tag:yaml.org,2002:{name}" for name in ("timestamp", "int", "float", "bool"))


class SafeLoader(_BaseLoader):  # type: ignore[misc]
    """Safe YAML where only true, false and null are read as anything but text (see
    ``_AS_TEXT``)."""

    yaml_implicit_resolvers = {  # noqa: RUF012 - the attribute PyYAML reads
        first: [(tag, rx) for tag, rx in resolvers if tag not in _AS_TEXT]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }


# every boolean but true and false stays text; only true and false (any case) are booleans
SafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


FENCE = "---"
# C0 controls but tab and line feed, DEL, and C1 controls: never part of text
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MAX_DEPTH = 20  # nesting of front matter values; real content needs three or four
FENCE_ENDS = ("---", "...")


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """A parsed YAML value with the file line of each value (1-based) by dotted path."""

    data: Any
    lines: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FrontMatter:
    meta: dict[str, Any]
    lines: dict[str, int]
    body: str
    body_line: int


def normalise_text(raw: str) -> str:
    """Drop a byte-order mark and control characters other than tab and line ends (they
    make XML, such as the feed, not well-formed), and turn CRLF and CR line ends into LF."""
    if raw.startswith("\ufeff"):
        raw = raw[1:]
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text) if _CONTROL.search(text) else text


def parse_yaml(
    text: str, path: str, first_line: int = 1
) -> tuple[YamlDocument | None, list[Diagnostic]]:
    """Parse YAML whose first line is line ``first_line`` of file ``path``."""
    offset = first_line - 1
    try:
        refused = _refused(text)
        if refused is not None:
            code, line = refused
            return None, [Diagnostic.error(path, line + offset, code, limit=MAX_DEPTH)]
        loader = SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return YamlDocument(None, {}), []
            problems: list[Diagnostic] = []
            lines: dict[str, int] = {}
            _walk(node, offset, lines, problems, path)
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + offset if mark is not None else first_line
        problem = (exc.problem or exc.context or "").strip()
        return None, [yamlslips.explain(text, path, first_line, line, problem)]
    except RecursionError:
        # nesting so deep that the YAML parser itself gives up (thousands of brackets)
        return None, [Diagnostic.error(path, first_line, "yaml-too-deep", limit=MAX_DEPTH)]
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        return None, [yamlslips.explain(text, path, first_line, first_line, str(exc))]
    return YamlDocument(data, lines), [*problems, *yamlslips.lint(text, path, first_line)]


# tuples, not unions (``A | B``): ``isinstance`` is then many times quicker
_OPENING = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSING = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def _refused(text: str) -> tuple[str, int] | None:
    """The first thing refused before any node is built, as (code, line), or None: a list or
    mapping nested deeper than ``MAX_DEPTH`` (``yaml-too-deep``), or an alias (``*name``,
    ``yaml-alias``), which lets a few hundred bytes stand for billions of values.

    Read from the parser's event stream (flat, no recursion): the C composer recurses per
    level and thousands of ``[`` would overflow the C stack."""
    loader = SafeLoader(text)
    depth = 0
    try:
        while True:
            event = loader.get_event()
            if isinstance(event, _OPENING):
                depth += 1
                if depth > MAX_DEPTH + 1:  # the front matter's own mapping is level 0
                    return "yaml-too-deep", _line(event.start_mark)
            elif isinstance(event, _CLOSING):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                return "yaml-alias", _line(event.start_mark)
            elif event is None or isinstance(event, yaml.StreamEndEvent):
                return None
    except yaml.MarkedYAMLError as exc:
        # libyaml 0.2.5+ (PyYAML 6.0.4 wheels) stops at its own nesting limit while scanning
        if "nesting depth" in str(exc.problem or ""):
            return "yaml-too-deep", _line(exc.problem_mark)
        return None  # any other problem is reported by the real parse
    finally:
        loader.dispose()


def _line(mark: Any) -> int:
    return mark.line + 1 if mark is not None else 1


def _walk(
    root: yaml.Node,
    offset: int,
    lines: dict[str, int],
    problems: list[Diagnostic],
    path: str,
) -> None:
    """Record the file line of every value by dotted path and report duplicate keys.

    Iterative, so deep nesting cannot hit the recursion limit; a node reached again through
    an alias (``*name``) is not walked twice, so alias bombs and recursive anchors stay cheap.
    """
    seen_nodes: set[int] = set()
    # (node, dotted path, line of its key or 0)
    stack: list[tuple[yaml.Node, str, int]] = [(root, "", 0)]
    while stack:
        node, prefix, line = stack.pop()
        # A key's line is where the key stands; a list item's line is where the item starts.
        if prefix:
            lines[prefix] = line or node.start_mark.line + 1 + offset
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        children: list[tuple[yaml.Node, str, int]] = []
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
                child = f"{prefix}.{key}" if prefix else key
                key_line = key_node.start_mark.line + 1 + offset
                if key in seen:
                    problems.append(
                        Diagnostic.error(path, key_line, "duplicate-key", child, key=key)
                    )
                seen.add(key)
                children.append((value_node, child, key_line))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = f"{prefix}.{index}" if prefix else str(index)
                children.append((item, child, 0))
        stack.extend(reversed(children))


def split(text: str, path: str) -> tuple[FrontMatter | None, list[Diagnostic]]:
    """Split and parse the front matter of a normalised Markdown document."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != FENCE:
        if not text.strip():
            return None, [Diagnostic.error(path, 1, "empty-file")]
        return None, [Diagnostic.error(path, 1, "no-front-matter", first=lines[0][:40])]
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in FENCE_ENDS), None)
    if end is None:
        return None, [Diagnostic.error(path, 1, "unclosed-front-matter")]
    meta_text = "\n".join(lines[1:end])
    doc, problems = parse_yaml(meta_text, path, first_line=2)
    if doc is None:
        return None, problems
    meta = doc.data if doc.data is not None else {}
    if not isinstance(meta, dict):
        # a single line such as ``name：单晓燕`` reads as text, not as a field
        slip = yamlslips.explain(meta_text, path, 2, end, "")
        if slip.code == "yaml-syntax":
            slip = Diagnostic.error(path, 2, "front-matter-not-mapping")
        return None, [*problems, slip]
    body = "\n".join(lines[end + 1 :])
    problems.extend(limits.body_problems(body, path, end + 2))
    return FrontMatter({str(k): v for k, v in meta.items()}, doc.lines, body, end + 2), problems
