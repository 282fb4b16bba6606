"""The paginated list of each yearly kind's items (profiles, reports, pledges ...), and for
kinds of people (profiles) the same people by surname, with an index of surnames that works
without JavaScript."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from generator.base import hanzi
from generator.pages.base import Group, PageJob, Pagination, paginate
from generator.site import urls
from generator.site.model import Item, Profile, Site
from generator.site.urls import UrlPlan


@dataclass(frozen=True, slots=True)
class Surname:
    name: str
    count: int  # people (profiles) of that surname
    link: str  # the page (and anchor) of the list by surname where they begin


@dataclass(frozen=True, slots=True)
class Initial:
    """One entry of the index: a letter (pinyin) or a number of strokes, and its surnames."""

    label: str | int  # "W", or 4 (strokes)
    surnames: tuple[Surname, ...]

    @property
    def link(self) -> str:
        return self.surnames[0].link


def pages(site: Site, plan: UrlPlan) -> Iterator[PageJob]:
    for kind in site.kinds.yearly():
        collection = site.of_kind(kind.name)
        index: tuple[Initial, ...] = ()
        if issubclass(kind.model, Profile):
            by_name, index = _by_surname(site, kind.name, collection)
            yield from by_name
        yield from _list(site, kind.name, collection, index)


def _list(
    site: Site, kind: str, collection: Sequence[Item], index: tuple[Initial, ...]
) -> Iterator[PageJob]:
    path_of = lambda n: urls.section(kind, n, site.kinds)  # noqa: E731
    for members, pager in paginate(collection, site.config.page_size, path_of):
        yield PageJob(
            pager.paths[pager.number - 1],
            "list.html",
            {
                "section": kind,
                "kind": kind,
                "items": tuple(members),
                "total": len(collection),
                "pager": pager,
                "surnames": index,
                "names_path": urls.names(kind, 1, site.kinds) if index else None,
            },
        )


def _by_surname(
    site: Site, kind: str, collection: Sequence[Item]
) -> tuple[list[PageJob], tuple[Initial, ...]]:
    """The people of a kind by surname, page by page, and the index of their surnames."""
    order = site.config.name_order
    people = sorted(collection, key=lambda p: (hanzi.surname_key(p.title, order), -p.year, p.key))
    numbered = {
        s: n
        for n, s in enumerate(dict.fromkeys(hanzi.surname_of(p.title) for p in people), start=1)
    }
    parts = paginate(
        [(numbered[hanzi.surname_of(p.title)], p) for p in people],
        site.config.page_size,
        lambda n: urls.names(kind, n, site.kinds),
    )
    starts: dict[int, str] = {}
    pages_groups: list[tuple[tuple[Group, ...], Pagination]] = []
    for members, pager in parts:
        groups = []
        for n, run in itertools.groupby(members, key=lambda entry: entry[0]):
            found = tuple(p for _n, p in run)
            begins = n not in starts
            if begins:
                starts[n] = f"{pager.paths[pager.number - 1]}#surname-{n}"
            surname = hanzi.surname_of(found[0].title)
            groups.append(Group(surname, found, key=n, extra={"continued": not begins}))
        pages_groups.append((tuple(groups), pager))
    index = _index(people, numbered, starts, order)
    jobs = [
        PageJob(
            pager.paths[pager.number - 1],
            "names.html",
            {
                "section": kind,
                "kind": kind,
                "groups": groups,
                "total": len(people),
                "pager": pager,
                "surnames": index,
            },
        )
        for groups, pager in pages_groups
    ]
    return jobs, index


def _index(
    people: Sequence[Item], numbered: dict[str, int], starts: dict[int, str], order: str
) -> tuple[Initial, ...]:
    counts: dict[str, int] = {}
    initial_of: dict[str, str | int] = {}
    for person in people:
        surname = hanzi.surname_of(person.title)
        counts[surname] = counts.get(surname, 0) + 1
        initial_of.setdefault(surname, hanzi.surname_initial(person.title, order))
    out = []
    for label, surnames in itertools.groupby(counts, key=initial_of.__getitem__):
        out.append(
            Initial(label, tuple(Surname(s, counts[s], starts[numbered[s]]) for s in surnames))
        )
    return tuple(out)
