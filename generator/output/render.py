"""Templates meet the site: the globals every template sees (URL helpers, the site view) and
the rendering of one page into bytes."""

from __future__ import annotations

from typing import Any

import jinja2
from markupsafe import Markup

from generator.pages.base import PageJob, item_date
from generator.pages.charts import svg_bar_chart
from generator.pages.view import SiteView
from generator.site import urls
from generator.site.model import Item, Unit


def make_globals(view: SiteView) -> dict[str, Any]:
    plan = view.plan

    def target_path(target: Any) -> str:
        if isinstance(target, Item):
            return plan.items[target.key]
        if isinstance(target, Unit):
            return urls.unit(target.id)
        return str(target)

    @jinja2.pass_context
    def url(ctx: Any, target: Any) -> str:
        return urls.relative(target_path(target), ctx["page_path"])

    @jinja2.pass_context
    def unit_url(ctx: Any, unit: Unit | str, year: int | None = None) -> str:
        unit_id = unit.id if isinstance(unit, Unit) else unit
        return urls.relative(urls.unit(unit_id, year), ctx["page_path"])

    @jinja2.pass_context
    def year_url(ctx: Any, year: int | None = None) -> str:
        target = urls.year(year) if year else urls.years_index()
        return urls.relative(target, ctx["page_path"])

    @jinja2.pass_context
    def tag_url(ctx: Any, tag: str | None = None) -> str:
        target = plan.tags[tag] if tag else urls.tags_index()
        return urls.relative(target, ctx["page_path"])

    @jinja2.pass_context
    def section_url(ctx: Any, kind: str, page: int = 1) -> str:
        return urls.relative(urls.section(kind, page), ctx["page_path"])

    @jinja2.pass_context
    def asset_url(ctx: Any, source: str) -> str:
        return urls.relative(plan.assets.get(source, source), ctx["page_path"])

    @jinja2.pass_context
    def stats_url(ctx: Any, target: int | str | None = None) -> str:
        """The statistics page (of a year), or a download (``"stats.json"``, ``"stats.csv"``)."""
        if isinstance(target, str):
            path = urls.join("stats", target)
        else:
            path = urls.join("stats", target or "", urls.INDEX)
        return urls.relative(path, ctx["page_path"])

    @jinja2.pass_context
    def edition_url(ctx: Any, year: int | None = None) -> str:
        """The editions page, or the home page of one frozen edition (issue 4)."""
        target = urls.edition(year) if year else urls.editions_index()
        return urls.relative(target, ctx["page_path"])

    @jinja2.pass_context
    def theme_url(ctx: Any, name: str) -> str:
        return urls.relative(urls.join(urls.THEME_ASSETS, name), ctx["page_path"])

    @jinja2.pass_context
    def absolute_url(ctx: Any, target: Any) -> str:
        """For feed and sitemap: absolute with base_url, else relative to the document."""
        path = target_path(target)
        base = view.config.base_url
        if base:
            return base.rstrip("/") + "/" + path
        return urls.relative(path, ctx["page_path"])

    return {
        "site": view,
        "config": view.config,
        "url": url,
        "unit_url": unit_url,
        "year_url": year_url,
        "tag_url": tag_url,
        "section_url": section_url,
        "asset_url": asset_url,
        "theme_url": theme_url,
        "absolute_url": absolute_url,
        "item_date": item_date,
        "bar_chart": svg_bar_chart,
        "stats_url": stats_url,
        "edition": view.site.edition,
        "editions": view.site.editions,
        "edition_url": edition_url,
    }


def render(env: jinja2.Environment, job: PageJob, view: SiteView) -> bytes:
    template = env.get_template(job.template)
    context = dict(job.context)
    context["page_path"] = job.path
    if "item" in context:
        body = view.bodies.get(context["item"].key)
        context["body"] = Markup(body.html) if body else Markup("")
    text = template.render(context)
    return text.encode("utf-8")

