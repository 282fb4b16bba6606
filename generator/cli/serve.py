"""``showcase serve``: build into a private folder, serve it with livereload, rebuild once per
batch of changes, reload the browser, and show content errors in an overlay on the page (the
warnings of a good build in a small collapsed panel at a bottom corner).

The served folder is a private one in the build cache (``.showcase-cache/serve-site``), so
previewing (drafts included) never touches the published output, and a later start with
nothing changed serves it at once. Only files inside that folder are served.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import gc
import html
import logging
import mimetypes
import os
import posixpath
import re
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Protocol
from urllib.parse import quote, unquote

from generator.base import messages
from generator.base.config import DEFAULT_LANGUAGE, BuildOptions
from generator.base.errors import Diagnostic, Severity
from generator.base.report import BuildReport
from generator.build import build, on_demand, planned_pages
from generator.cli import console as reporting
from generator.cli import watching
from generator.output import cache
from generator.output.cache import CACHE_DIR
from generator.output.ondemand import OnDemand
from generator.site import search

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
# the watcher looks for changes every STEP_MS: a batch ends at the first look that finds
# nothing new (so 1-2 steps after the last change: an editor's save, temporary file and
# rename included, takes a few milliseconds); it is cut at DEBOUNCE_MS
DEBOUNCE_MS = 400
STEP_MS = 20
BODY_OPEN = re.compile(rb"<body[^>]*>", re.I)
BODY_CLOSE = b"</body"
OVERLAY_ID = "showcase-error-overlay"
WARNINGS_ID = "showcase-build-warnings"
WARNINGS_SHOWN = 20  # warnings listed in the browser; the others are counted
# what the browsers are told when the later pages of lists moved in after they reloaded: a
# browser showing such a page (``…/page/<n>/``) reloads, the others stay as they are
LATER_PAGES = "showcase:later-pages"
HEAD_CLOSE = re.compile(rb"</head\s*>", re.I)
# a livereload.js plugin (found by its name when livereload.js starts): a reload told
# LATER_PAGES reloads the page only when it is a later page of a list
RELOAD_PLUGIN = (
    "<script>window.LiveReloadPluginShowcase=function(){};"
    'LiveReloadPluginShowcase.identifier="showcase";'
    'LiveReloadPluginShowcase.version="1";'
    "LiveReloadPluginShowcase.prototype.reload=function(path){"
    f'if(path!=="{LATER_PAGES}")return false;'
    "if(/\\/page\\/\\d+\\/(index\\.html)?$/.test(location.pathname))location.reload();"
    "return true;};</script>"
).encode()


class Reload(Protocol):
    """Tells the browsers to reload: every one, or with ``LATER_PAGES``, those showing a
    later page of a list."""

    def __call__(self, path: str = "*") -> None: ...


@dataclass
class ServeState:
    """What the server knows about the latest build: changed by the builds (the first, the
    watcher's rebuilds, the warm-up), one at a time under ``lock``."""

    options: BuildOptions
    report: BuildReport | None = None
    built_once: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    store: cache.Cache | None = None
    printed: frozenset[Diagnostic] = frozenset()  # the diagnostics of the last report printed
    # while the first build of a preview with no served folder yet runs, pages are made as
    # they are asked for (``first_build``); the watcher's rebuilds wait for ``started``
    preview: OnDemand | None = None
    started: threading.Event = field(default_factory=threading.Event)
    stopped: bool = False  # the first build stopped by a fault of the tool
    # while a rebuild that planned its pages anew runs, its pages made as they are asked for
    # (``rebuild``'s ``previewed``); ``missed``: a request they did not answer was answered
    # with a file of the folder as the last build left it
    during: OnDemand | None = None
    missed: bool = False
    # the report of the last build when they were handed over: the one they are served with
    during_report: BuildReport | None = None
    # the page of each item as last planned, and where the page of an item that moved since
    # serve started went (a changed name changes its address): old path -> new path
    pages: Mapping[str, str] = field(default_factory=dict)
    moved: dict[str, str] = field(default_factory=dict)

    @property
    def language(self) -> str:
        if self.report is not None:
            return self.report.language
        return self.preview.language if self.preview is not None else DEFAULT_LANGUAGE

    def rebuild(
        self,
        whole: bool = False,
        persist: bool = True,
        changed: frozenset[str] | None = None,
        shown: Callable[[], None] | None = None,
        previewed: Callable[[], None] | None = None,
    ) -> BuildReport:
        """Build what changed (with ``whole``, run every stage even when nothing did); the
        watcher tells which files ``changed`` (relative to the source) since the last
        rebuild, and is told as soon as the changed pages are ``shown`` in the output (the
        build then finishes the search index and its records; the pages are served with
        the report of the build so far), and, when the build plans the pages anew, as soon
        as they are served made on demand meanwhile (``previewed``, see ``during``). Without
        ``persist``, what the cache writes once per build waits for ``persist``: the caller
        reloads the browsers first."""
        with self.lock:
            self.opened()
            # the site in memory is large: a full collection during the rebuild would cost
            # a fifth of it; garbage is collected once the rebuild is over
            gc.disable()
            try:
                report = build(
                    self.options,
                    store=self.store,
                    whole=whole,
                    changed=changed,
                    shown=self._told(shown) if shown is not None else None,
                    own_output=True,
                    previewed=self._during(previewed) if previewed is not None else None,
                )
                # the served folder, or the errors, are shown from now on: the pages made on
                # demand go with the garbage collected below
                self.preview = None
                self.note_moves()
            finally:
                self.during = None
                if persist:
                    self._persist()
            self.report = report
            self.built_once = self.built_once or report.ok
        return report

    def note_moves(self) -> None:
        """Take the pages of the items as last planned, and note where each item's page moved
        from the one planned before (``moved``)."""
        now = planned_pages(self.store)
        if self.pages and now is not self.pages:
            gone = {old: now[key] for key, old in self.pages.items() if now.get(key, old) != old}
            if gone:
                moved = {old: gone.get(new, new) for old, new in self.moved.items()}
                moved.update(gone)
                self.moved = {old: new for old, new in moved.items() if new != old}
        self.pages = now

    def opened(self) -> cache.Cache | None:
        """The cache, opened at the first call and kept open, with what it holds kept in
        memory, for every rebuild (None without a cache folder)."""
        if self.store is None and self.options.cache_dir is not None:
            self.store = cache.Cache.open(self.options.cache_dir, remember=True)
        return self.store

    def _told(self, shown: Callable[[], None]) -> Callable[[BuildReport], None]:
        """What the build tells when the pages are in the output: its report so far is the
        one the pages are served with, then ``shown`` is called."""

        def told(report: BuildReport) -> None:
            self.report = report
            self.built_once = True
            self.note_moves()
            shown()

        return told

    def _during(self, previewed: Callable[[], None]) -> Callable[[OnDemand], None]:
        """What the build hands its pages to make on demand to: they are served from now on
        until it is over, then ``previewed`` is called."""

        def handed(pages: OnDemand) -> None:
            self.missed = False
            self.during_report = self.report
            self.during = pages
            self.note_moves()
            previewed()

        return handed

    def persist(self) -> None:
        """Write what the last rebuild left for the cache to write, and collect its garbage
        (see ``rebuild``)."""
        with self.lock:
            self._persist()

    def _persist(self) -> None:
        if self.store is not None:
            self.store.flush()
        gc.enable()
        gc.collect()

    def failed(self, exc: Exception) -> None:
        """Say a fault of the tool that stopped a rebuild, and ``forget``."""
        print(reporting.internal_error(exc), file=sys.stderr, flush=True)
        self.forget()

    def forget(self) -> None:
        """Let go of the cache and what it keeps in memory, after a rebuild that failed
        half way by a fault of the tool: the next rebuild opens the cache again and reads
        the whole source."""
        with self.lock:
            store, self.store = self.store, None
            if store is not None:
                with contextlib.suppress(Exception):
                    store.close()
            gc.enable()

    def warm_up(self) -> threading.Thread | None:
        """After a start that found nothing changed (and so read nothing), a rebuild of every
        stage in the background: the site, its pages and the records of the output are then
        in memory, and the first edit is as quick as the next ones."""
        report = self.report
        if report is None or not report.ok or report.stages:
            return None
        thread = threading.Thread(target=self._warm, daemon=True)
        thread.start()
        return thread

    def _warm(self) -> None:
        """``rebuild`` of every stage; a fault of the tool is said, and the cache let go of,
        as in a rebuild on a change."""
        try:
            self.rebuild(True)
        except Exception as exc:
            self.failed(exc)


def watched(source: Path) -> Callable[[Any, str], bool]:
    """The filter of the watcher: every file under ``source`` except hidden ones (the build
    cache, .git) and editors' temporary files."""
    root = source.resolve()
    prefix = str(root) + os.sep

    def wanted(_change: Any, path: str) -> bool:
        try:  # a path the watcher gives is under the resolved root: no look at the disk
            if path.startswith(prefix):
                parts: tuple[str, ...] = tuple(path[len(prefix) :].split(os.sep))
            else:
                parts = Path(path).resolve().relative_to(root).parts
        except ValueError:
            return False
        name = parts[-1] if parts else ""
        hidden = any(part.startswith(".") for part in parts)
        return not hidden and not name.endswith(("~", ".swp", ".swx", ".tmp"))

    return wanted


def overlay(report: BuildReport, root: Path) -> str:
    """The error overlay shown on top of the last good page while content has errors; the
    build's warnings, if any, are listed below the errors."""
    lang = report.language
    items = "".join(_listed(d, lang, root) for d in report.diagnostics if d.is_error)
    title = html.escape(messages.text(lang, "serve-overlay-title"))
    note = html.escape(messages.text(lang, "serve-overlay-note"))
    return (
        f'<div id="{OVERLAY_ID}" role="alert" style="position:fixed;inset:0;z-index:99999;'
        "overflow:auto;background:rgba(20,20,20,.92);color:#fff;padding:2em;"
        'font:15px/1.6 system-ui,sans-serif">'
        f'<h2 style="color:#ffb4a8;margin:0 0 .5em">{title}</h2><p>{note}</p>'
        f'<ol style="padding-left:1.2em">{items}</ol>{_overlay_warnings(report, root)}</div>'
    )


def build_warnings(report: BuildReport) -> list[Diagnostic]:
    """The warnings of a build (not its errors, nor its info-level notes)."""
    return [d for d in report.diagnostics if d.severity is Severity.WARNING]


def _listed(diagnostic: Diagnostic, lang: str, root: Path) -> str:
    """One diagnostic as a list item: its console text, escaped, in a wrapping <pre>."""
    text = html.escape(reporting.format_diagnostic(diagnostic, lang, root))
    return f'<li><pre style="white-space:pre-wrap;overflow-wrap:anywhere">{text}</pre></li>'


def _warning_list(warnings: list[Diagnostic], lang: str, root: Path) -> str:
    """The first WARNINGS_SHOWN warnings as an ordered list, then a line counting the others
    and pointing to ``showcase check``, which lists them all."""
    shown = warnings[:WARNINGS_SHOWN]
    items = "".join(_listed(d, lang, root) for d in shown)
    listing = f'<ol style="margin:0;padding-left:1.4em">{items}</ol>'
    more = len(warnings) - len(shown)
    if more:
        folded = html.escape(messages.text(lang, "serve-warnings-more", count=more))
        listing += f'<p style="margin:.5em 0 0">{folded}</p>'
    return listing


def _overlay_warnings(report: BuildReport, root: Path) -> str:
    """The warnings part of the error overlay: a heading and the capped list, or nothing."""
    warnings = build_warnings(report)
    if not warnings:
        return ""
    lang = report.language
    heading = html.escape(messages.text(lang, "serve-overlay-warnings", count=len(warnings)))
    return f'<h3 style="color:#ffe08a;margin:1em 0 .5em">{heading}</h3>' + _warning_list(
        warnings, lang, root
    )


def warnings_panel(report: BuildReport, root: Path) -> str:
    """The warnings of a good build, in a small panel fixed at the bottom right corner of the
    page: a <details> collapsed to one line counting them (it opens without JavaScript),
    which lists them as the console does and says the site was updated. It never grows
    past the window, scrolling inside instead, so the page stays readable on a phone. An
    empty block as tall as the folded panel comes before it, at the end of the page, so
    that the page's last line can scroll above the panel. Empty when the build has no
    warnings."""
    warnings = build_warnings(report)
    if not warnings:
        return ""
    lang = report.language
    title = html.escape(messages.text(lang, "serve-warnings-title", count=len(warnings)))
    note = html.escape(messages.text(lang, "serve-warnings-note"))
    return (
        # the folded panel and its margin are about 41 px tall: the page ends 48 px lower
        '<div aria-hidden="true" style="height:48px"></div>'
        f'<details id="{WARNINGS_ID}" style="position:fixed;right:8px;bottom:8px;'
        "z-index:99998;box-sizing:border-box;max-width:min(42em,calc(100vw - 16px));"
        "max-height:calc(100vh - 16px);overflow:auto;margin:0;background:#fff8e1;"
        "color:#3d2e00;border:1px solid #d9a400;border-radius:6px;"
        "box-shadow:0 2px 10px rgba(0,0,0,.25);font:14px/1.5 system-ui,sans-serif;"
        'text-align:left">'
        # the summary stays in sight while the open list scrolls, to fold it again
        '<summary style="position:sticky;top:0;background:#fff8e1;cursor:pointer;'
        'padding:.35em .8em;font-weight:600">'
        f"{title}</summary>"
        f'<div style="padding:0 .8em .6em"><p style="margin:.3em 0 .6em">{note}</p>'
        f"{_warning_list(warnings, lang, root)}</div></details>"
    )


def error_page(report: BuildReport, root: Path) -> bytes:
    title = html.escape(messages.text(report.language, "serve-overlay-title"))
    return (
        f'<!DOCTYPE html><html lang="{report.language}"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body>{overlay(report, root)}</body></html>"
    ).encode()


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    """The Host headers the preview answers: the address it printed and the local names.
    Any other (a DNS-rebinding page, for one) is refused."""
    names = {host, "localhost", "127.0.0.1", "[::1]"}
    if ":" in host and not host.startswith("["):
        names.add(f"[{host}]")
    return frozenset(n.lower() for name in names for n in (name, f"{name}:{port}"))


def origin_allowed(origin: str, hosts: frozenset[str]) -> bool:
    """Whether a browser ``Origin`` (``http://host:port``) is the preview itself."""
    scheme, _, rest = origin.partition("://")
    return scheme in ("http", "https") and rest.rstrip("/").lower() in hosts


def guard_livereload(hosts: frozenset[str]) -> None:
    """The reload websocket accepts only pages of the preview itself (its Origin and Host)."""
    from livereload.handlers import LiveReloadHandler

    def check_origin(handler: Any, origin: str) -> bool:
        return origin_allowed(origin, hosts) and handler.request.host.lower() in hosts

    LiveReloadHandler.check_origin = check_origin


def _respond(
    start: StartResponse,
    status: str,
    body: bytes,
    ctype: str,
    extra: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    headers = [
        ("Content-Type", ctype),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        *(extra or []),
    ]
    start(status, headers)
    return [body]


def _request_path(raw: str) -> str:
    """A request path as a path relative to the site's root ("" for the root itself), never
    above it."""
    rel = posixpath.normpath("/" + raw).lstrip("/")
    return "" if rel == "." else rel


def _content_type(name: str) -> str:
    """The Content-Type of a served file, by its name (HTML in UTF-8)."""
    ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return "text/html; charset=utf-8" if ctype == "text/html" else ctype


def _served_file(output: Path, raw: str) -> tuple[str, Path | str]:
    """What a request path names in ``output``: ("301", the path with a slash) for a folder
    asked without one, else (status, file), a missing file being the 404 page."""
    rel = _request_path(raw)
    target = (output / rel) if rel else output
    if target.is_dir():
        if raw and not raw.endswith("/"):
            return "301 Moved Permanently", _folder_address(rel)
        target = target / "index.html"
    if not target.is_file() or not target.resolve().is_relative_to(output.resolve()):
        return "404 Not Found", output / "404.html"
    return "200 OK", target


def _folder_address(rel: str) -> str:
    """Where a folder asked for without its slash is, as served: from the root, never
    "//host/..." (another site), "/" for the root itself ("/..")."""
    return quote("/" + rel + "/") if rel else "/"


def make_app(
    state: ServeState, hosts: frozenset[str] | None = None
) -> Callable[[dict[str, Any], StartResponse], list[bytes]]:
    """A WSGI app serving the build output, with the overlay injected while a build fails
    and the warnings panel while a good build has warnings; with ``hosts``, a request for
    any other Host is refused."""
    output = state.options.output

    def app(environ: dict[str, Any], start: StartResponse) -> list[bytes]:
        report = state.report
        preview = state.preview
        if preview is not None and not state.built_once:
            path = unquote(environ.get("PATH_INFO", "/"))
            return _from_preview(start, preview, path, state.stopped)
        if not state.built_once and report is not None:
            page = error_page(report, state.options.source)
            return _respond(start, "200 OK", page, "text/html; charset=utf-8")
        moved = _moved_to(state, unquote(environ.get("PATH_INFO", "/")))
        if moved is not None:
            return _respond(start, "302 Found", b"", "text/plain", [("Location", moved)])
        during = state.during
        if during is not None:
            raw = unquote(environ.get("PATH_INFO", "/"))
            made = _from_rebuild(start, during, raw, state.during_report)
            if made is not None:
                return made
            state.missed = True  # served as the folder holds it, not as the rebuild makes it
        status, target = _served_file(output, unquote(environ.get("PATH_INFO", "/")))
        if isinstance(target, str):
            return _respond(start, status, b"", "text/plain", [("Location", target)])
        body = target.read_bytes() if target.is_file() else b"404"
        ctype = _content_type(target.name)
        if ctype.startswith("text/html"):
            body = _as_served(body, report, state.options.source)
        return _respond(start, status, body, ctype)

    return app if hosts is None else _only_hosts(app, hosts)


def _moved_to(state: ServeState, raw: str) -> str | None:
    """Where the page an item had at ``raw`` went, when it moved since serve started (a
    changed name changes its address) and nothing is at ``raw`` now: the browsers showing it
    reload into the item's new page, not a 404 page."""
    rel = _request_path(raw)
    page = posixpath.join(rel, "index.html") if rel else "index.html"
    new = state.moved.get(page) or state.moved.get(rel)
    if new is None or _served_now(state, rel, page):
        return None
    return _folder_address(posixpath.dirname(new))


def _served_now(state: ServeState, rel: str, page: str) -> bool:
    """Whether a page or file is at ``rel`` now: among the pages a rebuild handed over while
    it runs, else in the served folder."""
    during = state.during
    if during is None:
        output = state.options.output
        return (output / page).is_file() or (bool(rel) and (output / rel).is_file())
    try:
        return during.holds(page) or during.holds(rel)
    except Exception:  # a family of pages that fails to plan: the rebuild says it
        return True


def _as_served(body: bytes, report: BuildReport | None, root: Path) -> bytes:
    """An HTML page of the site as served: with the reload plugin, and ``with_report``."""
    body = HEAD_CLOSE.sub(lambda m: RELOAD_PLUGIN + m.group(0), body, count=1)
    return with_report(body, report, root) if report is not None else body


def _from_rebuild(
    start: StartResponse, pages: OnDemand, raw: str, report: BuildReport | None
) -> list[bytes] | None:
    """The answer to a request while a rebuild runs that handed over its ``pages``: the page
    or file made on the spot (the site's 404 page for a path it does not have), with the
    warnings of the last build when it was good (its errors are not this one's); None when
    ``pages`` cannot make it, and for every file of the search index (the manifest and the
    shards come with the build: the results' files must number the documents as they do)."""
    if search.is_data_file(_request_path(raw)):
        return None
    try:
        status, target = _preview_target(pages, raw)
    except Exception:  # a family of pages that fails to plan: the rebuild says it
        return None
    if status.startswith("301"):
        return _respond(start, status, b"", "text/plain", [("Location", target)])
    body = pages.get(target)
    if body is None:
        return None
    ctype = _content_type(target)
    if ctype.startswith("text/html"):
        good = report if report is not None and report.ok else None
        body = _as_served(body, good, pages.files.root)
    return _respond(start, status, body, ctype)


App = Callable[[dict[str, Any], StartResponse], list[bytes]]


def _preview_target(preview: OnDemand, raw: str) -> tuple[str, str]:
    """What a request path names among the pages and files ``preview`` can make, as
    ``_served_file`` answers for a built folder: (status, output path, or where to go). A
    copied file is looked for first, then, for a name without a suffix, a page's folder, so
    that no page, or that page alone, is planned (``ondemand.PlannedPages``)."""
    rel = _request_path(raw)
    if rel in preview.files.paths:
        return "200 OK", rel
    page = posixpath.join(rel, "index.html") if rel else "index.html"
    folder = not posixpath.splitext(rel)[1] and preview.holds(page)
    if not folder and rel and preview.holds(rel):
        return "200 OK", rel
    if not folder and not preview.holds(page):
        return "404 Not Found", "404.html"
    if raw and not raw.endswith("/"):
        return "301 Moved Permanently", _folder_address(rel)
    return "200 OK", page


def _from_preview(start: StartResponse, preview: OnDemand, raw: str, stopped: bool) -> list[bytes]:
    """The answer to a request while the first build runs (or after it ``stopped`` on a
    fault): the page or file made on the spot, or a page saying it shows once the build is
    done (the search index's files, a page whose family of pages fails to plan)."""
    try:
        status, target = _preview_target(preview, raw)
    except Exception:  # the first build says it
        later = later_page(preview.language, stopped)
        return _respond(start, "503 Service Unavailable", later, "text/html; charset=utf-8")
    if status.startswith("301"):
        return _respond(start, status, b"", "text/plain", [("Location", target)])
    body = preview.get(target)
    if body is None and status.startswith("200"):
        later = later_page(preview.language, stopped)
        return _respond(start, "503 Service Unavailable", later, "text/html; charset=utf-8")
    return _respond(start, status, body if body is not None else b"404", _content_type(target))


def later_page(language: str, stopped: bool = False) -> bytes:
    """The page shown for a page only the first build makes: it says so, and looks again
    every few seconds (the browser also reloads when the build is done); once the build
    ``stopped`` on a fault, it says that a save builds again."""
    code = "serve-first-page-stopped" if stopped else "serve-first-page-later"
    text = html.escape(messages.text(language, code))
    refresh = "" if stopped else '<meta http-equiv="refresh" content="5">'
    return (
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
        f"{refresh}<title>{text}</title></head>"
        f'<body><p style="font:16px/1.6 system-ui,sans-serif;margin:2em">{text}</p></body></html>'
    ).encode()


def with_report(body: bytes, report: BuildReport, root: Path) -> bytes:
    """An HTML page as served after ``report``: when the build failed, the error overlay
    right after <body>; when it succeeded with warnings, the warnings panel just before
    </body> (after the page's own content, so the skip link stays first for the keyboard);
    else the page as it is."""
    if not report.ok:
        snippet = overlay(report, root).encode()
        return BODY_OPEN.sub(lambda m: m.group(0) + snippet, body, count=1)
    panel = warnings_panel(report, root).encode()
    if not panel:
        return body
    end = body.lower().rfind(BODY_CLOSE)
    return body + panel if end < 0 else body[:end] + panel + body[end:]


def _only_hosts(app: App, hosts: frozenset[str]) -> App:
    """``app``, answering 421 to a request for a Host not in ``hosts``."""

    def guarded(environ: dict[str, Any], start: StartResponse) -> list[bytes]:
        if environ.get("HTTP_HOST", "").lower() not in hosts:
            start(
                "421 Misdirected Request", [("Content-Type", "text/plain"), ("Content-Length", "0")]
            )
            return [b""]
        return app(environ, start)

    return guarded


def t(code: str) -> str:
    return messages.text(DEFAULT_LANGUAGE, code)


def add_parser(sub: Any) -> None:
    s = sub.add_parser("serve", help=t("cli-serve"), description=t("cli-serve"))
    s.add_argument(
        "source",
        nargs="?",
        default=None,
        metavar=t("cli-metavar-source"),
        help=t("cli-source"),
    )
    s.add_argument("--host", default="127.0.0.1", help=t("cli-host"))
    s.add_argument("--port", type=int, default=8000, help=t("cli-port"))
    s.add_argument(
        "--drafts", action=argparse.BooleanOptionalAction, default=True, help=t("cli-serve-drafts")
    )
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from livereload import Server
    from tornado import ioloop

    source = Path(args.source)
    if not source.is_dir():
        print(
            messages.text(DEFAULT_LANGUAGE, "source-missing", path=source, command="serve"),
            file=sys.stderr,
        )
        return 2
    busy = port_problem(args.host, args.port)
    if busy is not None:  # said before anything else is printed
        print(busy, file=sys.stderr)
        return 1
    # the served folder stays in the cache between runs, so a warm start rebuilds nothing;
    # it is the preview's own (hidden, in the cache), replaced without asking
    options = BuildOptions(
        source=source,
        output=source / CACHE_DIR / "serve-site",
        drafts=args.drafts,
        cache_dir=source / CACHE_DIR / "serve",
        force=True,
    )
    state = ServeState(options)
    url = f"http://{args.host}:{args.port}/"
    reporting.say(messages.text(DEFAULT_LANGUAGE, "serve-starting", url=url))
    start_preview(state)
    lang = state.language
    watcher = batch_watcher(state, source)
    hosts = allowed_hosts(args.host, args.port)
    guard_livereload(hosts)
    server = Server(app=make_app(state, hosts), watcher=watcher)
    quiet_server_logs(server)
    server.watch(str(source), delay="forever")

    def stop(_signum: int, _frame: FrameType | None) -> None:
        ioloop.IOLoop.current().add_callback_from_signal(ioloop.IOLoop.current().stop)

    signal.signal(signal.SIGTERM, stop)
    print(messages.text(lang, "serve-ready", url=url), flush=True)
    try:
        server.serve(port=args.port, host=args.host, debug=False, restart_delay=0)
    except OSError as exc:
        message = bind_failure(exc, lang, args.host, args.port)
        if message is None:
            raise
        print(message, file=sys.stderr)
        return 1
    finally:
        watcher.stopping.set()
        close_on_exit(state)
    reporting.say(messages.text(lang, "serve-stopped"))
    return 0


def close_on_exit(state: ServeState) -> bool:
    """Close the cache as serve exits, once a rebuild under way has ended and written what
    it keeps; not while the first build still makes pages (``preview`` is set until it has
    built), as it may take minutes: the next start begins it again. Whether it closed."""
    if not state.started.is_set() and state.preview is not None:
        return False
    with state.lock:  # the first build, if done building, writes the cache's rows first
        if state.store is not None:
            state.store.close()
    return True


def start_preview(state: ServeState) -> None:
    """Build the preview before it is served; or, the first time (no served folder yet), make
    its pages as they are asked for while ``first_build`` runs in the background."""
    if not state.options.output.is_dir():
        try:
            # analysed with the cache the first build reads: what it validated is not again
            state.preview = on_demand(state.options, state.opened())
        except Exception as exc:  # a fault of the tool: said, and the preview built first
            print(reporting.internal_error(exc), file=sys.stderr, flush=True)
    if state.preview is not None:
        reporting.say(messages.text(state.language, "serve-first-build"))
        return
    report = state.rebuild()
    state.printed = print_report(report, state.options.source)
    state.warm_up()
    state.started.set()


def first_build(state: ServeState, reload: Reload) -> None:
    """The first build of a preview whose pages are made as they are asked for meanwhile;
    then the pages come from the served folder and the browsers reload. A fault of the tool
    is said, and the pages are still made as asked for."""
    try:
        report = state.rebuild()
    except Exception as exc:
        state.stopped = True
        state.failed(exc)
    else:
        state.printed = print_report(report, state.options.source)
    finally:
        state.started.set()
    reload()


def port_problem(host: str, port: int) -> str | None:
    """The message for a host and port the preview cannot listen on, found by binding them
    once (as the server will); None when they are free."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError:
        return messages.text(DEFAULT_LANGUAGE, "serve-bind-failed", host=host, port=port)
    for family, kind, proto, _name, address in infos[:1]:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                return bind_failure(exc, DEFAULT_LANGUAGE, host, port) or str(exc)
    return None


def quiet_server_logs(server: Any) -> None:
    """livereload and tornado log every request and reload in English: their logs go nowhere,
    or to stderr as they are with --verbose (for whoever helps the editor)."""
    handler: logging.Handler = (
        logging.StreamHandler() if reporting.VERBOSITY.verbose else logging.NullHandler()
    )
    for name in ("livereload", "tornado"):
        log = logging.getLogger(name)
        log.addHandler(handler)
        log.propagate = False
    server._setup_logging = lambda: None  # livereload would add its own handlers


def batch_watcher(state: ServeState, source: Path) -> Any:
    """A livereload watcher fed by native file notifications (watchfiles): each debounced
    batch of changes under ``source`` rebuilds once, in a thread of its own so that pages are
    served during the rebuild, then the browsers reload."""
    from livereload.handlers import LiveReloadHandler
    from livereload.watcher import Watcher
    from tornado import ioloop

    class BatchWatcher(Watcher):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.stopping = threading.Event()

        def start(self, callback: Callable[[], None]) -> bool:
            loop = ioloop.IOLoop.current()

            def reload(path: str = "*") -> None:
                loop.add_callback(LiveReloadHandler.reload_waiters, path=path)

            if not state.started.is_set():
                threading.Thread(target=first_build, daemon=True, args=(state, reload)).start()
            thread = threading.Thread(
                target=rebuild_on_change, daemon=True, args=(state, source, self.stopping, reload)
            )
            thread.start()
            return True

        def examine(self) -> tuple[None, None]:
            return None, None

    return BatchWatcher()


def rebuild_on_change(
    state: ServeState, source: Path, stopping: threading.Event, reload: Reload
) -> None:
    """Rebuild once per batch of changes until ``stopping`` is set."""
    for changes in watching.batches(source, watched(source), stopping, DEBOUNCE_MS, STEP_MS):
        state.started.wait()  # changes seen during the first build are rebuilt after it
        try:
            result = rebuild_noticed(state, changed_files(source, changes), reload)
        except Exception as exc:  # a fault of the tool: said, and the next change rebuilds
            state.failed(exc)
            continue
        state.printed = print_report(result, state.options.source, state.printed)
        state.persist()


SLOW_NOTICE_SECONDS = 1.0  # a rebuild still running after this long says so


def rebuild_noticed(
    state: ServeState, changed: frozenset[str] | None, reload: Reload
) -> BuildReport:
    """``rebuild_and_reload``, saying on the console that it is under way once it has taken
    ``SLOW_NOTICE_SECONDS`` (a change to units.yaml or site.yaml remakes every page, which
    takes a while on a large site)."""
    text = messages.text(state.language, "serve-rebuilding")
    done = threading.Event()

    def say() -> None:
        if not done.is_set():  # not after the rebuild's own line
            print(text, file=sys.stderr, flush=True)

    notice = threading.Timer(SLOW_NOTICE_SECONDS, say)
    notice.daemon = True
    notice.start()
    try:
        return rebuild_and_reload(state, changed, reload)
    finally:
        done.set()
        notice.cancel()


def rebuild_and_reload(
    state: ServeState, changed: frozenset[str] | None, reload: Reload
) -> BuildReport:
    """Rebuild for the files ``changed``: the browsers reload as soon as the changed pages
    are in the output, and (again) when the rebuild failed or did not say so; when the later
    pages of lists moved in after that, the browsers showing one reload (``LATER_PAGES``).
    A rebuild that hands over its pages to make on demand reloads them then, and again at
    its end only when what they were served with changed: a request they did not answer,
    an error, other warnings; or when it stopped on a fault of the tool after that."""
    reloaded = threading.Event()
    previewed = threading.Event()
    pages_then: list[int] = []

    def shown() -> None:
        reloaded.set()
        pages_then.append(state.report.html if state.report is not None else 0)
        if not previewed.is_set():
            reload()

    def made_meanwhile() -> None:
        previewed.set()
        reload()

    try:
        result = state.rebuild(
            persist=False, changed=changed, shown=shown, previewed=made_meanwhile
        )
    except BaseException:
        if previewed.is_set():  # the browsers show pages the rebuild did not write
            reload()
        raise
    if previewed.is_set():
        if state.missed or not _same_panel(state.during_report, result):
            reload()
    elif not reloaded.is_set() or not result.ok:
        reload()
    elif result.html > pages_then[0]:  # more pages moved in after the browsers reloaded
        reload(LATER_PAGES)
    return result


def _same_panel(before: BuildReport | None, after: BuildReport) -> bool:
    """Whether the pages made on demand during the build that ends with ``after`` were
    served as the build's own are: both builds good, in the same language, with the same
    warnings."""
    if before is None or not before.ok or not after.ok or before.language != after.language:
        return False
    return build_warnings(before) == build_warnings(after)


def changed_files(source: Path, changes: Iterable[tuple[Any, str]]) -> frozenset[str] | None:
    """The paths (relative to ``source``, POSIX) of a batch of watcher changes; None when one
    is outside it."""
    root = source.resolve()
    try:  # a link is named as itself, not as its target
        return frozenset(
            (Path(path).parent.resolve() / Path(path).name).relative_to(root).as_posix()
            for _, path in changes
        )
    except ValueError:
        return None


def bind_failure(exc: OSError, lang: str, host: str, port: int) -> str | None:
    """The message for a host or port the server cannot listen on; None for other errors."""
    if exc.errno == errno.EADDRINUSE:
        return messages.text(lang, "serve-port-in-use", port=port, next=port + 1)
    if exc.errno in (errno.EADDRNOTAVAIL, errno.EACCES):
        return messages.text(lang, "serve-bind-failed", host=host, port=port)
    return None


def print_report(
    report: BuildReport, source: Path, before: frozenset[Diagnostic] = frozenset()
) -> frozenset[Diagnostic]:
    """Print ``report`` on the console: every error, the other diagnostics that are not in
    ``before`` (those of the last report printed), one line counting the others, then the
    line saying how the rebuild went. Returns the report's diagnostics, for the next one."""
    same = 0
    for diagnostic in report.diagnostics:
        if diagnostic in before and not diagnostic.is_error:
            same += 1  # printed for an earlier build already
            continue
        print(reporting.format_diagnostic(diagnostic, report.language, source), file=sys.stderr)
    if same:
        print(messages.text(report.language, "serve-diagnostics-same", count=same), file=sys.stderr)
    key = "serve-rebuilt" if report.ok else "serve-rebuild-failed"
    print(
        messages.text(report.language, key, pages=report.html, seconds=f"{report.seconds:.2f}"),
        file=sys.stderr,
        flush=True,
    )
    return frozenset(report.diagnostics)
