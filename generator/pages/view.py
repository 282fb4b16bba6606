"""The ``site`` global of templates: what a template may ask of the site beyond its page's
context. Read-only."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from generator.pages.base import related
from generator.site import stats
from generator.site.bodies import Rendered
from generator.site.model import Item, Pledge, Profile, Report, Site, Unit
from generator.site.urls import UrlPlan


class SiteView:
    """What templates may ask of the site beyond a page's own context. Read-only."""

    def __init__(self, site: Site, plan: UrlPlan, bodies: Mapping[str, Rendered]) -> None:
        self.site = site
        self.config = site.config
        self.plan = plan
        self.bodies = bodies
        self.units = site.units
        self.roots = tuple(u for u in site.units if not u.ancestors)
        self.years = site.years
        self.pages = tuple(p for p in site.pages)
        self._by_key = {i.key: i for i in (*site.items(), *site.pages)}
        self._pledges: dict[tuple[str, int], Pledge] | None = None
        self._related: dict[str, tuple[Item, ...]] = {}

    def unit(self, unit_id: str) -> Unit:
        return self.site.unit_by_id[unit_id]

    def unit_chain(self, unit_id: str) -> tuple[Unit, ...]:
        unit = self.unit(unit_id)
        return (*(self.unit(a) for a in unit.ancestors), unit)

    def summary(self, item: Item) -> str:
        if item.summary:
            return item.summary
        body = self.bodies.get(item.key)
        return body.text_summary if body else ""

    def speaker(self, report: Report, name: str) -> Profile | None:
        key = self.site.speaker_links.get((report.key, name))
        found = self._by_key.get(key) if key else None
        return found if isinstance(found, Profile) else None

    def spoke_at(self, profile: Profile) -> tuple[Report, ...]:
        found = (self._by_key[key] for key in self.site.talks.get(profile.key, ()))
        return tuple(r for r in found if isinstance(r, Report))

    def counts(self, items: Iterable[Item]) -> dict[str, int]:
        out = {"profile": 0, "report": 0, "pledge": 0}
        for item in items:
            out[item.kind] += 1
        return out

    def unit_counts(self, unit_id: str) -> dict[str, int]:
        return self.counts(self.site.by_unit.get(unit_id, ()))

    def pledge_progress(self, pledges: Iterable[Pledge]) -> tuple[int, int, int]:
        """(items done, items in all, whole percent) over several pledges."""
        done = total = 0
        for pledge in pledges:
            done += pledge.done_count
            total += len(pledge.items)
        return done, total, round(100 * done / total) if total else 0

    def fulfilment(self, pledges: Iterable[Pledge]) -> stats.Fulfilment:
        return stats.fulfilment(pledges, self.config.current_year)

    def overdue(self, pledge: Pledge, item: Any) -> bool:
        return stats.is_overdue(pledge, item, self.config.current_year)

    def unit_fulfilment(self, unit_id: str, year: int | None = None) -> stats.Fulfilment:
        return stats.unit_fulfilment(self.site, unit_id, year)

    def branch_table(
        self, unit_id: str
    ) -> tuple[tuple[int, ...], tuple[stats.BranchRow, ...]]:
        return stats.branch_table(self.site, unit_id)

    def branch_history(self, pledge: Pledge) -> tuple[tuple[Pledge, stats.Fulfilment], ...]:
        return stats.branch_fulfilment(self.site, pledge.unit)

    def branch_pledge(self, profile: Profile) -> Pledge | None:
        if self._pledges is None:
            self._pledges = stats.pledge_index(self.site)
        return stats.pledge_for(self.site, profile.unit, profile.year, self._pledges)

    def related(self, item: Item) -> tuple[Item, ...]:
        return related(self.site, item, memo=self._related)

    def series(self, rows: Iterable[stats.Counts], name: str) -> tuple[tuple[str, int], ...]:
        return stats.series(rows, name)
