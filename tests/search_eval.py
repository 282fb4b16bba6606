"""Search quality on a built site, measured on queries derived from its sources.

The query set is sampled from the Markdown sources (front matter and bodies), never from the
index: names of workers, speakers and secretaries, surnames, given names, honours, units, tags,
phrases of 2 to 6 characters from random places in bodies, numbers (of tables too), years and
years with a kind word or an honour ("2015年劳动模范", "2020年承诺书"). A document is relevant
to a query when its text contains the query (a single character: when its names, honours,
units, tags or title contain it; a year with a word: when it is of that year and contains the
word, or is of the kind the word names). The ranking is the Python reference
(``search.search``, what search.js does) over the built index files.

    python3 -m tests.search_eval SOURCE OUTPUT   # prints the figures per class of query
"""

from __future__ import annotations

import json
import random
import re
import statistics
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from generator.site import search

PER_CLASS = 120
SEED = 7
KIND_WORDS = {"承诺书": "pledge", "经验交流": "report", "先进典型": "profile"}
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_WORD = re.compile(r"[0-9A-Za-z]+")
SECTIONS = {"profiles": "profile", "reports": "report", "pledges": "pledge"}
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Source:
    """One document as its source says it."""

    key: str  # path below the source folder
    kind: str
    year: int
    people: list[str]
    fields: str  # names, honours, unit names, tags and title
    body: str  # the body's runs of Chinese and words, markup gone, other front-matter words
    honors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)  # numbers in the body's tables
    text: str = ""  # fields and body, lowercased
    words: frozenset[str] = frozenset()  # the words of ``text``

    def __post_init__(self) -> None:
        self.text = f"{self.fields} {self.body}".lower()
        self.words = frozenset(_WORD.findall(self.text))


def _front(path: Path) -> tuple[dict[str, object], str]:
    text = path.read_text(encoding="utf-8")
    _, head, body = text.split("---\n", 2)
    return yaml.load(head, Loader=_LOADER), body


def read_sources(folder: Path) -> list[Source]:
    units = {u["id"]: u for u in yaml.safe_load((folder / "units.yaml").read_text("utf-8"))}

    def chain(unit_id: str) -> list[str]:
        names = []
        while unit_id:
            names.append(str(units[unit_id]["name"]))
            unit_id = units[unit_id].get("parent") or ""
        return names

    out = []
    for section, kind in SECTIONS.items():
        for path in sorted((folder / section).rglob("*.md")):
            meta, body = _front(path)
            out.append(_source(path.relative_to(folder).as_posix(), kind, meta, body, chain))
    return out


def _source(key: str, kind: str, meta: Mapping[str, object], body: str, chain: object) -> Source:
    assert callable(chain)
    unit = str(meta.get("unit") or meta.get("branch"))
    names = chain(unit)
    people = [str(meta[k]) for k in ("name", "secretary") if meta.get(k)]
    people += [str(s) for s in meta.get("speakers") or []]  # type: ignore[attr-defined]
    honors = [str(h) for h in meta.get("honors") or []]  # type: ignore[attr-defined]
    tags = [str(t) for t in meta.get("tags") or []]  # type: ignore[attr-defined]
    items = [str(i["text"]) for i in meta.get("items") or []]  # type: ignore[attr-defined]
    title = str(meta.get("title") or (names[0] if kind == "pledge" else meta.get("name")))
    date = meta.get("date")
    year = int(meta.get("year") or str(date)[:4])  # type: ignore[call-overload]
    words = [title, *people, *honors, *names, *tags]
    plain = re.sub(r"^[0-9]+\. ", "", body.replace("**", ""), flags=re.MULTILINE)
    runs = _CJK_RUN.findall(plain) + _WORD.findall(plain)
    runs += [str(meta.get("position") or ""), str(meta.get("event") or ""), *items]
    numbers = [w for line in body.splitlines() if line.startswith("|") for w in _WORD.findall(line)]
    return Source(
        key,
        kind,
        year,
        people,
        " ".join(words),
        " ".join(runs),
        honors,
        tags,
        names,
        [n for n in numbers if n.isdigit() and len(n) > 1],
    )


# -- the queries -------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    kind: str  # the class of query
    text: str
    year: int | None = None  # a year with a word: the year
    word: str = ""


def query_set(sources: list[Source], per_class: int = PER_CLASS, seed: int = SEED) -> list[Query]:
    rng = random.Random(seed)
    years = sorted({s.year for s in sources})
    by_kind = {k: [s for s in sources if s.kind == k] for k in SECTIONS.values()}
    picks: dict[str, list[str]] = {
        "name": [s.people[0] for s in by_kind["profile"]],
        "speaker": [p for s in by_kind["report"] for p in s.people],
        "secretary": [s.people[0] for s in by_kind["pledge"] if s.people],
        "surname": [p[0] for s in sources for p in s.people],
        "given name": [p[1:] for s in sources for p in s.people if len(p) > 1],
        "honour": [h for s in sources for h in s.honors],
        "unit": [u for s in sources for u in s.units[:-1]],
        "tag": [t for s in sources for t in s.tags],
    }
    out = [Query(kind, rng.choice(pool)) for kind, pool in picks.items() for _ in range(per_class)]
    out += [Query("phrase", _phrase(rng, sources)) for _ in range(per_class)]
    numbers = [n for s in sources for n in s.numbers if int(n) not in years]
    out += [Query("number", rng.choice(numbers)) for _ in range(per_class)]
    out += [Query("year", str(y)) for y in years]
    words = [*KIND_WORDS, *sorted({h for s in sources for h in s.honors})]
    for _ in range(per_class):
        year, word = rng.choice(years), rng.choice(words)
        out.append(Query("year and word", f"{year}年{word}", year, word))
    return out


def _phrase(rng: random.Random, sources: list[Source]) -> str:
    while True:
        runs = _CJK_RUN.findall(rng.choice(sources).body)
        size = rng.randint(2, 6)
        long = [r for r in runs if len(r) >= size]
        if long:
            run = rng.choice(long)
            start = rng.randrange(len(run) - size + 1)
            return run[start : start + size]


def relevant(query: Query, sources: list[Source]) -> set[str]:
    if query.kind == "year":
        return {s.key for s in sources if s.year == int(query.text)}
    if query.year is not None:
        kind = KIND_WORDS.get(query.word)
        return {
            s.key
            for s in sources
            if s.year == query.year and (s.kind == kind or query.word in s.text)
        }
    text = query.text.lower()
    if query.kind == "number":
        return {s.key for s in sources if text in s.words}
    if len(text) == 1:
        return {s.key for s in sources if text in s.fields}
    return {s.key for s in sources if text in s.text}


# -- the index on disk -------------------------------------------------------------------


class BuiltIndex:
    """The index files of a built site, read as the browser reads them: on demand."""

    def __init__(self, output: Path) -> None:
        self.folder = output / "search"
        self.manifest = self._read("index.js")
        self.loaded: set[str] = set()

    def _read(self, name: str) -> dict[str, Any]:
        _, data = search.parse_script((self.folder / name).read_text(encoding="utf-8"))
        assert isinstance(data, dict)
        return data

    @cache  # noqa: B019 - one instance per built site, kept for the session
    def shard(self, number: int) -> Mapping[str, str]:
        self.loaded.add(f"t/{number}.js")
        return self._read(f"t/{number}.js")

    @cache  # noqa: B019
    def url(self, doc: int) -> str:
        """The link of the result of document ``doc``."""
        text = (self.folder / f"x/{doc}.js").read_text(encoding="utf-8")
        row = search.parse_script(text)[1]
        assert isinstance(row, list)
        return str(row[0])

    def find(self, query: str) -> search.Hits:
        return search.search(self.manifest, self.shard, query)


def source_of_url(output_paths: Mapping[str, str]) -> dict[str, str]:
    """Link of a result (relative to search/) -> source key."""
    return {"../" + path: key for key, path in output_paths.items()}


# -- the figures -------------------------------------------------------------------------


@dataclass
class Scores:
    recall: list[float] = field(default_factory=list)
    at10: list[float] = field(default_factory=list)
    rr: list[float] = field(default_factory=list)

    def add(self, found: list[str], wanted: set[str]) -> None:
        hits = [k for k in found if k in wanted]
        self.recall.append(len(hits) / len(wanted))
        self.at10.append(len([k for k in found[:10] if k in wanted]) / min(10, len(wanted)))
        first = next((n for n, k in enumerate(found) if k in wanted), None)
        self.rr.append(0.0 if first is None else 1 / (first + 1))

    def figures(self) -> dict[str, float]:
        return {
            "queries": len(self.rr),
            "recall": round(statistics.fmean(self.recall), 4),
            "recall@10": round(statistics.fmean(self.at10), 4),
            "MRR": round(statistics.fmean(self.rr), 4),
        }


def evaluate(
    sources: list[Source], queries: Iterable[Query], index: BuiltIndex, keys: Mapping[str, str]
) -> dict[str, dict[str, float]]:
    """Figures per class of query and for all: ``keys`` maps a result link to a source key."""
    per: dict[str, Scores] = {}
    every = Scores()
    for query in queries:
        wanted = relevant(query, sources)
        if not wanted:
            continue
        found = [keys[index.url(doc)] for doc in index.find(query.text).docs]
        per.setdefault(query.kind, Scores()).add(found, wanted)
        every.add(found, wanted)
    out = {kind: scores.figures() for kind, scores in sorted(per.items())}
    out["all"] = every.figures()
    return out


def output_paths(source: Path) -> dict[str, str]:
    """Source key -> output path of its page, as the build plans it."""
    from generator import build

    analysis = build.analyse(source)
    return dict(analysis.plan.items)


def main(source: Path, output: Path) -> dict[str, dict[str, float]]:
    sources = read_sources(source)
    keys = source_of_url(output_paths(source))
    return evaluate(sources, query_set(sources), BuiltIndex(output), keys)


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2])), ensure_ascii=False, indent=1))
