"""The site's own full-text search index: documents -> terms -> a compact JSON index.

Pure: no I/O. The index is shipped as script files (``search/index-<year>.js``, each adding
itself to a global list) so that search works from file:// and under any sub-path, where a
fetched index cannot load.

Chinese has no spaces, so Chinese text is indexed as every single character plus every
overlapping pair of characters (bigrams): a two-character name such as 王强 is the bigram
``王强``, a single surname 王 is the character ``王``, and a phrase such as 劳动模范 is the
sequence of its bigrams. Runs of ASCII letters and digits are words, lowercased. The browser
splits a query the same way (themes/default/static/js/search.js) and ranks documents by how
many query terms they match, then by the weight of the fields they match in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from generator.site import urls
from generator.site.model import Item, Site
from generator.site.urls import UrlPlan

SEARCH_PAGE = "search/index.html"
PARTS_NAME = "SHOWCASE_SEARCH_PARTS"
FORMAT_VERSION = 2
EXCERPT_LENGTH = 600  # characters of body text kept for excerpts
# How much body text is indexed per document: all of it on small sites; on large ones an
# index part shares this many characters among its documents, and never less than BODY_MIN
# per document, so that the index stays small enough for a browser to load.
BODY_BUDGET = 60_000
BODY_MIN = 80

# fields and their weights; the bit of field n in a posting's mask is 1 << n
FIELDS = ("title", "honors", "unit", "body")
WEIGHTS = (10, 6, 3, 1)
TITLE, HONORS, UNIT, BODY = (1 << n for n in range(len(FIELDS)))

_CJK = (
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # ideographs (ext. A, unified, compatibility)
    "\U00020000-\U0002ebef"  # ext. B-F
)
_TOKEN = re.compile(rf"[{_CJK}]+|[0-9A-Za-z]+")
_CJK_RUN = re.compile(rf"[{_CJK}]+")


def terms(text: str, singles: bool = True) -> list[str]:
    """Every index term of ``text`` in order of appearance, duplicates kept. Without
    ``singles``, single characters are terms only where they stand alone (body text: a
    one-character query looks for names, honours and units)."""
    out: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group()
        if _CJK_RUN.fullmatch(token):
            if singles or len(token) == 1:
                out.extend(token)
            out.extend(token[i : i + 2] for i in range(len(token) - 1))
        else:
            out.append(token.lower())
    return out


def query_terms(query: str) -> list[str]:
    """The terms a query must match (what search.js computes in the browser): a single Chinese
    character stands for itself, a longer run for its bigrams; words lowercased. No repeats."""
    out: list[str] = []
    for match in _TOKEN.finditer(query):
        token = match.group()
        if _CJK_RUN.fullmatch(token):
            pairs = [token[i : i + 2] for i in range(len(token) - 1)]
            found = pairs or [token]
        else:
            found = [token.lower()]
        out.extend(t for t in found if t not in out)
    return out


@dataclass(frozen=True, slots=True)
class Document:
    """What search knows of one content item."""

    path: str  # output path of the item's page
    kind: str
    title: str
    unit: str  # unit id
    units: tuple[str, ...]  # the unit and its ancestors, root first (for the roll-up filter)
    year: int
    date: str  # ISO date or ''
    honors: tuple[str, ...]
    summary: str
    body: str  # plain text of the whole body and the item's other words
    unit_text: str  # names of the unit and its ancestors

    def field_texts(self) -> tuple[str, str, str, str]:
        return (self.title, " ".join(self.honors), self.unit_text, f"{self.summary} {self.body}")


def document(site: Site, plan: UrlPlan, item: Item, body: str) -> Document:
    """What search knows of ``item``, whose body is ``body`` as plain text."""
    unit = site.unit_by_id[item.unit]
    chain = (*unit.ancestors, unit.id)
    names = [site.unit_by_id[u].name for u in chain]
    extra = " ".join(item.search_words())
    return Document(
        path=plan.items[item.key],
        kind=item.kind,
        title=item.title,
        unit=unit.id,
        units=chain,
        year=item.year,
        date=item.date.isoformat() if item.date else "",
        honors=item.search_honours(),
        summary=item.summary,
        body=f"{body} {extra}".strip() if extra else body,
        unit_text=" ".join(names),
    )


def postings(docs: Iterable[Document], body_limit: int = 0) -> dict[str, list[int]]:
    """term -> [document number, field mask, document number, field mask, ...], terms sorted.
    ``body_limit`` > 0 indexes only that many characters of each body."""
    found: dict[str, list[int]] = {}
    bits = (TITLE, HONORS, UNIT, BODY)
    for number, doc in enumerate(docs):
        masks: dict[str, int] = {}
        texts = doc.field_texts()
        if body_limit:
            texts = (*texts[:3], texts[3][:body_limit])
        for bit, text in zip(bits, texts, strict=True):
            for term in set(terms(text, singles=bit != BODY)):
                masks[term] = masks.get(term, 0) | bit
        for term, mask in masks.items():
            entry = found.get(term)
            if entry is None:
                found[term] = [number, mask]
            else:
                entry.append(number)
                entry.append(mask)
    return dict(sorted(found.items()))


def excerpt_text(doc: Document) -> str:
    return doc.body[:EXCERPT_LENGTH]


def build_index(
    site: Site,
    plan: UrlPlan,
    texts: Mapping[str, str],
    page: str = SEARCH_PAGE,
    year: int | None = None,
) -> dict[str, object]:
    """The index as plain data (of one year's items, or of all), with each item's body as
    plain text from ``texts`` (by item key); links are relative to the search page ``page``.
    Every part lists all units, so parts merge without renumbering."""
    items = site.items() if year is None else site.of_year(year)
    docs = [document(site, plan, item, texts.get(item.key, "")) for item in items]
    unit_rows = [[u.id, u.name, u.depth] for u in site.units]
    unit_number = {row[0]: n for n, row in enumerate(unit_rows)}
    body_limit = 0
    if sum(len(d.body) for d in docs) > BODY_BUDGET:
        body_limit = max(BODY_MIN, BODY_BUDGET // max(1, len(docs)))
    return {
        "version": FORMAT_VERSION,
        "fields": list(FIELDS),
        "weights": list(WEIGHTS),
        "units": unit_rows,
        "years": sorted({d.year for d in docs}, reverse=True),
        "docs": [
            {
                "url": urls.relative(d.path, page),
                "kind": d.kind,
                "title": d.title,
                "unit": unit_number[d.unit],
                "units": [unit_number[u] for u in d.units],
                "year": d.year,
                "date": d.date,
                "honors": list(d.honors),
                "summary": d.summary,
                "text": excerpt_text(d)[: body_limit or EXCERPT_LENGTH],
            }
            for d in docs
        ],
        "terms": postings(docs, body_limit),
    }


def to_script(index: Mapping[str, object], name: str) -> str:
    """The index as a script assigning a global: loadable with <script src> from file://."""
    data = json.dumps(index, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    # U+2028/2029 end lines in older JavaScript; '</' cannot close anything in a .js file but
    # is escaped anyway so the text is also safe inline.
    data = data.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("</", "<\\/")
    return f"window.{name}={data};\n"


def part_path(year: int) -> str:
    """The index part of one year: one edit re-renders one part, and parts render in
    parallel."""
    return f"search/index-{year}.js"


def part_script(site: Site, plan: UrlPlan, year: int, texts: Mapping[str, str]) -> str:
    """One year's part as a script that appends itself to a global list; search.js merges the
    parts the search page loaded."""
    data = to_script(build_index(site, plan, texts, year=year), PARTS_NAME).split("=", 1)[1]
    return f"(window.{PARTS_NAME}=window.{PARTS_NAME}||[]).push({data.rstrip().rstrip(';')});\n"


def iter_hits(index: Mapping[str, object], query: str) -> Iterator[tuple[int, int, int]]:
    """A reference implementation of the browser's ranking (search.js does the same), for
    tests and tools: yields (document number, matched terms, score), best first. Documents
    must match every query term; when none does, those matching the most terms (at least half
    of them) are shown instead. The score adds, per matched term, the weight of the best field
    it matched in."""
    wanted = query_terms(query)
    table = index["terms"]
    weights = index["weights"]
    assert isinstance(table, dict) and isinstance(weights, list)
    matched: dict[int, list[int]] = {}
    for term in wanted:
        posting = table.get(term, [])
        for i in range(0, len(posting), 2):
            doc, mask = posting[i], posting[i + 1]
            best = max(w for n, w in enumerate(weights) if mask & (1 << n))
            entry = matched.setdefault(doc, [0, 0])
            entry[0] += 1
            entry[1] += best
    most = max((m for m, _ in matched.values()), default=0)
    if not wanted or most * 2 < len(wanted):
        return
    hits = [(doc, m, s) for doc, (m, s) in matched.items() if m == most]
    yield from sorted(hits, key=lambda h: (-h[2], h[0]))
