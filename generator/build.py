"""The build: load and validate -> site model -> URLs -> render -> write. The only module that
knows the order of the stages.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import jinja2

from generator import loader, markup, model, render, theme, urls, writer
from generator.config import BuildOptions
from generator.errors import Diagnostic, has_errors

CONTENT_FOLDERS = tuple(loader.CONTENT_KINDS)


@dataclass(frozen=True, slots=True)
class BuildReport:
    ok: bool
    diagnostics: tuple[Diagnostic, ...]
    pages: int = 0
    files: int = 0
    seconds: float = 0.0
    language: str = "zh-CN"
    counts: dict[str, int] = field(default_factory=dict)


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


def analyse(options: BuildOptions) -> Analysis:
    """Load, validate, model and plan URLs; collect every diagnostic. Writes nothing."""
    tree, problems = loader.load(options.source)
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
    copied = _copied_files(tree)
    plan, url_problems = urls.plan(site, copied)
    problems.extend(url_problems)
    return Analysis(tree, site, plan, theme_dirs, tuple(copied), _sorted(problems))


def build(options: BuildOptions, progress: Progress | None = None) -> BuildReport:
    started = time.perf_counter()
    analysis = analyse(options)
    site, plan, theme_dirs, copied = analysis.site, analysis.plan, analysis.theme, analysis.copied
    problems = list(analysis.diagnostics)
    language = site.config.language

    def failed() -> BuildReport:
        return BuildReport(
            False, _sorted(problems), seconds=time.perf_counter() - started, language=language
        )

    if has_errors(problems) or (options.strict and problems) or theme_dirs is None:
        return failed()

    targets = {**plan.items, **plan.assets}
    converter = markup.Converter(targets, site.config.summary_length)
    bodies = {
        item.key: converter.convert(item.body, item.key, plan.items[item.key])
        for item in (*site.profiles, *site.reports, *site.pledges, *site.pages)
    }
    view = render.SiteView(site, plan, bodies)
    env = theme.environment(theme_dirs, language, render.make_globals(view))
    jobs = list(render.pages(site, plan))
    try:
        writer.check_output(options.output, options.source)
    except writer.OutputError as exc:
        problems.append(Diagnostic.error(str(exc.path), 0, exc.code, folder=str(exc.path)))
        return failed()
    staged = writer.StagedOutput(options.output)
    try:
        for number, job in enumerate(jobs, start=1):
            try:
                data = render.render(env, job, view)
            except (jinja2.TemplateError, TypeError, ValueError, KeyError, AttributeError) as exc:
                problems.append(theme.template_error(exc, theme_dirs))
                return failed()
            staged.write(job.path, data)
            if progress is not None:
                progress(number, len(jobs))
        staged.copy_all(
            (urls.join(urls.THEME_ASSETS, rel), path)
            for rel, path in theme_dirs.static_files().items()
        )
        staged.copy_all((plan.assets[rel], options.source / rel) for rel in copied)
        staged.commit()
    finally:
        staged.abort()
    counts = {
        "profiles": len(site.profiles),
        "reports": len(site.reports),
        "pledges": len(site.pledges),
        "free_pages": len(site.pages),
        "units": len(site.units),
    }
    return BuildReport(
        True,
        _sorted(problems),
        pages=len(jobs),
        files=len(jobs) + len(copied),
        seconds=time.perf_counter() - started,
        language=language,
        counts=counts,
    )


def _sorted(problems: list[Diagnostic]) -> tuple[Diagnostic, ...]:
    return tuple(sorted(set(problems), key=Diagnostic.sort_key))
