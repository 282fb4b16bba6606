"""The search index's bulk work done on arrays of term numbers (``termcodes``) with numpy:
the term tables of many bodies, and the postings of a large site.

Each gives what its pure counterpart gives (``search.split_table``, ``search.postings``),
byte for byte, in a fraction of the time: a site of ten thousand documents has over fifteen
million postings. The module is imported only where such bulk work is done, so that a
build that converts a few bodies does not load numpy.
"""

from __future__ import annotations

import base64
import re
from array import array
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache, partial
from itertools import compress

import numpy as np
from numpy.typing import NDArray

from generator.site import search, termcodes
from generator.site.termcodes import BITS, CJK_RANGES, MASK, Table

Codes = NDArray[np.int64]

_LAST = max(last for _, last in CJK_RANGES) + 1  # every code point above is not Chinese
_IS_CJK = np.zeros(_LAST + 1, dtype=bool)
for _first, _last in CJK_RANGES:
    _IS_CJK[_first : _last + 1] = True
_WORD = re.compile(r"[0-9A-Za-z]+")
_FIRST_CHINESE = chr(min(first for first, _ in CJK_RANGES))
_NO = np.zeros(1, dtype=bool)
_ALPHABET = np.frombuffer(search.ALPHABET.encode("ascii"), dtype=np.uint8)
RANGE_POSTINGS = 1 << 18  # postings sorted at a time: they bound the memory the sort takes
# ranges at most: each range passes over every document, so that a large site has longer
# ranges rather than ever more of them (at 10,000 documents, 57 ranges; at 30,000, 64 ranges
# of about 700,000 postings, where 172 took three more seconds)
RANGES_MOST = 64


# -- term tables ---------------------------------------------------------------------------


def body_terms(text: str) -> tuple[Codes, set[str]]:
    """``search.terms(text, singles=False)``: the numbers of its Chinese terms (sorted, each
    once), and its words."""
    words = set(map(str.lower, _WORD.findall(text)))
    if not text:
        return np.zeros(0, dtype=np.int64), words
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    cjk = _IS_CJK[np.minimum(points, _LAST)]
    wide = points.astype(np.int64)
    pair = cjk[:-1] & cjk[1:]  # a pair starts at this character
    heads = (wide[:-1] << (2 * BITS)) | (wide[1:] << BITS)
    three = pair[:-1] & cjk[2:]
    edge = np.concatenate((_NO, pair, _NO))  # a pair starts before or at this character
    alone = cjk & ~edge[:-1] & ~edge[1:]
    triples = heads[:-1][three] | wide[2:][three]
    found = np.concatenate((heads[pair], triples, wide[alone] << (2 * BITS)))
    return _distinct(found), words


def _distinct(codes: Codes) -> Codes:
    """``codes`` sorted, each once."""
    codes = np.sort(codes)
    if len(codes) < 2:
        return codes
    keep = np.empty(len(codes), dtype=bool)
    keep[0] = True
    np.not_equal(codes[1:], codes[:-1], out=keep[1:])
    return codes[keep]


_code_of = lru_cache(maxsize=1 << 16)(termcodes.code_of)  # a unit's name comes back often


def table(text: str, masks: Mapping[str, int]) -> Table:
    """The table of a document whose body is ``text`` and whose other fields give the terms
    ``masks`` (term -> mask)."""
    codes, words = body_terms(text)
    named = {term: code for term in masks if (code := _code_of(term)) is not None}
    others = words.union(term for term in masks if term not in named)
    in_body = words.intersection(masks)  # the terms of the fields found in the body
    if named:
        wanted = np.fromiter(named.values(), dtype=np.int64, count=len(named))
        at = np.minimum(np.searchsorted(codes, wanted), max(len(codes) - 1, 0))
        found = codes[at] == wanted if len(codes) else np.zeros(len(wanted), dtype=bool)
        in_body.update(compress(named, found.tolist()))
        codes = _distinct(np.concatenate((codes, wanted)))
    body = search.BODY
    fielded = {term: mask | body if term in in_body else mask for term, mask in masks.items()}
    return Table(codes.astype("<i8").tobytes(), tuple(sorted(others)), fielded)


# -- postings ------------------------------------------------------------------------------


def postings(tables: Iterable[Table], count: int) -> list[dict[str, str]]:
    """``search.postings`` of ``tables``."""
    coded: list[Codes] = []
    words: defaultdict[str, array[int]] = defaultdict(partial(array, "i"))
    fielded: defaultdict[str, array[int]] = defaultdict(partial(array, "i"))
    for number, entry in enumerate(tables):
        coded.append(np.frombuffer(entry.codes, dtype="<i8"))
        for word in entry.others:
            words[word].append(number)
        search.add_fielded(fielded, number, entry.fielded)
    shards: list[dict[str, str]] = [{} for _ in range(count)]
    # the words come first in each shard, unless one sorts at or after the first Chinese
    # character (then each shard is sorted again at the end)
    late = any(word >= _FIRST_CHINESE for word in words)
    for term in sorted(words):
        posting = search.posting_text(words.pop(term), fielded.get(term, ()))
        shards[search.term_shard(term, count)][term] = posting
    for part, docs in _ranges(coded):
        uniques, texts = _grouped(part, docs)
        for term, text in zip(_terms_of(uniques), texts, strict=True):
            posting = text + search.fielded_text(fielded.get(term, ()))
            shards[search.term_shard(term, count)][term] = posting
    if late:  # each shard's terms in sorted order, as ``search.postings`` gives them
        return [dict(sorted(shard.items())) for shard in shards]
    return shards


def _ranges(coded: Sequence[Codes]) -> Iterable[tuple[Codes, NDArray[np.int32]]]:
    """The postings of ``coded`` (the sorted numbers of each document's terms, in document
    order), a range of numbers at a time, in order: (number, document) pairs sorted by
    number, then by document."""
    total = sum(map(len, coded))
    if not total:
        return
    cuts = _cuts(coded, total, min(-(-total // RANGE_POSTINGS), RANGES_MOST))
    # where each cut falls in each document's numbers: documents by cuts
    bounds = np.array([np.searchsorted(codes, cuts) for codes in coded], dtype=np.int64)
    numbers = np.arange(len(coded), dtype=np.int32)
    for n in range(len(cuts) - 1):
        starts, ends = bounds[:, n].tolist(), bounds[:, n + 1].tolist()
        pieces = [codes[a:b] for codes, a, b in zip(coded, starts, ends, strict=True)]
        sizes = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
        part = np.concatenate(pieces)
        if not len(part):  # no number falls between these two cuts
            continue
        order = np.argsort(part, kind="stable")
        yield part[order], np.repeat(numbers, sizes)[order]


def _cuts(coded: Sequence[Codes], total: int, ranges: int) -> Codes:
    """``ranges`` + 1 increasing bounds around every number of ``coded`` (``total`` of
    them): the first below all, the last above all, the others about equally many postings
    apart (found in a sample of every document's numbers)."""
    step = max(1, total // (1 << 16))
    # every step-th number, counted on from one document to the next (not each one's first)
    offsets = np.cumsum([0, *map(len, coded)])[:-1] % step
    sample = np.concatenate(
        [c[(-o) % step :: step] for c, o in zip(coded, offsets.tolist(), strict=True)]
    )
    inner = np.zeros(0, dtype=np.int64)
    if len(sample):
        inner = np.quantile(sample, np.linspace(0, 1, ranges + 1)[1:-1]).astype(np.int64)
    top = (_LAST + 1) << (2 * BITS)  # above the number of every term
    return _distinct(np.concatenate(([0], inner, [top])))


def _grouped(codes: Codes, docs: NDArray[np.int32]) -> tuple[Codes, list[str]]:
    """The distinct numbers of sorted (number, document) pairs, and the text of each one's
    documents (``search.encode_ids``)."""
    new = np.empty(len(codes), dtype=bool)
    new[0] = True
    np.not_equal(codes[1:], codes[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(codes))
    wide = docs.astype(np.int64)
    gaps = np.empty(len(wide), dtype=np.int64)
    gaps[1:] = wide[1:] - wide[:-1]
    gaps[starts] = wide[starts] + 1  # a posting's first gap is from -1
    stream, offsets = _varints(gaps)
    first, last = offsets[starts].tolist(), offsets[ends].tolist()
    width = wide[ends - 1] // 6 + 1  # characters of a bitmap
    short = ((ends - starts) <= width) & ((offsets[ends] - offsets[starts]) <= width)
    texts = [
        stream[first[n] : last[n]] if fits else "~" + _bitmap(docs[starts[n] : ends[n]], size)
        for n, (fits, size) in enumerate(zip(short.tolist(), width.tolist(), strict=True))
    ]
    return codes[starts], texts


def _varints(values: Codes) -> tuple[str, Codes]:
    """``search.varints`` of every value, as one text, and where each value's characters
    start in it (and, last, its length)."""
    lengths = np.ones(len(values), dtype=np.int64)
    for digits in range(1, 7):  # a document number is below 2**31
        lengths += values >= (1 << (5 * digits))
    offsets = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    out = np.empty(int(offsets[-1]), dtype=np.uint8)
    for digit in range(int(lengths.max(initial=0))):
        on = lengths > digit
        value = (values[on] >> (5 * digit)) & 31
        value[lengths[on] > digit + 1] += 32  # more characters follow
        out[offsets[:-1][on] + digit] = _ALPHABET[value]
    return out.tobytes().decode("ascii"), offsets


def _bitmap(ids: NDArray[np.int32], size: int) -> str:
    """``search._bitmap`` of ``ids``."""
    flags = np.zeros(-(-size * 6 // 24) * 24, dtype=np.uint8)
    flags[ids] = 1
    raw = base64.b64encode(np.packbits(flags).tobytes())
    return raw[:size].translate(search.REVERSED).decode("ascii")


def _terms_of(codes: Codes) -> list[str]:
    """``termcodes.term_of`` of every number."""
    points = np.empty((len(codes), 4), dtype="<u4")
    points[:, 0] = codes >> (2 * BITS)
    points[:, 1] = (codes >> BITS) & MASK
    points[:, 2] = codes & MASK
    points[:, 3] = ord("\n")
    text = points.tobytes().decode("utf-32-le").replace("\0", "")
    return text.split("\n")[:-1]
