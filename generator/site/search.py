"""The site's own full-text search index, split into small script files loaded on demand.

Pure: no I/O. Every file is a script calling ``SHOWCASE_SEARCH_DATA(name, data)``, so that
search works from file:// (where a fetched file cannot load) and under any sub-path. The
browser (themes/default/static/js/search.js) loads the manifest first, then only what a query
needs:

- ``search/index.js``, the manifest: the fields and their weights, the units, the years, and
  per document its kind, year and unit (enough to filter and count every hit);
- ``search/t/<n>.js``, the postings shards: every term is in the shard given by a hash of the
  term, and the number of shards grows with the amount of text, so a shard stays small;
- ``search/x/<n>.js``, what the result of document ``n`` shows: link, title, honours,
  summary, and the start of its text for the excerpt; fetched only for the results on
  screen.

Chinese has no spaces, so Chinese text is indexed as every pair and every run of three
characters; single characters only in names, honours, units and tags (a surname). A query
looks up a single character as itself, two characters as their pair, a longer run as its runs
of three. Runs of ASCII letters and digits are words, lowercased. Names are also indexed by
their pinyin (whole, surname, given name, syllables and initials). A year in the query (2015,
2015年) filters by year. Documents must match every query term (else those matching the most,
at least half); they rank by the sum, over the terms, of the weight of the best field each
term matched in, then by year (newest first), kind (profiles, reports, pledges) and date
(newest first).

Documents are numbered oldest first (``Site.chronological``), so that a story added with
the latest date takes the next number and leaves the others' numbers, result files and
postings as they were; a posting's text depends on its document numbers alone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import operator
import re
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache, partial
from itertools import chain, compress, repeat
from typing import Any

from generator.base import hanzi
from generator.site import termcodes, urls
from generator.site.model import Item, Site
from generator.site.termcodes import Table
from generator.site.urls import UrlPlan

SEARCH_PAGE = "search/index.html"
MANIFEST = "search/index.js"


def is_data_file(path: str) -> bool:
    """Whether the output path ``path`` is a data file of the search index (its manifest, a
    shard of postings, what a result shows), not the search page."""
    return path.startswith("search/") and path != SEARCH_PAGE


DATA_CALL = "SHOWCASE_SEARCH_DATA"
FORMAT_VERSION = 3
SUMMARY_LENGTH = 120  # characters of the summary shown when the excerpt has no match
MAX_TERMS = 8  # terms looked up for one query
TEXT_LENGTH = 3000  # characters of a document's text kept for its excerpt
# body characters per shard: the number of shards is the power of two that keeps about this
# much text's postings in each
TEXT_PER_SHARD = 100_000

# fields and their weights; the bit of field n in a posting's mask is 1 << n
FIELDS = ("people", "honors", "title", "tags", "unit", "kind", "body")
WEIGHTS = (16, 12, 8, 6, 4, 3, 1)
PEOPLE, HONORS, TITLE, TAGS, UNIT, KIND, BODY = (1 << n for n in range(len(FIELDS)))
# words a visitor uses for a kind of document ("2020年承诺书")
KIND_WORDS = {
    "profile": "先进典型 先进人物 事迹",
    "report": "经验交流 交流发言 经验材料",
    "pledge": "承诺书 支部承诺 公开承诺",
}

_CJK = "".join(f"{chr(first)}-{chr(last)}" for first, last in termcodes.CJK_RANGES)
_TOKEN = re.compile(rf"[{_CJK}]+|[0-9A-Za-z]+")
_CJK_RUN = re.compile(rf"[{_CJK}]+")
_YEAR = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})(?![0-9])年?(?:度)?")
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_VALUE = {c: n for n, c in enumerate(ALPHABET)}


# -- terms ---------------------------------------------------------------------------------


def terms(text: str, singles: bool = True) -> set[str]:
    """Every index term of ``text``: pairs and runs of three Chinese characters (and single
    characters with ``singles``, or where one stands alone), words lowercased."""
    out: set[str] = set()
    for token in set(_TOKEN.findall(text)):  # a run that comes back adds nothing
        if token.isascii():  # a token is a run of Chinese characters or of ASCII ones
            out.add(token.lower())
            continue
        if singles or len(token) == 1:
            out.update(token)
        pairs = list(map(str.__add__, token, token[1:]))
        out.update(pairs)
        out.update(map(str.__add__, pairs, token[2:]))
    return out


def query_terms(query: str) -> list[str]:
    """The terms a query must match (what search.js computes): a single Chinese character
    stands for itself, two for their pair, a longer run for runs of three starting at every
    other character and at the end (they overlap, so they cover the run); words lowercased.
    No repeats, in order; of more than MAX_TERMS, MAX_TERMS spread evenly (each term may load
    a shard)."""
    out: list[str] = []
    for match in _TOKEN.finditer(query):
        token = match.group()
        if not _CJK_RUN.fullmatch(token):
            found = [token.lower()]
        elif len(token) < 3:
            found = [token]
        else:
            starts = [*range(0, len(token) - 3, 2), len(token) - 3]
            found = [token[i : i + 3] for i in starts]
        out.extend(t for t in found if t not in out)
    if len(out) > MAX_TERMS:
        out = [out[n * (len(out) - 1) // (MAX_TERMS - 1)] for n in range(MAX_TERMS)]
    return out


def query_year(query: str, years: Iterable[int]) -> tuple[int | None, str]:
    """The first year of the site written in ``query`` (2015, 2015年, 2015年度) and the query
    without it; (None, query) when it names none."""
    known = set(years)
    for match in _YEAR.finditer(query):
        if int(match.group(1)) in known:
            return int(match.group(1)), query[: match.start()] + " " + query[match.end() :]
    return None, query


def name_terms(name: str) -> set[str]:
    """A person's name and its pinyin: whole, surname, given name, each syllable, initials."""
    out = terms(name)
    surname, given = hanzi.split_name(name)
    if not surname:
        return out
    syllables = hanzi.name_pinyin(name)
    head = len(hanzi.name_pinyin(surname)) if surname else 0
    whole = "".join(syllables)
    out.update((whole, "".join(syllables[:head]), "".join(syllables[head:])))
    out.update(syllables)
    out.add("".join(s[:1] for s in syllables))
    if given:
        out.update(terms(given))
    return {t for t in out if t}


# -- documents -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Document:
    """What search knows of one content item."""

    path: str  # output path of the item's page
    kind: str
    title: str
    unit: str  # unit id
    year: int
    honors: tuple[str, ...]
    people: tuple[str, ...]
    tags: tuple[str, ...]
    summary: str
    body: str  # plain text of the whole body and the item's other words
    unit_text: str  # names of the unit and its ancestors


def document(site: Site, plan: UrlPlan, item: Item, body: str) -> Document:
    """What search knows of ``item``, whose body is ``body`` as plain text."""
    unit = site.unit_by_id[item.unit]
    names = [site.unit_by_id[u].name for u in (*unit.ancestors, unit.id)]
    extra = " ".join(item.search_words())
    return Document(
        path=plan.items[item.key],
        kind=item.kind,
        title=item.title,
        unit=unit.id,
        year=item.year,
        honors=item.search_honours(),
        people=item.search_people(),
        tags=item.search_tags(),
        summary=item.summary,
        body=f"{body} {extra}".strip() if extra else body,
        unit_text=" ".join(names),
    )


def signature(item: Item, made_from: str) -> str:
    """A digest of everything the term table of ``item`` is made from: its source file and
    dates (every field comes from them, and from its units' names), and ``made_from``, which
    stands for the rest (its body's text, the names of its unit and the units above it)."""
    fields = [item.key, item.digest, repr(item.date), repr(item.updated), item.year, made_from]
    text = json.dumps(fields, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def field_masks(doc: Document) -> dict[str, int]:
    """Term -> mask of the fields other than the body it occurs in."""
    masks: dict[str, int] = {}

    def add(found: Iterable[str], bit: int) -> None:
        for term in found:
            masks[term] = masks.get(term, 0) | bit

    for name in doc.people:
        add(_shared_name_terms(name), PEOPLE)
    for honor in doc.honors:
        add(_shared_terms(honor), HONORS)
    add(terms(doc.title), TITLE)
    for tag in doc.tags:
        add(_shared_terms(tag), TAGS)
    add(_shared_terms(doc.unit_text), UNIT)
    add(_shared_terms(f"{KIND_WORDS.get(doc.kind, '')} {doc.year} {doc.year}年"), KIND)
    return masks


@lru_cache(maxsize=1 << 16)
def _shared_terms(text: str) -> frozenset[str]:
    """``terms`` of a text many documents share (a unit's names, an honour, a tag)."""
    return frozenset(terms(text))


@lru_cache(maxsize=1 << 16)
def _shared_name_terms(name: str) -> frozenset[str]:
    return frozenset(name_terms(name))


# -- compact numbers -----------------------------------------------------------------------


def varints(values: Iterable[int]) -> str:
    """Non-negative numbers as characters of ALPHABET: five bits a character, low bits first,
    a character of the upper half says that more follow."""
    values = list(values)
    table = _varint_table(max(values, default=0))
    return "".join(map(table.__getitem__, values))


_VARINTS: list[str] = []


def _varint(value: int) -> str:
    out: list[str] = []
    while value >= 32:
        out.append(ALPHABET[32 + (value & 31)])
        value >>= 5
    out.append(ALPHABET[value])
    return "".join(out)


def _varint_table(largest: int) -> list[str]:
    """The characters of every number up to ``largest`` (at least), made once per process:
    a posting list becomes its text by table lookups."""
    if len(_VARINTS) <= largest:
        _VARINTS.extend(_varint(v) for v in range(len(_VARINTS), max(largest + 1, 4096)))
    return _VARINTS


def read_varints(text: str) -> list[int]:
    out: list[int] = []
    value = shift = 0
    for char in text:
        digit = _VALUE[char]
        value |= (digit & 31) << shift
        if digit >= 32:
            shift += 5
        else:
            out.append(value)
            value = shift = 0
    return out


def encode_ids(ids: Sequence[int]) -> str:
    """Sorted document numbers: as the gaps between them, or as a bitmap ("~", six documents
    a character, up to the last number) when that is shorter. The text depends on the numbers
    alone, not on how many documents there are: a document added after them changes nothing."""
    width = ids[-1] // 6 + 1 if ids else 0  # characters of the bitmap
    # every gap takes at least one character: this many documents never fit in fewer gaps
    if len(ids) <= width:
        gaps = varints(map(operator.sub, ids, chain((-1,), ids)))
        if len(gaps) <= width:
            return gaps
    return "~" + _bitmap(ids, width)


# the character of a base64 digit read low bit first, by that digit's character
REVERSED = bytes.maketrans(
    ALPHABET.encode("ascii"),
    bytes(ord(ALPHABET[int(f"{v:06b}"[::-1], 2)]) for v in range(64)),
)


def _bitmap(ids: Sequence[int], size: int) -> str:
    """Document n as bit n % 6 of character n // 6, in ``size`` characters. The characters of
    ALPHABET are those of base64, whose digits are six bits of a byte string read high bit
    first: the flags are laid out in document order, read as one binary number, and each
    digit of its base64 is then replaced by the digit of its six bits reversed."""
    bits = -(-size * 6 // 24) * 24  # whole groups of three bytes
    flags = bytearray(b"0") * bits
    any(map(flags.__setitem__, ids, repeat(ord("1"))))
    raw = int(flags, 2).to_bytes(bits // 8, "big")
    return base64.b64encode(raw)[:size].translate(REVERSED).decode("ascii")


def decode_ids(text: str) -> list[int]:
    if not text.startswith("~"):
        out, doc = [], -1
        for gap in read_varints(text):
            doc += gap
            out.append(doc)
        return out
    return _read_bitmap(text[1:])


# a flag "0"/"1" as a byte 0/1
_FLAG_BYTES = bytes.maketrans(b"01", b"\x00\x01")


def _read_bitmap(text: str) -> list[int]:
    """The document numbers of a bitmap (``_bitmap``): its digits as base64 again, read as
    one binary number whose digits are the flags in document order."""
    digits = text.encode("ascii").translate(REVERSED)  # reversing six bits undoes itself
    raw = base64.b64decode(digits + b"A" * (-len(digits) % 4), validate=True)
    flags = format(int.from_bytes(raw, "big"), f"0{len(raw) * 8}b")
    return list(compress(range(len(flags)), flags.encode("ascii").translate(_FLAG_BYTES)))


def encode_posting(found: Mapping[int, int]) -> str:
    """One term's documents (number -> field mask): every document, then "|" and the
    (gap, mask) pairs of the documents where it occurs in a field other than the body."""
    ids = sorted(found)
    return posting_text(ids, [v for d in ids if found[d] != BODY for v in (d, found[d])])


def posting_text(ids: Sequence[int], fielded: Sequence[int]) -> str:
    """``encode_posting`` of sorted ``ids`` and the flat (number, mask) pairs ``fielded``."""
    return encode_ids(ids) + fielded_text(fielded)


def fielded_text(fielded: Sequence[int]) -> str:
    """The end of a posting: "|" and the (gap, mask) pairs of the flat (number, mask) pairs
    ``fielded``; nothing when there are none."""
    if not fielded:
        return ""
    numbers = fielded[::2]
    gaps = (b - a for a, b in zip((-1, *numbers), numbers, strict=False))
    return "|" + varints(
        v for gap, mask in zip(gaps, fielded[1::2], strict=True) for v in (gap, mask)
    )


def decode_posting(text: str) -> dict[int, int]:
    """document number -> field mask (BODY where the posting names no field)."""
    ids, fielded = _posting_parts(text)
    found = dict.fromkeys(ids, BODY)
    found.update(fielded)
    return found


def _posting_parts(text: str) -> tuple[list[int], dict[int, int]]:
    """A posting's sorted document numbers, and the mask of those it names a field of."""
    head, _, tail = text.partition("|")
    values = read_varints(tail)
    fielded: dict[int, int] = {}
    doc = -1
    for i in range(0, len(values), 2):
        doc += values[i]
        fielded[doc] = values[i + 1]
    return decode_ids(head), fielded


def term_shard(term: str, shards: int) -> int:
    """The shard of ``term``: FNV-1a over its code points (search.js computes the same)."""
    value = 0x811C9DC5
    for char in term:
        value = ((value ^ ord(char)) * 0x01000193) & 0xFFFFFFFF
    return value % shards


def shard_count(site: Site) -> int:
    """How many postings shards: a power of two growing with the site's text, known before
    any body is converted, so the pages can be planned. Counted once per site (the stages
    of a build ask it several times); for a site patched from the last one asked (some
    bodies changed), from the last count and the changed bodies alone."""
    last = _shard_counts[0] if _shard_counts else None
    if last is not None and last[0] is site:
        return last[1]
    fresh = site.patched_from(last[0]) if last is not None else None
    if last is not None and fresh is not None:
        _site, _count, text, lengths = last
        for key, item in fresh.items():
            if key in lengths:  # an item of items(), not a free page
                text += _text_length(item) - lengths[key]
                lengths[key] = _text_length(item)
    else:
        lengths = {item.key: _text_length(item) for item in site.items()}
        text = sum(lengths.values())
    count = 1
    while count * TEXT_PER_SHARD < text:
        count *= 2
    _shard_counts[:] = [(site, count, text, lengths)]
    return count


def _text_length(item: Item) -> int:
    return len(item.body) + len(item.title)


# the last site asked, with its count, its text's length and each item's
_shard_counts: list[tuple[Site, int, int, dict[str, int]]] = []


# -- the index -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Index:
    """Every file of the search index, as data."""

    manifest: dict[str, object]
    shards: tuple[dict[str, str], ...]
    docs: tuple[list[object], ...]
    # the script of every shard, when the build kept them from its last index (else made
    # from ``shards`` when asked for)
    shard_scripts: tuple[str, ...] = ()
    # the numbers of the shards that are the last build's, unchanged (the index was patched)
    unchanged: frozenset[int] = frozenset()


def fixed(values: Iterable[int], width: int) -> str:
    """Numbers as ``width`` characters each (six bits a character, high first)."""
    if width <= len(_FIXED):  # the usual widths: one lookup a number
        table = _FIXED[width - 1]
        return "".join([table[v & (64**width - 1)] for v in values])
    return "".join(
        "".join(ALPHABET[(v >> (6 * (width - 1 - n))) & 63] for n in range(width)) for v in values
    )


# the characters of every number of one and of two characters
_FIXED = (tuple(ALPHABET), tuple(a + b for a in ALPHABET for b in ALPHABET))


def width_of(largest: int) -> int:
    width = 1
    while largest >= 64**width:
        width += 1
    return width


def manifest(site: Site, docs: Sequence[Document | Item], shards: int) -> dict[str, object]:
    """The manifest of ``docs`` (documents, or the items they are made from: only their kind,
    year and unit are read)."""
    kinds = [kind.name for kind in site.kinds.yearly()]
    kinds.extend(sorted({d.kind for d in docs} - set(kinds)))
    unit_number = {u.id: n for n, u in enumerate(site.units)}
    units = [
        [u.id, u.name, unit_number[u.ancestors[-1]] if u.ancestors else -1] for u in site.units
    ]
    first = min((d.year for d in docs), default=0)
    year_width = width_of(max((d.year - first for d in docs), default=0))
    unit_width = width_of(len(units))
    return {
        "version": FORMAT_VERSION,
        "fields": list(FIELDS),
        "weights": list(WEIGHTS),
        "shards": shards,
        "count": len(docs),
        "units": units,
        "years": sorted({d.year for d in docs}, reverse=True),
        "kinds": kinds,
        "first": first,
        "widths": [year_width, unit_width],
        "docKinds": fixed((kinds.index(d.kind) for d in docs), 1),
        "docYears": fixed((d.year - first for d in docs), year_width),
        "docUnits": fixed((unit_number[d.unit] for d in docs), unit_width),
    }


def result_row(doc: Document, page: str = SEARCH_PAGE) -> list[object]:
    """What a result shows: [link, title, honours, summary, start of the text]."""
    summary = doc.summary or hanzi.truncate(doc.body, SUMMARY_LENGTH)
    return [
        urls.relative(doc.path, page),
        doc.title,
        list(doc.honors),
        summary,
        doc.body[:TEXT_LENGTH],
    ]


def split_table(doc: Document, bulk: bool = False) -> Table:
    """Every term of ``doc`` (``termcodes.Table``), with the mask of the fields each is in;
    with ``bulk``, made with numpy (``termarrays``: quicker, once it is loaded)."""
    text = f"{doc.summary} {doc.body}"
    masks = field_masks(doc)
    if bulk and arrays_loadable():
        import generator.site.termarrays as termarrays  # numpy: loaded for bulk work alone

        return termarrays.table(text, masks)
    body = terms(text, singles=False)
    fielded = {term: mask | BODY if term in body else mask for term, mask in masks.items()}
    return termcodes.table(body, fielded)


@cache
def arrays_loadable() -> bool:
    """Whether ``termarrays`` loads (numpy is there); tried once per process. Without it,
    the pure functions make the same tables and postings."""
    try:
        import generator.site.termarrays  # noqa: F401
    except ImportError:
        return False
    return True


def add_fielded(
    fielded: defaultdict[str, array[int]], number: int, masks: Mapping[str, int]
) -> None:
    """Add the (number, mask) pair of document ``number`` to the list of each term of
    ``masks`` found in a field other than the body."""
    for term, mask in masks.items():
        if mask != BODY:
            fielded[term].extend((number, mask))


def postings(tables: Iterable[Table], count: int) -> list[dict[str, str]]:
    """The ``count`` postings shards of the documents whose term tables are ``tables`` (in
    document order), each shard's terms in sorted order (``termarrays.postings`` gives the
    same, quicker on a large site)."""
    # an array of numbers per term (4 bytes a posting, not a list's 8), filled by C-level
    # loops; ``fielded`` holds (number, mask) pairs where a term is in another field
    table: defaultdict[str, array[int]] = defaultdict(partial(array, "i"))
    fielded: defaultdict[str, array[int]] = defaultdict(partial(array, "i"))
    posting_of = table.__getitem__
    for number, entry in enumerate(tables):
        any(map(array.append, map(posting_of, entry.terms()), repeat(number)))
        add_fielded(fielded, number, entry.fielded)
    shards: list[dict[str, str]] = [{} for _ in range(count)]
    for term in sorted(table):
        posting = posting_text(table.pop(term), fielded.get(term, ()))
        shards[term_shard(term, count)][term] = posting
    return shards


def patch_shard(
    shard: Mapping[str, str], changes: Mapping[str, Mapping[int, int]]
) -> dict[str, str]:
    """``shard`` with the postings of some documents changed: ``changes`` maps a term to
    document number -> its new mask (0: the document no longer holds the term). The result is
    what ``postings`` makes of the changed documents."""
    out = dict(shard)
    for term, docs in changes.items():
        at_end = _at_end(out[term], docs) if term in out else None
        if at_end is not None:
            out[term] = at_end
            continue
        ids, fielded = _posting_parts(out[term]) if term in out else ([], {})
        for number, mask in docs.items():
            _set_flag(ids, number, bool(mask))
            if mask and mask != BODY:
                fielded[number] = mask
            else:
                fielded.pop(number, None)
        if ids:
            out[term] = posting_text(ids, [v for d in sorted(fielded) for v in (d, fielded[d])])
        else:
            out.pop(term, None)
    return dict(sorted(out.items()))


def _at_end(text: str, docs: Mapping[int, int]) -> str | None:
    """The posting ``text`` changed by ``docs`` (number -> mask) when they are added after
    its documents (a new story) or are its last one taken out (the newest story deleted),
    made without reading the numbers of its bitmap while it stays one; else None."""
    return _appended(text, docs) if all(docs.values()) else _truncated(text, docs)


def _appended(text: str, docs: Mapping[int, int]) -> str | None:
    """The posting ``text`` with the documents ``docs`` (number -> mask) added after every
    document it holds, as ``posting_text`` writes it, made without reading the posting's
    numbers when it stays a bitmap; None when ``docs`` do not all come after them (or take a
    document out), or the posting changes its form."""
    head, _, tail = text.partition("|")
    last = _last_fielded(read_varints(tail))
    for number in sorted(docs):
        mask = docs[number]
        if not mask:
            return None
        found = _bitmap_appended(head, number) if head.startswith("~") else None
        if found is None:
            return None
        head = found
        if mask != BODY:
            tail += _varint(number - last) + _varint(mask)
            last = number
    return head + "|" + tail if tail else head


# the number of documents each character of a bitmap flags, by its code
_FLAGS_OF = bytes.maketrans(
    ALPHABET.encode("ascii"), bytes(bin(v).count("1") for v in range(len(ALPHABET)))
)


def _bitmap_appended(head: str, number: int) -> str | None:
    """The bitmap ``head`` ("~" and its characters) with document ``number`` flagged, when it
    comes after the last one flagged and the posting stays a bitmap (more documents than
    characters: no list of gaps is as short); else None."""
    bitmap = head[1:]
    if not bitmap or number <= _last_flagged(bitmap) or _flagged(bitmap) + 1 <= number // 6 + 1:
        return None
    at, bit = divmod(number, 6)
    if at == len(bitmap) - 1:
        return head[:-1] + ALPHABET[_VALUE[bitmap[-1]] | 1 << bit]
    return head + ALPHABET[0] * (at - len(bitmap)) + ALPHABET[1 << bit]


def _truncated(text: str, docs: Mapping[int, int]) -> str | None:
    """The bitmap posting ``text`` without its last document (``docs``: that number -> 0),
    when it stays a bitmap; else None. Only its list of documents in a field is read."""
    if len(docs) != 1 or not text.startswith("~"):
        return None
    ((number, mask),) = docs.items()
    if mask:
        return None
    head, _, tail = text.partition("|")
    bitmap = _bitmap_truncated(head[1:], number)
    if bitmap is None:
        return None
    if tail:
        values = read_varints(tail)
        if _last_fielded(values) == number:  # it was in a field: its pair is the last one
            tail = varints(values[:-2]) if len(values) > 2 else ""
    return "~" + bitmap + ("|" + tail if tail else "")


def _bitmap_truncated(bitmap: str, number: int) -> str | None:
    """The characters of a bitmap with document ``number``, its last, no longer flagged, when
    the posting stays a bitmap (more documents than characters); else None."""
    if not bitmap or _last_flagged(bitmap) != number:
        return None
    left = (bitmap[:-1] + ALPHABET[_VALUE[bitmap[-1]] & ~(1 << number % 6)]).rstrip(ALPHABET[0])
    return left if _flagged(left) > len(left) else None


def _last_fielded(values: Sequence[int]) -> int:
    """The last document a posting names a field of, from its (gap, mask) values (-1: none;
    the gaps count from -1)."""
    return sum(values[0::2]) - 1


def _last_flagged(bitmap: str) -> int:
    """The last document a bitmap's characters flag (their last is never ALPHABET[0])."""
    return 6 * (len(bitmap) - 1) + _VALUE[bitmap[-1]].bit_length() - 1


def _flagged(bitmap: str) -> int:
    """How many documents a bitmap's characters flag."""
    return sum(bitmap.encode("ascii").translate(_FLAGS_OF))


def _set_flag(ids: list[int], number: int, present: bool) -> None:
    """Put ``number`` into the sorted list ``ids``, or take it out."""
    at = bisect_left(ids, number)
    there = at < len(ids) and ids[at] == number
    if present and not there:
        ids.insert(at, number)
    elif there and not present:
        del ids[at]


def table_changes(
    changed: Iterable[tuple[int, Mapping[str, int], Mapping[str, int]]], count: int
) -> dict[int, dict[str, dict[int, int]]]:
    """shard -> term -> document -> new mask (0: removed), from (document number, old table,
    new table) of each changed document."""
    out: dict[int, dict[str, dict[int, int]]] = {}
    for number, old, new in changed:
        for term in old.keys() | new.keys():
            mask = new.get(term, 0)
            if old.get(term, 0) != mask:
                shard = out.setdefault(term_shard(term, count), {})
                shard.setdefault(term, {})[number] = mask
    return out


def build_index(
    site: Site,
    plan: UrlPlan,
    texts: Mapping[str, str],
    page: str = SEARCH_PAGE,
) -> Index:
    """The whole index, with each item's body as plain text from ``texts`` (by item key);
    links are relative to the search page ``page``."""
    docs = [document(site, plan, item, texts.get(item.key, "")) for item in site.chronological()]
    count = shard_count(site)
    shards = postings((split_table(doc) for doc in docs), count)
    return Index(
        manifest=manifest(site, docs, count),
        shards=tuple(shards),
        docs=tuple(result_row(d, page) for d in docs),
    )


# -- the files -----------------------------------------------------------------------------


SHARD_FOLDER = "search/t/"


def shard_path(number: int) -> str:
    return f"{SHARD_FOLDER}{number}.js"


def text_path(number: int) -> str:
    return f"search/x/{number}.js"


def to_script(name: str, data: object) -> str:
    """A call ``SHOWCASE_SEARCH_DATA(name, data)``: loadable with <script src> from file://."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # U+2028/2029 end lines in older JavaScript; '</' cannot close anything in a .js file but
    # is escaped anyway so the text is also safe inline.
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("</", "<\\/")
    return f'{DATA_CALL}("{name}",{text});\n'


def script(index: Index, part: str, number: int = 0) -> str:
    """The script of one file of the index: ``part`` is "index", "t" or "x"."""
    if part == "index":
        return to_script("index", index.manifest)
    if part == "t" and index.shard_scripts:
        return index.shard_scripts[number]
    data: object = index.shards[number] if part == "t" else index.docs[number]
    return to_script(f"{part}/{number}", data)


def parse_script(text: str) -> tuple[str, object]:
    """(name, data) of a script written by ``to_script``."""
    head = f'{DATA_CALL}("'
    assert text.startswith(head) and text.endswith(");\n"), text[:80]
    name, data = text[len(head) : -3].split('",', 1)
    return name, json.loads(data)


# -- the ranking ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hits:
    """What a query finds: document numbers best first, and whether they match only part of
    the query."""

    docs: tuple[int, ...]
    partial: bool
    year: int | None


def doc_years(manifest_data: Mapping[str, Any]) -> list[int]:
    """The year of every document, from the manifest."""
    width, first = int(manifest_data["widths"][0]), int(manifest_data["first"])
    text = str(manifest_data["docYears"])
    out = []
    for start in range(0, len(text), width):
        value = 0
        for char in text[start : start + width]:
            value = value * 64 + _VALUE[char]
        out.append(first + value)
    return out


def _matches(
    wanted: Sequence[str],
    weights: Sequence[int],
    shard: Callable[[int], Mapping[str, str]],
    shards: int,
) -> dict[int, list[int]]:
    """document number -> [terms matched, score]."""
    matched: dict[int, list[int]] = {}
    for term in wanted:
        posting = shard(term_shard(term, shards)).get(term)
        for doc, mask in decode_posting(posting).items() if posting else ():
            best = max(w for n, w in enumerate(weights) if mask & (1 << n))
            entry = matched.setdefault(doc, [0, 0])
            entry[0] += 1
            entry[1] += best
    return matched


def search(
    manifest_data: Mapping[str, Any], shard: Callable[[int], Mapping[str, str]], query: str
) -> Hits:
    """The reference ranking (search.js does the same), for tests and tools: ``shard(n)`` is
    the terms of shard ``n``."""
    years = doc_years(manifest_data)
    kinds = [_VALUE[char] for char in str(manifest_data["docKinds"])]
    year, rest = query_year(query, manifest_data["years"])
    wanted = query_terms(rest)
    if not wanted:
        listed = sorted((kinds[d], -d) for d in range(len(years)) if years[d] == year)
        return Hits(tuple(-h[1] for h in listed), False, year)
    shards = int(manifest_data["shards"])
    matched = _matches(wanted, manifest_data["weights"], shard, shards)
    most = max((m for m, _ in matched.values()), default=0)
    if most * 2 < len(wanted):
        return Hits((), False, year)
    hits = sorted(
        (-s, -years[d], kinds[d], -d)
        for d, (m, s) in matched.items()
        if m == most and (year is None or years[d] == year)
    )
    return Hits(tuple(-h[3] for h in hits), most < len(wanted), year)


def iter_hits(index: Index, query: str) -> Iterator[int]:
    """Document numbers found by ``query`` in a built ``Index``, best first."""
    yield from search(index.manifest, index.shards.__getitem__, query).docs
