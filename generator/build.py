"""The build: load and validate -> site model -> URLs -> render -> write. The only module that
knows the order of the stages.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from generator import pages
from generator.base.config import BuildOptions
from generator.base.errors import Diagnostic, has_errors
from generator.content import history, loader
from generator.output import cache, images, markup, pool, theme, writer
from generator.output import fingerprints as deps
from generator.output import render as templating
from generator.pages.base import PageJob
from generator.pages.view import SiteView
from generator.site import model, urls
from generator.site.bodies import Rendered

CONTENT_FOLDERS = tuple(loader.CONTENT_KINDS)
# an incremental build that changes at most this share of the output moves its files into the
# existing folder; a larger one builds a complete new folder and swaps it in
IN_PLACE_SHARE = 0.2


@dataclass(frozen=True, slots=True)
class BuildReport:
    ok: bool
    diagnostics: tuple[Diagnostic, ...]
    pages: int = 0
    files: int = 0
    seconds: float = 0.0
    language: str = "zh-CN"
    counts: dict[str, int] = field(default_factory=dict)
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage


Progress = Callable[[int, int], None]


def _copied_files(tree: loader.SourceTree) -> list[str]:
    """Files copied as they are: everything under static/, and every non-Markdown file in the
    content folders (photos and attachments kept next to their story)."""
    out = []
    for rel in tree.files:
        top = rel.partition("/")[0]
        if top == "static" or (
            top in CONTENT_FOLDERS and not rel.endswith(loader.MARKDOWN_SUFFIXES)
        ):
            out.append(rel)
    return out


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything known about a site before anything is rendered: the stages up to URLs."""

    tree: loader.SourceTree
    site: model.Site
    plan: urls.UrlPlan
    theme: theme.ThemeDirs | None
    copied: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...]


def analyse(options: BuildOptions, store: cache.Cache | None = None) -> Analysis:
    """Load, validate, model and plan URLs; collect every diagnostic. Writes nothing."""
    tree, problems = loader.load(options.source, store)
    site, model_problems = model.build_site(tree, options)
    problems.extend(model_problems)
    theme_dirs = theme.locate(options.source, site.config.theme)
    if theme_dirs is None:
        line = tree.site.lines.get("theme", 1) if tree.site else 1
        problems.append(
            Diagnostic.error(
                "site.yaml",
                line,
                "unknown-theme",
                "theme",
                theme=site.config.theme,
                available=", ".join(theme.available_themes(options.source)),
            )
        )
    # issue 4: an edition leaves out the photos and attachments of other years' items
    copied = [rel for rel in _copied_files(tree) if rel not in site.left_out]
    plan, url_problems = urls.plan(site, copied)
    problems.extend(url_problems)
    return Analysis(tree, site, plan, theme_dirs, tuple(copied), _sorted(problems))


def build(options: BuildOptions, progress: Progress | None = None) -> BuildReport:
    """Build the site; with a cache, only what changed is converted, rendered and written."""
    started = time.perf_counter()
    store = cache.Cache.open(options.cache_dir) if options.cache_dir else cache.Cache.disabled()
    try:
        state = _source_state(options) if store.enabled else ""
        if state and store.get_meta("source") == state + writer.identity(options.output):
            # nothing at all changed since the last build of this output: nothing to do
            return BuildReport(
                True,
                (),
                seconds=time.perf_counter() - started,
                language=store.get_meta("language") or "zh-CN",
                counts=json.loads(store.get_meta("counts") or "{}"),
            )
        report = _build(options, store, progress, started)
        if report.ok and state and not report.diagnostics:
            store.set_meta("source", state + writer.identity(options.output))
            store.set_meta("language", report.language)
            store.set_meta("counts", json.dumps(report.counts))
        else:
            store.set_meta("source", "")
        return report
    finally:
        store.close()


def _source_state(options: BuildOptions) -> str:
    """A digest of everything a build reads: every file of the source and of the shipped
    themes (content and time), the git commit (dates come from history), the options."""
    digest = hashlib.sha256()
    digest.update(repr((cache.SCHEMA, options.drafts, options.strict)).encode())
    skip = {cache.CACHE_DIR}
    for root in (options.source, theme.packaged_themes_dir()):
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in skip and d != "__pycache__")
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                try:
                    st = os.stat(path)
                    with open(path, "rb") as fh:
                        content = hashlib.file_digest(fh, "sha256").hexdigest()
                except OSError:
                    continue
                digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0{content}\n".encode())
    digest.update(history.head(options.source).encode())
    return digest.hexdigest()


def _build(
    options: BuildOptions, store: cache.Cache, progress: Progress | None, started: float
) -> BuildReport:
    stages: dict[str, float] = {}
    mark = _Marker(stages, started)
    analysis = analyse(options, store)
    mark("analyse")
    site, plan, theme_dirs, copied = analysis.site, analysis.plan, analysis.theme, analysis.copied
    problems = list(analysis.diagnostics)
    if store.problem:
        problems.append(Diagnostic.warning(cache.CACHE_DIR, 0, f"cache-{store.problem}"))
    language = site.config.language

    def failed() -> BuildReport:
        return BuildReport(
            False, _sorted(problems), seconds=time.perf_counter() - started, language=language
        )

    if has_errors(problems) or (options.strict and problems) or theme_dirs is None:
        return failed()
    writer.recover(options.output)
    try:
        writer.check_output(options.output, options.source)
    except writer.OutputError as exc:
        problems.append(Diagnostic.error(str(exc.path), 0, exc.code, folder=str(exc.path)))
        return failed()

    workers = pool.worker_count(options.workers)
    everything: list[model.Item] = [*site.profiles, *site.reports, *site.pledges, *site.pages]
    # issue 4: in an edition, links to what is left out (other years) become plain text
    left_out = {rel: "" for rel in site.left_out}
    converter = markup.Converter(
        {**left_out, **plan.items, **plan.assets}, site.config.summary_length
    )
    keys = {i.key: markup.cache_key(i.body, i.key, plan.items[i.key]) for i in everything}
    links = _cached_links(store, everything, keys, converter, plan)

    env = theme.environment(theme_dirs, language, {})
    # issue 6: profile photos resized (cached by content hash in <source>/.showcase-cache/);
    # templates read their sizes from the `photo_variants` global, the files are copied below
    photos, photo_problems = images.derive_for_site(site, options.source)
    problems.extend(photo_problems)
    env.globals["photo_variants"] = photos.variants
    try:
        closure = {name: _template_digest(env, name) for name in _template_names(env)}
    except jinja2.TemplateError as exc:
        problems.append(theme.template_error(exc, theme_dirs))
        return failed()
    catalog = theme_dirs.catalog(language)
    prints = deps.Fingerprints(
        site,
        plan,
        deps.global_digest(site, catalog, cache.SCHEMA + repr(sorted(photos.variants.items()))),
        links,
        lambda name: closure.get(name, name),
    )
    jobs = list(pages.pages(site, plan))
    mark("plan pages")
    identity = writer.identity(options.output)
    previous = store.outputs(identity) if identity else {}
    records: dict[str, cache.OutputRecord] = {}
    todo: list[PageJob] = []
    todo_refs: list[set[str]] = []
    needed: set[str] = set()
    for job in jobs:
        fingerprint, refs = prints.page(job.template, job.context, job.items)
        records[job.path] = cache.OutputRecord(fingerprint, "")
        old = previous.get(job.path)
        if old is None or old.fingerprint != fingerprint:
            todo.append(job)
            todo_refs.append(refs)
            needed.update(refs)
        else:
            records[job.path] = old
    copies = _copies(options, theme_dirs, plan, copied, store)
    copies.update(_edition_copies(options.source, site, analysis.tree.editions))  # issue 4
    # issue 6: the resized photos; a cached file's name holds its content hash
    copies.update({rel: (path, path.name) for rel, path in photos.copies()})
    todo_copies = []
    for rel, (path, digest) in copies.items():
        old = previous.get(rel)
        records[rel] = cache.OutputRecord(digest, digest)
        if old is None or old.fingerprint != digest:
            todo_copies.append((rel, path))
    removed = set(previous) - set(records)
    report_counts = _counts(site)
    mark("fingerprints")
    if previous and not todo and not todo_copies and not removed:
        return BuildReport(
            True,
            _sorted(problems),
            pages=0,
            files=0,
            seconds=time.perf_counter() - started,
            language=language,
            counts=report_counts,
            stages=stages,
        )

    # lists need only summaries (kept with the links); HTML only for the detail pages to render
    html_needed = {job.context["item"].key for job in todo if "item" in job.context}
    bodies = {k: r for k, r in links.items() if k in needed}
    bodies.update(_cached_bodies(store, [k for k in html_needed if k in links], keys))
    missing = [
        i
        for i in everything
        if (i.key in needed and i.key not in links)
        or (i.key in html_needed and not bodies[i.key].html)
    ]
    converted = pool.convert(missing, dict(plan.items), converter, workers)
    store.put_many("markup", ((keys[k], _encode(r)) for k, r in converted.items()))
    store.put_many(
        "links",
        ((keys[k], [[list(x) for x in r.links], r.text_summary]) for k, r in converted.items()),
    )
    bodies.update(converted)
    if converted:
        # record fingerprints as the next build will compute them, with these links known
        prints = deps.Fingerprints(
            site, plan, prints.global_digest, {**links, **converted}, prints.templates
        )
        for job, refs in zip(todo, todo_refs, strict=True):
            if not refs.isdisjoint(converted):
                records[job.path] = cache.OutputRecord(
                    prints.page(job.template, job.context, job.items)[0], ""
                )
    view = SiteView(site, plan, bodies)
    env.globals.update(templating.make_globals(view))
    mark("markdown")

    staged = writer.StagedOutput(options.output)
    try:
        written, render_problems = pool.render_pages(
            env, view, todo, staged.root, theme_dirs, workers, progress
        )
        if render_problems:
            problems.extend(render_problems)
            return failed()
        mark("render")
        staged.claim(w.path for w in written)
        for w in written:
            records[w.path] = cache.OutputRecord(records[w.path].fingerprint, w.sha)
        staged.copy_all(todo_copies)
        fresh = {w.path for w in written} | {rel for rel, _ in todo_copies}
        if previous and len(fresh) + len(removed) <= IN_PLACE_SHARE * len(records):
            staged.commit_changes(fresh, removed)
        else:
            for rel in records:
                if rel not in fresh:
                    staged.keep(rel, options.output)
            staged.commit()
    finally:
        staged.abort()
    store.save_outputs(writer.identity(options.output), records)
    mark("write")
    return BuildReport(
        True,
        _sorted(problems),
        pages=len(written),
        files=len(written) + len(todo_copies),
        seconds=time.perf_counter() - started,
        language=language,
        counts=report_counts,
        stages=stages,
    )


class _Marker:
    """Records the seconds each stage took, for --timings and the benchmark."""

    def __init__(self, stages: dict[str, float], started: float) -> None:
        self.stages = stages
        self.last = started

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.stages[name] = round(now - self.last, 4)
        self.last = now


def _counts(site: model.Site) -> dict[str, int]:
    return {
        "profiles": len(site.profiles),
        "reports": len(site.reports),
        "pledges": len(site.pledges),
        "free_pages": len(site.pages),
        "units": len(site.units),
    }


def _encode(rendered: Rendered) -> list[Any]:
    return [rendered.html, rendered.text_summary, [list(link) for link in rendered.links]]


def _cached_links(
    store: cache.Cache,
    items: list[model.Item],
    keys: dict[str, str],
    converter: markup.Converter,
    plan: urls.UrlPlan,
) -> dict[str, Rendered]:
    """Items whose cached HTML is still valid (same text and place, and every link resolves
    as it did), with their link resolutions; the HTML itself is fetched only when needed."""
    found = store.get_many("links", keys.values())
    valid: dict[str, Rendered] = {}
    for item in items:
        entry = found.get(keys[item.key])
        if entry is None:
            continue
        refs, summary = entry
        rendered = Rendered("", summary, tuple((a, b) for a, b in refs))
        if converter.still_valid(rendered, item.key, plan.items[item.key]):
            valid[item.key] = rendered
    return valid


def _cached_bodies(
    store: cache.Cache, wanted: list[str], keys: dict[str, str]
) -> dict[str, Rendered]:
    found = store.get_many("markup", (keys[k] for k in wanted))
    bodies = {}
    for key in wanted:
        entry = found.get(keys[key])
        if entry is not None:
            bodies[key] = Rendered(entry[0], entry[1], tuple((a, b) for a, b in entry[2]))
    return bodies


def _template_names(env: jinja2.Environment) -> list[str]:
    return env.list_templates(filter_func=lambda n: not n.startswith("."))


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
    store: cache.Cache,
) -> dict[str, tuple[Path, str]]:
    """Files copied as they are, by output path: (source file, content digest)."""
    out: dict[str, tuple[Path, str]] = {}
    for rel, path in theme_dirs.static_files().items():
        out[urls.join(urls.THEME_ASSETS, rel)] = (path, _file_digest(path))
    for rel in copied:
        path = options.source / rel
        out[plan.assets[rel]] = (path, _file_digest(path))
    return out


def _edition_copies(
    source: Path, site: model.Site, editions: dict[int, tuple[str, ...]]
) -> dict[str, tuple[Path, str]]:
    """issue 4: every frozen edition, byte for byte, to editions/<year>/ (none inside an
    edition: an edition never holds other editions)."""
    out: dict[str, tuple[Path, str]] = {}
    for year in site.editions:
        folder = loader.edition_folder(source, year)
        for rel in editions[year]:
            path = folder / rel
            out[urls.join(urls.EDITIONS, year, rel)] = (path, _file_digest(path))
    return out


def _file_digest(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _sorted(problems: list[Diagnostic]) -> tuple[Diagnostic, ...]:
    return tuple(sorted(set(problems), key=Diagnostic.sort_key))
