"""The statistics pages (all years, and one per year) with their SVG charts, and the same
figures as JSON and CSV downloads."""

from __future__ import annotations

from collections.abc import Iterator

from markupsafe import Markup

from generator.pages.base import PageJob
from generator.site import stats, urls
from generator.site.model import Site
from generator.site.urls import UrlPlan


def pages(site: Site, plan: UrlPlan) -> Iterator[PageJob]:
    figures = stats.figures(site)
    yield PageJob(
        urls.join("stats", urls.INDEX),
        "stats.html",
        {"section": "stats", "figures": figures},
    )
    for year_value in site.years:
        yield PageJob(
            urls.join("stats", year_value, urls.INDEX),
            "stats_year.html",
            {
                "section": "stats",
                "year": year_value,
                "figures": figures,
                "pledges": tuple(p for p in site.pledges if p.year == year_value),
            },
        )
    yield PageJob(
        urls.join("stats", "stats.json"),
        "stats.json",
        {"text": Markup(stats.to_json(figures))},
    )
    yield PageJob(
        urls.join("stats", "stats.csv"),
        "stats.csv",
        {"text": Markup(stats.to_csv(stats.csv_rows(figures)))},
    )
