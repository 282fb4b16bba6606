"""Markdown -> HTML, with links and images that point at source files rewritten to the pages
and copied files they become, relative to the page being rendered.
"""

from __future__ import annotations

import hashlib
import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

import markdown
import nh3
from markdown.treeprocessors import InlineProcessor, Treeprocessor

from generator.base import hanzi
from generator.content import paths
from generator.site import urls
from generator.site.bodies import Rendered

EXTENSIONS = ("extra", "sane_lists")
# Raw HTML that editors paste (tables, spans, images) is kept; script, event handlers,
# javascript: URLs, iframes and inline styles are dropped (nh3, the Ammonia sanitizer).
_ATTRIBUTES = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()} | {
    "*": {"id", "class", "title", "lang", "dir"}
}
_URL_SCHEMES = {"http", "https", "mailto", "tel"}
_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)
_TAG = re.compile(r"<[^>]+>")
_BLOCK_END = re.compile(r"</(?:p|h[1-6]|li|td|th|tr|div|blockquote|pre|dt|dd)>|<br\s*/?>", re.I)
_SPACE = re.compile(r"\s+")


MARKUP_VERSION = "2"  # bump when the Markdown configuration changes the HTML


def cache_key(body: str, source: str, page: str, digest: str = "") -> str:
    """What a body's HTML depends on besides its links: the text, where the file is, where
    the page is, and the converter's configuration. The ``digest`` of the source file, when
    given, stands for the text (the file holds it): a key is then made without reading the
    whole body again."""
    text = "\0".join((MARKUP_VERSION, source, page, f"file:{digest}" if digest else f"text:{body}"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _LinkRewriter(Treeprocessor):
    """Rewrites relative ``href``/``src`` that name a source file (by the rule of
    ``content.paths``) to the output's relative URL."""

    def __init__(self, md: markdown.Markdown, targets: Mapping[str, str]) -> None:
        super().__init__(md)
        self.targets = targets
        self.source = ""
        self.page = ""
        self.seen: list[tuple[str, str | None]] = []

    def run(self, root: ET.Element) -> None:
        for element in root.iter():
            for attr in ("href", "src"):
                value = element.get(attr)
                if value:
                    new = self.resolve(value)
                    if not urlsplit(value).scheme and not value.startswith("#"):
                        self.seen.append((value, new))
                    if new == "":  # left out of an edition (another year): plain text
                        del element.attrib[attr]
                    elif new is not None:
                        element.set(attr, new)

    def resolve(self, ref: str) -> str | None:
        parts = urlsplit(ref)
        if parts.scheme or parts.netloc or not parts.path or ref.startswith("#"):
            return None
        found = paths.resolve(unquote(parts.path), self.source, self.targets)
        if found is None:
            return None
        target = self.targets[found]
        if target == "":
            return ""
        link = urls.relative(target, self.page)
        return link + ("#" + parts.fragment if parts.fragment else "")


# the inline patterns of EXTENSIONS, and what each needs in a text to match at all: a
# backtick, a backslash, a bracket ([ or ![), a <, an &, a * or _, or two spaces before a
# line end (a line break)
_INLINE_PATTERNS = frozenset(
    {
        "backtick", "escape", "footnote", "reference", "link", "image_link",
        "image_reference", "short_reference", "short_image_ref", "autolink", "automail",
        "linebreak", "html", "entity", "em_strong",
    }
)  # fmt: skip
_INLINE_NEEDS = re.compile(r"[`\\\[<&*_]|  \n")


class _PlainTextSkipper(InlineProcessor):
    """Python-Markdown's inline stage, which tries each of its patterns on every text of the
    tree, given a text none of them can match (most Chinese prose) as it is at once: the
    same result, without the tries."""

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:
        if patternIndex == 0 and not _INLINE_NEEDS.search(data):
            return data
        handled: str = super()._InlineProcessor__handleInline(data, patternIndex)  # type: ignore[misc]
        return handled


def _skip_plain_text(md: markdown.Markdown) -> None:
    """Use ``_PlainTextSkipper`` when the inline patterns are exactly the known ones (another
    pattern could match other text)."""
    patterns = md.inlinePatterns
    if len(patterns) == len(_INLINE_PATTERNS) and all(n in patterns for n in _INLINE_PATTERNS):
        md.treeprocessors.register(_PlainTextSkipper(md), "inline", 20)


class _HeadingShifter(Treeprocessor):
    """The page's title is its only <h1>: a body that starts its own headings at ``#`` is
    shifted one level down (# -> h2, ## -> h3 ...)."""

    def run(self, root: ET.Element) -> None:
        headings = [e for e in root.iter() if e.tag in ("h1", "h2", "h3", "h4", "h5")]
        if any(e.tag == "h1" for e in headings):
            for element in headings:
                element.tag = f"h{int(element.tag[1]) + 1}"


class Converter:
    """One Markdown converter per build, reset before each document."""

    def __init__(self, targets: Mapping[str, str], summary_length: int) -> None:
        self._md = markdown.Markdown(extensions=list(EXTENSIONS), output_format="html")
        _skip_plain_text(self._md)
        self._links = _LinkRewriter(self._md, targets)
        self._md.treeprocessors.register(self._links, "showcase-links", 1)
        self._md.treeprocessors.register(_HeadingShifter(self._md), "showcase-headings", 2)
        self.summary_length = summary_length

    @property
    def targets(self) -> Mapping[str, str]:
        """What a link to a source file may lead to: source path -> output path ("" for a
        file left out of an edition)."""
        return self._links.targets

    def convert(self, body: str, source: str, page: str) -> Rendered:
        self._links.source = source
        self._links.page = page
        self._links.seen = []
        self._md.reset()
        body_html = sanitize(self._md.convert(body))
        links = tuple(dict.fromkeys(self._links.seen))
        summary = summary_of(body_html, self.summary_length)
        text = plain_text(body_html)
        return Rendered(body_html, summary, links, text)

    def still_valid(self, rendered: Rendered, source: str, page: str) -> bool:
        """Whether every reference of a cached body still resolves as it did."""
        self._links.source = source
        self._links.page = page
        return all(self._links.resolve(ref) == was for ref, was in rendered.links)


def sanitize(fragment: str) -> str:
    return nh3.clean(fragment, attributes=_ATTRIBUTES, url_schemes=_URL_SCHEMES, link_rel=None)


def plain_text(fragment: str) -> str:
    """The text of an HTML fragment: the one way the build turns a body into plain text (for
    summaries and the search index). Tags go, a block's end separates words, entities are
    read, runs of white space become one space."""
    text = _BLOCK_END.sub(" ", fragment)
    text = html.unescape(_TAG.sub("", text))
    return _SPACE.sub(" ", text).strip()


def summary_of(body_html: str, length: int) -> str:
    """The start of the body's paragraphs as plain text, cut by characters: the paragraphs
    after the first ``length`` characters are not read (the cut needs no more)."""
    parts: list[str] = []
    size = -1  # the length of the parts joined by spaces
    for match in _PARAGRAPH.finditer(body_html):
        text = plain_text(match.group(1))  # white space collapsed, as ``truncate`` has it
        if text:
            parts.append(text)
            size += len(text) + 1
            if size > length:
                break
    return hanzi.truncate(" ".join(parts), length)
