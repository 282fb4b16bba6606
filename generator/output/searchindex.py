"""The search index of a build, patched from the last build's instead of computed again.

The cache keeps the postings shards of the last index, the term table of every document (by
a digest of what the table is made from, ``search.signature``) and that digest per document
number. When few documents changed, moved (a story inserted before others moves each of them
up a number) or were added or removed at the end (documents are numbered oldest first, so a
new story usually comes last), only those are read again: their old and new terms give the
postings to change, in the shards those terms fall in. Any other change (many documents,
another number of shards, a changed generator, a cached shard that cannot be read) computes
the whole index again, as a clean build does, from the cached tables of the documents of the
last index while the generator is the same (a table's signature stands for its document, its
body and its units' names: renaming a unit changes the tables of the documents under it
alone), and from the tables made in this build where its bodies were converted
(``table_row``); every way gives the same files.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from generator.output import cache, indexer
from generator.output import fingerprints as deps
from generator.site import search
from generator.site.bodies import Rendered
from generator.site.model import Item, Site
from generator.site.termcodes import Table
from generator.site.urls import UrlPlan

# meta key: the order of the documents, the digest of each, the context of their tables and
# the number of shards
STATE = "search"
OUTPUT_STATE = "search_output"  # meta key: the STATE the shard files of the output are of
TABLES = indexer.TABLES
SHARDS = "search_shards"  # shard number -> {term: posting}
PATCH_SHARE = 8  # at most one document in this many changed: patch; more: compute again
BATCH = 500  # tables written to the cache at a time
BULK_FROM = 100  # documents: from this many, the tables and postings are made with numpy

Bodies = Callable[[Sequence[str]], Mapping[str, Rendered]]


def search_index(
    site: Site,
    plan: UrlPlan,
    store: cache.Cache,
    body_keys: Mapping[str, str],
    bodies: Bodies,
    made: frozenset[str] = frozenset(),
) -> search.Index:
    """The manifest and the postings shards of the site's index (not the result files, which
    the pages make one by one). ``body_keys`` maps an item key to its Markdown cache key, which
    stands for its body's text; ``bodies(keys)`` gives the bodies (their plain text) of the
    items asked for; ``made`` holds the signatures of the term tables this
    build stored (``table_row``, where the bodies were converted)."""
    items = site.chronological()
    count = search.shard_count(site)
    signed = _signed(site, plan, store, body_keys, count)
    order, sigs = signed.order, signed.sigs
    request = _Request(site, plan, store, order, sigs, bodies, made)
    patched = _patched(request)
    if patched is None:
        shards, unchanged = _computed(request), frozenset[int]()
    else:
        shards, changed = patched
        unchanged = frozenset(range(count)) - changed
    scripts = _scripts(shards, store.memory("search_scripts"))
    manifest = _manifest(site, items, count, order, store.memory("search_manifest"))
    return search.Index(manifest, tuple(shards), (), scripts, unchanged)


@dataclass(frozen=True, slots=True)
class _Signed:
    """The signatures of a site's documents, as a long-lived process keeps them."""

    site: Site
    plan: UrlPlan
    count: int  # the number of shards
    order: str  # ``_order``
    sigs: list[str]  # in document order
    numbers: Mapping[str, int]  # item key -> document number


def _signed(
    site: Site, plan: UrlPlan, store: cache.Cache, body_keys: Mapping[str, str], count: int
) -> _Signed:
    """The signature of every document's term table and the documents' ``_order``. In a
    long-lived process, for a site patched from the last one (some bodies changed) with the
    same plan, the last ones, with the signatures of the patched items alone made again:
    nothing else a signature is made from changed (the Markdown cache key of an unchanged
    item is made of it and its page alone)."""
    memo = store.memory("search_signed")
    last: _Signed | None = memo.get("last") if memo is not None else None
    if last is not None and last.site is site and last.plan is plan and last.count == count:
        return last
    fresh = site.patched_from(last.site) if last is not None and last.plan is plan else None
    if last is not None and fresh is not None:
        sigs = list(last.sigs)
        names = _unit_names(site)
        for key, item in fresh.items():
            number = last.numbers.get(key)
            if number is not None:  # an item of chronological(), not a free page
                mark = _mark(body_keys, names, item)
                sigs[number] = search.signature(item, _made_from(mark, item))
        order = last.order if last.count == count else _order(site.chronological(), count)
        signed = _Signed(site, plan, count, order, sigs, last.numbers)
    else:
        signed = _signed_anew(site, plan, store, body_keys, count)
    if memo is not None:
        memo["last"] = signed
    return signed


def _signed_anew(
    site: Site, plan: UrlPlan, store: cache.Cache, body_keys: Mapping[str, str], count: int
) -> _Signed:
    """``_signed`` of every document (in a long-lived process, the signature of an item is
    made again only when its object or its mark changed: ``cache.Cache.per_item``)."""
    items = site.chronological()
    names = _unit_names(site)
    by_key = store.per_item(
        "search_signatures",
        items,
        lambda item: _mark(body_keys, names, item),
        lambda item, mark: search.signature(item, _made_from(mark, item)),
    )
    sigs = list(map(by_key.__getitem__, map(operator.attrgetter("key"), items)))
    numbers = {item.key: n for n, item in enumerate(items)}
    return _Signed(site, plan, count, _order(items, count), sigs, numbers)


def _scripts(shards: Sequence[dict[str, str]], memo: dict[Any, Any] | None) -> tuple[str, ...]:
    """The script of every shard, for a long-lived process (``memo``, else none): a shard
    that is the very one of the last build keeps its script."""
    if memo is None:
        return ()
    out = []
    for number, shard in enumerate(shards):
        kept = memo.get(number)
        if kept is None or kept[0] is not shard:
            kept = memo[number] = (shard, search.to_script(f"t/{number}", shard))
        out.append(kept[1])
    return tuple(out)


def _manifest(
    site: Site, items: Sequence[Item], count: int, order: str, memo: dict[Any, Any] | None
) -> dict[str, object]:
    """``search.manifest``; for a long-lived process (``memo``, else none), the last one
    while the documents' order and faces (their kinds, years and units) are the same."""
    if memo is None:
        return search.manifest(site, items, count)
    key = (order, deps.faces(site), tuple(k.name for k in site.kinds.yearly()), _units(site))
    found = memo.get(key)
    if found is None:
        memo.clear()
        found = memo[key] = search.manifest(site, items, count)
    manifest: dict[str, object] = found
    return manifest


def _context() -> str:
    """What every term table depends on besides its document: the generator. (The names of a
    document's unit and the units above it are a part of its signature: ``_made_from``.)"""
    return hashlib.sha256(cache.code_digest().encode()).hexdigest()


def _made_from(mark: str, item: Item) -> str:
    """What ``item``'s term table is made from besides its file and dates, as its signature
    takes it (``search.signature``): its body's Markdown cache key (which stands for the
    body's text), its face (the fields worked out from others too: a pledge's title names
    its unit) and the names of its unit and the units above it (its unit field). ``mark``
    holds the first and the last, cheap to make for every item: the face is worked out only
    for an item whose mark or object changed (``cache.Cache.per_item``)."""
    return f"{mark}\0{deps.face_of(item)}"


def _mark(body_keys: Mapping[str, str], names: Mapping[str, str], item: Item) -> str:
    """The cheap part of ``_made_from``: the body's Markdown cache key and the unit names."""
    return f"{body_keys[item.key]}\0{names[item.unit]}"


def _unit_names(site: Site) -> dict[str, str]:
    """Unit id -> the names of the unit and the units above it, top first, joined by NUL."""
    by_id = site.unit_by_id
    return {u.id: "\0".join([by_id[a].name for a in (*u.ancestors, u.id)]) for u in site.units}


def _units(site: Site) -> str:
    """The units as the manifest shows them."""
    return repr([(u.id, u.name, u.parent) for u in site.units])


def _order(items: Sequence[Item], count: int) -> str:
    """What the document numbers and the shards depend on besides each document: the
    context of the tables (``_context``), the number of shards and the documents in order."""
    digest = hashlib.sha256(f"{_context()}\0{count}\0".encode())
    digest.update("".join([f"{item.key}\0" for item in items]).encode("utf-8"))
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class _Request:
    """What the index is patched or computed from."""

    site: Site
    plan: UrlPlan
    store: cache.Cache
    order: str  # the documents' order and the tables' context (``_order``)
    sigs: list[str]  # the signature of each document's table, in document order
    bodies: Bodies
    made: frozenset[str]  # the signatures of the tables this build stored


def _patched(request: _Request) -> tuple[list[dict[str, str]], frozenset[int]] | None:
    """The last index patched for the documents that changed, and the numbers of the shards
    that differ from the output's (all when the output's are not the last index's: a build
    failed after patching it); None when it cannot be."""
    site, store, order, sigs = request.site, request.store, request.order, request.sigs
    count = search.shard_count(site)
    before = store.get_meta(STATE)
    state = _state(store, before)
    if not state or len(state) < 4 or state[2:] != [_context(), count]:
        return None
    old_sigs: list[str] = state[1]
    changed = _changed_numbers(old_sigs, sigs)
    if len(changed) * PATCH_SHARE > len(sigs):
        return None
    gone = [n for n in changed if n < len(old_sigs)]
    numbered = [(n, sigs[n]) for n in changed if n < len(sigs)]
    # the old tables, and the new ones this build stored or the last index has (a document
    # that moved), read at once
    moved = [sig for _, sig in numbered if sig not in request.made]  # usually none
    if moved:
        moved = list(frozenset(moved) & frozenset(old_sigs))
    kept = request.made.union(moved)
    wanted = [*(old_sigs[n] for n in gone), *(sig for _, sig in numbered if sig in kept)]
    old = _readable(store.get_encoded(TABLES, wanted))
    stored = store.get_many(SHARDS, (str(s) for s in range(count)))
    if len(stored) != count or any(old_sigs[n] not in old for n in gone):
        return None
    new, found = _new_tables(request, numbered, old)
    changes = search.table_changes(
        (
            (
                n,
                old[old_sigs[n]].merged(search.BODY) if n < len(old_sigs) else {},
                new[n].merged(search.BODY) if n < len(sigs) else {},
            )
            for n in changed
        ),
        count,
    )
    shards = _patch(stored, changes, count)
    if shards is None:
        return None
    store.set_meta(STATE, "")  # the state is not whole until everything below is saved
    store.put_encoded(
        TABLES, ((sigs[n], indexer.encode_table(t)) for n, t in new.items() if n not in found)
    )
    store.put_many(SHARDS, ((str(s), shards[s]) for s in sorted(changes)))
    _save_state(store, [order, sigs, _context(), count])
    if store.get_meta(OUTPUT_STATE) != before:
        return shards, frozenset(range(count))
    return shards, frozenset(changes)


def _patch(
    stored: Mapping[str, Any], changes: Mapping[int, Mapping[str, Mapping[int, int]]], count: int
) -> list[dict[str, str]] | None:
    """The ``count`` cached shards (``stored``, by number as text) with ``changes`` made
    (``search.table_changes``); None when a cached shard cannot be read (tampered with)."""
    shards = [stored[str(s)] for s in range(count)]
    try:
        for number, terms in changes.items():
            shards[number] = search.patch_shard(shards[number], terms)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return shards


def _changed_numbers(old: Sequence[str], new: Sequence[str]) -> list[int]:
    """The numbers of the documents whose signatures differ between ``old`` and ``new``,
    including those added or removed at the end."""
    common = min(len(old), len(new))
    changed = list(itertools.compress(range(common), map(operator.ne, old, new)))
    return changed + list(range(common, max(len(old), len(new))))


def _new_tables(
    request: _Request, numbered: list[tuple[int, str]], rows: Mapping[str, Table]
) -> tuple[dict[int, Table], frozenset[int]]:
    """The term tables of the documents ``numbered`` (number, signature): those among the
    cached ``rows`` (by signature), else made from their bodies; and the numbers of those
    found there."""
    site, plan = request.site, request.plan
    items = site.chronological()
    stored = {sig: rows[sig] for _, sig in numbered if sig in rows}
    texts = request.bodies([items[n].key for n, sig in numbered if sig not in stored])
    tables = {
        n: stored[sig]
        if sig in stored
        else _table_of(site, plan, items[n], texts.get(items[n].key))
        for n, sig in numbered
    }
    return tables, frozenset(n for n, sig in numbered if sig in stored)


def made_where_converted(
    store: cache.Cache,
    site: Site,
    plan: UrlPlan,
    body_keys: Mapping[str, str],
    made: set[str],
    bulk: bool = False,
) -> tuple[Callable[[Item, Rendered], tuple[str, bytes] | None], Callable[[list[Any]], None]]:
    """What makes the term table of each body where it is converted (``pool.convert``'s
    ``then``, in the workers when there are many) and what stores the tables as they come
    (its ``keep``, adding their signatures to ``made``, which ``search_index`` is given).
    ``body_keys`` maps an item key to its Markdown cache key; with ``bulk`` (many bodies),
    the tables are made with numpy (``search.split_table``)."""
    searched = {kind.name for kind in site.kinds.yearly()}  # the kinds of chronological()
    names = _unit_names(site)
    forget_other_context(store)

    def then(item: Item, body: Rendered) -> tuple[str, bytes] | None:
        if item.kind not in searched:
            return None
        made_from = _made_from(_mark(body_keys, names, item), item)
        return table_row(site, plan, item, body, made_from, bulk)

    def keep(rows: list[tuple[str, bytes]]) -> None:
        store.put_encoded(TABLES, rows)
        made.update(sig for sig, _ in rows)

    return then, keep


def table_row(
    site: Site, plan: UrlPlan, item: Item, body: Rendered, made_from: str, bulk: bool = False
) -> tuple[str, bytes]:
    """The term table of ``item`` with ``body`` as the cache keeps it: (its signature, its
    row made by ``indexer.encode_table``); ``cache.Cache.put_encoded`` stores it (after
    ``forget_other_context``). ``made_from``: see ``_made_from``; ``bulk``: see
    ``search.split_table``."""
    table = _table_of(site, plan, item, body, bulk)
    return search.signature(item, made_from), indexer.encode_table(table)


def forget_other_context(store: cache.Cache) -> None:
    """Forget the last index when its tables were made in another context (another
    generator): a table stored under one of its signatures now is made in this context,
    which that index could not patch or reuse anyway."""
    state = _state(store, store.get_meta(STATE))
    if state and (len(state) < 3 or state[2] != _context() or not state[1]):
        store.set_meta(STATE, "")


def written(store: cache.Cache) -> None:
    """Record that the output now holds the shard files of the cache's index."""
    store.set_meta(OUTPUT_STATE, store.get_meta(STATE) or "")


def _computed(request: _Request) -> list[dict[str, str]]:
    """The whole index computed again, and kept in the cache for the next build. The term
    table of a document of the last index is the cache's while the generator and the units'
    names are the same (a signature stands for everything else a table is made from), as is
    one in ``made``, stored by this build where its body was converted."""
    site, plan, store, order = request.site, request.plan, request.store, request.order
    sigs, bodies, made = request.sigs, request.bodies, request.made
    items = site.chronological()
    context = _context()
    reusable = _reusable(store, context, sigs) | made.intersection(sigs)
    count = search.shard_count(site)
    store.set_meta(STATE, "")
    shards = _elsewhere(store, sigs, reusable, count)
    if shards is None:
        texts = bodies([k.key for k, sig in zip(items, sigs, strict=True) if sig not in reusable])
        bulk = len(sigs) >= BULK_FROM
        tables = _tables(site, plan, store, sigs, reusable, texts, bodies, bulk)
        shards = indexer.postings(tables, count, bulk)
    store.put_many(SHARDS, ((str(s), shard) for s, shard in enumerate(shards)))
    _save_state(store, [order, sigs, context, count])
    return shards


def _elsewhere(
    store: cache.Cache, sigs: Sequence[str], reusable: frozenset[str], count: int
) -> list[dict[str, str]] | None:
    """The shards made in a fresh process (``indexer``) when the site is large and the cache
    holds every table; else None."""
    if len(sigs) < indexer.ELSEWHERE_FROM or store.path is None or not reusable.issuperset(sigs):
        return None
    return indexer.computed_elsewhere(store.path, sigs, count)


def _reusable(store: cache.Cache, context: str, sigs: Sequence[str]) -> frozenset[str]:
    """The signatures of ``sigs`` whose tables the cache holds as made in ``context``: those of
    the last index, when it was made in the same context (each build writes the table of every
    document of its index before it records the index)."""
    return _last_signatures(store, context).intersection(sigs)


def _last_signatures(store: cache.Cache, context: str) -> frozenset[str]:
    """The signatures of the last index's documents when it was made in ``context``, else
    none."""
    state = _state(store, store.get_meta(STATE))
    if not state or len(state) < 3 or state[2] != context:
        return frozenset()
    return frozenset(state[1])


def _state(store: cache.Cache, text: str) -> Any:
    """The last index's state (``STATE``), parsed from its ``text``: once per text in a
    long-lived process (it holds every document's signature)."""
    memo = store.memory("search_state")
    if memo is not None and memo.get("text") is text:
        return memo["state"]
    state = json.loads(text or "null")
    if isinstance(state, list) and len(state) > 1 and isinstance(state[1], str):
        state[1] = state[1].split(",") if state[1] else []  # the signatures (``_save_state``)
    if memo is not None:
        memo.update(text=text, state=state)
    return state


def _save_state(store: cache.Cache, state: list[Any]) -> None:
    """Keep ``state`` as the last index's (``_state`` needs not parse it again); its list of
    signatures (hexadecimal) is kept as one text, joined by commas: quicker to write."""
    order, sigs, *rest = state
    text = json.dumps([order, ",".join(sigs), *rest])
    store.set_meta(STATE, text)
    memo = store.memory("search_state")
    if memo is not None:
        memo.update(text=store.get_meta(STATE), state=state)


def _tables(
    site: Site,
    plan: UrlPlan,
    store: cache.Cache,
    sigs: Sequence[str],
    reusable: frozenset[str],
    texts: Mapping[str, Rendered],
    bodies: Bodies,
    bulk: bool,
) -> Iterator[Table]:
    """The term table of every document, in order, BATCH at a time: the cache's where
    ``reusable``, else made from its body (``bulk``: see ``search.split_table``) and kept in
    the cache."""
    items = site.chronological()
    for start in range(0, len(items), BATCH):
        part = range(start, min(start + BATCH, len(items)))
        cached = _readable(
            store.get_encoded(TABLES, [sigs[n] for n in part if sigs[n] in reusable])
        )
        fresh: list[tuple[str, bytes]] = []
        for n in part:
            entry = cached.get(sigs[n])
            if entry is not None:
                yield entry
                continue
            item = items[n]
            found = texts if item.key in texts else bodies([item.key])  # a table gone missing
            table = _table_of(site, plan, item, found.get(item.key), bulk)
            fresh.append((sigs[n], indexer.encode_table(table)))
            yield table
        store.put_encoded(TABLES, fresh)


def _table_of(
    site: Site, plan: UrlPlan, item: Item, body: Rendered | None, bulk: bool = False
) -> Table:
    """The term table of ``item`` with ``body`` (None: a body without text); ``bulk``: see
    ``search.split_table``."""
    doc = search.document(site, plan, item, body.text if body else "")
    return search.split_table(doc, bulk)


def _readable(rows: Mapping[str, object]) -> dict[str, Table]:
    """The term tables among the cache's ``rows`` (by signature); a row that is not one (a
    cache changed behind the build's back) is left out, as if it were not there."""
    out = {}
    for sig, row in rows.items():
        with contextlib.suppress(ValueError):
            out[sig] = indexer.split_row(row)
    return out
