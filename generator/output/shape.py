"""What a build is made of besides the items' bodies, and what that lets the next build skip.

The *skeleton* (``fingerprints.skeleton``) digests everything a page is made from except the
bodies; each item's source digest is kept beside it. While the skeleton is unchanged, only
bodies changed: a page whose recorded items (``OutputRecord.items``) include none of the
changed ones is kept without its fingerprint (``untouched_records``), and a process that
builds again (serve) uses its last good build's page jobs, giving a page that is checked the
new items (``rebind``)."""

from __future__ import annotations

import dataclasses
import json
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress, filterfalse
from pathlib import Path
from typing import Any

from generator.output import cache
from generator.output import fingerprints as deps
from generator.pages.base import PageJob
from generator.site import search
from generator.site.model import Item, Site
from generator.site.urls import UrlPlan


def fresh_items(by_key: Mapping[str, Item], keys: frozenset[str]) -> dict[str, Item]:
    """The items of ``keys`` in ``by_key`` (this build's), by key."""
    return {key: by_key[key] for key in keys if key in by_key}


def rebind(job: PageJob, fresh: Mapping[str, Item]) -> PageJob:
    """``job`` with the items of ``fresh`` in place of those of the same key in its context:
    the page as planning it again would give it, when the items differ only in their bodies
    (the page families never read a body). The job itself when it holds none of them."""
    context = _rebound(job.context, fresh)
    return job if context is job.context else dataclasses.replace(job, context=context)


_REBUILT = (list, set, frozenset)  # a tuple: ``isinstance`` is quicker than with a union


def _rebound(value: Any, fresh: Mapping[str, Item]) -> Any:
    """``value`` with the items of ``fresh`` in place, or ``value`` itself when it holds none
    of them."""
    if isinstance(value, Item):
        return fresh.get(value.key, value)
    if isinstance(value, Mapping):
        pairs = {k: _rebound(v, fresh) for k, v in value.items()}
        return value if _same(pairs.values(), value.values()) else pairs
    if isinstance(value, _REBUILT) or type(value) is tuple:
        parts = [_rebound(v, fresh) for v in value]
        return value if _same(parts, value) else type(value)(parts)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple
        parts = [_rebound(v, fresh) for v in value]
        return value if _same(parts, value) else type(value)(*parts)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [f.name for f in dataclasses.fields(value) if f.init]
        values = {name: _rebound(getattr(value, name), fresh) for name in fields}
        same = _same(values.values(), (getattr(value, name) for name in fields))
        return value if same else dataclasses.replace(value, **values)
    return value


def _same(now: Iterable[Any], then: Iterable[Any]) -> bool:
    """Whether every object of ``now`` is the one of ``then`` at its place."""
    return all(map(operator.is_, now, then))


# page path -> the item keys its last render held and read, in parts (its context's, then
# each read's answer's: sets shared with the reads, so that a page of many items costs nothing)
Held = dict[str, tuple[frozenset[str], ...]]


def untouched_records(
    paths: Iterable[str],
    previous: Mapping[str, cache.OutputRecord],
    changed: frozenset[str] | None,
    held: Held,
    holders: cache.Holders | None = None,
) -> dict[str, cache.OutputRecord]:
    """The last build's records of the pages of ``paths`` known unchanged without their
    fingerprints, by path: nothing but bodies changed (``changed``: the items whose source
    changed) and the page holds and read none of those (its record knows its items; for a
    page of too many items, what this process ``held``). One pass over every page; in a
    process that keeps the records in memory, the files that hold each item (``holders``)
    are known, and only pages of too many items are looked at one by one."""
    if changed is None:
        return {}
    if holders is not None:
        touched = holders.of(changed)
        # filtered by the interpreter's own loops: a site has tens of thousands of pages
        kept = list(filter(previous.__contains__, filterfalse(touched.__contains__, paths)))
        out = dict(zip(kept, map(previous.__getitem__, kept), strict=True))
        for path in holders.unlisted & out.keys():
            if not _held_apart(held.get(path), changed):
                del out[path]
        return out
    out = {}
    for path in paths:
        old = previous.get(path)
        if old is None:
            continue
        if old.items is not None:
            same = changed.isdisjoint(old.items)  # quick when they are a set (serve's)
        else:
            same = _held_apart(held.get(path), changed)
        if same:
            out[path] = old
    return out


def unchecked_pages(
    jobs: Sequence[PageJob],
    outline: Outline | None,
    previous: Mapping[str, cache.OutputRecord],
    changed: frozenset[str] | None,
    held: Held,
    store: cache.Cache,
    holders: cache.Holders | None = None,
) -> tuple[dict[str, cache.OutputRecord], list[int], set[str] | None]:
    """The records of the pages known unchanged (``untouched_records``) and the numbers of
    the ``jobs`` left to check; and the paths of the last build's records left out, when
    every other record is one of ``previous`` (else None). With the ``outline`` of the last
    build's jobs (they are these, ``Shape.last_jobs``) and the files that hold each item
    (``holders``), only the records of the files that hold a changed item, of those that
    hold too many to list (unless what they held is known apart) and of the files that are
    no page are taken out, not every page looked at; and while the records are those the
    outline was made against (``cache.Cache.kept_outputs``), the files that are no page, and
    the pages without a record, are the outline's."""
    if outline is None or holders is None or changed is None:
        records = untouched_records(map(_PATH, jobs), previous, changed, held, holders)
        left = map(operator.not_, map(records.__contains__, map(_PATH, jobs)))
        return records, list(compress(range(len(jobs)), left)), None
    out = dict(previous)
    gone = holders.of(changed)
    gone.update(p for p in holders.unlisted if not _held_apart(held.get(p), changed))
    gone.intersection_update(out.keys())
    for path in gone:
        del out[path]
    numbers = outline.numbers
    if outline.records is None or outline.records is not store.kept_outputs():
        # the copied files, and what is no page now (looked for without making a set)
        extra = list(filterfalse(numbers.__contains__, out))
        for path in extra:
            del out[path]
        todo = list(map(numbers.__getitem__, filterfalse(out.__contains__, numbers)))
        return out, todo, gone.union(extra)
    for path in outline.extra:
        out.pop(path, None)
    numbered = {*outline.missing, *map(numbers.__getitem__, filter(numbers.__contains__, gone))}
    return out, sorted(numbered), gone.union(outline.extra).intersection(previous.keys())


@dataclass(frozen=True, slots=True)
class Outline:
    """The last build's pages against its records, worked out once it answered: the number
    of each page by its path; the records (those the cache keeps in memory, when it does);
    which of those are of no page (the copied files); and the pages without one."""

    numbers: Mapping[str, int]
    records: Mapping[str, cache.OutputRecord] | None = None
    extra: tuple[str, ...] = ()
    missing: tuple[int, ...] = ()

    @classmethod
    def of(
        cls, jobs: Sequence[PageJob], records: Mapping[str, cache.OutputRecord] | None
    ) -> Outline:
        numbers = {job.path: n for n, job in enumerate(jobs)}
        if records is None:
            return cls(numbers)
        extra = tuple(filterfalse(numbers.__contains__, records))
        missing = tuple(map(numbers.__getitem__, filterfalse(records.__contains__, numbers)))
        return cls(numbers, records, extra, missing)


_PATH = operator.attrgetter("path")


def _held_apart(parts: tuple[frozenset[str], ...] | None, changed: frozenset[str]) -> bool:
    """Whether what a page held and read (``parts``, if known) holds none of ``changed``."""
    return parts is not None and all(part.isdisjoint(changed) for part in parts)


@dataclass(frozen=True, slots=True)
class Planned:
    """The page jobs of a build, the keys of the items they hold an older version of (the
    last build's jobs, reused), and then their ``Outline``."""

    jobs: list[PageJob]
    stale: frozenset[str] = frozenset()
    outline: Outline | None = None


@dataclass(frozen=True, slots=True)
class Shape:
    """The skeleton of this build (``fingerprints.skeleton``) and every item's source digest,
    kept for the next build to find what changed."""

    skeleton: str
    digests: Mapping[str, str]
    # digests of a last build -> the items changed since (asked three times per build)
    _stale_since: dict[int, tuple[Mapping[str, str], frozenset[str]]] = field(
        default_factory=dict, compare=False, repr=False
    )
    # the digests these were made from, with those of some items changed, and their keys
    base: tuple[Mapping[str, str], frozenset[str]] | None = field(
        default=None, compare=False, repr=False
    )

    @classmethod
    def of(
        cls,
        site: Site,
        plan: UrlPlan,
        prints: deps.Fingerprints,
        templates: Mapping[str, str],
        copies: Mapping[str, tuple[Path, str]],
    ) -> Shape:
        """The shape of a build of ``site``: its ``templates`` (name -> digest of it and what
        it includes) and copied files (output path -> (source, digest)) count."""
        parts = {f"template:{k}": v for k, v in templates.items()}
        parts.update({f"copy:{rel}": digest for rel, (_, digest) in copies.items()})
        # the number of search shards grows with the bodies' length, and makes pages
        parts["search-shards"] = str(search.shard_count(site))
        # the sizes of the photos, which pages read (the answers to their photo reads): a
        # process that keeps the reads' digests from build to build keeps them only while
        # these are the same
        parts["photos"] = repr(sorted(prints.queries.photos.items()))
        # the units, which pages read or hold (as the photos: no longer in the global digest)
        parts["units"] = repr([deps.unit_fields(unit) for unit in site.units])
        skeleton = deps.skeleton(site, plan, prints.global_digest, parts)
        digests, base = _digests(site)
        return cls(skeleton, digests, base=base)

    def changed_since(self, store: cache.Cache) -> frozenset[str] | None:
        """The items whose source changed since the last build, when nothing else did."""
        if store.get_meta("skeleton") != self.skeleton:
            return None
        found = self._last(store)  # in memory: what the cache holds, unparsed
        then = found[0] if found is not None else json.loads(store.get_meta("item_digests") or "{}")
        return self._stale(then)

    def remember(
        self,
        store: cache.Cache,
        jobs: list[PageJob],
        prints: deps.Fingerprints,
        held: Held | None = None,
    ) -> None:
        """Keep the skeleton and digests for the next build; a process that builds again
        (serve) also keeps the page jobs and the digests of the reads, which stay valid
        while the skeleton does (reads: for the answers without a changed item), and what
        the pages rendered by this build ``held``: valid while their records are."""
        store.set_meta("skeleton", self.skeleton)
        store.set_meta("item_digests", json.dumps(self.digests, sort_keys=True))
        kept = store.memory("jobs")
        if kept is not None:
            kept.clear()
            outline = Outline.of(jobs, store.kept_outputs())
            kept[self.skeleton] = (self.digests, jobs, prints.known_reads(), outline)
        pages = store.memory("held")
        if pages is not None and held:
            pages.update(held)

    @staticmethod
    def forget(store: cache.Cache) -> None:
        """Forget the last skeleton (and this process's page jobs): the next build checks
        every page, as after a build that moved some of its files into the output and then
        failed."""
        store.set_meta("skeleton", "")
        kept = store.memory("jobs")
        if kept is not None:
            kept.clear()

    @staticmethod
    def held(store: cache.Cache) -> Held:
        """What the pages rendered in this process held (see ``remember``)."""
        return store.memory("held") or {}

    def last_jobs(self, store: cache.Cache) -> Planned | None:
        """The page jobs of the last good build in this process, when its skeleton was this
        one: the same pages, whose items differ at most in their bodies; the keys of the
        items that changed since (``rebind`` gives a page the new ones); and their
        ``Outline``."""
        found = self._last(store)
        if found is None:
            return None
        digests, jobs, _reads, outline = found
        return Planned(jobs, self._stale(digests), outline)

    def last_reads(self, store: cache.Cache) -> tuple[deps.KnownReads, frozenset[str]] | None:
        """The digests of the reads of the last good build in this process, when its skeleton
        was this one, and the keys of the items that changed since (``Fingerprints.inherit``
        takes over the digests of the reads that hold none of them). They are given up by
        this process's memory, with the last build's jobs: the build that takes them changes
        them, and keeps them again when it ends well (``remember``)."""
        kept = store.memory("jobs")
        found = kept.pop(self.skeleton, None) if kept is not None else None
        if found is None:
            return None
        digests, _jobs, reads, _outline = found
        return reads, self._stale(digests)

    def _last(
        self, store: cache.Cache
    ) -> tuple[Mapping[str, str], list[PageJob], deps.KnownReads, Outline] | None:
        kept = store.memory("jobs")
        found = kept.get(self.skeleton) if kept is not None else None
        return found

    def _stale(self, digests: Mapping[str, str]) -> frozenset[str]:
        """The keys of the items whose digests differ from ``digests`` (looked for among the
        items changed since, when these were made from those very digests)."""
        found = self._stale_since.get(id(digests))
        if found is None or found[0] is not digests:
            get = digests.get
            base = self.base
            keys = base[1] if base is not None and base[0] is digests else self.digests.keys()
            stale = frozenset(k for k in keys if get(k) != self.digests[k])
            found = self._stale_since[id(digests)] = (digests, stale)
        return found[1]


def _digests(site: Site) -> tuple[dict[str, str], tuple[Mapping[str, str], frozenset[str]] | None]:
    """Every item's source digest by key; for a site patched from the last one asked (some
    bodies changed), the last ones with the patched items', and what they were made from
    (``Shape.base``)."""
    last = _last_digests[0]
    if last is not None and last[0] is site:
        return last[1], (last[1], frozenset())
    fresh = site.patched_from(last[0]) if last is not None else None
    if last is not None and fresh is not None:
        digests = {**last[1], **{key: item.digest for key, item in fresh.items()}}
        base = (last[1], frozenset(fresh))
    else:
        digests, base = {item.key: item.digest for item in site.all_items()}, None
    _last_digests[0] = (site, digests)
    return digests, base


# the last site whose digests were asked, and those (a site patched from it asks next)
_last_digests: list[tuple[Site, dict[str, str]] | None] = [None]
