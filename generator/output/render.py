"""Templates meet the site: the globals every template sees (URL helpers, the site view) and
the rendering of one page into bytes, with the reads the page made through the view."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jinja2
from markupsafe import Markup

from generator.pages.base import PageJob, item_date
from generator.pages.charts import svg_bar_chart
from generator.pages.view import Read, SiteView
from generator.site import urls
from generator.site.bodies import Rendered, full_body
from generator.site.model import Item, Unit
from generator.site.urls import UrlPlan


class Links:
    """The URL helpers of templates: every link is relative to the page being rendered
    (``page_path`` in the context), except absolute ones for feed and sitemap."""

    def __init__(self, plan: UrlPlan, view: SiteView) -> None:
        self._plan = plan
        self._view = view

    def _here(self, ctx: Any) -> str:
        """The page being rendered: ``page_path`` in the context, else (in a macro imported
        without the page's context) the page the view is recording."""
        page = ctx.get("page_path")
        return str(page) if page is not None else self._view.current_page

    def _target_path(self, target: Any) -> str:
        if isinstance(target, Item):
            return self._plan.items[target.key]
        if isinstance(target, Unit):
            return urls.unit(target.id)
        return str(target)

    @jinja2.pass_context
    def url(self, ctx: Any, target: Any) -> str:
        return urls.relative(self._target_path(target), self._here(ctx))

    @jinja2.pass_context
    def unit_url(self, ctx: Any, unit: Unit | str, year: int | None = None) -> str:
        unit_id = unit.id if isinstance(unit, Unit) else unit
        return urls.relative(urls.unit(unit_id, year), self._here(ctx))

    @jinja2.pass_context
    def year_url(self, ctx: Any, year: int | None = None) -> str:
        target = urls.year(year) if year else urls.years_index()
        return urls.relative(target, self._here(ctx))

    @jinja2.pass_context
    def tag_url(self, ctx: Any, tag: str | None = None) -> str:
        target = self._plan.tags[tag] if tag else urls.tags_index()
        return urls.relative(target, self._here(ctx))

    @jinja2.pass_context
    def section_url(self, ctx: Any, kind: str, page: int = 1) -> str:
        path = urls.section(kind, page, self._view.registry)
        return urls.relative(path, self._here(ctx))

    @jinja2.pass_context
    def asset_url(self, ctx: Any, source: str) -> str:
        return urls.relative(self._plan.assets.get(source, source), self._here(ctx))

    @jinja2.pass_context
    def stats_url(self, ctx: Any, target: int | str | None = None) -> str:
        """The statistics page (of a year), or a download (``"stats.json"``, ``"stats.csv"``)."""
        if isinstance(target, str):
            path = urls.join("stats", target)
        else:
            path = urls.join("stats", target or "", urls.INDEX)
        return urls.relative(path, self._here(ctx))

    @jinja2.pass_context
    def edition_url(self, ctx: Any, year: int | None = None) -> str:
        """The editions page, or the home page of one frozen edition."""
        target = urls.edition(year) if year else urls.editions_index()
        return urls.relative(target, self._here(ctx))

    @jinja2.pass_context
    def theme_url(self, ctx: Any, name: str) -> str:
        return urls.relative(urls.join(urls.THEME_ASSETS, name), self._here(ctx))

    @jinja2.pass_context
    def absolute_url(self, ctx: Any, target: Any) -> str:
        """For feed and sitemap: absolute with base_url, else relative to the document."""
        path = self._target_path(target)
        base = self._view.config.base_url
        if base:
            return str(base).rstrip("/") + "/" + path
        return urls.relative(path, self._here(ctx))


def make_globals(
    view: SiteView, plan: UrlPlan, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Every global of the templates, built once per build: the URL helpers, the site view,
    the configuration (as the view records reads of it), and ``extra``."""
    links = Links(plan, view)
    return {
        "site": view,
        "config": view.config,
        "url": links.url,
        "unit_url": links.unit_url,
        "year_url": links.year_url,
        "tag_url": links.tag_url,
        "section_url": links.section_url,
        "asset_url": links.asset_url,
        "theme_url": links.theme_url,
        "absolute_url": links.absolute_url,
        "item_date": item_date,
        "bar_chart": svg_bar_chart,
        "stats_url": links.stats_url,
        "edition": view.edition,
        "editions": view.editions,
        "edition_url": links.edition_url,
        **(extra or {}),
    }


@dataclass(frozen=True, slots=True)
class RenderedPage:
    """A page's bytes and everything it read through the site view while rendering."""

    path: str
    data: bytes
    reads: frozenset[Read]


def with_body(job: PageJob, bodies: Mapping[str, Rendered]) -> PageJob:
    """A detail page's job with its item's body (HTML) in the context, as ``body``."""
    if "item" not in job.context:
        return job
    body = full_body(bodies, job.context["item"].key, text=False)
    html = Markup(body.html) if body else Markup("")
    return dataclasses.replace(job, context={**job.context, "body": html})


def render(
    env: jinja2.Environment,
    job: PageJob,
    view: SiteView,
    bodies: Mapping[str, Rendered] | None = None,
) -> RenderedPage:
    """The page's bytes, and what its templates read through the site view; a detail page
    gets its item's HTML from ``bodies`` (see ``with_body``)."""
    if bodies is not None:
        job = with_body(job, bodies)
    template = env.get_template(job.template)
    context = dict(job.context)
    context["page_path"] = job.path
    with view.recording(job.path) as reads:
        text = template.render(context)
    return RenderedPage(job.path, text.encode("utf-8"), frozenset(reads))
