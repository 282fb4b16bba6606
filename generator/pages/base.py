"""What every page family shares: the planned page (path, template, read-only context), the
pagination of lists, titled groups of items, and small helpers that group and order items."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence, Sized
from dataclasses import dataclass, field
from typing import Any

from generator.site import stats
from generator.site.model import Item, Profile, Site, Unit

RELATED_ITEMS = 4  # "more from this unit" on a detail page
PAGER_WINDOW = 2  # pages a pager shows on each side of the current one


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

    @property
    def entries(self) -> tuple[tuple[int, str] | None, ...]:
        """What the pager shows between "previous" and "next": (number, path) of the pages it
        links, ``None`` for a gap (an ellipsis); see ``page_numbers``."""
        return tuple(
            None if n is None else (n, self.paths[n - 1])
            for n in page_numbers(self.number, self.total)
        )


def page_numbers(current: int, total: int, window: int = PAGER_WINDOW) -> tuple[int | None, ...]:
    """The page numbers a pager shows: the first, the last, ``window`` pages on each side of
    the current one (more at either end, so that the count stays the same), and ``None``
    where pages are left out. At most ``2 * window + 5`` entries."""
    most = 2 * window + 5
    if total <= most:
        return tuple(range(1, total + 1))
    low = max(2, min(current - window, total - 2 * window - 2))
    high = min(total - 1, max(current + window, 2 * window + 3))
    left: tuple[int | None, ...] = (None,) if low > 3 else tuple(range(2, low))
    right: tuple[int | None, ...] = (None,) if high < total - 2 else tuple(range(high + 1, total))
    return (1, *left, *range(low, high + 1), *right, total)


def paginate(
    items: Sequence[Any], size: int, path_of: Callable[[int], str]
) -> list[tuple[Sequence[Any], Pagination]]:
    """``items`` cut into pages of ``size`` (one empty page when there are none), each with
    its pager; ``path_of(n)`` is the path of page ``n``."""
    chunks = chunk(items, size)
    paths = tuple(path_of(n) for n in range(1, len(chunks) + 1))
    return [
        (members, Pagination(number, len(chunks), paths))
        for number, members in enumerate(chunks, start=1)
    ]


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


class Count(int):
    """A number of items that also answers ``len()`` (``|length`` in a template), as the lists
    of items pages held in its place did: a site's template written for those keeps working."""

    __slots__ = ()

    def __len__(self) -> int:
        return int(self)


def count_by_kind(items: Iterable[Item]) -> dict[str, Count]:
    """How many of ``items`` there are of each kind (every built-in kind, zero included):
    what a page that only counts holds, so that it does not hold the items themselves."""
    return counted(by_kind(items))


def counted(groups: Mapping[str, Sized]) -> dict[str, Count]:
    """The size of each group (of ``by_kind``), by its name."""
    return {k: Count(len(v)) for k, v in groups.items()}


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


def people_by_honour(
    profiles: Sequence[Profile], honours: Sequence[str] = (), name_order: str = "pinyin"
) -> tuple[Group, ...]:
    """The honour roll with one card per person and year: a profile stands under the first of
    its honours in the roll's order (the site's official order of honours, see
    ``stats.honour_roll``), and its card shows all of them. Names follow ``name_order``."""
    seen: set[str] = set()
    groups = []
    for honour in stats.honour_roll(profiles, honours, name_order):
        members = tuple(p for p in honour.profiles if p.key not in seen)
        seen.update(p.key for p in members)
        if members:
            groups.append(Group(honour.title, members, key=honour.title, total=len(members)))
    return tuple(groups)


def roll_pages(
    groups: Sequence[Group], size: int, path_of: Callable[[int], str]
) -> tuple[list[tuple[tuple[Group, ...], Pagination]], tuple[str, ...]]:
    """A whole honour roll cut into pages of ``size`` people: each page's groups (key: the
    group's number, for its anchor; ``extra["continued"]`` when it began on an earlier page)
    with its pager; and the link to where each group begins."""
    flat = [(n, person) for n, group in enumerate(groups, start=1) for person in group.items]
    starts: dict[int, str] = {}
    out = []
    for members, pager in paginate(flat, size, path_of):
        here = []
        for n, run in itertools.groupby(members, key=lambda entry: entry[0]):
            people = tuple(person for _n, person in run)
            begins = people[0] is groups[n - 1].items[0]
            if begins:
                starts[n] = f"{pager.paths[pager.number - 1]}#honour-{n}"
            title, total = groups[n - 1].title, groups[n - 1].total
            here.append(Group(title, people, key=n, total=total, extra={"continued": not begins}))
        out.append((tuple(here), pager))
    return out, tuple(starts[n] for n in range(1, len(groups) + 1))


def roll_preview(
    groups: Sequence[Group], links: Sequence[str], per_group: int, limit: int
) -> tuple[Group, ...]:
    """The start of an honour roll: the first ``per_group`` people of each group while
    ``limit`` cards last (later groups keep their title, count and link only); ``more`` of
    each group is where the whole roll lists it."""
    left = limit
    out = []
    for group, link in zip(groups, links, strict=True):
        shown = group.items[: max(0, min(per_group, left))]
        left -= len(shown)
        out.append(Group(group.title, shown, key=group.key, total=group.total, more=link))
    return tuple(out)


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
