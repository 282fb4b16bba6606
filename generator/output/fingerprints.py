"""Page fingerprints: a hash of everything a page is made from, so an incremental build
re-renders exactly the pages whose inputs changed.

A page is up to date when two things hold. Its fingerprint before rendering is unchanged: its
template and every template that one uses, the site configuration, the theme's catalog, the
free pages (every page's footer links them), and the values of its context, content items and
units included. And every read it made through the site view while it last
rendered (``pages.view.Read``: an item, a unit, a unit's counts, the years, the related items
of an item...) still has the digest it had then. An item stands for its source digest, its
face (its fields, those worked out from others too, such as a pledge's title), its
URL, its tags' URLs, its dates, its photos and attachments, and the resolution of its body's
links; a read stands for its answer, with every item in it standing for its own digest.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import itertools
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from generator.pages.view import Queries, Read
from generator.site.bodies import Rendered
from generator.site.model import Item, Site, Unit
from generator.site.urls import UrlPlan

Hasher = Any
# id -> (the sequence, kept so that its id is not reused; its digest; the item keys in it)
Shared = dict[int, tuple[object, bytes, frozenset[str]]]
SHARED_LENGTH = 16  # sequences this long are digested once per build, however many pages hold them
_MISSING = object()  # the answer to a read whose item, unit or query no longer exists


def _h(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


WIDE_READ = 256  # reads holding more items than this are listed apart (``Holding``)


class Holding:
    """Which reads hold each item (at least those): an index from items to the reads that
    hold a few of them, and the wide reads apart, each checked against the changed items
    (an index of a read of every item would cost as much to keep as to search)."""

    __slots__ = ("by_item", "wide")

    def __init__(self, items: Mapping[Read, frozenset[str]] | None = None) -> None:
        self.by_item: dict[str, set[Read]] = {}
        self.wide: set[Read] = set()
        for read, keys in (items or {}).items():
            self.add(read, keys)

    def add(self, read: Read, keys: frozenset[str] | set[str]) -> None:
        if len(keys) > WIDE_READ:
            self.wide.add(read)
            return
        for key in keys:
            self.by_item.setdefault(key, set()).add(read)

    def drop(self, read: Read, keys: frozenset[str]) -> None:
        self.wide.discard(read)
        for key in keys if len(keys) <= WIDE_READ else ():
            found = self.by_item.get(key)
            if found is not None:
                found.discard(read)

    def of(self, changed: frozenset[str], items: Mapping[Read, frozenset[str]]) -> set[Read]:
        """The reads that hold any of the ``changed`` items (``items``: what each holds)."""
        found: set[Read] = set().union(*(self.by_item.get(key, ()) for key in changed))
        for read in self.wide:
            keys = items.get(read)
            if keys is None or not keys.isdisjoint(changed):
                found.add(read)
        return found


@dataclass(frozen=True, slots=True)
class KnownReads:
    """The reads of one build: the digest of each, the items in its answer, its encoding.
    The mappings are those of the ``Fingerprints`` that made them, not copies: whoever is
    given them (``inherit``) owns them from then on."""

    digests: dict[Read, str]
    items: dict[Read, frozenset[str]]
    texts: dict[Read, str]
    encoded: dict[str, str]  # the digests again, by encoded read
    item_digests: dict[str, str]
    shared: Shared  # long sequences: made of item keys and faces, never of bodies
    holding: Holding | None  # made when first needed, then kept up to date


class Fingerprints:
    """Fingerprints of items and pages of one build (memoised per item)."""

    def __init__(
        self,
        site: Site,
        plan: UrlPlan,
        global_digest: str,
        links: Mapping[str, Rendered | None],
        templates: Callable[[str], str],
        queries: Queries | None = None,
    ) -> None:
        self.site = site
        self.plan = plan
        self.global_digest = global_digest
        self.links = links
        self.templates = templates
        self._items: dict[str, str] = {}
        self._reads: dict[Read, str] = {}
        self._read_items: dict[Read, frozenset[str]] = {}
        self._texts: dict[Read, str] = {}
        self._encoded: dict[str, str] = {}  # the same digests, by encoded read
        self._shared: Shared = {}  # long sequences, by identity: pages share them
        self._holding: Holding | None = None  # kept once inherited (see ``inherit``)
        # the answers to reads depend on the site alone: shared with the site view of the
        # pages that render, so nothing is computed twice
        self.queries = queries or Queries(site, plan)
        self._by_key = self.queries.by_key

    def known_reads(self) -> KnownReads:
        """The digests of the reads, items and long sequences computed so far, for the next
        build in this process: this object's own mappings, not copies (it computes nothing
        more once they are taken; ``inherit`` takes them over)."""
        return KnownReads(
            self._reads,
            self._read_items,
            self._texts,
            self._encoded,
            self._items,
            self._shared,
            self._holding,
        )

    def inherit(self, known: KnownReads, changed: frozenset[str]) -> None:
        """Take over the ``known`` reads (the last build's in this process, whose skeleton
        was this one's: only the bodies of the ``changed`` items differ; the caller gives
        them up), less those whose answers hold one of those items. Everything else in an
        answer is made of the items' faces and of the photos' sizes, which the skeleton
        holds, so it is unchanged. Digests computed in this
        build stay. The reads that hold an item are looked up (``Holding``), not searched
        for among all of them."""
        holding = known.holding if known.holding is not None else Holding(known.items)
        reads, read_items, texts, encoded = known.digests, known.items, known.texts, known.encoded
        for read in holding.of(changed, read_items):
            if read in self._reads:
                continue
            reads.pop(read, None)
            holding.drop(read, read_items.pop(read, frozenset()))
            text = texts.pop(read, "") or read.encode()
            encoded.pop(text, "")
        for read, items in self._read_items.items():
            holding.add(read, items)
        reads.update(self._reads)
        read_items.update(self._read_items)
        texts.update(self._texts)
        encoded.update(self._encoded)
        self._reads, self._read_items, self._texts = reads, read_items, texts
        self._encoded, self._holding = encoded, holding
        item_digests = known.item_digests
        for key in changed:
            item_digests.pop(key, None)
        item_digests.update(self._items)
        self._items = item_digests
        known.shared.update(self._shared)
        self._shared = known.shared

    def with_links(
        self, links: Mapping[str, Rendered | None], changed: frozenset[str]
    ) -> Fingerprints:
        """The same fingerprints with more body links known (those of the ``changed`` items):
        item digests computed again, reads that hold none of those items kept. This object
        gives its digests to the new one, and starts again from nothing."""
        out = Fingerprints(
            self.site, self.plan, self.global_digest, links, self.templates, self.queries
        )
        known = self.known_reads()
        self._reads, self._read_items, self._texts, self._encoded = {}, {}, {}, {}
        self._items, self._shared, self._holding = {}, {}, None
        out.inherit(known, changed)
        return out

    def item(self, key: str) -> str:
        found = self._items.get(key)
        if found is not None:
            return found
        item = self._by_key[key]
        # its face: the fields worked out from others too (a pledge's title names its unit)
        parts = [item.digest, face_of(item), self.plan.items[key], repr(item.date)]
        parts.append(repr(item.updated))
        parts.extend(self.plan.tags.get(t, "") for t in item.tags)
        parts.extend(f"{a.source}:{a.size}" for a in item.assets())
        rendered = self.links.get(key)
        if rendered is not None:
            parts.extend(f"{ref}>{to}" for ref, to in rendered.links)
        found = _h(*parts)
        self._items[key] = found
        return found

    def page(self, template: str, context: Mapping[str, Any]) -> tuple[str, set[str]]:
        """The page's fingerprint before rendering, and the keys of the items in its context."""
        digest = hashlib.sha256()
        digest.update(self.global_digest.encode())
        digest.update(self.templates(template).encode())
        return self._value(context, digest)

    def read(self, read: Read) -> str:
        """The digest of the answer to ``read`` in this build ("" if it has none any more)."""
        found = self._reads.get(read)
        if found is None:
            try:
                answer = self.queries.evaluate(read)
            except (KeyError, IndexError, TypeError):
                answer = _MISSING
            found, seen = "", set[str]()
            if answer is not _MISSING:
                found, seen = self._value(answer, hashlib.sha256())
            self._reads[read] = found
            self._read_items[read] = frozenset(seen)
            if self._holding is not None:
                self._holding.add(read, seen)
        return found

    def encoded(self, read: Read) -> str:
        """``read.encode()``, once per read and build."""
        text = self._texts.get(read)
        if text is None:
            text = self._texts[read] = read.encode()
        return text

    def items_of(self, text: str) -> frozenset[str]:
        """``read_items`` of an encoded read."""
        return self.read_items(Read.decode(text))

    def read_items(self, read: Read) -> frozenset[str]:
        """The keys of the items in the answer to ``read``."""
        self.read(read)
        return self._read_items[read]

    def unchanged(self, reads: Mapping[str, str]) -> bool:
        """Whether every read (encoded, with its digest then) has the same digest now."""
        known = self._encoded
        for text, then in reads.items():
            now = known.get(text)
            if now is None:
                now = known[text] = self.read(Read.decode(text))
            if now != then:
                return False
        return True

    def _value(self, value: Any, digest: Hasher) -> tuple[str, set[str]]:
        """Finish ``digest`` with a canonical form of ``value``, items by their digest; also
        the keys of those items."""
        seen: set[str] = set()
        _walk(value, digest, seen, self._shared)
        keys = _sorted(seen)
        known = self._items
        for key in list(itertools.filterfalse(known.__contains__, keys)):
            self.item(key)
        digest.update(_item_part(keys, list(map(known.__getitem__, keys))))
        return str(digest.hexdigest()), seen


BLOCK = 512  # keys digested together in a canonical form of many items


def _item_part(keys: list[str], digests: list[str]) -> bytes:
    """The part of a canonical form that names the items: each key and its item's digest,
    in key order; for as many items as a page of many holds, the digest of each block of
    BLOCK of them instead, and a block whose keys and digests are those of the last time it
    was asked for is not digested again (the reads that hold every item hold every block
    but one as they were, after one edit)."""
    if len(keys) <= MANY_ITEMS:
        return "".join(map(str.__add__, keys, digests)).encode()
    if len(_blocks) > BLOCKS_KEPT:
        _blocks.clear()
    out = [b"B"]
    for start in range(0, len(keys), BLOCK):
        block, values = keys[start : start + BLOCK], digests[start : start + BLOCK]
        place = (len(keys), start, block[0])
        last = _blocks.get(place)
        if last is None or last[0] != block or last[1] != values:
            text = "".join(map(str.__add__, block, values)).encode()
            last = _blocks[place] = (block, values, hashlib.sha256(text).digest())
        out.append(last[2])
    return b"".join(out)


# the blocks of ``_item_part`` digested, by the number of keys, where the block starts and its
# first key: (its keys, their digests, its digest)
_blocks: dict[tuple[int, int, str], tuple[list[str], list[str], bytes]] = {}
BLOCKS_KEPT = 4096


# the last large set of item keys sorted, and its order: the reads that hold every item
# (the search files) hold the same keys from build to build
_last_sorted: list[Any] = [frozenset(), []]


def _sorted(keys: set[str]) -> list[str]:
    """``sorted(keys)``; for as many keys as a page of many items holds, the last order
    found when they are the same keys (comparing two sets is much quicker than sorting)."""
    if len(keys) <= MANY_ITEMS:
        return sorted(keys)
    if keys != _last_sorted[0]:
        _last_sorted[:] = [frozenset(keys), sorted(keys)]
    found: list[str] = _last_sorted[1]
    return found


# the types ``_walk`` tells apart, as tuples: ``isinstance`` with a tuple is many times
# quicker than with a union (``str | int``), which is made again at each call
_SEQUENCES = (list, tuple)
_SCALARS = (str, int, float, bool, dt.date, enum.Enum)
_COLLECTIONS = (list, tuple, set, frozenset)
_SETS = (set, frozenset)


def _walk(value: Any, digest: Hasher, seen: set[str], shared: Shared) -> None:
    """Feed a canonical form of a context value into ``digest``; collect item keys. A long
    list or tuple stands for its own digest, computed once (``shared``)."""
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, _SEQUENCES) and len(current) >= SHARED_LENGTH:
            digest.update(b"H" + _sequence(current, seen, shared))
        elif isinstance(current, Item):
            digest.update(b"I" + current.key.encode())
            seen.add(current.key)
        elif isinstance(current, Unit):
            digest.update(b"U" + repr(unit_fields(current)).encode())
        elif isinstance(current, _SCALARS) or current is None:
            digest.update(b"S" + repr(current).encode())
        elif isinstance(current, Mapping):
            digest.update(b"M%d" % len(current))
            for k in sorted(current, key=repr):
                digest.update(b"K" + repr(k).encode())
                stack.append(current[k])
        elif isinstance(current, _COLLECTIONS):
            items = sorted(current, key=repr) if isinstance(current, _SETS) else current
            digest.update(b"L%d" % len(items))
            stack.extend(reversed(list(items)))
        elif dataclasses.is_dataclass(current):
            digest.update(b"D" + type(current).__name__.encode())
            stack.extend(getattr(current, f.name) for f in reversed(dataclasses.fields(current)))
        else:
            digest.update(b"R" + repr(current).encode())


def _sequence(value: list[Any] | tuple[Any, ...], seen: set[str], shared: Shared) -> bytes:
    """The digest of a long sequence (its elements walked one by one), memoised by identity;
    adds the item keys in it to ``seen``."""
    found = shared.get(id(value))
    if found is None:
        if all(map(isinstance, value, itertools.repeat(Item))):
            found = _items_sequence(value)
        else:
            digest = hashlib.sha256(b"L%d" % len(value))
            inner: set[str] = set()
            for element in value:
                _walk(element, digest, inner, shared)
            found = (value, digest.digest(), frozenset(inner))
        shared[id(value)] = found
    seen.update(found[2])
    return found[1]


def _items_sequence(value: list[Item] | tuple[Item, ...]) -> tuple[object, bytes, frozenset[str]]:
    """``_sequence`` of a sequence of items: the bytes walking each item gives, at once.
    The last one of many items is kept: after an edit, the sequences of a site patched
    from the last one (``Site.with_bodies``) hold the same keys."""
    keys = list(map(_KEY, value))
    last = _last_items
    if len(keys) > MANY_ITEMS and last[0] is not None and last[0][0] == keys:
        return value, last[0][1], last[0][2]
    digest = hashlib.sha256(b"L%d" % len(value))
    digest.update(("I" + "I".join(keys)).encode() if keys else b"")
    found = (value, digest.digest(), frozenset(keys))
    if len(keys) > MANY_ITEMS:
        last[0] = (keys, found[1], found[2])
    return found


_KEY = operator.attrgetter("key")
# the keys, digest and key set of the last sequence of many items ``_items_sequence`` made
_last_items: list[tuple[list[str], bytes, frozenset[str]] | None] = [None]


def unit_fields(unit: Unit) -> tuple[Any, ...]:
    """What a page can show of a unit (not where units.yaml declares it)."""
    return (unit.id, unit.name, unit.parent, unit.kind, unit.order, unit.ancestors, unit.children)


# what an item is besides its source digest: everything but its body (and the digest)
# what a face leaves out: the body, the digest of the file, and where each field is in it
_BODY_FIELDS = frozenset({"body", "digest", "lines"})
# a page that depends on more items than this is always checked (its keys are not kept)
MANY_ITEMS = 256


def face(item: Item) -> str:
    """A digest of everything about ``item`` except its body: what page families sort, group
    and count by. Two builds whose items all have the same faces differ only in bodies."""
    names = _face_fields(type(item))
    values = [(name, _canonical(getattr(item, name))) for name in names]
    return _h(type(item).__name__, repr(values))


def face_of(item: Item) -> str:
    """``face(item)``, as the last skeleton computed it when it is that very item."""
    found = _faces.get(id(item))
    return found[1] if found is not None and found[0] is item else face(item)


def _face_fields(kind: type[Item]) -> tuple[str, ...]:
    found = _FIELDS.get(kind)
    if found is None:
        fields = dataclasses.fields(kind)
        found = _FIELDS[kind] = tuple(f.name for f in fields if f.name not in _BODY_FIELDS)
    return found


_FIELDS: dict[type[Item], tuple[str, ...]] = {}


# the faces of the last skeleton's items, by identity (the item kept alive with it): serve
# keeps the items of unchanged files from build to build, so their faces are not computed again
_faces: dict[int, tuple[Item, str]] = {}


def known_faces(pairs: Iterable[tuple[Item, str]]) -> None:
    """Take the faces of these items as known (the item cache keeps an item's face with it)."""
    _faces.update((id(item), (item, text)) for item, text in pairs)


def _canonical(value: Any) -> Any:
    """``value`` with mappings as sorted pairs: a cached item and a parsed one compare equal."""
    if isinstance(value, Mapping):
        return sorted(value.items())
    return value


def skeleton(site: Site, plan: UrlPlan, global_digest: str, parts: Mapping[str, str]) -> str:
    """A digest of everything every page is made from except the items' bodies: the global
    digest, the URL plan, every item's face in site order, and the ``parts`` the build adds
    (template digests, copied files). While it is unchanged, a page's fingerprint and reads
    can change only through the items it holds or read (``page_items``)."""
    digest = hashlib.sha256(global_digest.encode())
    digest.update(_plan_digest(plan))
    digest.update(repr(sorted(parts.items())).encode())
    digest.update(faces(site).encode())
    return digest.hexdigest()


# the last plan digested, and its digest: serve keeps the plan while the faces are the same
_last_plan: list[Any] = [None, b""]


def _plan_digest(plan: UrlPlan) -> bytes:
    if _last_plan[0] is not plan:
        digest = hashlib.sha256()
        for mapping in (plan.items, plan.slugs, plan.tags, plan.assets):
            digest.update(repr(sorted(mapping.items())).encode())
        _last_plan[:] = [plan, digest.digest()]
    found: bytes = _last_plan[1]
    return found


# the last site whose faces were digested, and that digest (a build asks twice)
_last_faces: list[Any] = [None, ""]


def faces(site: Site) -> str:
    """A digest of every item's key and face, in site order."""
    last = _last_faces[0]
    if last is site or (last is not None and site.patched_from(last) is not None):
        _last_faces[0] = site  # a site patched from the last one: only bodies differ
        done: str = _last_faces[1]
        return done
    known, now = _faces, {}
    parts = []
    for item in site.all_items():
        text = face_of(item)
        now[id(item)] = (item, text)
        parts.append(f"{item.key}\0{text}\n")
    known.clear()
    known.update(now)
    digest = hashlib.sha256("".join(parts).encode()).hexdigest()
    _last_faces[:] = [site, digest]
    return digest


def page_items(
    refs: frozenset[str], read_items: Iterable[frozenset[str]]
) -> tuple[str, ...] | None:
    """The items a page depends on (those of its context, ``refs``, and of the answers to
    its reads), sorted, or None when there are too many to keep. A tuple: a build records
    them for every page it renders, and a set takes four times the memory."""
    found = set(refs).union(*read_items)
    return tuple(sorted(found)) if len(found) <= MANY_ITEMS else None


def global_digest(site: Site, catalog: Mapping[str, str], version: str) -> str:
    """What every page depends on: configuration, catalog, the free pages' links, the
    editions (the banner and the footer's list), the content kinds (the navigation). Not the
    units: a page reads those it shows through the view (a recorded read), or holds them in
    its context."""
    pages = [(p.key, p.title, p.order, p.digest) for p in site.pages]
    kinds = repr([(k.name, k.folder, k.label, k.yearly) for k in site.kinds])
    editions = repr((site.edition, site.editions))  # banner and footer of every page
    return _h(
        version,
        repr(site.config),
        repr(sorted(catalog.items())),
        repr(pages),
        editions,
        kinds,
    )
