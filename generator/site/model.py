"""SourceDocs -> Site: the organisation tree, the content collections and their indexes.

Pure: no I/O. Everything is validated here that needs more than one file to know (unknown
units, duplicates, cycles, missing photos). The Site is frozen and every collection sorted, so
later stages see one deterministic order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import itertools
import operator
import os
import posixpath
import re
from collections import defaultdict
from collections.abc import (
    Callable,
    Container,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    Sequence,
)
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast
from urllib.parse import unquote, urlsplit

from generator.base import hanzi
from generator.base.errors import Diagnostic, Severity
from generator.content import fields as schema
from generator.content import paths
from generator.content.fields import front
from generator.content.loader import MARKDOWN_SUFFIXES, SourceDoc, SourceTree
from generator.content.settings import SiteConfig
from generator.kinds.item import Asset, Item
from generator.kinds.kind import Derivation, Kind, Ordering, Registry
from generator.kinds.page import Page
from generator.kinds.pledge import Pledge, PledgeItem, Review
from generator.kinds.profile import Profile
from generator.kinds.registry import BUILT_IN
from generator.kinds.report import Report
from generator.site import placeholders

__all__ = [
    "Asset",
    "Item",
    "Page",
    "Pledge",
    "PledgeItem",
    "Profile",
    "Report",
    "Review",
    "Site",
    "SiteConfig",
    "Unit",
    "build_config",
    "build_item",
    "build_site",
    "build_units",
]

UNITS_FILE = "units.yaml"


@dataclass(frozen=True, slots=True, kw_only=True)
class Unit:
    """One unit of units.yaml; its source fields are declared here, once."""

    id: str = field(
        metadata=front(
            schema.slug,
            required=True,
            doc="lowercase ASCII letters, digits and hyphens; unique",
        )
    )
    name: str = field(metadata=front(schema.text, required=True))
    parent: str | None = field(
        default=None, metadata=front(schema.text, doc="the id of the parent unit; none for roots")
    )
    kind: str = field(
        default="", metadata=front(schema.text, doc="group, company, plant, department, branch …")
    )
    order: int = field(
        default=0,
        metadata=front(
            schema.integer,
            type_doc="int",
            doc="siblings are ordered by `order`, then by the pinyin of the name",
        ),
    )
    path: str = UNITS_FILE
    line: int = 1
    ancestors: tuple[str, ...] = ()  # root first, without the unit itself
    children: tuple[str, ...] = ()

    @property
    def depth(self) -> int:
        return len(self.ancestors)


ItemT = TypeVar("ItemT", bound="Item")


def by_year(items: Iterable[ItemT]) -> dict[int, list[ItemT]]:
    """``items`` grouped by year, each group in their order."""
    found: dict[int, list[ItemT]] = {}
    for item in items:
        found.setdefault(item.year, []).append(item)
    return found


@dataclass(frozen=True, slots=True)
class Site:
    config: SiteConfig
    units: tuple[Unit, ...]  # tree order (pre-order, siblings by order then name)
    # the items of each kind, by kind name, each in its kind's order
    collections: Mapping[str, tuple[Item, ...]]
    unit_by_id: Mapping[str, Unit] = field(default_factory=dict)
    # every item of a unit and of all its descendants (roll-up), in each collection's order
    by_unit: Mapping[str, tuple[Item, ...]] = field(default_factory=dict)
    years: tuple[int, ...] = ()  # newest first
    tags: tuple[str, ...] = ()  # by pinyin
    by_tag: Mapping[str, tuple[Item, ...]] = field(default_factory=dict)
    # (report key, speaker name) -> profile key, for speakers who have a profile that year
    speaker_links: Mapping[tuple[str, str], str] = field(default_factory=dict)
    # profile key -> keys of the reports the worker spoke at, newest first
    talks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # the year of this archived edition (None: the live site), and the years of the
    # frozen editions the live site links to, newest first (none inside an edition)
    edition: int | None = None
    editions: tuple[int, ...] = ()
    # in an edition: the source files of other years' items and their photos and attachments
    # (not copied; links to them in bodies become plain text)
    left_out: frozenset[str] = frozenset()
    # position of each unit in tree order, for sorting without scanning the tree
    unit_rank: Mapping[str, int] = field(default_factory=dict)
    kinds: Registry = BUILT_IN
    # items() and all_items(), computed once (every stage of a build asks for them)
    _yearly: tuple[Item, ...] = field(default=(), init=False, compare=False, repr=False)
    _all: tuple[Item, ...] = field(default=(), init=False, compare=False, repr=False)
    # of_year() of every year and chronological(), computed when first asked for
    _of_year: Mapping[int, tuple[Item, ...]] | None = field(
        default=None, init=False, compare=False, repr=False
    )
    _chronological: tuple[Item, ...] | None = field(
        default=None, init=False, compare=False, repr=False
    )
    # the site this one was made from by changing the bodies of some items, and those items
    # by key (``patched_from``)
    _patch: tuple[Site, Mapping[str, Item]] | None = field(
        default=None, init=False, compare=False, repr=False
    )
    # item_by_key(), computed when first asked for
    _by_key: Mapping[str, Item] | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        groups = self.collections
        yearly = tuple(
            itertools.chain.from_iterable(groups.get(k.name, ()) for k in self.kinds.yearly())
        )
        later = tuple(
            itertools.chain.from_iterable(
                groups.get(k.name, ()) for k in self.kinds if not k.yearly
            )
        )
        object.__setattr__(self, "_yearly", yearly)
        object.__setattr__(self, "_all", yearly + later)

    def items(self) -> tuple[Item, ...]:
        """Every item filed under a unit and a year (not the free pages), kind by kind in
        the registry's order."""
        return self._yearly

    def all_items(self) -> tuple[Item, ...]:
        """Every item of every kind: the yearly kinds first (as ``items()``), then the others
        (the free pages), each in the registry's order."""
        return self._all

    def chronological(self) -> tuple[Item, ...]:
        """The items of ``items()`` oldest first: by year, date (none first) and key. An item
        added with the latest date comes last, after every item there was before."""
        found = self._chronological
        if found is None:
            found = tuple(sorted(self._yearly, key=_chronological_key))
            object.__setattr__(self, "_chronological", found)
        return found

    def item_by_key(self) -> Mapping[str, Item]:
        """Every item of ``all_items()`` by key (read-only); for a site patched from one that
        had it, that one's with the patched items in place."""
        found = self._by_key
        if found is None:
            patch = self._patch
            last = patch[0]._by_key if patch is not None else None
            if patch is not None and last is not None:
                found = {**last, **patch[1]}
            else:
                found = {item.key: item for item in self._all}
            object.__setattr__(self, "_by_key", found)
        return found

    def of_kind(self, name: str) -> tuple[Item, ...]:
        return self.collections.get(name, ())

    @property
    def profiles(self) -> tuple[Profile, ...]:
        return cast(tuple[Profile, ...], self.of_kind("profile"))

    @property
    def reports(self) -> tuple[Report, ...]:
        return cast(tuple[Report, ...], self.of_kind("report"))

    @property
    def pledges(self) -> tuple[Pledge, ...]:
        return cast(tuple[Pledge, ...], self.of_kind("pledge"))

    @property
    def pages(self) -> tuple[Page, ...]:
        return cast(tuple[Page, ...], self.of_kind("page"))

    def of_year(self, year: int) -> tuple[Item, ...]:
        """The items of ``year``, in the order of ``items()``."""
        found = self._of_year
        if found is None:
            found = {y: tuple(v) for y, v in by_year(self._yearly).items()}
            object.__setattr__(self, "_of_year", found)
        return found.get(year, ())

    def patched_from(self, other: Site) -> Mapping[str, Item] | None:
        """The items whose bodies differ from those of ``other``, by key, when this site was
        made from ``other`` by changing bodies alone (``build_site`` in a process that
        builds again: everything but those bodies is then the same); None when it was not."""
        patch = self._patch
        return patch[1] if patch is not None and patch[0] is other else None

    def with_bodies(self, fresh: Mapping[str, Item]) -> Site:
        """This site with the items of ``fresh`` in place of those of the same key, which
        differ from them in their bodies alone (and so in no kind, unit, tag or order)."""
        kinds: set[str] = set()
        units: set[str] = set()
        tags: set[str] = set()
        for item in fresh.values():
            kinds.add(item.kind)
            unit = self.unit_by_id.get(item.unit)  # a free page has none
            if unit is not None:
                units.update((*unit.ancestors, unit.id))
            tags.update(item.tags)
        old = self.item_by_key()  # the items swapped out are found where they are
        site = dataclasses.replace(
            self,
            collections=_swapped(self.collections, kinds, fresh, old),
            by_unit=_swapped(self.by_unit, units, fresh, old),
            by_tag=_swapped(self.by_tag, tags, fresh, old),
        )
        if self._of_year is not None:
            years = {item.year for item in fresh.values()}
            object.__setattr__(site, "_of_year", _swapped(self._of_year, years, fresh, old))
        if self._chronological is not None:
            chronological = _swap(self._chronological, fresh, old)
            object.__setattr__(site, "_chronological", chronological)
        object.__setattr__(site, "_patch", (self, fresh))
        object.__setattr__(self, "_patch", None)  # one step back at most: no chain is kept
        return site


def _swap(
    items: tuple[Item, ...], fresh: Mapping[str, Item], old: Mapping[str, Item] | None = None
) -> tuple[Item, ...]:
    """``items`` with those of ``fresh`` in place of the ones of the same key, found by the
    interpreter's own loops (a group may hold every item): for a few, where the very items
    they replace (``old``, by key) are; else among the keys listed."""
    out = list(items)
    if old is not None and len(fresh) <= FEW_SWAPPED:
        for key, item in fresh.items():
            same = map(operator.is_, items, itertools.repeat(old[key]))
            for at in itertools.compress(range(len(items)), same):
                out[at] = item
        return tuple(out)
    keys = list(map(_KEY, items))
    for key, item in fresh.items():
        at = -1
        with contextlib.suppress(ValueError):  # no (more) in this group
            while True:
                at = keys.index(key, at + 1)
                out[at] = item
    return tuple(out)


FEW_SWAPPED = 8  # items swapped in by where the items they replace are


_KEY = operator.attrgetter("key")


def _swapped(
    group: Mapping[Any, tuple[Item, ...]],
    names: set[Any],
    fresh: Mapping[str, Item],
    old: Mapping[str, Item] | None = None,
) -> dict[Any, tuple[Item, ...]]:
    """``group`` with the items of ``fresh`` swapped in, in the groups of ``names`` (``old``:
    see ``_swap``)."""
    out = dict(group)
    for name in names & out.keys():
        out[name] = _swap(out[name], fresh, old)
    return out


def _chronological_key(item: Item) -> tuple[int, dt.date, str]:
    return item.year, item.date or dt.date.min, item.key


# ---------------------------------------------------------------------------------------------
# site.yaml and units.yaml


def build_config(tree: SourceTree, problems: list[Diagnostic]) -> SiteConfig:
    doc = tree.site
    if doc is None or doc.data is None:
        return SiteConfig()
    if not isinstance(doc.data, dict):
        problems.append(Diagnostic.error("site.yaml", 1, "expected-mapping-file"))
        return SiteConfig()
    values, found = schema.validate(schema.declared(SiteConfig), doc.data, "site.yaml", doc.lines)
    problems.extend(found)
    return SiteConfig(**values)


def build_units(tree: SourceTree, problems: list[Diagnostic]) -> tuple[Unit, ...]:
    """The organisation tree of units.yaml in tree order; duplicates, unknown parents and
    cycles reported."""
    doc = tree.units
    if doc is None or doc.data is None:
        return ()
    if not isinstance(doc.data, list):
        problems.append(Diagnostic.error(UNITS_FILE, 1, "expected-unit-list"))
        return ()
    raw = _read_units(doc.data, doc.lines, problems)
    _check_parents(raw, doc.data, doc.lines, problems)
    in_cycle = _cycles(raw, problems)
    return _tree_order({uid: u for uid, u in raw.items() if uid not in in_cycle})


def _read_units(
    entries: list[Any], lines: Mapping[str, int], problems: list[Diagnostic]
) -> dict[str, Unit]:
    """Every valid entry of units.yaml by id (the first of a duplicated id)."""
    raw: dict[str, Unit] = {}
    for index, entry in enumerate(entries):
        line = lines.get(str(index), 1)
        if not isinstance(entry, dict):
            problems.append(Diagnostic.error(UNITS_FILE, line, "expected-unit-mapping"))
            continue
        ctx = schema.Context(UNITS_FILE, lines, problems, line)
        values = schema.check_fields(ctx, schema.declared(Unit), entry, prefix=f"{index}.")
        if "id" not in values or "name" not in values:
            continue
        unit_id = values["id"]
        if unit_id in raw:
            key = f"{index}.id"
            problems.append(
                Diagnostic.error(
                    UNITS_FILE,
                    lines.get(key, line),
                    "duplicate-unit",
                    key,
                    id=unit_id,
                    first=raw[unit_id].line,
                )
            )
            continue
        values["parent"] = values.get("parent") or None
        raw[unit_id] = Unit(**values, path=UNITS_FILE, line=line)
    return raw


def _check_parents(
    raw: Mapping[str, Unit],
    entries: list[Any],
    lines: Mapping[str, int],
    problems: list[Diagnostic],
) -> None:
    index_of = {
        str(entry.get("id")): index
        for index, entry in reversed(list(enumerate(entries)))
        if isinstance(entry, dict)
    }
    suggest_parent = schema.Suggestions(raw)
    for unit in raw.values():
        if unit.parent is not None and unit.parent not in raw:
            key = f"{index_of.get(unit.id, 0)}.parent"
            problems.append(
                Diagnostic.error(
                    UNITS_FILE,
                    lines.get(key, unit.line),
                    "unknown-parent",
                    key,
                    id=unit.id,
                    parent=unit.parent,
                    suggestion=suggest_parent(unit.parent),
                )
            )


def _cycles(raw: dict[str, Unit], problems: list[Diagnostic]) -> set[str]:
    """The units in a cycle of parents, each reported. Follows parents until a root, an
    unknown parent, a unit already followed, or a repeat (a cycle): each unit is followed
    once, linear even for deep trees and many units."""
    in_cycle: set[str] = set()
    done: set[str] = set()
    for unit in raw.values():
        chain: dict[str, None] = {}
        current: str | None = unit.id
        while current in raw and current not in chain and current not in done:
            chain[current] = None
            current = raw[current].parent
        done.update(chain)
        if current not in chain:
            continue
        walked = list(chain)
        cycle = walked[walked.index(current) :]
        for k, member in enumerate(cycle):
            in_cycle.add(member)
            problems.append(
                Diagnostic.error(
                    UNITS_FILE,
                    raw[member].line,
                    "unit-cycle",
                    "parent",
                    id=member,
                    chain=" → ".join([*cycle[k:], *cycle[:k], member]),
                )
            )
    return in_cycle


def _tree_order(valid: Mapping[str, Unit]) -> tuple[Unit, ...]:
    """Pre-order, siblings by order then the pinyin of the name; with ancestors and
    children."""
    children: dict[str | None, list[Unit]] = defaultdict(list)
    for unit in valid.values():
        parent = unit.parent if unit.parent in valid else None
        children[parent].append(unit)
    for siblings in children.values():
        siblings.sort(key=lambda u: (u.order, hanzi.text_pinyin(u.name), u.id))
    ordered: list[Unit] = []
    stack: list[tuple[Unit, tuple[str, ...]]] = [(u, ()) for u in reversed(children[None])]
    while stack:  # iterative pre-order: deep trees must not hit the recursion limit
        unit, ancestors = stack.pop()
        kids = children.get(unit.id, [])
        ordered.append(
            dataclasses.replace(unit, ancestors=ancestors, children=tuple(k.id for k in kids))
        )
        stack.extend((k, (*ancestors, unit.id)) for k in reversed(kids))
    return tuple(ordered)


# ---------------------------------------------------------------------------------------------
# content documents


def _asset(
    doc: SourceDoc, key: str, ref: str, tree: SourceTree, problems: list[Diagnostic]
) -> Asset | None:
    """Resolve a path given in front matter by the one path rule (``content.paths``)."""
    found = paths.resolve(ref, doc.path, tree.files)
    if found is not None:
        return Asset(found, tree.files[found])
    problems.append(
        Diagnostic.error(
            doc.path,
            doc.lines.get(key, 1),
            "missing-asset",
            key,
            ref=ref,
            folder=posixpath.dirname(doc.path) or ".",
        )
    )
    return None


class UnitSuggestions:
    """The unit id an editor most likely meant by a unit that is not one: the id of the one
    unit of that name (a unit written by its name, as ``showcase new`` accepts it), or of the
    one unit whose name holds it (a name written short); none when several units are so
    named; else the closest id. Computed once per word."""

    def __init__(self, units: Mapping[str, Unit]) -> None:
        self._by_name: dict[str, list[str]] = defaultdict(list)
        for unit in units.values():
            self._by_name[unit.name].append(unit.id)
        self._ids = schema.Suggestions(units)
        self._found: dict[str, str] = {}

    def __call__(self, word: str) -> str:
        if word not in self._found:
            named = self._by_name.get(word) or self._holding(word)
            self._found[word] = named[0] if len(named) == 1 else "" if named else self._ids(word)
        return self._found[word]

    def _holding(self, word: str) -> list[str]:
        """The ids of the units whose names hold ``word``."""
        return [uid for name, ids in self._by_name.items() if word and word in name for uid in ids]


def _unknown_unit(doc: SourceDoc, key: str, unit: str, suggest: Callable[[str], str]) -> Diagnostic:
    return Diagnostic.error(
        doc.path, doc.lines.get(key, 1), "unknown-unit", key, unit=unit, suggestion=suggest(unit)
    )


def _attributes(
    kind: Kind[Any],
    doc: SourceDoc,
    values: Mapping[str, Any],
    tree: SourceTree,
    problems: list[Diagnostic],
) -> dict[str, Any]:
    """The model attributes of the checked source values: paths resolved to files, and an
    absent date taken from the file's history."""
    attrs: dict[str, Any] = {}
    for attr, spec in schema.spec_of(kind.model):
        key = spec.key or attr
        if key not in values:
            continue
        value = values[key]
        if spec.asset and isinstance(value, str):
            value = _asset(doc, key, value, tree, problems)
        elif spec.asset:
            found = (_asset(doc, f"{key}.{i}", ref, tree, problems) for i, ref in enumerate(value))
            value = tuple(a for a in found if a is not None)
        attrs[attr] = value
    if kind.dates_from_source() and "date" not in attrs:
        attrs["date"] = doc.created
    return attrs


# the fields of an item that come from its source document as they are
FROM_SOURCE = frozenset({"key", "kind", "body", "body_line", "digest", "lines", "updated"})


def item_of(kind: Kind[Any], doc: SourceDoc, attrs: Mapping[str, Any]) -> Item:
    """The item of ``kind`` made of ``doc`` and its other fields' values ``attrs``."""
    item: Item = kind.model(
        key=doc.path,
        kind=kind.name,
        body=doc.body,
        body_line=doc.body_line,
        digest=doc.digest,
        lines=doc.lines,
        updated=doc.updated,
        **attrs,
    )
    return item


def build_item(
    doc: SourceDoc,
    tree: SourceTree,
    units: Mapping[str, Unit],
    problems: list[Diagnostic],
    suggest: Callable[[str], str] | None = None,
    kinds: Registry = BUILT_IN,
    config: SiteConfig | None = None,
) -> Item | None:
    """One content file -> its kind's model item; None (and the problems reported) when the
    file has errors."""
    kind = kinds[doc.kind]
    values, found = schema.validate(kind.fields, doc.meta, doc.path, doc.lines)
    problems.extend(found)
    if any(d.is_error for d in found):
        return None
    unit_key = kind.unit_key
    if unit_key and values[unit_key] not in units:
        problems.append(
            _unknown_unit(doc, unit_key, values[unit_key], suggest or UnitSuggestions(units))
        )
        return None
    if unit_key and not _unit_kind_allowed(kind, doc, units[values[unit_key]], config, problems):
        return None
    before = len(problems)
    attrs = _attributes(kind, doc, values, tree, problems)
    if len(problems) != before:
        return None
    attrs.update(kind.derive(attrs, Derivation(lambda uid: units[uid].name)))
    item = item_of(kind, doc, attrs)
    if not item.draft:
        # a published file must not show the instructions ``showcase new`` wrote into it
        problems.extend(placeholders.find(doc.path, doc.meta, doc.lines, doc.body, doc.body_line))
    if kind.warn_empty_body and not doc.body.strip():
        # only front matter: the page would show the fields and no story
        problems.append(Diagnostic.warning(doc.path, max(doc.body_line - 1, 1), "empty-body"))
    return item


# what a file became (its item, or None) and the problems found, by the file's kind, path,
# digest and dates; "" holds the context they were made in
ItemMemo = MutableMapping[Any, Any]
Checked = tuple[Item, tuple[Diagnostic, ...]]
# what a file became: its item (None: refused) and the problems found
Became = tuple["Item | None", tuple[Diagnostic, ...]]


# what ``build_item`` makes an item of, besides the context: the file's kind, path, digest
# and dates (one C-level getter: it is taken of every file of the site)
memo_key: Callable[[SourceDoc], tuple[Any, ...]] = operator.attrgetter(
    "kind", "path", "digest", "created", "updated"
)


class KeptItems(Protocol):
    """The items of earlier builds, kept by the build's cache from process to process, by
    ``memo_key`` and ``lasting_context``."""

    def load(self, context: str, docs: Sequence[SourceDoc]) -> Mapping[tuple[Any, ...], Checked]:
        """The kept items of ``docs`` (those found), by ``memo_key``."""

    def save(self, context: str, made: Sequence[tuple[SourceDoc, Checked]]) -> None:
        """Keep the items just made of these files."""


def lasting_context(
    tree: SourceTree, units: Sequence[Unit], kinds: Registry, config: SiteConfig
) -> str:
    """What an item is made from besides its own file, as far as it can be kept between
    processes: the units, the files that are not Markdown, with their sizes (photos and
    attachments are resolved among them), the kinds' names and the settings. An item whose
    files include a Markdown file is not kept (``keepable``)."""
    others = sorted(
        (rel, size) for rel, size in tree.files.items() if not rel.endswith(MARKDOWN_SUFFIXES)
    )
    return repr((units, others, [k.name for k in kinds], config))


def keepable(checked: tuple[Item | None, tuple[Diagnostic, ...]]) -> bool:
    """Whether an item made without errors is kept: when ``lasting_context`` covers
    everything it was made from (not a Markdown file among its photos and attachments)."""
    item, problems = checked
    if item is None or any(p.is_error for p in problems):
        return False
    return not any(a.source.endswith(MARKDOWN_SUFFIXES) for a in item.assets())


def _remembered(
    memo: ItemMemo | None, context: str, tree: SourceTree, kinds: Registry
) -> ItemMemo | None:
    """``memo``, emptied first if what items are made from besides their own file changed:
    the ``lasting_context``, the paths of all files and the kinds themselves. When only the
    paths of Markdown files changed (a story added, removed or renamed), the items that are
    ``keepable`` stay: made from their own file and that context alone, as the cache keeps
    them from process to process."""
    if memo is None:
        return None
    whole = repr((context, sorted(tree.files), id(kinds)))
    if memo.get("") == whole:
        return memo
    lasting = repr((context, id(kinds)))
    stay = {}
    if memo.get(_LASTING) == lasting:  # the items of files still there, as they are
        current = set(map(memo_key, tree.docs))
        stay = {key: value for key, value in memo.items() if key in current and _kept_item(value)}
    memo.clear()
    memo.update(stay)
    memo[""], memo[_LASTING] = whole, lasting
    return memo


def _kept_item(value: Any) -> bool:
    """Whether ``value``, of an item memo, is what a file became (not the last tree, the
    structure or the duplicates of the same memo), an item that is ``keepable``."""
    became = isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], tuple)
    return became and isinstance(value[0], Item) and keepable(value)


def _items(
    tree: SourceTree,
    units: Sequence[Unit],
    kinds: Registry,
    problems: list[Diagnostic],
    memo: ItemMemo | None,
    config: SiteConfig,
    kept: KeptItems | None = None,
    drafts: bool = True,
) -> tuple[list[Item], frozenset[str]]:
    """The item of every file of ``tree`` without errors (taken from ``memo`` where the same
    file was checked in the same context, else from ``kept``, which keeps the new ones).
    Unless ``drafts`` are built, a draft with errors is held back instead (``_held_drafts``):
    also the files it would publish."""
    checked = _patched_items(tree, units, kinds, config, memo, kept)
    if checked is None:
        checked = _checked(tree, units, kinds, memo, config, kept)
    held: frozenset[str] = frozenset()
    if not drafts:
        checked, held = _held_drafts(tree, checked)
    problems.extend(itertools.chain.from_iterable(map(operator.itemgetter(1), checked)))
    return list(filter(None, map(operator.itemgetter(0), checked))), held


def _held_drafts(tree: SourceTree, checked: list[Became]) -> tuple[list[Became], frozenset[str]]:
    """``checked`` (what each document of ``tree`` became) with the errors of each draft
    (``draft: true``) that has any told as warnings, and one warning that it must be mended
    before it is published: a draft is not published, so it does not stop the build. And
    the files such a draft names or links, which are not published either."""
    held: set[str] = set()
    told: list[Became] = []
    for doc, (item, found) in zip(tree.docs, checked, strict=True):
        if item is None and _marked_draft(doc) and found:
            found = (
                *map(_as_warning, found),
                Diagnostic.warning(doc.path, doc.lines.get("draft", 0), "draft-unready"),
            )
            held |= {doc.path, *_named_files(doc, tree.files)}
        told.append((item, found))
    return told, frozenset(held)


def _marked_draft(doc: SourceDoc) -> bool:
    """Whether the front matter of ``doc`` says ``draft: true`` (or ``是``), as the field's
    own checker reads it."""
    if "draft" not in doc.meta:
        return False
    ctx = schema.Context(doc.path, doc.lines, [])
    return schema.boolean(ctx, "draft", doc.meta["draft"]) is True


def _as_warning(problem: Diagnostic) -> Diagnostic:
    return dataclasses.replace(problem, severity=Severity.WARNING)


def _named_files(doc: SourceDoc, files: Container[str]) -> Iterator[str]:
    """The files of ``files`` that the front matter of ``doc`` names (every text in it,
    by the one rule for paths) or its body links to or shows."""
    texts = [doc.meta]
    while texts:
        value = texts.pop()
        if isinstance(value, str):
            hit = paths.resolve(value, doc.path, files)
            if hit is not None and not hit.startswith(SITE_WIDE):
                yield hit
        elif isinstance(value, Mapping):
            texts.extend(value.values())
        elif isinstance(value, list | tuple):
            texts.extend(value)
    yield from (
        hit for hit in _body_links(doc.path, doc.body, files) if not hit.startswith(SITE_WIDE)
    )


# the folder of the files the whole site shares (the theme's and the pages' pictures)
SITE_WIDE = "static/"


def _checked(
    tree: SourceTree,
    units: Sequence[Unit],
    kinds: Registry,
    memo: ItemMemo | None,
    config: SiteConfig,
    kept: KeptItems | None,
) -> list[Became]:
    """What every file of ``tree`` became (see ``_items``); a process that builds again keeps
    it in ``memo`` with the tree and what else it was made from (``_patched_items``)."""
    fresh: list[SourceDoc] = []
    context = ""
    if memo is not None or kept is not None:  # else nothing is remembered: no context needed
        context = lasting_context(tree, units, kinds, config)
        memo = _remembered(memo, context, tree, kinds)
        if kept is not None:
            memo, fresh = _from_kept(memo, kept, context, tree)
    make = _maker(tree, units, kinds, config)
    if memo is None:
        return [_made(make, doc) for doc in tree.docs]
    # the files in neither memory were found by ``_from_kept`` already
    missing = fresh if kept is not None else _not_in(tree.docs, memo)
    checked = _remembered_items(tree.docs, memo, missing, make)
    if kept is not None:
        made = [(doc, memo[memo_key(doc)]) for doc in fresh]
        kept.save(context, [m for m in made if keepable(m[1])])
    memo[_LAST_ITEMS] = (tree, kinds, context, checked)
    return checked


def _patched_items(
    tree: SourceTree,
    units: Sequence[Unit],
    kinds: Registry,
    config: SiteConfig,
    memo: ItemMemo | None,
    kept: KeptItems | None,
) -> list[Became] | None:
    """What every file of ``tree`` became, from what the files of the last tree of this
    ``memo`` became, when ``tree`` was made from it by reading some documents again
    (``SourceTree.patched_from``: every other file is the same, units.yaml and site.yaml
    too) for the same kinds: only the documents read again are looked up, or made. None
    when it was not."""
    last = memo.get(_LAST_ITEMS) if memo is not None else None
    if memo is None or last is None:
        return None
    last_tree, last_kinds, context, checked = last
    if tree.patched_from(last_tree) is None or last_kinds is not kinds:
        return None
    read_again = map(operator.is_not, tree.docs, last_tree.docs)
    numbers = list(itertools.compress(range(len(tree.docs)), read_again))
    docs = [tree.docs[n] for n in numbers]
    missing = _not_in(docs, memo)
    if kept is not None and missing:
        memo.update(kept.load(context, missing))
        fresh = _not_in(missing, memo)
    else:
        fresh = missing
    _make_missing(memo, fresh, _maker(tree, units, kinds, config))
    if kept is not None and fresh:
        kept.save(context, [m for m in ((d, memo[memo_key(d)]) for d in fresh) if keepable(m[1])])
    now = list(checked)
    for n, doc in zip(numbers, docs, strict=True):
        now[n] = memo[memo_key(doc)]
    memo[_LAST_ITEMS] = (tree, kinds, context, now)
    return now


def _from_kept(
    memo: ItemMemo | None, kept: KeptItems, context: str, tree: SourceTree
) -> tuple[ItemMemo, list[SourceDoc]]:
    """``memo`` (a new one if None) with the items ``kept`` holds of the files it lacks, and
    the files of neither, whose items the build makes."""
    memo = {} if memo is None else memo
    wanted = _not_in(tree.docs, memo)
    found = kept.load(context, wanted)
    memo.update(found)
    return memo, _not_in(wanted, found)


def _not_in(docs: Sequence[SourceDoc], memo: Container[Any]) -> list[SourceDoc]:
    """The files of ``docs`` whose ``memo_key`` is not in ``memo`` (by the interpreter's own
    loops: a site has tens of thousands of files, of which one changed)."""
    missing = map(operator.not_, map(memo.__contains__, map(memo_key, docs)))
    return list(itertools.compress(docs, missing))


def _remembered_items(
    docs: Sequence[SourceDoc], memo: ItemMemo, missing: Sequence[SourceDoc], make: Make
) -> list[Became]:
    """What ``make`` gives for every file of ``docs``, or what it gave for the same file in
    the same context (``memo``, which lacks the files ``missing``)."""
    _make_missing(memo, missing, make)
    return list(map(memo.__getitem__, map(memo_key, docs)))


def _make_missing(memo: ItemMemo, missing: Sequence[SourceDoc], make: Make) -> None:
    """Make the items of the files ``missing`` from ``memo``, into it."""
    for doc in missing:
        memo[memo_key(doc)] = _made(make, doc)


# makes the item of a file, adding the problems found to a list
Make = Callable[[SourceDoc, list[Diagnostic]], "Item | None"]


def _maker(tree: SourceTree, units: Sequence[Unit], kinds: Registry, config: SiteConfig) -> Make:
    """What makes the item of a file of ``tree`` (``build_item``)."""
    unit_by_id = {u.id: u for u in units}
    suggest = UnitSuggestions(unit_by_id)

    def make(doc: SourceDoc, found: list[Diagnostic]) -> Item | None:
        return build_item(doc, tree, unit_by_id, found, suggest, kinds, config)

    return make


def _made(make: Make, doc: SourceDoc) -> Became:
    """The item ``make`` makes of ``doc`` and the problems found."""
    found: list[Diagnostic] = []
    return make(doc, found), tuple(found)


# where ``_checked`` keeps, in the memo of the items, the last tree and what its files became,
# with the kinds and the ``lasting_context``: (tree, kinds, context, what every file became)
_LAST_ITEMS = ("last items",)
_LASTING = ("lasting",)  # the context and kinds the items of a memo were made in


def _unit_kind_allowed(
    kind: Kind[Any],
    doc: SourceDoc,
    unit: Unit,
    config: SiteConfig | None,
    problems: list[Diagnostic],
) -> bool:
    """Whether an item may be filed for ``unit`` (a pledge for a party branch); reported if
    not. A unit without a kind is allowed."""
    if kind.unit_kinds is None or not unit.kind:
        return True
    allowed = kind.unit_kinds(config or SiteConfig())
    if unit.kind in allowed:
        return True
    key = kind.unit_key
    problems.append(
        Diagnostic.error(
            doc.path,
            doc.lines.get(key, 1),
            f"wrong-unit-kind-{kind.name}",
            key,
            unit=unit.id,
            name=unit.name,
            got=unit.kind,
            allowed="、".join(allowed),
        )
    )
    return False


def _check_duplicates(items: Iterable[Item], kinds: Registry, problems: list[Diagnostic]) -> None:
    """Two items of one kind, year and explicit slug; two of a one-per-unit kind (pledges)
    of one unit and year."""
    seen: dict[tuple[str, int, str], Item] = {}
    for item in items:
        kind = kinds[item.kind]
        if kind.one_per_unit:
            key = (f"{kind.name}-unit", item.year, item.unit)
            code, field_name = f"duplicate-{kind.name}", kind.unit_key
        elif item.slug:
            key = (item.kind, item.year, item.slug)
            code, field_name = "duplicate-slug", "slug"
        else:
            continue
        if key not in seen:
            seen[key] = item
            continue
        problems.append(
            Diagnostic.error(
                item.key,
                item.lines.get(field_name, 1),
                code,
                field_name,
                slug=item.slug,
                year=item.year,
                unit=item.unit,
                first=seen[key].key,
            )
        )


def _edition(
    items: list[Item], kinds: Registry, edition: int, files: Container[str]
) -> tuple[list[Item], frozenset[str]]:
    """An archived edition's items: that year's items and the free pages; and what is left
    out (the source files of the other items, and their photos and attachments)."""
    kept = [i for i in items if not kinds[i.kind].yearly or i.year == edition]
    others = [i for i in items if kinds[i.kind].yearly and i.year != edition]
    return kept, _left_out(others, kept, files)


def _published(
    built: list[Item], drafts: bool, files: Container[str]
) -> tuple[list[Item], frozenset[str]]:
    """The items published (drafts only with ``drafts``), and what is left out: a draft
    publishes nothing of its own, no page, no photo, no attachment, no file its text links."""
    items = [i for i in built if drafts or not i.draft]
    hidden = [i for i in built if i.draft and not drafts]
    return items, _left_out(hidden, items, files)


def _left_out(others: list[Item], kept: list[Item], files: Container[str]) -> frozenset[str]:
    """The source files of ``others``, and their photos, attachments and the files (of
    ``files``) their texts link to or show, that no item of ``kept`` uses too."""
    if not others:
        return frozenset()
    left = (_sources(others) - _sources(kept)) | {i.key for i in others}
    linked = _linked_files(others, files)
    if linked:
        linked -= _sources(kept) | _linked_files(kept, files)
    return left | linked


# where a Markdown body names a file: a link or image ``](path "title")``, a reference
# definition ``[name]: path``, an HTML ``src=`` or ``href=``
_BODY_REF = re.compile(
    r"\]\(\s*<?([^)\s>]+)"
    r"|^[ ]{0,3}\[[^\]]+\]:\s*<?([^\s>]+)"
    r"""|\b(?:src|href)\s*=\s*["']?([^"'\s>]+)""",
    re.M | re.I,
)


def _linked_files(items: Iterable[Item], files: Container[str]) -> frozenset[str]:
    """The files of ``files`` that the bodies of ``items`` link to or show (by the one rule
    for paths, ``paths.resolve``)."""
    return frozenset(hit for item in items for hit in _body_links(item.key, item.body, files))


def _body_links(key: str, body: str, files: Container[str]) -> Iterator[str]:
    """The files of ``files`` that ``body`` (of the source file ``key``) links to or shows."""
    for match in _BODY_REF.finditer(body):
        ref = next(group for group in match.groups() if group)
        try:
            parts = urlsplit(ref)
        except ValueError:  # not an address at all ("//[x")
            continue
        if parts.scheme or parts.netloc:
            continue
        hit = paths.resolve(unquote(parts.path), key, files)
        if hit is not None:
            yield hit


def _collections(
    items: Iterable[Item], kinds: Registry, ordering: Ordering
) -> dict[str, tuple[Item, ...]]:
    """The items of each kind, in the kind's order."""
    grouped: dict[str, list[Item]] = {k.name: [] for k in kinds}
    for item in items:
        grouped[item.kind].append(item)
    return {k.name: _sorted(grouped[k.name], k, ordering) for k in kinds}


def _sorted(items: list[Item], kind: Kind[Any], ordering: Ordering) -> tuple[Item, ...]:
    return tuple(sorted(items, key=lambda item: kind.order(item, ordering)))


def _speakers(
    profiles: Iterable[Profile], reports: Iterable[Report], unit_by_id: Mapping[str, Unit]
) -> dict[tuple[str, str], str]:
    """(report key, speaker name) -> the key of the profile of that name and year."""
    profile_of: dict[tuple[int, str], list[Profile]] = defaultdict(list)
    for profile in profiles:
        profile_of[(profile.year, profile.name)].append(profile)
    speaker_links: dict[tuple[str, str], str] = {}
    for report in reports:
        for speaker in report.speakers:
            matches = profile_of.get((report.year, speaker), [])
            # with namesakes prefer the one in the report's own part of the tree
            near = [
                p for p in matches if report.unit in (*unit_by_id[p.unit].ancestors, p.unit)
            ] or matches
            if near:
                speaker_links[(report.key, speaker)] = near[0].key
    return speaker_links


def _grouped(
    content: Iterable[Item], unit_by_id: Mapping[str, Unit]
) -> tuple[dict[str, tuple[Item, ...]], dict[str, tuple[Item, ...]]]:
    """Items by unit (rolled up to every ancestor) and by tag."""
    by_unit: dict[str, list[Item]] = defaultdict(list)
    by_tag: dict[str, list[Item]] = defaultdict(list)
    for item in content:
        unit = unit_by_id[item.unit]
        for uid in (*unit.ancestors, unit.id):
            by_unit[uid].append(item)
        for tag in item.tags:
            by_tag[tag].append(item)
    return {k: tuple(v) for k, v in by_unit.items()}, {k: tuple(v) for k, v in by_tag.items()}


def build_site(
    tree: SourceTree,
    kinds: Registry = BUILT_IN,
    *,
    drafts: bool = False,
    edition_year: int | None = None,
    memo: ItemMemo | None = None,
    kept: KeptItems | None = None,
) -> tuple[Site, list[Diagnostic]]:
    """The site of ``tree`` (drafts only with ``drafts``; an archived edition holds the items
    of ``edition_year`` only) and the problems found checking every item against its kind.
    A file checked by an earlier build with the same ``memo``, or in an earlier process whose
    items ``kept`` holds, is not checked again."""
    problems: list[Diagnostic] = []
    config = build_config(tree, problems)
    units = build_units(tree, problems)
    built, unready = _items(tree, units, kinds, problems, memo, config, kept, drafts)
    items, left_out = _published(built, drafts, tree.files)
    if unready:  # what a published item uses too stays
        left_out |= unready - _sources(items) - _linked_files(items, tree.files)
    problems.extend(_duplicates(items, kinds, memo))
    if not config.current_year and edition_year is None:  # the newest year is the current one
        problems.extend(_future_years(items))
    if _units_unread(tree):
        problems = _units_unchecked(problems)
    edition = edition_year
    if edition is not None:
        # an archived edition: nothing links to the live site (no absolute URLs in feed and
        # sitemap)
        items, others = _edition(items, kinds, edition, tree.files)
        left_out |= others
        config = SiteConfig(**{**_fields(config), "current_year": edition, "base_url": ""})
    editions = () if edition is not None else tuple(sorted(tree.editions, reverse=True))
    setting = (config, edition, editions, left_out)
    site = _patched(memo, setting, items)
    if site is None:
        site = _assembled(config, units, items, kinds, setting)
    if memo is not None:
        memo[_STRUCTURE] = (setting, items, site)
    return site, problems


def _future_years(items: Iterable[Item]) -> list[Diagnostic]:
    """A warning for each item dated more than a year after this one: a slip of the keyboard
    (2035 for 2025) would make it the site's current year, its home page and honour roll."""
    now = _this_year()
    return [
        Diagnostic.warning(
            item.key,
            item.lines.get("year", item.lines.get("date", 1)),
            "year-in-future",
            year=item.year,
            now=now,
        )
        for item in items
        if item.year > now + 1
    ]


def _this_year() -> int:
    """This year by the machine's clock, or by ``SOURCE_DATE_EPOCH`` when that is later (a
    build dated ahead); an epoch that is no time at all (huge, not a number) is left out."""
    year = dt.date.today().year
    try:
        epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "").strip())
        return max(year, dt.datetime.fromtimestamp(epoch, dt.UTC).year)
    except (ValueError, OverflowError, OSError):
        return year


def _units_unread(tree: SourceTree) -> bool:
    """Whether units.yaml could not be read as a list of units: missing, bad YAML, another
    encoding (its own error says why)."""
    return tree.units is None or not isinstance(tree.units.data, list)


def _units_unchecked(problems: list[Diagnostic]) -> list[Diagnostic]:
    """``problems`` without the items' units found missing from a units.yaml that could not be
    read (every unit would be), told once instead, as an error (an empty units.yaml has none
    of its own): the editor fixes units.yaml first."""
    kept = [p for p in problems if p.code != "unknown-unit"]
    count = len(problems) - len(kept)
    if count:
        kept.append(Diagnostic.error(UNITS_FILE, 0, "units-unread", count=count))
    return kept


# where ``build_site`` keeps, in the memo of the items, the last site and what it was made of
_STRUCTURE = ("site structure",)


def _duplicates(items: list[Item], kinds: Registry, memo: ItemMemo | None) -> list[Diagnostic]:
    """``_check_duplicates`` of ``items``; in a process that builds again (``memo``), the last
    ones found while the items differ from the last ones in their bodies alone."""
    last = memo.get(_DUPLICATES) if memo is not None else None
    if last is not None and last[0] is kinds and _new_bodies(last[1], items) is not None:
        found: list[Diagnostic] = last[2]
    else:
        found = []
        _check_duplicates(items, kinds, found)
    if memo is not None:
        memo[_DUPLICATES] = (kinds, items, found)
    return found


# where ``_duplicates`` keeps, in the memo of the items: (kinds, items, problems found)
_DUPLICATES = ("duplicates",)


def _assembled(
    config: SiteConfig,
    units: tuple[Unit, ...],
    items: list[Item],
    kinds: Registry,
    setting: tuple[Any, ...],
) -> Site:
    """The site of the published ``items``: collections sorted, items grouped by unit (rolled
    up) and by tag, years, tags, speakers linked to their profiles."""
    _config, edition, editions, left_out = setting
    unit_by_id = {u.id: u for u in units}
    unit_rank = {u.id: n for n, u in enumerate(units)}
    ordering = Ordering(hanzi.name_sort_key(config.name_order), unit_rank)
    collections = _collections(items, kinds, ordering)
    content = [i for k in kinds.yearly() for i in collections[k.name]]
    years = tuple(sorted({i.year for i in content}, reverse=True))
    if not config.current_year and years:
        config = SiteConfig(**{**_fields(config), "current_year": years[0]})
    by_unit, by_tag = _grouped(content, unit_by_id)
    tags = tuple(sorted(by_tag, key=lambda t: (hanzi.text_pinyin(t), t)))
    profiles = cast(tuple[Profile, ...], collections.get("profile", ()))
    reports = cast(tuple[Report, ...], collections.get("report", ()))
    speaker_links = _speakers(profiles, reports, unit_by_id)
    talks: dict[str, list[str]] = defaultdict(list)
    for (report_key, _speaker), profile_key in speaker_links.items():
        if report_key not in talks[profile_key]:
            talks[profile_key].append(report_key)
    return Site(
        config,
        units,
        collections,
        unit_by_id,
        by_unit,
        years,
        tags,
        by_tag,
        speaker_links,
        {k: tuple(v) for k, v in talks.items()},
        edition,
        editions,
        left_out,
        unit_rank,
        kinds,
    )


def _patched(memo: ItemMemo | None, setting: tuple[Any, ...], items: list[Item]) -> Site | None:
    """The last site of this ``memo`` (a process that builds again) with ``items`` in place
    of its own, when they differ from its items in their bodies alone, in the same order and
    ``setting``: everything a site is assembled from besides bodies is then the same. None
    when they differ in more."""
    last = memo.get(_STRUCTURE) if memo is not None else None
    if last is None or last[0] != setting:
        return None
    fresh = _new_bodies(last[1], items)
    if fresh is None:
        return None
    site: Site = last[2]
    return site.with_bodies(fresh) if fresh else site


def _new_bodies(before: Sequence[Item], now: Sequence[Item]) -> dict[str, Item] | None:
    """The items of ``now`` that differ from those of ``before`` (at the same place) in
    their bodies alone, by key; None when any differs in more, or the lists differ."""
    if len(before) != len(now):
        return None
    fresh: dict[str, Item] = {}
    # the items that are not the very ones of ``before``, by the interpreter's own loops
    for n in itertools.compress(range(len(now)), map(operator.is_not, before, now)):
        old, new = before[n], now[n]
        if old.key != new.key or dataclasses.replace(new, body=old.body, digest=old.digest) != old:
            return None
        fresh[new.key] = new
    return fresh


def _sources(items: Iterable[Item]) -> frozenset[str]:
    """The photos and attachments of some items (source paths)."""
    return frozenset(source for item in items for source in item.asset_sources())


def _fields(config: SiteConfig) -> dict[str, Any]:
    return {name: getattr(config, name) for name in config.__dataclass_fields__}
