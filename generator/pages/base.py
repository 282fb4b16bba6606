"""What every page family shares: the planned page (path, template, read-only context), the
pagination of lists, titled groups of items, and small helpers that group and order items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from generator.site import stats
from generator.site.model import Item, Profile, Site, Unit

RELATED_ITEMS = 4  # "more from this unit" on a detail page


@dataclass(frozen=True, slots=True)
class PageJob:
    """One page to render: its output path, its template and the values its template sees
    besides the template globals (a read-only context). What the template reads through the
    site view is recorded while it renders (see ``pages.view``)."""

    path: str
    template: str
    context: Mapping[str, Any]
    # items whose whole converted body the page needs besides its own item's (the search
    # index of a year); the build loads them before the page renders
    bodies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Pagination:
    number: int
    total: int
    paths: tuple[str, ...]  # path of every page of the list, first page first

    @property
    def prev(self) -> str | None:
        return self.paths[self.number - 2] if self.number > 1 else None

    @property
    def next(self) -> str | None:
        return self.paths[self.number] if self.number < self.total else None


@dataclass(frozen=True, slots=True)
class Group:
    """A titled group of items in a list (a year, a unit, an honour)."""

    title: str
    items: tuple[Any, ...]
    key: Any = None
    total: int = 0
    more: str | None = None  # path of the page that lists them all
    extra: Mapping[str, Any] = field(default_factory=dict)


def chunk(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    size = max(1, size)
    return [items[i : i + size] for i in range(0, len(items), size)] or [()]


def count_kinds(site: Site, items: Iterable[Item]) -> dict[str, int]:
    """How many of ``items`` each kind has (every yearly kind of the site, in its order)."""
    out = {kind.name: 0 for kind in site.kinds.yearly()}
    for item in items:
        out[item.kind] = out.get(item.kind, 0) + 1
    return out


def by_kind(items: Iterable[Item]) -> dict[str, tuple[Any, ...]]:
    out: dict[str, list[Item]] = {"profile": [], "report": [], "pledge": []}
    for item in items:
        out.setdefault(item.kind, []).append(item)
    return {k: tuple(v) for k, v in out.items()}


def item_date(item: Item) -> dt.date:
    """The date an item is filed under: its own date, else the first day of its year."""
    return item.date or dt.date(max(item.year, 1), 1, 1)


def related(
    site: Site,
    item: Item,
    limit: int = RELATED_ITEMS,
    memo: dict[str, tuple[Item, ...]] | None = None,
) -> tuple[Item, ...]:
    """A few other items of the item's unit (and the units below it): newest year first, then
    newest date. ``memo`` keeps each unit's order between calls."""
    memo = {} if memo is None else memo
    ordered = memo.get(item.unit)
    if ordered is None:
        ordered = tuple(
            sorted(
                site.by_unit.get(item.unit, ()),
                key=lambda i: (-i.year, -item_date(i).toordinal(), i.kind, i.key),
            )
        )
        memo[item.unit] = ordered
    return tuple(i for i in ordered[: limit + 1] if i.key != item.key)[:limit]


def honour_roll(
    profiles: Sequence[Profile], honours: Sequence[str] = (), name_order: str = "pinyin"
) -> tuple[Group, ...]:
    """Profiles grouped by honour, in the site's official order of honours and of names
    (see ``stats.honour_roll``)."""
    return tuple(
        Group(h.title, h.profiles, key=h.title, total=h.total)
        for h in stats.honour_roll(profiles, honours, name_order)
    )


def company_of(site: Site, unit_id: str) -> Unit:
    """The unit one level below the root (the company or plant) that a unit belongs to."""
    unit = site.unit_by_id[unit_id]
    chain = (*unit.ancestors, unit.id)
    return site.unit_by_id[chain[1] if len(chain) > 1 else chain[0]]


def group_by_company(site: Site, items: Sequence[Item]) -> tuple[Group, ...]:
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(company_of(site, item.unit).id, []).append(item)
    rank = {u.id: n for n, u in enumerate(site.units)}
    return tuple(
        Group(
            site.unit_by_id[uid].name, tuple(members), key=site.unit_by_id[uid], total=len(members)
        )
        for uid, members in sorted(groups.items(), key=lambda kv: rank[kv[0]])
    )
