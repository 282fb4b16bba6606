"""The build: load and validate -> site model -> URLs -> render -> write. The only module that
knows the order of the stages.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import gc
import hashlib
import json
import operator
import os
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress, filterfalse
from pathlib import Path
from typing import Any

import jinja2

from generator import pages
from generator.base import memory, stopping
from generator.base.config import BuildOptions
from generator.base.errors import Diagnostic, Severity, has_errors
from generator.base.report import BuildReport as BuildReport  # re-exported: the build returns it
from generator.content import editions, loader, paths, stamps
from generator.kinds.kind import Registry
from generator.kinds.registry import BUILT_IN
from generator.output import (
    cache,
    freshness,
    images,
    itemcache,
    keptbodies,
    markup,
    ondemand,
    pool,
    readings,
    searchindex,
    templatefaults,
    theme,
    writer,
)
from generator.output import fingerprints as deps
from generator.output import render as templating
from generator.output import shape as shapes
from generator.output.shape import Shape
from generator.pages.base import PageJob, Pagination
from generator.pages.view import Queries, SiteView
from generator.site import model, search, urls
from generator.site.bodies import Rendered, full_body

# an incremental build that changes at most this share of the output moves its files into the
# existing folder; a larger one builds a complete new folder and swaps it in
IN_PLACE_SHARE = 0.2
# a build whose caller is told when the pages are shown (serve's), with at least this many
# pages to make, moves first the pages a change is seen on (every page but the later pages
# of lists), tells, then moves the later pages with the search index
FRONT_FROM = 100
# a build whose caller asked for a preview (serve's), of a site of at least this many
# documents whose pages it plans anew, hands the caller its pages to plan and make on demand
# before it plans them itself
PREVIEW_FROM = 500


# told (stage, done, total) as a stage goes: "files" (front matter parsed), "bodies"
# (Markdown), then "pages" (templates; HTML pages only)
Progress = Callable[[str, int, int], None]


def _stage(progress: Progress | None, stage: str) -> pool.Progress | None:
    """What tells ``progress`` how far ``stage`` has gone."""
    return None if progress is None else functools.partial(progress, stage)


def _copied_files(tree: loader.SourceTree, folders: Iterable[str]) -> list[str]:
    """Files copied as they are: everything under static/, and every non-Markdown file in the
    content folders (photos and attachments kept next to their story), but a story misnamed
    (``.MD``, ``.md.txt``: ``loader.MISNAMED_SUFFIXES``), which may be a draft."""
    out = []
    content_folders = set(folders)
    for rel in tree.files:
        top = rel.partition("/")[0]
        if top == "static" or (
            top in content_folders and not rel.lower().endswith(loader.MISNAMED_SUFFIXES)
        ):
            out.append(rel)
    return out


@dataclass(frozen=True, slots=True)
class Modelled:
    """The site read and modelled: what the source says, before any theme or URL."""

    tree: loader.SourceTree
    site: model.Site
    diagnostics: tuple[Diagnostic, ...]


def model_site(
    source: Path,
    *,
    drafts: bool = False,
    edition_year: int | None = None,
    store: cache.Cache | None = None,
    kinds: Registry = BUILT_IN,
    changed: frozenset[str] | None = None,
    workers: int | None = None,
    progress: pool.Progress | None = None,
) -> Modelled:
    """Read the source folder and model the site (load, validate, model); drafts only with
    ``drafts``, one year's items only for the edition of ``edition_year``. Needs no output
    folder and writes nothing but to the cache. ``changed``: see ``loader.load``; front
    matter is parsed in ``workers`` processes (default: ``pool.worker_count``, one per core
    or SHOWCASE_WORKERS) when there is much, ``progress`` told how many files are parsed."""
    if store is not None:
        readings.load(store)
    kept = store.memory("source-tree") if store is not None else None
    workers = pool.worker_count(workers)
    parse = functools.partial(pool.parse_files, workers=workers, progress=progress)
    folders = kinds.folders()
    tree, problems = loader.load(
        source, store, folders=folders, changed=changed, kept=kept, parse=parse
    )
    memo = store.memory("items") if store is not None else None
    lasting = itemcache.KeptItems.of(store, kinds) if store is not None else None
    site, model_problems = model.build_site(
        tree, kinds, drafts=drafts, edition_year=edition_year, memo=memo, kept=lasting
    )
    return Modelled(tree, site, (*problems, *model_problems))


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything known about a site before anything is rendered: the stages up to URLs."""

    tree: loader.SourceTree
    site: model.Site
    plan: urls.UrlPlan
    theme: theme.ThemeDirs | None
    copied: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...]


def analyse(
    source: Path,
    *,
    drafts: bool = False,
    edition_year: int | None = None,
    store: cache.Cache | None = None,
    kinds: Registry = BUILT_IN,
    changed: frozenset[str] | None = None,
    workers: int | None = None,
    progress: pool.Progress | None = None,
) -> Analysis:
    """Read and model the site (see ``model_site``), find its theme and plan the URLs;
    collect every diagnostic. Needs no output folder and writes nothing but to the cache."""
    modelled = model_site(
        source,
        drafts=drafts,
        edition_year=edition_year,
        store=store,
        kinds=kinds,
        changed=changed,
        workers=workers,
        progress=progress,
    )
    tree, site = modelled.tree, modelled.site
    problems = list(modelled.diagnostics)
    theme_dirs = theme.locate(source, site.config.theme)
    problems.extend(_theme_problems(source, tree, site, theme_dirs))
    if theme_dirs is not None:
        problems.extend(theme_dirs.catalog_problems(site.config.language))
    # an edition leaves out the photos and attachments of other years' items
    copied_files, clashes = _file_lists(tree, kinds.folders(), store)
    copied = [rel for rel in copied_files if rel not in site.left_out]
    problems.extend(_refused_copies(copied))
    problems.extend(clashes)
    if edition_year is None:
        problems.extend(editions.problems(source, tree.editions))
    copied = [rel for rel in copied if not paths.active(rel)]
    plan, url_problems = _url_plan(site, copied, store)
    problems.extend(url_problems)
    return Analysis(tree, site, plan, theme_dirs, tuple(copied), _sorted(problems))


def _file_lists(
    tree: loader.SourceTree, folders: Iterable[str], store: cache.Cache | None
) -> tuple[list[str], list[Diagnostic]]:
    """``_copied_files`` and ``paths.name_clashes`` of ``tree``: in a process that builds
    again, the last ones for a tree patched from the last one (the same files)."""
    kept = store.memory("file_lists") if store is not None else None
    folders = tuple(folders)
    last = kept.get("last") if kept is not None else None
    if last is not None and last[1] == folders and tree.patched_from(last[0]) is not None:
        found: tuple[list[str], list[Diagnostic]] = last[2]
    else:
        found = (_copied_files(tree, folders), paths.name_clashes(tree.files))
    if kept is not None:
        kept["last"] = (tree, folders, found)
    return found


def _url_plan(
    site: model.Site, copied: list[str], store: cache.Cache | None
) -> tuple[urls.UrlPlan, list[Diagnostic]]:
    """``urls.plan``; in a process that builds again (serve), the last build's plan while
    the items' faces (all but bodies), the units, the kinds and the copied files are the
    same: it is made of nothing else. Else, there, the groups of items that are the very
    objects of the last plan's keep their paths (``urls.plan``'s ``memo``)."""
    kept = store.memory("url_plan") if store is not None else None
    if kept is None:
        return urls.plan(site, copied)
    key = deps.faces(site) + repr((site.units, [k.name for k in site.kinds], copied))
    found = kept.get(key)
    if found is None or found[0] is not site.kinds:
        kept.clear()
        groups = store.memory("url_plan_groups") if store is not None else None
        found = kept[key] = (site.kinds, urls.plan(site, copied, groups))
    plan: tuple[urls.UrlPlan, list[Diagnostic]] = found[1]
    return plan


def planned_pages(store: cache.Cache | None) -> Mapping[str, str]:
    """The page of every item (key -> path) in the URL plan of the last site analysed with
    ``store`` in this process (serve's, which remembers it); empty when there is none."""
    kept = store.memory("url_plan") if store is not None else None
    for _kinds, (plan, _problems) in (kept or {}).values():
        items: Mapping[str, str] = plan.items
        return items
    return {}


def _refused_copies(copied: list[str]) -> list[Diagnostic]:
    """Files a browser would run (HTML, SVG, scripts) are not published from the content."""
    return [Diagnostic.error(rel, 0, "active-file-refused") for rel in copied if paths.active(rel)]


def _theme_problems(
    source: Path, tree: loader.SourceTree, site: model.Site, theme_dirs: theme.ThemeDirs | None
) -> list[Diagnostic]:
    """An unknown theme, or a kind with items whose detail template the theme lacks: found
    here, before anything renders."""
    if theme_dirs is None:
        line = tree.site.lines.get("theme", 1) if tree.site else 1
        available = ", ".join(theme.available_themes(source))
        return [
            Diagnostic.error(
                "site.yaml",
                line,
                "unknown-theme",
                "theme",
                theme=site.config.theme,
                available=available,
            )
        ]
    return [
        Diagnostic.error(
            f"{theme.OVERRIDE_DIR}/templates/{kind.template}",
            0,
            "kind-template-missing",
            kind=kind.name,
            folder=kind.folder,
            template=kind.template,
        )
        for kind in site.kinds
        if site.of_kind(kind.name) and not theme_dirs.has_template(kind.template)
    ]


def build(
    options: BuildOptions,
    progress: Progress | None = None,
    kinds: Registry = BUILT_IN,
    store: cache.Cache | None = None,
    state: str | None = None,
    whole: bool = False,
    changed: frozenset[str] | None = None,
    shown: Callable[[BuildReport], None] | None = None,
    own_output: bool = False,
    published: Callable[[BuildReport], None] | None = None,
    looked: Callable[[], Mapping[str, int] | None] | None = None,
    previewed: Callable[[ondemand.OnDemand], None] | None = None,
) -> BuildReport:
    """Build the site (of the content ``kinds``); with a cache, only what changed is
    converted, rendered and written. A long-lived caller (serve) passes its own open
    ``store``, which it keeps from build to build; otherwise the cache of ``options`` is
    opened and closed here. A caller that has just computed the source ``state``
    (``freshness.source_state``) passes it. With ``whole``, every stage runs even when
    nothing changed (serve fills its memory so, for the first edit). A long-lived caller
    that watches the source passes the files ``changed`` since its last build (paths
    relative to the source), so that the others are not looked at again, and may ask to be
    told as soon as the changed pages are ``shown`` in the output, with the report of the
    build so far: what the build does then (the search index, the records) waits no longer
    than it must. With ``own_output``, the output is a folder of the caller's own that
    nothing else writes (serve's): once built there, with ``changed`` known, its folders
    are not looked at for files changed by hand. A caller that waits for the output alone
    (the daemon, for the build that asked) may be told as soon as every file the build
    changes is in place there (``published``, with the report so far): the records of the
    output follow. A caller may have the output's folders looked at while it did other work
    (the daemon's helper process): ``looked`` gives the change times found then (None: they
    are looked at here). serve may get pages planned anew to make meanwhile (``previewed``)."""
    started = time.perf_counter()
    owned = store is None
    if store is None:
        store = cache.Cache.open(options.cache_dir) if options.cache_dir else cache.Cache.disabled()
    try:
        store.write_held()
        if state is None:
            state = freshness.source_state(options, store, changed)
        if looked is not None:  # asked at most once, by whichever step looks first
            looked = functools.cache(looked)
        last = None if whole else freshness.last_report(options, store, state, looked)
        if last is not None:  # nothing at all changed since the last build of this output
            return dataclasses.replace(last, seconds=time.perf_counter() - started)
        try:
            with _collector_paused():
                mark = _Marker({}, started, shown, published, previewed)
                watched = own_output and changed is not None
                report = _build(
                    options, store, mark, progress, kinds, changed, whole, watched, looked
                )
        except OSError as exc:  # a full disk, a read-only or unwritable output, ...
            report = _failed([system_error(exc)], started, "zh-CN")
        readings.keep(store)
        freshness.remember(options, store, state, report)
        return report
    finally:
        if owned:
            store.close()


def _give_back(store: cache.Cache) -> None:
    """Hand the memory the build let go back to the system, in a one-off build: a long-lived
    process (``store`` remembers) does so between builds, where the 25-30 ms it takes on a
    large heap keep no edit waiting."""
    if not store.remembers:
        memory.give_back()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while the build runs: the build makes millions
    of objects that live until its end, and each full collection walks all of them (a third
    of a one-edit build at 30,000 documents). Reference counting still frees the rest; the
    worker processes collect their own garbage (``pool``)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def system_error(exc: OSError) -> Diagnostic:
    """A diagnostic for a failure of the machine rather than of the content: the disk is
    full, the output is read-only or not writable, a name is too long."""
    codes = {
        errno.ENOSPC: "disk-full",
        errno.EDQUOT: "disk-full",
        errno.EROFS: "output-read-only",
        errno.EACCES: "no-permission",
        errno.EPERM: "no-permission",
        errno.ENAMETOOLONG: "name-too-long",
    }
    path = str(exc.filename or "?")
    code = codes.get(exc.errno or 0, "system-error")
    if isinstance(exc, pool.WorkerLost):
        code = "worker-lost"
    name = errno.errorcode.get(exc.errno or 0, "")  # put into words when shown (console)
    return Diagnostic.error(path, 0, code, folder=path, problem=exc.strerror or str(exc), os=name)


def _build(
    options: BuildOptions,
    store: cache.Cache,
    mark: _Marker,
    progress: Progress | None,
    kinds: Registry,
    changed: frozenset[str] | None = None,
    whole: bool = False,
    watched: bool = False,
    looked: Callable[[], Mapping[str, int] | None] | None = None,
) -> BuildReport:
    """The stages in order: analyse -> plan pages -> fingerprints -> Markdown -> render and
    write. Each stage returns values; none changes what an earlier stage made. With
    ``whole`` (serve warming up) and nothing to render, what the first render would do
    first is done (``_warm``)."""
    analysis = analyse(
        options.source,
        drafts=options.drafts,
        edition_year=options.edition_year,
        store=store,
        kinds=kinds,
        changed=changed,
        workers=options.workers,
        progress=_stage(progress, "files"),
    )
    mark("analyse")
    # the parsed documents are in the model now: their front matter is not held any longer
    analysis = dataclasses.replace(analysis, tree=dataclasses.replace(analysis.tree, docs=()))
    _give_back(store)  # what reading the source took and let go, before the next stages
    problems = [*analysis.diagnostics, *_cache_warning(store)]
    inputs, found = _prepare(options, analysis, store, problems, watched=watched)
    problems.extend(found)
    if inputs is None:
        return _failed(problems, mark.started, analysis.site.config.language)
    copies = _all_copies(inputs)
    shape = Shape.of(analysis.site, analysis.plan, inputs.prints, inputs.templates, copies)
    previous, stamps = _last_output(options.output, store, inputs.watched, looked)
    # within one process (serve), the last good build's pages when only bodies changed since
    planned = shape.last_jobs(store) if previous else None
    if planned is None:
        anew = _pages_anew(inputs, copies, mark.hand_over if previous and mark.previewed else None)
        if not isinstance(anew, shapes.Planned):  # the clashes of their paths
            return _failed([*problems, *anew], mark.started, analysis.site.config.language)
        planned = anew
    mark("plan pages")
    work = _plan_work(inputs, planned, (previous, stamps), shape, copies)
    mark("fingerprints")
    if work.had_previous and not work.todo and not work.copies and not work.removed:
        shape.remember(inputs.store, work.jobs, inputs.prints, work.held)
        if work.stamps is None:  # the output was walked: its folders' times are kept again
            freshness.remember_folders(
                options.output, store, work.records, None, time.monotonic_ns()
            )
        if whole:
            _warm(inputs)
        return _done(inputs, problems, mark)
    converted = _convert(inputs, work, _stage(progress, "bodies"))
    mark("markdown")
    return _render_and_write(inputs, work, converted, problems, progress, mark)


def _pages_anew(
    inputs: _Inputs,
    copies: Mapping[str, tuple[Path, str]],
    previewed: Callable[[ondemand.OnDemand], None] | None,
) -> shapes.Planned | list[Diagnostic]:
    """Every page of the site planned anew, after handing them to a caller that shows the
    output (``previewed``, see ``_offer_preview``); or the clashes of their paths."""
    analysis = inputs.analysis
    if previewed is not None:
        _offer_preview(inputs, copies, previewed)
    jobs = list(pages.pages(analysis.site, analysis.plan))
    clashes = urls.clashes((job.path for job in jobs), analysis.plan.assets)
    return clashes if clashes else shapes.Planned(jobs)


def _last_output(
    output: Path,
    store: cache.Cache,
    watched: bool,
    looked: Callable[[], Mapping[str, int] | None] | None = None,
) -> tuple[dict[str, cache.OutputRecord], freshness.Stamps | None]:
    """The records of what the last build wrote into ``output``, and the change times of its
    folders then when they still hold (as ``looked`` found them, when given). A file deleted
    by hand, or replaced by a link, since is made again as if new: when a folder changed,
    the output is walked. A watcher (serve) writes into a folder of its own and does not
    look."""
    identity = writer.identity(output)
    previous = store.outputs(identity)
    stamps = freshness.kept_folders(output, store, identity)
    if previous and not watched:
        found = looked() if looked is not None else None
        if not freshness.folders_intact(output, stamps, found):
            return _still_there(output, previous, store), None
    return previous, stamps


def _still_there(
    output: Path, previous: dict[str, cache.OutputRecord], store: cache.Cache
) -> dict[str, cache.OutputRecord]:
    """The records of the last build's files that are still plain files in ``output`` (one
    walk of it); the cache forgets the others."""
    present = writer.plain_files(writer.list_files(output))
    if present.issuperset(previous):
        return previous
    store.forget_outputs([rel for rel in previous if rel not in present])
    return {rel: record for rel, record in previous.items() if rel in present}


@dataclass(frozen=True, slots=True)
class _Inputs:
    """What the stages after analysis share: the analysis, the Markdown converter and the
    cached link resolutions, the resized photos, and the fingerprints of this build."""

    options: BuildOptions
    analysis: Analysis
    theme: theme.ThemeDirs
    store: cache.Cache
    workers: int
    converter: markup.Converter
    keys: Mapping[str, str]  # item key -> its Markdown cache key
    links: Mapping[str, Rendered]  # cached link resolutions and summaries, still valid
    photos: images.PhotoSet
    prints: deps.Fingerprints
    templates: Mapping[str, str]  # template name -> digest of it and what it includes
    # the output is looked through for files not ours when files move in, not before
    deferred: bool
    # started by a watcher (serve), which writes into a folder of its own: the change times of
    # the output's folders are neither looked at nor kept (``freshness.folders_intact``)
    watched: bool = False

    @property
    def items(self) -> tuple[model.Item, ...]:
        site = self.analysis.site
        return site.all_items()


@dataclass(frozen=True, slots=True)
class _Work:
    """What this build renders, copies and removes, and the record of every output file."""

    todo: tuple[PageJob, ...]
    # the keys of the items in each todo page's context (None: not known yet, a new page)
    refs: tuple[frozenset[str] | None, ...]
    copies: tuple[tuple[str, Path], ...]
    removed: frozenset[str]
    records: Mapping[str, cache.OutputRecord]
    previous: Mapping[str, cache.OutputRecord]  # the records of the last build
    shape: Shape
    jobs: list[PageJob]  # every page of the site, the checked ones with this build's items
    # the items whose source changed when nothing else did since the last build, else None
    changed: frozenset[str] | None
    held: shapes.Held  # what the pages found unchanged held, for those of too many items
    # the change times of the output's folders the build started from, when they hold
    stamps: freshness.Stamps | None = None
    # the only paths whose records may differ from the last build's (None: any may)
    checked: frozenset[str] | None = None

    @property
    def had_previous(self) -> bool:
        return bool(self.previous)


@dataclass(frozen=True, slots=True)
class _Converted:
    """Every item's body for rendering, and the fingerprints with the new links known."""

    bodies: Mapping[str, Rendered]
    keys: frozenset[str]  # the items converted in this build
    prints: deps.Fingerprints
    # the signatures of the search term tables stored as the bodies were converted
    tables: frozenset[str] = frozenset()


def markdown_converter(site: model.Site, plan: urls.UrlPlan) -> markup.Converter:
    """The build's Markdown converter: links to source files become links to their output
    (in an edition, links to what is left out, other years, become plain text)."""
    left_out = {rel: "" for rel in site.left_out}
    targets = {**left_out, **plan.items, **plan.assets}
    return markup.Converter(targets, site.config.summary_length)


def convert_bodies(
    items: Sequence[model.Item],
    plan: urls.UrlPlan,
    converter: markup.Converter,
    workers: int = 1,
    tables: tuple[pool.Then, pool.Keep] | None = None,
    sink: pool.Sink | None = None,
    progress: pool.Progress | None = None,
) -> dict[str, Rendered]:
    """The bodies of ``items`` as HTML with summaries and link resolutions, by item key, each
    converted for its own page (in worker processes when there are many); with ``tables``
    (``searchindex.made_where_converted``), the search term table of each is made there too;
    with a ``sink``, see ``pool.convert``; ``progress`` is told how many are done."""
    then, keep = tables or (None, None)
    pages = dict(plan.items)
    return pool.convert(items, pages, converter, workers, progress, then=then, keep=keep, sink=sink)


def render_environment(
    theme_dirs: theme.ThemeDirs,
    language: str,
    view: SiteView,
    plan: urls.UrlPlan,
    extra: Mapping[str, Any] | None = None,
) -> jinja2.Environment:
    """The Jinja environment pages render in: the theme's templates and its catalog in
    ``language``, and the template globals reading the site through ``view`` (and ``extra``)."""
    return theme.environment(theme_dirs, language, templating.make_globals(view, plan, extra))


def _offer_preview(
    inputs: _Inputs,
    copies: Mapping[str, tuple[Path, str]],
    previewed: Callable[[ondemand.OnDemand], None],
) -> None:
    """Hand ``previewed`` the pages of this analysis, to plan and make on demand, with the
    photos' sizes and the files the build copies (``copies``), while the build plans and
    makes them: on a site of at least ``PREVIEW_FROM`` documents whose theme is the tool's
    own (a site's own templates render in the build's limited workers alone)."""
    analysis = inputs.analysis
    site, plan = analysis.site, analysis.plan
    if len(site.all_items()) < PREVIEW_FROM or inputs.theme.sandboxed:
        return
    files = ondemand.Copies(
        {rel: path for rel, (path, _digest) in copies.items()},
        inputs.options.source,
        frozenset(),
        site.config.photo_max_size,
    )
    converter = markdown_converter(site, plan)  # its own: the build converts meanwhile
    previewed(_pages_on_demand(analysis, files, converter, inputs.photos.variants))


def _pages_on_demand(
    analysis: Analysis,
    files: ondemand.Copies,
    converter: markup.Converter,
    variants: Mapping[str, tuple[Any, ...]] | None = None,
) -> ondemand.OnDemand:
    """The pages of ``analysis`` planned and made one at a time as they are asked for (the
    items' own pages planned first: ``ondemand.PlannedPages``), with their bodies converted
    as they are needed, showing the photos in the sizes of ``variants`` (as they are,
    without); and the copied ``files``."""
    site, plan = analysis.site, analysis.plan
    first = sorted(pages.FAMILIES, key=lambda family: family is not pages.details.pages)
    jobs = ondemand.PlannedPages(functools.partial(family, site, plan) for family in first)
    bodies = ondemand.LazyBodies(site.item_by_key(), plan.items, converter)
    view = SiteView(site, plan, bodies, Queries(site, plan, variants))
    extra = {"photo_variants": view.photo_variants}
    assert analysis.theme is not None  # planned pages are of a site with a theme
    env = render_environment(analysis.theme, site.config.language, view, plan, extra)
    return ondemand.OnDemand(jobs, files, env, view, bodies, site.config.language)


def on_demand(
    options: BuildOptions, store: cache.Cache | None = None, kinds: Registry = BUILT_IN
) -> ondemand.OnDemand | None:
    """The pages of the site made one at a time as they are asked for, from one analysis
    of it (what ``serve`` shows while its first build runs, see ``output/ondemand.py``);
    None when the site has errors (the build says them) or no theme. With ``store`` (the
    cache the build then reads), what the analysis validated is kept there for the build;
    its rows are written to the cache by the next build (``Cache.hold_writes``)."""
    if store is not None:
        store.hold_writes()
    analysis = analyse(
        options.source,
        drafts=options.drafts,
        edition_year=options.edition_year,
        store=store,
        kinds=kinds,
        workers=options.workers,
    )
    theme_dirs, site, plan = analysis.theme, analysis.site, analysis.plan
    if theme_dirs is None or has_errors(analysis.diagnostics):
        return None
    files = {urls.join(urls.THEME_ASSETS, rel): p for rel, p in theme_dirs.static_files().items()}
    files.update((plan.assets[rel], options.source / rel) for rel in analysis.copied)
    files.update(_edition_files(options.source, site, analysis.tree.editions))
    published = frozenset(plan.assets[rel] for rel in _published_images(analysis))
    copies = ondemand.Copies(files, options.source, published, site.config.photo_max_size)
    return _pages_on_demand(analysis, copies, markdown_converter(site, plan))


SAMPLED = 8  # pages of each template that ``sampled_pages`` renders, spread over its pages


def sampled_pages(analysis: Analysis) -> list[Diagnostic]:
    """The faults of the site's own templates that show only as pages render (a misspelt
    field, a filter inside ``{% if %}``), found by rendering in memory, without writing,
    ``SAMPLED`` pages of each template spread over its pages (``showcase check``); nothing
    when every template is a shipped theme's."""
    theme_dirs, site, plan = analysis.theme, analysis.site, analysis.plan
    if theme_dirs is None or not theme.has_own_templates(theme_dirs):
        return []
    by_template: dict[str, list[PageJob]] = {}
    for job in pages.pages(site, plan):
        by_template.setdefault(job.template, []).append(job)
    env = theme.environment(theme_dirs, site.config.language)
    own = [
        jobs
        for name, jobs in by_template.items()
        if any(theme.own_path(theme_dirs, t) for t in _closure_or_itself(env, name))
    ]
    sample = [job for jobs in own for job in _spread(jobs, SAMPLED)]
    converter = markdown_converter(site, plan)
    held = [job.context["item"] for job in sample if "item" in job.context]
    bodies = {i.key: converter.convert(i.body, i.key, plan.items[i.key]) for i in held}
    view = SiteView(site, plan, bodies, Queries(site, plan))
    extra = {"photo_variants": view.photo_variants}
    env = render_environment(theme_dirs, site.config.language, view, plan, extra)
    faults = pool.try_pages(env, view, sample, theme_dirs, bodies)
    # how many sampled pages had a fault says nothing of the site: not told
    return [_without(fault, "others") for fault in faults]


def _without(diagnostic: Diagnostic, param: str) -> Diagnostic:
    kept = tuple(p for p in diagnostic.params if p[0] != param)
    return dataclasses.replace(diagnostic, params=kept)


def _closure_or_itself(env: jinja2.Environment, name: str) -> tuple[str, ...]:
    """The templates ``name`` reads (itself when they cannot be listed: rendering it says
    why)."""
    try:
        return theme.template_closure(env, name)
    except (jinja2.TemplateError, OSError, UnicodeDecodeError, SyntaxError, RecursionError):
        return (name,)


def _spread(jobs: list[PageJob], count: int) -> list[PageJob]:
    """At most ``count`` of ``jobs``, the first and the last among them, evenly apart."""
    if len(jobs) <= count:
        return jobs
    step = (len(jobs) - 1) / (count - 1)
    return [jobs[round(n * step)] for n in range(count)]


def _cache_warning(store: cache.Cache) -> list[Diagnostic]:
    if store.problem:
        return [Diagnostic.warning(cache.CACHE_DIR, 0, f"cache-{store.problem}")]
    return []


def _blocked(
    options: BuildOptions, analysis: Analysis, problems: Sequence[Diagnostic], store: cache.Cache
) -> tuple[bool, bool, list[Diagnostic]]:
    """Whether the build must stop before writing: errors (or warnings with --strict), no
    theme, or an output folder that is not ours (the one new problem it may find); and
    whether the output, which the cache knows (the very folder the last build there
    committed), was left to be looked through just before files move in (``_commit``)."""
    if has_errors(problems) or (options.strict and problems) or analysis.theme is None:
        return True, False, []
    writer.recover(options.output)
    deferred = not options.force and store.knows_output(writer.identity(options.output))
    try:
        look_inside = not (options.force or deferred)
        writer.check_output(options.output, options.source, look_inside=look_inside)
    except writer.OutputError as exc:
        return True, False, [_output_problem(exc)]
    return False, deferred, []


def _output_problem(exc: writer.OutputError) -> Diagnostic:
    # an absolute path: printed relative to where the editor stands, not to the source
    return Diagnostic.error(
        os.path.abspath(exc.path), 0, exc.code, "", folder=str(exc.path), **exc.params
    )


def _prepare(
    options: BuildOptions,
    analysis: Analysis,
    store: cache.Cache,
    known: Sequence[Diagnostic],
    watched: bool = False,
) -> tuple[_Inputs | None, list[Diagnostic]]:
    """Everything the fingerprints need, and the problems found on the way (``watched``: the
    build was started by a watcher, see ``_Inputs``); no inputs if the build stops (because
    of those or of the ``known`` problems)."""
    theme_dirs = analysis.theme
    blocked, deferred, problems = _blocked(options, analysis, known, store)
    if blocked or theme_dirs is None:
        return None, problems
    site, plan = analysis.site, analysis.plan
    converter = markdown_converter(site, plan)
    keys = _markup_keys(store, site, plan)
    links = _cached_links(store, site, keys, converter, plan)
    # profile photos resized (cached by content hash); templates read their sizes through
    # the view (the `photo_variants` global, a recorded read), the files are copied with the
    # other files
    photos, photo_problems = images.derive_for_site(
        site, options.source, options.cache_dir, _image_digests(options.source, analysis, store)
    )
    problems.extend(photo_problems)
    env = theme.environment(theme_dirs, site.config.language)
    used = [kind.template for kind in site.kinds]
    try:
        closure, warnings = _template_digests(
            env, store, lambda: theme.use_problems(theme_dirs, env, used)
        )
    except (jinja2.TemplateError, SyntaxError, RecursionError) as exc:
        # every template's fault at once (as check lists them), not only the first found
        faults = theme.template_problems(theme_dirs, site.config.language, used)
        if not any(fault.is_error for fault in faults):
            faults.append(templatefaults.template_error(exc, theme_dirs))
        problems.extend(faults)
        return None, problems
    problems.extend(warnings)
    if options.strict and any(p.severity is Severity.WARNING for p in problems):
        return None, problems  # the photos' and templates' warnings stop it as the others do
    version = cache.schema() + cache.code_digest()
    prints = deps.Fingerprints(
        site,
        plan,
        deps.global_digest(site, theme_dirs.catalog(site.config.language), version),
        links,
        lambda name: closure.get(name, name),
        Queries(site, plan, photos.variants),
    )
    workers = pool.worker_count(options.workers)
    found = (converter, keys, links, photos, prints, closure, deferred, watched)
    inputs = _Inputs(options, analysis, theme_dirs, store, workers, *found)
    return inputs, problems


def _published_images(analysis: Analysis) -> list[str]:
    """The copied files the site publishes as images (re-encoded, see ``images.published``)."""
    return [rel for rel in analysis.copied if Path(rel).suffix.lower() in images.PUBLISHED_FORMATS]


def _image_digests(source: Path, analysis: Analysis, store: cache.Cache) -> dict[str, str]:
    """The content digest of every image the site publishes, by its source path (files whose
    size, times and inode are as last seen are not read again)."""
    wanted = {str(source / rel): rel for rel in _published_images(analysis)}
    return {wanted[path]: digest for path, (_st, digest) in stamps.digests(wanted, store).items()}


def _plan_work(
    inputs: _Inputs,
    planned: shapes.Planned,
    last: tuple[Mapping[str, cache.OutputRecord], freshness.Stamps | None],
    shape: Shape,
    all_copies: Mapping[str, tuple[Path, str]],
) -> _Work:
    """Fingerprint every page and file: a page is rendered again unless its fingerprint and
    the digest of every input it read last time are unchanged. When only bodies changed
    since the last build (same skeleton), a page that holds and read none of the changed
    items is kept without being fingerprinted. ``planned``: the page jobs, and the keys of
    the items they hold an older version of (the last build's jobs, reused), which the
    pages that are checked are given first (``shape.Planned``). ``last``: the records of
    the last build's files and the change times of the output's folders then
    (``_last_output``)."""
    previous, stamps = last
    prints = inputs.prints
    jobs, stale = list(planned.jobs), planned.stale
    changed = shape.changed_since(inputs.store) if previous else None
    if previous and changed is None:  # every page is checked: their reads read at once
        inputs.store.read_all_reads(previous)
    last_reads = shape.last_reads(inputs.store) if previous else None  # given up by the memory
    if last_reads is not None:
        prints.inherit(*last_reads)
    fresh = shapes.fresh_items(prints.queries.by_key, stale)
    held = shape.held(inputs.store)
    found: shapes.Held = {}
    todo: list[PageJob] = []
    refs: list[frozenset[str] | None] = []
    holders = inputs.store.holders(writer.identity(inputs.options.output)) if changed else None
    records, left, dropped = shapes.unchecked_pages(
        jobs, planned.outline, previous, changed, held, inputs.store, holders
    )
    for n in left:
        job = jobs[n]
        old = previous.get(job.path)
        if fresh:
            job = jobs[n] = shapes.rebind(job, fresh)
        # a new page, or after a body edit the search manifest and shards (they read every
        # body; _changed_shards keeps the shards the patch left as they were): fingerprinted
        # once, after the bodies are converted (_records)
        if old is None or (changed and _is_index_file(job.path)):
            records[job.path] = cache.OutputRecord("", "")
            todo.append(job)
            refs.append(None)
            continue
        fingerprint, seen = prints.page(job.template, job.context)
        if old.fingerprint == fingerprint and prints.unchanged(old.reads):
            records[job.path] = old
            if old.items is None:  # too many to record: kept in memory (see ``Shape.held``)
                found[job.path] = (frozenset(seen), *map(prints.items_of, old.reads))
        else:
            records[job.path] = cache.OutputRecord(fingerprint, "")
            todo.append(job)
            refs.append(frozenset(seen))
    copies = _copies_to_do(all_copies, previous, records)
    looked_at = None if dropped is None else [*dropped, *(jobs[n].path for n in left), *all_copies]
    removed, checked = _removed(previous, records, dropped, looked_at)
    done = (records, previous, shape, jobs, changed, found, stamps, checked)
    return _Work(tuple(todo), tuple(refs), tuple(copies), removed, *done)


def _removed(
    previous: Mapping[str, cache.OutputRecord],
    records: Mapping[str, cache.OutputRecord],
    dropped: set[str] | None,
    looked_at: Iterable[str] | None,
) -> tuple[frozenset[str], frozenset[str] | None]:
    """The files of the last build that this one does not make, and the paths whose records
    may differ from the last build's (None: any). When the records the planning ``dropped``
    of the last build's are known (every other is kept), those are found among them, and
    the others among the paths ``looked_at`` (those dropped, the pages checked, the copies)."""
    if dropped is None or looked_at is None:
        return frozenset(previous.keys() - records.keys()), None
    return frozenset(filterfalse(records.__contains__, dropped)), frozenset(looked_at)


def _copies_to_do(
    all_copies: Mapping[str, tuple[Path, str]],
    previous: Mapping[str, cache.OutputRecord],
    records: dict[str, cache.OutputRecord],
) -> list[tuple[str, Path]]:
    """The files to copy (new or changed since the last build); the record of every copied
    file is added to ``records``."""
    copies = []
    for rel, (path, digest) in all_copies.items():
        old = previous.get(rel)
        records[rel] = cache.OutputRecord(digest, digest)
        if old is None or old.fingerprint != digest:
            copies.append((rel, path))
    return copies


def _all_copies(inputs: _Inputs) -> dict[str, tuple[Path, str]]:
    """Every file copied as it is, by output path: (source file, content digest)."""
    options, analysis = inputs.options, inputs.analysis
    copies = _copies(options, inputs.theme, analysis.plan, analysis.copied, inputs.photos)
    copies.update(_edition_copies(options.source, analysis.site, analysis.tree.editions))
    # the resized photos; a cached file's name holds its content hash
    copies.update({rel: (path, path.name) for rel, path in inputs.photos.copies()})
    return copies


def _convert(inputs: _Inputs, work: _Work, progress: pool.Progress | None) -> _Converted:
    """Markdown to HTML for every item without valid cached links, and the HTML of the items
    whose detail pages render; summaries of all items come with the cached links."""
    store, keys, links = inputs.store, inputs.keys, inputs.links
    html_needed = {job.context["item"].key for job in work.todo if "item" in job.context}
    html_needed.update(key for job in work.todo for key in job.bodies)
    bodies = dict(links)
    bodies.update(_cached_bodies(store, [k for k in html_needed if k in links], keys))
    # found by the interpreter's own loops: a site has tens of thousands of items
    wanted = set(filterfalse(links.__contains__, map(_KEY, inputs.items)))
    wanted.update(k for k in html_needed if k in links and not bodies[k].html)
    missing = list(compress(inputs.items, map(wanted.__contains__, map(_KEY, inputs.items))))
    made: set[str] = set()
    tables = (
        searchindex.made_where_converted(
            inputs.store,
            inputs.analysis.site,
            inputs.analysis.plan,
            inputs.keys,
            made,
            bulk=len(missing) >= searchindex.BULK_FROM,
        )
        if store.enabled
        else None
    )
    kept = _kept_bodies(inputs, bodies) if len(missing) >= keptbodies.KEPT_FROM else None

    def sink(chunk: dict[str, Rendered]) -> Mapping[str, Rendered]:
        store.put_many("markup", ((keys[k], _encode(r)) for k, r in chunk.items()))
        store.put_many(
            "links",
            ((keys[k], [[list(x) for x in r.links], r.text_summary]) for k, r in chunk.items()),
        )
        return kept.lighten(chunk) if kept is not None else chunk

    plan = inputs.analysis.plan
    converted = convert_bodies(
        missing, plan, inputs.converter, inputs.workers, tables, sink, progress
    )
    bodies.update(converted)
    # fingerprints as the next build will compute them, with these links known
    prints = (
        inputs.prints.with_links({**links, **converted}, frozenset(converted))
        if converted
        else inputs.prints
    )
    kept_or_all = kept if kept is not None else bodies
    return _Converted(kept_or_all, frozenset(converted), prints, frozenset(made))


_KEY = operator.attrgetter("key")


def _kept_bodies(inputs: _Inputs, bodies: Mapping[str, Rendered]) -> keptbodies.KeptBodies | None:
    """Where a large build keeps the bodies it converts (with ``bodies`` as they are): in the
    cache (``keptbodies``), when there is one."""
    if not inputs.store.enabled or inputs.store.path is None:
        return None
    by_key, plan, converter = inputs.prints.queries.by_key, inputs.analysis.plan, inputs.converter

    def again(key: str) -> Rendered:
        return converter.convert(by_key[key].body, key, plan.items[key])

    return keptbodies.KeptBodies(inputs.store.path, inputs.keys, again, bodies)


def _render_and_write(
    inputs: _Inputs,
    work: _Work,
    converted: _Converted,
    problems: list[Diagnostic],
    progress: Progress | None,
    mark: _Marker,
) -> BuildReport:
    """Render the pages to do (the workers write them into a staged folder and return their
    hashes and reads), copy the files, move them into the output, then save the record of
    every output file and the change times of its folders (from the ones the build started
    from, when it changed files in place). A caller that asked is told as soon as the pages
    are in the output (``_Marker.shown``); after a small change of bodies, the files of the
    search index follow them there (``_index_after``)."""
    site = inputs.analysis.site
    view = SiteView(site, inputs.analysis.plan, converted.bodies, converted.prints.queries)
    extra = {"photo_variants": view.photo_variants}
    env = render_environment(inputs.theme, site.config.language, view, inputs.analysis.plan, extra)
    publish = _Publisher(inputs, work, converted, env, view)
    try:
        published = _publish_pages(publish, mark, problems, _stage(progress, "pages"))
        if not published.moved:
            return _failed([*problems, *published.problems], mark.started, site.config.language)
        mark("render")
        if view.forget_search_index():  # its files are written (with serve's second move)
            _give_back(inputs.store)  # the postings' pages, before the records take pages again
        if not published.ok:  # the pages are in the output, the search index is as it was
            publish.keep_what_moved(published)
            return _failed([*problems, *published.problems], mark.started, site.config.language)
        records, held = publish.records(published)
        # the folders' times are kept, and a tick of their clock waited out, first: what the
        # caller told does to the output next is then seen by the next build
        _save_records(inputs, work, records, published.touched)
        publish.tell(published, mark, problems)
    finally:
        _close(converted.bodies)
    if publish.indexed:  # the index files were written: the output's shards are the cache's
        searchindex.written(inputs.store)
    work.shape.remember(inputs.store, work.jobs, converted.prints, {**work.held, **held})
    mark("write")
    files = len(published.written) + len(work.copies)
    return _done(inputs, problems, mark, published.written, files, len(work.removed))


def _publish_pages(
    publish: _Publisher, mark: _Marker, problems: list[Diagnostic], progress: pool.Progress | None
) -> _Published:
    """The pages and the files of the search index moved into the output: in one move; or,
    for a caller told when the pages are shown, in two, told between them: many pages, those
    a change is seen on first, then the later pages of lists with the index
    (``_front_and_rest``); or, after a small change of bodies, the pages, then the index
    (``_index_after``). Once the pages planned anew were handed over (``_Marker.hand_over``),
    the caller shows those until the build ends: they move in at once."""
    work = publish.work
    told = mark.shown is not None and not mark.handed_over
    split = _front_and_rest(work) if told else None
    more: Callable[[_Published], _Published] | None
    if split is not None:
        front = {job.path for job in split[0]}
        # new files of the second move, which the output of the first does not hold yet
        later = frozenset(
            job.path for job in work.todo if job.path not in front and job.path not in work.previous
        )
        published = publish.pages(progress, index=False, jobs=split[0], later=later)
        more = functools.partial(publish.rest, split[1], progress)
    else:
        after = told and _index_after(work)
        published = publish.pages(progress, index=not after)
        more = publish.index_files if after else None
    return publish.follow(published, mark, problems, more) if published.ok else published


def _front_and_rest(work: _Work) -> tuple[list[PageJob], list[PageJob]] | None:
    """The pages to do, those a change is first seen on (every page but the second and later
    pages of lists) apart from the later pages of lists; None when they are fewer than
    ``FRONT_FROM``, or all of one sort."""
    front: list[PageJob] = []
    rest: list[PageJob] = []
    for job in work.todo:
        if not _is_index_file(job.path):
            (rest if _later_page(job) else front).append(job)
    if len(front) + len(rest) < FRONT_FROM or not front or not rest:
        return None
    return front, rest


def _later_page(job: PageJob) -> bool:
    """Whether ``job`` is the second or a later page of a list."""
    return any(isinstance(value, Pagination) and value.number > 1 for value in job.context.values())


def _index_after(work: _Work) -> bool:
    """Whether the files of the search index may be written after the pages, in a second
    small change of the output: only bodies changed (the same files as before), the change
    is small enough to be made in place, and the index is among the files to write."""
    if work.changed is None or work.removed or not work.had_previous:
        return False
    if not any(_is_index_file(job.path) for job in work.todo):
        return False
    return len(work.todo) + len(work.copies) <= IN_PLACE_SHARE * len(work.records)


@dataclass(frozen=True, slots=True)
class _Published:
    """What one or two moves into the output wrote (``touched``: see ``_commit``), whether
    anything ``moved`` there (its records must then be saved), and the problems that stopped
    the last move (nothing of it moved then)."""

    written: tuple[pool.Written, ...] = ()
    problems: tuple[Diagnostic, ...] = ()
    touched: tuple[frozenset[str], frozenset[str]] | None = None
    moved: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def then(self, more: _Published) -> _Published:
        """This move followed by ``more``: the output changed in place by both, or a new
        folder when either swapped one in."""
        touched, also = self.touched, more.touched
        if more.moved and touched is not None:
            touched = None if also is None else (touched[0] | also[0], touched[1] | also[1])
        written = (*self.written, *more.written)
        return _Published(written, more.problems, touched, self.moved or more.moved)


@dataclass
class _Publisher:
    """Renders pages into a staged folder and moves them into the output."""

    inputs: _Inputs
    work: _Work
    converted: _Converted
    env: jinja2.Environment
    view: SiteView
    indexed: bool = False  # whether the files of the search index were rendered
    early: _RecordsMeanwhile | None = None  # the records of pages made as they came back

    def pages(
        self,
        progress: pool.Progress | None,
        index: bool,
        jobs: Sequence[PageJob] | None = None,
        work: _Work | None = None,
        later: frozenset[str] = frozenset(),
    ) -> _Published:
        """The pages ``jobs`` (every page to do unless told) and the copied files of
        ``work`` (the build's unless told); with ``index``, the files of the search index
        too, computed and rendered in this process while the workers render the pages, then
        let go of, before this process makes the pages' records as they come back.
        ``later``: new files a later move brings, left out of this one's output."""
        todo = self.work.todo
        first = [job for job in (todo if jobs is None else jobs) if not _is_index_file(job.path)]
        has_index = any(_is_index_file(job.path) for job in todo)
        inputs = self.inputs
        if self.early is None:
            held = inputs.store.memory("held") is not None
            self.early = _RecordsMeanwhile(self.work, self.converted, held)
        early = self.early

        def render(staged: writer.StagedOutput) -> tuple[list[pool.Written], list[Diagnostic]]:
            index_files: list[tuple[list[pool.Written], list[Diagnostic]]] = []

            def meanwhile() -> None:
                self._compute_index()
                index_files.append(self._render_index(staged))
                self.view.forget_search_index()  # its files are written
                _give_back(inputs.store)  # the postings' pages, before the records take pages

            written, problems = pool.render_pages(
                self.env,
                self.view,
                first,
                staged,
                inputs.theme,
                inputs.workers,
                progress,
                meanwhile if index and has_index else None,
                bodies=self.converted.bodies,
                each=early.add,
            )
            for more, more_problems in index_files:
                written.extend(more)
                problems.extend(more_problems)
            return written, problems

        return self._publish(render, self.work if work is None else work, later)

    def follow(
        self,
        first: _Published,
        mark: _Marker,
        problems: list[Diagnostic],
        more: Callable[[_Published], _Published] | None,
    ) -> _Published:
        """What follows the ``first`` move, of the pages: the caller that asked is told
        (``_Marker.shown``, with the report so far), then ``more`` moves the rest in. Whatever
        stops that, the records of what moved are kept first (``keep_what_moved``)."""
        try:
            if mark.shown is not None:
                mark.shown(self._so_far(first, mark, problems))
            return first.then(more(first)) if more is not None else first
        except BaseException:
            self.keep_what_moved(first)
            raise

    def tell(self, published: _Published, mark: _Marker, problems: list[Diagnostic]) -> None:
        """Tell the caller that asked (``_Marker.published``) that every file ``published``
        is in the output, with the report so far (its records are saved already). Whatever
        stops that, the skeleton is forgotten (``keep_what_moved``): what the build keeps
        for the next one after it is not kept."""
        if mark.published is None:
            return
        try:
            mark.published(self._so_far(published, mark, problems))
        except BaseException:
            self.keep_what_moved(published)
            raise

    def _so_far(
        self, published: _Published, mark: _Marker, problems: list[Diagnostic]
    ) -> BuildReport:
        """The report of the build so far, with the pages ``published`` and the copies."""
        written = published.written
        return _done(self.inputs, problems, mark, written, len(written) + len(self.work.copies))

    def keep_what_moved(self, published: _Published) -> None:
        """Save the records of the files ``published`` moved into the output, after the rest
        failed: a file of the search index that was to be written is made again by the next
        build (it may have moved in part), which checks every page (``Shape.forget``)."""
        work, store = self.work, self.inputs.store
        records, _held = self.records(published)
        written = {w.path for w in published.written}
        for job in work.todo:
            if _is_index_file(job.path) and job.path not in written and job.path in records:
                records[job.path] = cache.OutputRecord("", "")
        _save_records(self.inputs, work, records, published.touched)
        Shape.forget(store)
        if any(problem.code == "output-link" for problem in published.problems):
            store.forget_output()  # as the move that failed did: the save must not undo it

    def records(self, published: _Published) -> tuple[dict[str, cache.OutputRecord], shapes.Held]:
        """``_records`` of the files ``published``."""
        early = self.early.made if self.early is not None else None
        return _records(self.work, published.written, self.converted, self.inputs.store, early)

    def index_files(self, first: _Published) -> _Published:
        """The files of the search index alone, moved into the output after the ``first``
        move."""

        def move(work: _Work) -> _Published:
            self._compute_index()
            return self._publish(self._render_index, work)

        return self._after(first, move)

    def rest(
        self, jobs: Sequence[PageJob], progress: pool.Progress | None, first: _Published
    ) -> _Published:
        """The pages ``jobs`` and the files of the search index, moved into the output after
        the ``first`` move."""
        return self._after(
            first, lambda work: self.pages(progress, index=True, jobs=jobs, work=work)
        )

    def _after(self, first: _Published, move: Callable[[_Work], _Published]) -> _Published:
        """What ``move`` moves into the output after the ``first`` move, with no files to
        copy or remove (a failure of the machine is a problem)."""
        stamps = self._stamps_after(first)
        work = dataclasses.replace(self.work, copies=(), removed=frozenset(), stamps=stamps)
        try:
            return move(work)
        except OSError as exc:
            return _Published(problems=(system_error(exc),))

    def _stamps_after(self, first: _Published) -> freshness.Stamps | None:
        """The change times of the output's folders as the ``first`` move left them: those
        the build started from, and those of the folders the move changed, looked at again
        (what changed by hand during that move is kept as unknown by it)."""
        stamps = self.work.stamps
        if stamps is None or first.touched is None:
            return stamps
        now = writer.folder_stamps(self.inputs.options.output, writer.folders_of(first.touched[0]))
        return {**stamps, **now} if now is not None else stamps

    def _compute_index(self) -> None:
        self.view.use_search_index(_search_index(self.inputs, self.converted))

    def _render_index(
        self, staged: writer.StagedOutput
    ) -> tuple[list[pool.Written], list[Diagnostic]]:
        jobs = [job for job in self.work.todo if _is_index_file(job.path)]
        if self.work.changed is not None:  # only bodies changed: the same files but shards
            jobs = _changed_shards(jobs, self.view.search_index(), self.work.previous)
        self.indexed = True
        return pool.render_pages(self.env, self.view, jobs, staged, self.inputs.theme, 1)

    def _publish(
        self,
        render: Callable[[writer.StagedOutput], tuple[list[pool.Written], list[Diagnostic]]],
        work: _Work,
        later: frozenset[str] = frozenset(),
    ) -> _Published:
        staged = writer.StagedOutput(self.inputs.options.output)
        try:
            written, problems = render(staged)
            if problems:
                return _Published(problems=tuple(problems))
            rendered = {w.path for w in written}
            paths = work.records.keys() - later if later else work.records.keys()
            stop, touched = _commit(staged, work, rendered, paths, self.inputs)
            if stop:
                return _Published(problems=tuple(stop))
            return _Published(tuple(written), (), touched, moved=True)
        finally:
            staged.abort()


def _close(bodies: Mapping[str, Rendered]) -> None:
    """Close what ``bodies`` read the cache with, if anything."""
    if isinstance(bodies, keptbodies.KeptBodies):
        bodies.close()


def _save_records(
    inputs: _Inputs,
    work: _Work,
    records: Mapping[str, cache.OutputRecord],
    touched: tuple[frozenset[str], frozenset[str]] | None,
) -> None:
    """Keep the record of every output file and the change times of the output's folders:
    when the kept ones held, only those of the files ``touched`` in place are looked at."""
    since = None if inputs.watched else time.monotonic_ns()  # serve's folder is its own
    output = inputs.options.output
    inputs.store.save_outputs(writer.identity(output), records, work.previous, work.checked)
    touched = touched if work.stamps is not None else None
    freshness.remember_folders(output, inputs.store, records, touched, since)


def _changed_shards(
    jobs: list[PageJob], index: search.Index, previous: Mapping[str, cache.OutputRecord]
) -> list[PageJob]:
    """The index files to render: all but the shards the patched index left as they were,
    whose files (and records) stay the last build's."""
    todo: list[PageJob] = []
    for job in jobs:
        shard = job.context.get("part") == "t"  # not the manifest
        if not (shard and job.context.get("number") in index.unchanged and job.path in previous):
            todo.append(job)
    return todo


def _is_index_file(path: str) -> bool:
    """Whether ``path`` is the search manifest or a postings shard, which the whole index
    makes."""
    return path == search.MANIFEST or path.startswith(search.SHARD_FOLDER)


def _warm(inputs: _Inputs) -> None:
    """What the first build to render in this process would do first, done now (serve warms
    up): compile the templates, list which files hold each item, load the search index and
    the signature of every body."""
    theme.precompile(inputs.theme, inputs.analysis.site.config.language)
    inputs.store.holders(writer.identity(inputs.options.output))
    if inputs.store.memory("search_scripts") is not None:
        _search_index(inputs, _Converted(inputs.links, frozenset(), inputs.prints))


def _search_index(inputs: _Inputs, converted: _Converted) -> search.Index:
    """The site's search index: the bodies it needs are those converted in this build, else
    those in the cache, else converted now."""
    site, plan = inputs.analysis.site, inputs.analysis.plan

    def bodies(keys: Sequence[str]) -> dict[str, Rendered]:
        found = {k: full_body(converted.bodies, k) for k in keys}
        have = {k: body for k, body in found.items() if body is not None and _has_text(body)}
        have.update(_cached_bodies(inputs.store, [k for k in keys if k not in have], inputs.keys))
        by_key = inputs.prints.queries.by_key
        missing = [by_key[k] for k in keys if k not in have]
        # in this process: it may run while the render workers do
        have.update(convert_bodies(missing, plan, inputs.converter))
        return have

    made = converted.tables
    return searchindex.search_index(site, plan, inputs.store, inputs.keys, bodies, made)


def _has_text(body: Rendered | None) -> bool:
    """Whether ``body`` holds its HTML and text (not only the summary and links)."""
    return body is not None and bool(body.html or body.text)


# a page's record, and what it held and read, in parts: the items of its context, then those
# of the answer to each of its reads
_PageRecord = tuple[cache.OutputRecord, tuple[frozenset[str], ...]]


def _records(
    work: _Work,
    written: Sequence[pool.Written],
    converted: _Converted,
    store: cache.Cache,
    early: Mapping[str, _PageRecord] | None = None,
) -> tuple[dict[str, cache.OutputRecord], shapes.Held]:
    """The record of every output file (a rendered page keeps what it read, with digests; a
    page to do that was not ``written`` is the last build's file, with its record, as a
    shard the patched index left as it was; a new one has none), and for a process that
    builds again (serve, whose ``store`` remembers), the items each rendered page held
    and read, in parts (``shape.untouched_records``). ``early``: the records of pages made
    while the others rendered (``_RecordsMeanwhile``), by path."""
    held_kept = store.memory("held") is not None
    records = dict(work.records)
    todo = _todo_by_path(work)
    held: shapes.Held = {}
    for w in written:  # one page at a time: what a page held is not kept for all at once
        made = early.get(w.path) if early is not None else None
        record, parts = made or _page_record(w, todo[w.path], records, converted, held_kept)
        if held_kept:  # serve checks them against the changed items at every edit
            held[w.path] = parts
        records[w.path] = record
    for path in todo.keys() - {w.path for w in written}:
        old = work.previous.get(path)
        if old is not None:
            records[path] = old
        else:
            del records[path]
    return records, held


def _todo_by_path(work: _Work) -> dict[str, tuple[PageJob, frozenset[str] | None]]:
    """Each page to do, by path: its job and the items of its context, when known."""
    return {job.path: (job, refs) for job, refs in zip(work.todo, work.refs, strict=True)}


def _page_record(
    w: pool.Written,
    todo: tuple[PageJob, frozenset[str] | None],
    records: Mapping[str, cache.OutputRecord],
    converted: _Converted,
    held: bool,
) -> _PageRecord:
    """The record of the page ``w`` rendered for ``todo`` (its job and context items), whose
    record in ``records`` (from before rendering) holds its fingerprint when it was computed
    then; with what it held and read when ``held`` (kept for a process that builds again:
    its items are then a set), else nothing of that."""
    prints = converted.prints
    (job, refs), fingerprint = todo, records[w.path].fingerprint
    if refs is None or not refs.isdisjoint(converted.keys):
        fingerprint, seen = prints.page(job.template, job.context)
        refs = frozenset(seen)
    reads = {prints.encoded(read): prints.read(read) for read in sorted(w.reads)}
    parts = (refs, *(prints.read_items(read) for read in w.reads))
    items: Collection[str] | None = deps.page_items(parts[0], parts[1:])
    if not held:
        return cache.OutputRecord(fingerprint, w.sha, reads, items), ()
    items = frozenset(items) if items is not None else None
    return cache.OutputRecord(fingerprint, w.sha, reads, items), parts


class _RecordsMeanwhile:
    """The records of pages, made as the workers send the pages back while they render the
    others (this process waits for them then), rather than once all are done; ``_records``
    takes them. The search index is let go of before the first: the records take the memory
    it held."""

    def __init__(self, work: _Work, converted: _Converted, held: bool) -> None:
        self.made: dict[str, _PageRecord] = {}
        self._records, self._converted, self._held = work.records, converted, held
        self._todo = _todo_by_path(work)

    def add(self, w: pool.Written) -> None:
        todo = self._todo[w.path]
        self.made[w.path] = _page_record(w, todo, self._records, self._converted, self._held)


def _commit(
    staged: writer.StagedOutput,
    work: _Work,
    rendered: set[str],
    paths: Collection[str],
    inputs: _Inputs,
) -> tuple[list[Diagnostic], tuple[frozenset[str], frozenset[str]] | None]:
    """Copy the files, then move small changes into the existing output, or else swap in the
    whole new folder (of every file of ``paths``) with unchanged files carried over. When the
    output was not looked through before the build (``deferred``), it is now, where anything
    would be lost: the paths a small change touches, or the whole folder. Returns what
    stopped it (nothing moved), if anything, and the files changed in place with the folders
    of theirs found changed since the build started (None: a new folder)."""
    staged.copy_all(work.copies)
    output = inputs.options.output
    fresh = rendered | {rel for rel, _ in work.copies}
    small = len(fresh) + len(work.removed) <= IN_PLACE_SHARE * len(paths)
    try:
        if work.had_previous and small:
            if inputs.deferred:
                added = [rel for rel in fresh if rel not in work.previous]
                writer.refuse_foreign(output, added, [*fresh, *work.removed])
            same = not work.removed and set(paths) == work.previous.keys()
            touched = frozenset(fresh | work.removed)
            # folders changed by hand while the build ran: their times are kept as unknown
            unknown = freshness.changed_since(output, touched, work.stamps or {})
            staged.commit_changes(fresh, work.removed, None if same else paths)
            return [], (touched, unknown)
        listing = writer.list_files(output)  # one walk for both
        if inputs.deferred:  # the whole folder is replaced: nothing else may be in it
            writer.refuse_foreign(output, listing=listing)
        plain = writer.plain_files(listing)
        for rel in paths:
            if rel not in fresh:
                staged.keep(rel, output, plain)
    except writer.OutputError as exc:
        if exc.code == "output-link":
            # the output is not as the cache knows it: the next build renders every page and
            # looks through the whole folder first
            inputs.store.forget_output()
        return [_output_problem(exc)], None
    staged.commit()
    return [], None


def _failed(problems: list[Diagnostic], started: float, language: str) -> BuildReport:
    return BuildReport(
        False, _sorted(problems), seconds=time.perf_counter() - started, language=language
    )


def _done(
    inputs: _Inputs,
    problems: list[Diagnostic],
    mark: _Marker,
    pages: Sequence[pool.Written] = (),
    files: int = 0,
    removed: int = 0,
) -> BuildReport:
    return BuildReport(
        True,
        _sorted(problems),
        pages=len(pages),
        html=sum(page.path.endswith(".html") for page in pages),
        files=files,
        removed=removed,
        seconds=time.perf_counter() - mark.started,
        language=inputs.analysis.site.config.language,
        counts=_counts(inputs.analysis.site),
        stages=dict(mark.stages),  # its own: a report told early is not changed after
    )


class _Marker:
    """Records the seconds each stage took, for --timings and the benchmark, and tells a
    caller that asked when the pages are in the output (``shown``), and when every file
    the build changes is (``published``); hands the pages planned anew to a caller that
    makes them on demand meanwhile (``previewed``), and records that it did
    (``handed_over``)."""

    def __init__(
        self,
        stages: dict[str, float],
        started: float,
        shown: Callable[[BuildReport], None] | None = None,
        published: Callable[[BuildReport], None] | None = None,
        previewed: Callable[[ondemand.OnDemand], None] | None = None,
    ) -> None:
        self.stages = stages
        self.started = started
        self.last = started
        self.shown = shown
        self.published = published
        self.previewed = previewed
        self.handed_over = False

    def hand_over(self, pages: ondemand.OnDemand) -> None:
        """Hand ``pages`` to the caller that asked (``previewed``)."""
        assert self.previewed is not None
        self.previewed(pages)
        self.handed_over = True

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.stages[name] = round(now - self.last, 4)
        self.last = now
        stopping.check()  # a Ctrl-C whose exception was dropped stops the build here


def _counts(site: model.Site) -> dict[str, int]:
    return {
        "profiles": len(site.profiles),
        "reports": len(site.reports),
        "pledges": len(site.pledges),
        "free_pages": len(site.pages),
        "units": len(site.units),
    }


def _encode(rendered: Rendered) -> list[Any]:
    """A body as the cache keeps it: its HTML, summary and links (its text is read from the
    HTML again)."""
    links = [list(link) for link in rendered.links]
    return [rendered.html, rendered.text_summary, links]


def _markup_keys(store: cache.Cache, site: model.Site, plan: urls.UrlPlan) -> dict[str, str]:
    """Each item's Markdown cache key (a digest of its file and page), by key. In a process
    that builds again (serve), computed once per item and page; and for a site patched from
    the last one (with the same plan), only for the items patched."""
    memo = store.memory("markup_keys_of_site")
    last = memo.get("last") if memo is not None else None
    fresh = site.patched_from(last[0]) if last is not None and last[1] is plan else None

    def key(item: model.Item, page: str) -> str:
        return markup.cache_key(item.body, item.key, page, item.digest)

    if last is not None and fresh is not None:
        keys = {**last[2], **{k: key(item, plan.items[k]) for k, item in fresh.items()}}
    else:
        keys = store.per_item("markup_keys", site.all_items(), lambda i: plan.items[i.key], key)
    if memo is not None:
        memo["last"] = (site, plan, keys)
    return keys


def _cached_links(
    store: cache.Cache,
    site: model.Site,
    keys: Mapping[str, str],
    converter: markup.Converter,
    plan: urls.UrlPlan,
) -> dict[str, Rendered]:
    """Items whose cached HTML is still valid (same text and place, and every link resolves
    as it did), with their link resolutions; the HTML itself is fetched only when needed. In
    a process that builds again (serve), while every link target is as it was, an item whose
    Markdown cache key is unchanged keeps the last answer; for a site patched from the last
    one, only the items patched and those the last answer lacked are looked at."""
    memo, memory = _links_memo(store, converter.targets)
    # (site, plan, answer, the items it lacked): the keys of unchanged items are the same
    last = memory.get("last")
    fresh = site.patched_from(last[0]) if last is not None and last[1] is plan else None
    items: Sequence[model.Item] = site.all_items()
    valid_now: dict[str, Rendered] = {}
    if last is not None and fresh is not None:
        items = [*fresh.values(), *(i for i in last[3] if i.key not in fresh)]
        valid_now.update(last[2])
    wanted = [item for item in items if memo.get(item.key, ("",))[0] != keys[item.key]]
    found = store.get_many("links", (keys[item.key] for item in wanted))
    for item in wanted:
        entry = found.get(keys[item.key])
        if entry is None:
            continue
        refs, summary = entry
        rendered = Rendered("", summary, tuple((a, b) for a, b in refs))
        if converter.still_valid(rendered, item.key, plan.items[item.key]):
            memo[item.key] = (keys[item.key], rendered)
    lacking: list[model.Item] = []
    for item in items:
        kept = memo.get(item.key)
        if kept is not None and kept[0] == keys[item.key]:
            valid_now[item.key] = kept[1]
        else:
            valid_now.pop(item.key, None)
            lacking.append(item)
    memory["last"] = (site, plan, valid_now, lacking)
    return valid_now


def _links_memo(
    store: cache.Cache, targets: Mapping[str, str]
) -> tuple[dict[str, tuple[str, Rendered]], dict[str, Any]]:
    """The valid answers of ``_cached_links`` by item key (Markdown cache key, cached links),
    while the link ``targets`` are the same (links that no longer resolve are converted
    again, and the new ones cached under the same key: not remembered), and where its last
    answer is kept for as long (at "last"); throwaway mappings unless the cache remembers."""
    memory = store.memory("cached_links")
    if memory is None:
        return {}, {}
    if memory.get("targets") != targets:
        memory.clear()
        memory["targets"] = dict(targets)
    answers: dict[str, tuple[str, Rendered]] = memory.setdefault("answers", {})
    return answers, memory


def _cached_bodies(
    store: cache.Cache, wanted: list[str], keys: Mapping[str, str]
) -> dict[str, Rendered]:
    """The bodies of ``wanted`` the cache holds as a build stores them. The cache is a file
    anyone may change: a body whose HTML the sanitiser would change is not taken (and is
    converted again), so no script comes from the cache and every page is what a clean build
    makes (the sanitiser does not give back every HTML it made unchanged: ``&#13;``)."""
    found = store.get_many("markup", (keys[k] for k in wanted))
    bodies = {}
    for key in wanted:
        entry = found.get(keys[key])
        if entry is not None and markup.sanitize(entry[0]) == entry[0]:
            links = tuple((a, b) for a, b in entry[2])
            bodies[key] = Rendered(entry[0], entry[1], links, markup.plain_text(entry[0]))
    return bodies


def _template_digests(
    env: jinja2.Environment, store: cache.Cache, warned: Callable[[], list[Diagnostic]]
) -> tuple[dict[str, str], list[Diagnostic]]:
    """The digest of every template with everything it includes, extends or imports, and
    the templates' warnings (``warned``: ``theme.use_problems``); taken from the cache while
    no template's source has changed (the warnings' parse costs a new process a tenth of a
    second on a theme of the site's own)."""
    assert env.loader is not None
    names = theme.template_names(env)
    sources = hashlib.sha256(cache.code_digest().encode())
    for name in names:
        sources.update(f"{name}\0{env.loader.get_source(env, name)[0]}\0".encode())
    cached = json.loads(store.get_meta("templates") or "null")
    if cached and len(cached) == 3 and cached[0] == sources.hexdigest():
        return dict(cached[1]), [Diagnostic.from_row(row[0], row[1:]) for row in cached[2]]
    closure = {name: _template_digest(env, name) for name in names}
    for name in names:
        env.get_template(name)  # an unknown filter or test is found when a template compiles
    warnings = warned()
    rows = [[d.path, *d.as_row()] for d in warnings]
    store.set_meta("templates", json.dumps([sources.hexdigest(), closure, rows]))
    return closure, warnings


def _template_digest(env: jinja2.Environment, name: str) -> str:
    parts = []
    for dep in theme.template_closure(env, name):
        assert env.loader is not None
        source, _filename, _uptodate = env.loader.get_source(env, dep)
        parts.append(f"{dep}\0{source}")
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


def _copies(
    options: BuildOptions,
    theme_dirs: theme.ThemeDirs,
    plan: urls.UrlPlan,
    copied: tuple[str, ...],
    photos: images.PhotoSet,
) -> dict[str, tuple[Path, str]]:
    """Files copied as they are, by output path: (source file, content digest)."""
    out: dict[str, tuple[Path, str]] = {}
    for rel, path in theme_dirs.static_files().items():
        out[urls.join(urls.THEME_ASSETS, rel)] = (path, _file_digest(path))
    for rel in copied:
        made = photos.originals.get(rel)
        if made is not None:  # an image scaled down or without its metadata
            out[plan.assets[rel]] = (made, made.name)
        else:
            path = options.source / rel
            out[plan.assets[rel]] = (path, _file_digest(path))
    return out


def _edition_copies(
    source: Path, site: model.Site, editions: dict[int, tuple[str, ...]]
) -> dict[str, tuple[Path, str]]:
    """Every frozen edition, byte for byte, to editions/<year>/ (none inside an
    edition: an edition never holds other editions)."""
    files = _edition_files(source, site, editions)
    return {rel: (path, _file_digest(path)) for rel, path in files.items()}


def _edition_files(
    source: Path, site: model.Site, editions: dict[int, tuple[str, ...]]
) -> dict[str, Path]:
    """The files of every frozen edition, by their path in the output."""
    out: dict[str, Path] = {}
    for year in site.editions:
        folder = loader.edition_folder(source, year)
        for rel in editions[year]:
            out[urls.join(urls.EDITIONS, year, rel)] = folder / rel
    return out


def _file_digest(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _sorted(problems: list[Diagnostic]) -> tuple[Diagnostic, ...]:
    return tuple(sorted(set(problems), key=Diagnostic.sort_key))
