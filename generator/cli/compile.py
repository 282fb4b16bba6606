"""``showcase compile YEAR``: the year's compilation of model-worker stories (先进事迹汇编) as one
print-ready HTML file, and a PDF made from it with WeasyPrint.

The HTML stands alone: photos are embedded as data URIs and the print stylesheet is inline, so
the file can be mailed, archived or printed from any browser. The layout (cover, table of
contents by unit with page numbers, one story per section, page numbers in the footer) is CSS
paged media in the theme's ``compile.html``, which sites can override like any template.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import mimetypes
import posixpath
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from markupsafe import Markup

from generator import build
from generator.base import messages
from generator.base.config import DEFAULT_LANGUAGE
from generator.base.errors import Diagnostic, has_errors
from generator.cli import console as reporting
from generator.cli import parsing
from generator.output import images, templatefaults, theme, writer
from generator.pages import base
from generator.pages.view import SiteView
from generator.site import stats
from generator.site.bodies import Rendered
from generator.site.model import Profile, Site

FORMATS = ("pdf", "html")
PAGE_PATH = "compile.html"  # where the compilation would sit in the output, for links
TEMPLATE = "compile.html"
_IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]+)(")')
_A_HREF = re.compile(r'(\shref=")([^"]*)(")')
EXIT_OK, EXIT_CONTENT, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Section:
    """One unit of the table of contents and its stories, in the site's name order."""

    unit: str
    profiles: tuple[Profile, ...]


@dataclass(frozen=True, slots=True)
class Compilation:
    """The outcome: the HTML (empty when there are errors) and what an editor must read."""

    html: str
    sections: tuple[Section, ...]
    diagnostics: tuple[Diagnostic, ...]
    language: str = DEFAULT_LANGUAGE

    @property
    def ok(self) -> bool:
        return bool(self.html) and not has_errors(self.diagnostics)

    @property
    def stories(self) -> int:
        return sum(len(s.profiles) for s in self.sections)


def sections(site: Site, year: int) -> tuple[Section, ...]:
    """The year's profiles grouped by company (tree order), names in the site's order."""
    profiles = [p for p in site.profiles if p.year == year]
    return tuple(
        Section(group.title, stats.ordered_names(group.items, site.config.name_order))
        for group in base.group_by_company(site, profiles)
    )


def data_uri(path: Path, limit: int) -> str:
    """The file as a data URI; a photo as the site publishes it (at most ``limit`` pixels on
    the long side, upright, without EXIF)."""
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    data = images.for_print(path, limit)
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def _embed_images(
    html: str, page: str, by_output: Mapping[str, str], source: Path, limit: int
) -> str:
    """Replace links to the site's own images (relative to ``page``) by data URIs."""

    def replace(match: re.Match[str]) -> str:
        src = match.group(2)
        if ":" in src or src.startswith(("/", "#")):
            return match.group(0)
        target = posixpath.normpath(posixpath.join(posixpath.dirname(page), src))
        rel = by_output.get(target)
        if rel is None or not (source / rel).is_file():
            return match.group(0)
        return match.group(1) + data_uri(source / rel, limit) + match.group(3)

    return _IMG_SRC.sub(replace, html)


def compile_year(source: Path, year: int, drafts: bool = False) -> Compilation:
    """Analyse the site and render the compilation of ``year`` as one HTML document, with the
    build's stages: its analysis, its Markdown conversion and its render environment."""
    analysis = build.analyse(source, drafts=drafts)
    site, plan, theme_dirs = analysis.site, analysis.plan, analysis.theme
    language = site.config.language
    problems = list(analysis.diagnostics)
    if has_errors(problems) or theme_dirs is None:
        return Compilation("", (), tuple(problems), language)
    chosen = sections(site, year)
    if not chosen:
        years = "、".join(str(y) for y in site.years) or "-"
        problems.append(
            Diagnostic.error("profiles", 0, "compile-no-profiles", year=year, years=years)
        )
        return Compilation("", (), tuple(problems), language)
    profiles = [p for s in chosen for p in s.profiles]
    converted = build.convert_bodies(profiles, plan, build.markdown_converter(site, plan))
    by_output = {out: rel for rel, out in plan.assets.items()}
    story_id = {p.key: f"story-{n}" for n, p in enumerate(profiles, start=1)}
    stories = {plan.items[key]: f"#{anchor}" for key, anchor in story_id.items()}
    bodies = {}
    photos: dict[str, str] = {}
    limit = site.config.photo_max_size
    for profile in profiles:
        rendered = converted[profile.key]
        html = _embed_images(rendered.html, plan.items[profile.key], by_output, source, limit)
        html = _relink(html, plan.items[profile.key], stories, site.config.base_url)
        bodies[profile.key] = Rendered(html, rendered.text_summary)
        if profile.photo is not None:
            photos[profile.key] = data_uri(source / profile.photo.source, limit)
    env = build.render_environment(theme_dirs, language, SiteView(site, plan, bodies), plan)
    context: dict[str, Any] = {
        "page_path": PAGE_PATH,
        "year": year,
        "sections": chosen,
        "photos": photos,
        "bodies": {k: Markup(v.html) for k, v in bodies.items()},
        "story_id": story_id,
    }
    try:
        html = env.get_template(TEMPLATE).render(context)
    except (Exception, RecursionError) as exc:  # any template fault is the editor's error
        fault = templatefaults.template_error(exc, theme_dirs)
        if fault.path == "?":  # found as it compiled: the template is the compilation's
            fault = dataclasses.replace(
                fault, path=theme.own_path(theme_dirs, TEMPLATE) or TEMPLATE
            )
        problems.append(fault)
        return Compilation("", chosen, tuple(problems), language)
    return Compilation(html, chosen, tuple(problems), language)


def _relink(html: str, page: str, stories: Mapping[str, str], base_url: str) -> str:
    """Links of a body (relative to ``page``) in the compilation: to a story of it, its
    anchor; to another page of the site, its address under ``base_url`` (plain text without
    one); links with a scheme (https:, mailto:) and anchors stay as they are."""

    def replace(match: re.Match[str]) -> str:
        href = match.group(2)
        if href.startswith("#") or re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", href):
            return match.group(0)
        target = posixpath.normpath(posixpath.join(posixpath.dirname(page), href.split("#")[0]))
        if target in stories:
            return match.group(1) + stories[target] + match.group(3)
        if base_url.startswith(("http://", "https://")):
            return match.group(1) + base_url.rstrip("/") + "/" + target + match.group(3)
        return ""  # the link's text stays, as plain text

    return _A_HREF.sub(replace, html)


def write_pdf(html: str, target: Path, base: Path) -> list[str]:
    """Lay out the HTML with WeasyPrint (CJK text from the system's Noto CJK fonts). Nothing
    is fetched from the network, nor read from outside the site folder ``base``: returns the
    addresses left out."""
    import weasyprint  # a heavy import, only for this command

    fetcher = site_fetcher(base)
    document = weasyprint.HTML(string=html, base_url=str(base.resolve()), url_fetcher=fetcher)
    document.write_pdf(str(target))
    return list(dict.fromkeys(fetcher.refused))


def inside(url: str, root: Path) -> bool:
    """Whether ``url`` is a data: URL, or a file: URL of a file inside ``root``."""
    parts = urlsplit(url)
    if parts.scheme == "data":
        return True
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return False
    path = Path(url2pathname(parts.path)).resolve()
    return path.is_relative_to(root.resolve()) and path.is_file()


def site_fetcher(root: Path) -> Any:
    """A WeasyPrint URL fetcher that serves only ``inside`` URLs and refuses every other."""
    import weasyprint.urls

    class SiteFetcher(weasyprint.urls.URLFetcher):  # type: ignore[misc]
        refused: list[str] = []  # noqa: RUF012 - one fetcher per document

        def fetch(self, url: str, headers: Any = None) -> Any:
            if not inside(url, root):
                self.refused.append(url[:120])
                raise ValueError(f"not fetched: {url[:80]}")
            return super().fetch(url, headers)

    return SiteFetcher(allowed_protocols={"data", "file"}, allow_redirects=False)


def default_output(year: int, fmt: str) -> Path:
    return Path(f"compilation-{year}.{fmt}")


def add_parser(sub: Any) -> None:
    text = _text
    p = sub.add_parser("compile", help=text("cli-compile"), description=text("cli-compile"))
    p.add_argument(
        "year", type=int, metavar=text("cli-metavar-year"), help=text("cli-compile-year")
    )
    p.add_argument(
        "source",
        nargs="?",
        default=None,
        metavar=text("cli-metavar-source"),
        help=text("cli-source"),
    )
    p.add_argument("--format", choices=FORMATS, default="pdf", help=text("cli-compile-format"))
    p.add_argument("-o", "--output", default=None, help=text("cli-compile-output"))
    p.add_argument("--drafts", action="store_true", help=text("cli-drafts"))
    p.set_defaults(func=run)


def _text(code: str, **params: Any) -> str:
    return messages.text(DEFAULT_LANGUAGE, code, **params)


def run(args: argparse.Namespace) -> int:
    source = Path(args.source)
    if not source.is_dir():
        print(_text("source-missing", path=source, command=f"compile {args.year}"), file=sys.stderr)
        return EXIT_USAGE
    target = (
        Path(args.output)
        if args.output
        else parsing.beside_source(source, default_output(args.year, args.format).name)
    )
    result = compile_year(source, args.year, args.drafts)
    lang = result.language
    for diagnostic in result.diagnostics:
        if diagnostic.is_error:
            print(reporting.format_diagnostic(diagnostic, lang, source), file=sys.stderr)
    if not result.ok:
        print(messages.text(lang, "compile-failed", year=args.year), file=sys.stderr)
        return EXIT_CONTENT
    try:
        with writer.atomic_path(target) as partial:  # a reader never sees half a file
            if args.format == "html":
                partial.write_text(result.html, encoding="utf-8")
            else:
                for url in write_pdf(result.html, partial, source):
                    print(messages.text(lang, "compile-not-fetched", url=url), file=sys.stderr)
    except ImportError:
        print(messages.text(lang, "compile-no-weasyprint"), file=sys.stderr)
        return EXIT_USAGE
    reporting.say(
        messages.text(
            lang,
            "compile-done",
            year=args.year,
            stories=result.stories,
            units=len(result.sections),
            output=target,
        )
    )
    return EXIT_OK
