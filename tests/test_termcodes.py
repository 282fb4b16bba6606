"""Chinese terms as numbers (``termcodes``), and the bulk term tables and postings made with
numpy (``termarrays``), which must equal their pure counterparts byte for byte."""

from __future__ import annotations

import random
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.output import indexer
from generator.site import search, termarrays, termcodes
from tests import scale

CHINESE = (
    "王进喜石油化工安全生产创新技术革新大庆油田钻井队一二三"
    "\u3400\u4dbf\u9fff\uf900\U00020000\U0002ebef"  # the first and last of the ranges
)
OTHER = "abcXYZ019 ，。、！ü〇々\ud800-_\n"  # not Chinese terms: "〇" and "々" are not ideographs
texts = st.text(alphabet=st.sampled_from(CHINESE + OTHER), max_size=60)
terms = st.text(alphabet=st.sampled_from(CHINESE + "abwangü"), min_size=1, max_size=5)
masks = st.dictionaries(terms, st.sampled_from([search.PEOPLE, search.TITLE, search.TAGS]))


@given(st.lists(st.text(alphabet=st.sampled_from(CHINESE), min_size=1, max_size=3)))
def test_numbers_of_terms_sort_as_the_terms_do(words: list[str]) -> None:
    codes = [termcodes.code_of(w) for w in words]
    assert None not in codes
    assert [termcodes.term_of(c) for c in sorted(c for c in codes if c is not None)] == sorted(
        words
    )


def test_only_one_to_three_chinese_characters_have_a_number() -> None:
    assert termcodes.code_of("石油化") is not None
    for word in ("", "石油化工", "wang", "石a", "〇", "ü"):
        assert termcodes.code_of(word) is None, word


@settings(max_examples=300, deadline=None)
@given(text=texts, fields=masks)
def test_a_bulk_table_equals_the_pure_one(text: str, fields: dict[str, int]) -> None:
    body = search.terms(text, singles=False)
    fielded = {t: m | search.BODY if t in body else m for t, m in fields.items()}
    pure = termcodes.table(body, fielded)
    assert termarrays.table(text, fields) == pure
    assert set(pure.terms()) == body.union(fields)
    assert indexer.split_row(indexer.encode_table(pure)) == pure


@settings(max_examples=100, deadline=None)
@given(
    docs=st.lists(st.tuples(texts, masks), max_size=12),
    count=st.sampled_from([1, 2, 8]),
    size=st.sampled_from([1, 7, 1 << 20]),
)
def test_bulk_postings_equal_the_pure_ones(
    docs: list[tuple[str, dict[str, int]]], count: int, size: int
) -> None:
    tables = [termarrays.table(text, fields) for text, fields in docs]
    before = termarrays.RANGE_POSTINGS
    termarrays.RANGE_POSTINGS = size  # many ranges, each sorted on its own
    try:
        bulk = termarrays.postings(tables, count)
    finally:
        termarrays.RANGE_POSTINGS = before
    pure = search.postings(tables, count)
    assert bulk == pure
    assert [list(shard) for shard in bulk] == [list(shard) for shard in pure]  # same order


@pytest.fixture(scope="module")
def corpus_texts(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The bodies of 600 generated documents."""
    site = scale.write_corpus(tmp_path_factory.mktemp("corpus") / "site", 600, seed=7)
    return [p.read_text(encoding="utf-8") for p in sorted(site.rglob("*.md"))]


def test_bulk_postings_of_a_generated_corpus_equal_the_pure_ones(
    corpus_texts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Realistic bodies, the terms of a few fields, several ranges of numbers, and bitmaps
    (terms in many documents) beside lists of gaps."""
    rng = random.Random(3)
    names = ["王进喜", "李华", "wang", "技术革新能手", "大庆"]
    fields = [{rng.choice(names): search.PEOPLE, "石油": search.TITLE} for _ in corpus_texts]
    tables = [
        termarrays.table(text, masks) for text, masks in zip(corpus_texts, fields, strict=True)
    ]
    monkeypatch.setattr(termarrays, "RANGE_POSTINGS", 5000)
    bulk = termarrays.postings(tables, 16)
    pure = search.postings(tables, 16)
    assert bulk == pure and [list(s) for s in bulk] == [list(s) for s in pure]
    assert any(p.startswith("~") for shard in bulk for p in shard.values())
    assert sum(map(len, bulk)) > 3000


def test_a_large_site_is_sorted_in_longer_ranges_not_in_more(
    corpus_texts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each range passes over every document: their number is bounded, their length grows."""
    tables = [termarrays.table(text, {"石油": search.TITLE}) for text in corpus_texts]
    monkeypatch.setattr(termarrays, "RANGE_POSTINGS", 1000)
    monkeypatch.setattr(termarrays, "RANGES_MOST", 4)
    coded = [termarrays.np.frombuffer(t.codes, dtype="<i8") for t in tables]
    parts = list(termarrays._ranges(coded))
    assert len(parts) <= 4
    assert sum(len(codes) for codes, _ in parts) == sum(map(len, coded)) > 4 * 1000
    assert termarrays.postings(tables, 8) == search.postings(tables, 8)


def test_a_table_made_pure_equals_one_made_in_bulk_on_real_text(corpus_texts: list[str]) -> None:
    for text in corpus_texts[:200]:
        body = search.terms(text, singles=False)
        fields = {"石油": search.TITLE, "wang": search.PEOPLE}
        fielded = {t: m | search.BODY if t in body else m for t, m in fields.items()}
        assert termarrays.table(text, fields) == termcodes.table(body, fielded)


def test_without_numpy_the_pure_functions_make_the_same(
    corpus_texts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = [
        search.Document(
            path=f"p/{n}/",
            kind="profile",
            title="石油工人",
            unit="u",
            year=2020,
            honors=(),
            people=("王进喜",),
            tags=("安全",),
            summary="",
            body=text,
            unit_text="大庆油田",
        )
        for n, text in enumerate(corpus_texts[:150])
    ]
    bulk = [search.split_table(doc, bulk=True) for doc in docs]
    shards = indexer.postings(bulk, 8, bulk=True)
    monkeypatch.setitem(sys.modules, "generator.site.termarrays", None)  # import fails
    search.arrays_loadable.cache_clear()
    try:
        assert not search.arrays_loadable()
        assert [search.split_table(doc, bulk=True) for doc in docs] == bulk
        assert indexer.postings(bulk, 8, bulk=True) == shards
    finally:
        search.arrays_loadable.cache_clear()
