"""Pages made one at a time, in memory, as they are asked for: what the preview shows while
its first build of a site runs.

A first build of a large site takes a while (tens of seconds at ten thousand documents). The
preview does not wait for it: once the site is read and its pages planned, a page asked for
is rendered on the spot from that one analysis, converting only the bodies it shows, and a
copied file (the theme's styles, a photo, an attachment) is read from where it comes from (an
image of the site as the build publishes it: upright, without metadata, scaled down). The
bytes are those the build writes, except that pages show profile photos as they are, before
the build has made their smaller sizes. A page that needs every body (the search index's
manifest and shards) is not made here: it waits for the build. Nor is a page of a site's own
templates: those render in the build's workers alone, within the limits of ``guard``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import jinja2

from generator.output import images, markup, theme
from generator.output import render as templating
from generator.pages.base import PageJob
from generator.pages.view import SiteView
from generator.site.bodies import Rendered
from generator.site.model import Item, Page


class NotReady(Exception):
    """A page asked for every body of the site: only the build makes it."""


class LazyBodies(Mapping[str, Rendered]):
    """The converted body of each item, converted the first time it is asked for. Asking
    for all of them (iterating, counting) raises ``NotReady``."""

    def __init__(
        self,
        items: Mapping[str, Item | Page],
        pages: Mapping[str, str],
        converter: markup.Converter,
    ) -> None:
        self._items = items
        self._pages = pages
        self._converter = converter
        self._done: dict[str, Rendered] = {}

    def __getitem__(self, key: str) -> Rendered:
        found = self._done.get(key)
        if found is None:
            item = self._items[key]
            found = self._converter.convert(item.body, key, self._pages[key])
            self._done[key] = found
        return found

    def __iter__(self) -> Iterator[str]:
        raise NotReady

    def __len__(self) -> int:
        raise NotReady


class PlannedPages(Mapping[str, PageJob]):
    """The pages of a site by output path, planned one family of pages at a time, in the
    order of ``families``, as far as a page looked up needs: the page a browser shows after
    a save (most often an item's own) is made before every list is planned. Looking up a
    path no family has, or going through all, plans them all."""

    def __init__(self, families: Iterable[Callable[[], Iterable[PageJob]]]) -> None:
        self._left = list(families)
        self._found: dict[str, PageJob] = {}
        self._lock = threading.Lock()

    def _until(self, path: str | None) -> None:
        with self._lock:
            while self._left and (path is None or path not in self._found):
                self._found.update((job.path, job) for job in self._left[0]())
                del self._left[0]  # once planned: a family that fails is tried again

    def __getitem__(self, path: str) -> PageJob:
        self._until(path)
        return self._found[path]

    def __iter__(self) -> Iterator[str]:
        self._until(None)
        return iter(self._found)

    def __len__(self) -> int:
        self._until(None)
        return len(self._found)


@dataclass(frozen=True)
class Copies:
    """The files a site copies, by output path: ``paths``, where each comes from; a file
    named under ``root`` (the source folder) is read only while it is still there once links
    are followed; those of ``published`` are images, published as the build does at most
    ``limit`` pixels on the long side."""

    paths: Mapping[str, Path]
    root: Path
    published: frozenset[str]
    limit: int

    def read(self, path: str) -> bytes | None:
        source = self.paths.get(path)
        if source is None:
            return None
        real = source.resolve()
        if source.is_relative_to(self.root) and not real.is_relative_to(self.root.resolve()):
            return None  # a link put there since the site was read
        if not real.is_file():
            return None
        if path in self.published:
            return images.for_print(real, self.limit)
        return real.read_bytes()


class OnDemand:
    """The pages of one analysis of a site (by output path) and the files it copies, made
    or read when asked for; one at a time (the Markdown converter and the recording view
    serve one page at a time)."""

    def __init__(
        self,
        jobs: Mapping[str, PageJob],
        files: Copies,
        env: jinja2.Environment,
        view: SiteView,
        bodies: LazyBodies,
        language: str,
    ) -> None:
        self.language = language  # the site's, for what the preview says around the pages
        self.jobs = jobs
        self.files = files
        self._env = env
        self._view = view
        self._bodies = bodies
        self._lock = threading.Lock()

    def holds(self, path: str) -> bool:
        """Whether ``path`` (an output path) is a copied file or a page of the site (the pages
        are planned only for a path that is not a copied file)."""
        return path in self.files.paths or path in self.jobs

    def get(self, path: str) -> bytes | None:
        """The bytes of the page or file ``path``; None when it is neither, or when it is a
        page only the build makes (``NotReady``) or one whose template fails."""
        if path in self.files.paths:
            return self.files.read(path)
        if isinstance(self._env, theme.SafeEnvironment):
            # a site's own templates render in the build's limited workers alone (``guard``):
            # here, a page that loops for ever would hold the preview's lock and this process
            return None
        with self._lock:
            try:
                job = self.jobs.get(path)
                if job is None:
                    return None
                return templating.render(self._env, job, self._view, self._bodies).data
            except NotReady:
                return None
            except Exception:  # a fault of a template: the first build says it, with its place
                return None
