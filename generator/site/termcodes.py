"""A document's search terms as a table: its Chinese terms as numbers, the others as text.

Most index terms are one, two or three Chinese characters (``search.terms``). Such a term is
one number: the code points of its characters, 21 bits each, first character highest, a
missing character 0. Numbers of terms sort as the terms do ("石" < "石油" < "石油化" <
"石化"), so a sorted list of numbers is a sorted list of terms, and a large site's postings
are made from arrays of numbers (``termarrays``) instead of tens of millions of strings.
Every other term (a word of letters and digits, a name's pinyin) stays text.

Pure: no I/O, no third-party library.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

# the Chinese characters of the index: CJK ideographs (extension A, unified, compatibility,
# extensions B-F), as (first, last) code points
CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2EBEF))
BITS = 21  # bits of one character in a term's number
MASK = (1 << BITS) - 1


def is_cjk(point: int) -> bool:
    return any(first <= point <= last for first, last in CJK_RANGES)


def code_of(term: str) -> int | None:
    """The number of ``term`` when it is one to three Chinese characters, else None."""
    if not 0 < len(term) <= 3:
        return None
    code = 0
    for n, char in enumerate(term):
        point = ord(char)
        if not is_cjk(point):
            return None
        code |= point << (BITS * (2 - n))
    return code


def term_of(code: int) -> str:
    """The term whose number is ``code``."""
    points = (code >> (2 * BITS), (code >> BITS) & MASK, code & MASK)
    return "".join(chr(p) for p in points if p)


def pack(codes: Iterable[int]) -> bytes:
    """Sorted numbers as 8-byte little-endian integers (what ``termarrays`` reads as an
    array)."""
    packed = array("q", sorted(codes))
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def unpack(data: bytes) -> array[int]:
    packed = array("q", data)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed


@dataclass(frozen=True, slots=True)
class Table:
    """Every term of one document: ``codes``, the numbers of its Chinese terms (``pack``),
    ``others``, its other terms, and ``fielded``, the mask of the fields other than the body
    of each term found in one (with the BODY bit where it is in the body too). A term in
    ``codes`` or ``others`` but not in ``fielded`` is in the body alone."""

    codes: bytes
    others: tuple[str, ...]
    fielded: Mapping[str, int]

    def terms(self) -> Iterator[str]:
        """Every term, each once."""
        yield from map(term_of, unpack(self.codes))
        yield from self.others

    def merged(self, body: int) -> dict[str, int]:
        """Term -> mask of every term (``body``, the body's bit, for a term in the body
        alone)."""
        out = dict.fromkeys(self.terms(), body)
        out.update(self.fielded)
        return out


def table(body: Iterable[str], fielded: Mapping[str, int]) -> Table:
    """The table of a document whose terms are ``body`` (those of its body) and the keys
    of ``fielded``."""
    codes: list[int] = []
    others: list[str] = []
    for term in set(body).union(fielded):
        code = code_of(term)
        if code is None:
            others.append(term)
        else:
            codes.append(code)
    return Table(pack(codes), tuple(sorted(others)), dict(fielded))
