"""The search index builder (generator/site/search.py): Chinese terms, two-character names, phrases,
honours, pinyin, years, field ranking, the compact deterministic index files, and the search page
in the build."""

from __future__ import annotations

import random
from pathlib import Path

from generator import build
from generator.output import markup
from generator.site import search
from tests.conftest import SiteBuilder, profile, write_site

STORY = "王强在采油一队扎根二十年，首创“一井一策”管理法，带出徒弟三十余名。"


def texts_of(analysis: build.Analysis) -> dict[str, str]:
    """Every item's body as plain text, as the build converts it."""
    site, plan = analysis.site, analysis.plan
    converter = build.markdown_converter(site, plan)
    return {k: r.text for k, r in build.convert_bodies(site.items(), plan, converter).items()}


def analysed(tmp_path: Path, files: dict[str, str]) -> search.Index:
    source = write_site(tmp_path / "src", files)
    analysis = build.analyse(source)
    assert not [d for d in analysis.diagnostics if d.is_error], analysis.diagnostics
    return search.build_index(analysis.site, analysis.plan, texts_of(analysis))


def row(index: search.Index, doc: int) -> list[object]:
    return index.docs[doc]


def titles(index: search.Index, query: str) -> list[str]:
    return [str(row(index, doc)[1]) for doc in search.iter_hits(index, query)]


SITE = {
    "profiles/2025/wang-qiang.md": profile("王强", honors="[岗位能手]", body=STORY),
    "profiles/2025/wang-jin-xi.md": profile("王进喜", honors="[劳动模范]", body="铁人精神。"),
    "profiles/2024/li.md": profile(
        "李青",
        unit="other-branch",
        year=2024,
        honors="[技术标兵]",
        body="她向劳动模范王进喜学习，钻研LNG装置的节能改造。",
    ),
    "reports/2025/jl.md": (
        "---\ntitle: 采油一队党支部经验交流\nunit: branch\ndate: 2025-04-01\n"
        "speakers: [王强]\n---\n支部经验。\n"
    ),
    "profiles/2024/ouyang.md": profile("欧阳春梅", year=2024, honors="[岗位能手]", body="巡井。"),
}


def test_chinese_text_is_indexed_as_characters_pairs_and_triples() -> None:
    assert search.terms("王强") == {"王", "强", "王强"}
    assert search.terms("劳动模范", singles=False) == {"劳动", "动模", "模范", "劳动模", "动模范"}
    assert search.terms("LNG装置 2025年") == {"lng", "装", "置", "装置", "2025", "年"}
    assert "一井一" in search.terms("“一井一策”，")


def test_a_query_is_split_the_same_way() -> None:
    assert search.query_terms("王") == ["王"]
    assert search.query_terms("王强") == ["王强"]
    assert search.query_terms("劳动模范") == ["劳动模", "动模范"]
    assert search.query_terms("LNG  装置，lng") == ["lng", "装置"]
    assert search.query_terms("  ，。 ") == []
    # a long run: overlapping runs of three at every other character, and the last three
    assert search.query_terms("党支部书记培训班") == ["党支部", "部书记", "记培训", "培训班"]
    # at most MAX_TERMS terms, spread over the query: each term may load a shard
    long = search.query_terms("东部油田公司第一采油作业区党支部书记培训班")
    assert len(long) == search.MAX_TERMS and long[0] == "东部油" and long[-1] == "培训班"


def test_a_year_in_the_query_is_taken_out_as_the_year_filter() -> None:
    years = (2015, 2020)
    assert search.query_year("2015年劳动模范", years) == (2015, " 劳动模范")
    assert search.query_year("承诺书 2020", years) == (2020, "承诺书  ")
    assert search.query_year("2019年劳动模范", years) == (None, "2019年劳动模范")
    assert search.query_year("产量12015吨", years) == (None, "产量12015吨")


def test_a_name_is_also_indexed_by_its_pinyin() -> None:
    found = search.name_terms("欧阳春梅")
    assert {"ouyang", "chunmei", "ouyangchunmei", "oycm", "chun", "欧阳", "春梅"} <= found
    assert {"wang", "qiang", "wangqiang", "wq"} <= search.name_terms("王强")


def test_postings_are_compact_and_read_back_exactly() -> None:
    rng = random.Random(5)
    for total in (1, 7, 100, 5000):
        for size in (1, 3, total // 2, total):
            docs = sorted(rng.sample(range(total), max(1, min(size, total))))
            masks = {
                d: rng.choice([search.BODY, search.BODY, search.TITLE | search.BODY]) for d in docs
            }
            text = search.encode_posting(masks)
            assert search.decode_posting(text) == masks
            assert all(c in search.ALPHABET + "~|" for c in text)
    dense = search.encode_posting(dict.fromkeys(range(600), search.BODY))
    assert dense.startswith("~") and len(dense) <= 101  # a bitmap: six documents a character


def _reference_ids(ids: list[int]) -> str:
    """encode_ids written out plainly: gaps five bits a character, or document n as bit
    n % 6 of character n // 6 (what search.js reads), whichever is shorter (gaps when
    equal)."""
    gaps = "".join(
        "".join(
            search.ALPHABET[(gap >> (5 * i) & 31) + (32 if gap >> (5 * (i + 1)) else 0)]
            for i in range(max(1, (gap.bit_length() + 4) // 5))
        )
        for gap in (b - a for a, b in zip([-1, *ids], ids, strict=False))
    )
    chars = [0] * (ids[-1] // 6 + 1 if ids else 0)
    for doc in ids:
        chars[doc // 6] |= 1 << (doc % 6)
    bitmap = "".join(search.ALPHABET[c] for c in chars)
    return gaps if len(gaps) <= len(bitmap) else "~" + bitmap


def test_fixed_width_numbers_are_six_bits_a_character_high_first() -> None:
    rng = random.Random(3)
    for width in (1, 2, 3):
        values = [rng.randrange(64**width) for _ in range(300)] + [0, 64**width - 1]
        plain = "".join(
            "".join(search.ALPHABET[value // 64**n % 64] for n in reversed(range(width)))
            for value in values
        )
        assert search.fixed(values, width) == plain, width


def test_document_numbers_are_encoded_as_the_plain_definition_says() -> None:
    rng = random.Random(11)
    for total in (1, 5, 6, 7, 23, 24, 25, 64, 1000, 40_000):
        for size in (0, 1, 2, 5, total // 7, total // 2, total):
            ids = sorted(rng.sample(range(total), min(size, total)))
            assert search.encode_ids(ids) == _reference_ids(ids), (total, size)


def test_a_term_lands_in_one_shard_by_its_hash() -> None:
    assert search.term_shard("王强", 1) == 0
    assert search.term_shard("劳动模", 256) == search.term_shard("劳动模", 256)
    assert search.term_shard("a", 2**32) == 0xE40C292C  # FNV-1a, as search.js computes it
    spread = {search.term_shard(str(n), 64) for n in range(1000)}
    assert len(spread) == 64


def test_a_body_is_reduced_to_its_words_once_for_summaries_and_search() -> None:
    converter = markup.Converter({}, summary_length=120)
    body = "## 标题\n\n- **一井一策**，见[说明](a.md)\n\n> 引用 `代码`\n\n<b>粗</b> &amp; 细"
    rendered = converter.convert(body, "profiles/a.md", "profiles/a/index.html")
    assert rendered.text == "标题 一井一策，见说明 引用 代码 粗 & 细"
    assert markup.plain_text(rendered.html) == rendered.text
    # the summary is the same text of the paragraphs only (no heading, no list)
    assert rendered.text_summary == "引用 代码 粗 & 细"


def test_a_two_character_name_finds_that_worker_first(tmp_path: Path) -> None:
    index = analysed(tmp_path, SITE)
    found = titles(index, "王强")
    assert found[0] == "王强"
    assert "王进喜" not in found  # 王 and 强 apart do not make the name 王强


def test_a_single_surname_finds_everyone_of_that_name(tmp_path: Path) -> None:
    found = titles(analysed(tmp_path, SITE), "王")
    # one character looks in names, honours, units and tags, not in every story that
    # mentions it; the report whose speaker is 王强 is found too
    assert set(found) == {"王强", "王进喜", "采油一队党支部经验交流"}
    assert found[-1] == "采油一队党支部经验交流"  # the profiles are newer or equal: name first


def test_pinyin_finds_the_person(tmp_path: Path) -> None:
    index = analysed(tmp_path, SITE)
    assert titles(index, "ouyang") == ["欧阳春梅"]
    assert titles(index, "OuYangChunMei") == ["欧阳春梅"]
    assert titles(index, "oycm") == ["欧阳春梅"]
    assert titles(index, "wang qiang")[:2] == ["王强", "采油一队党支部经验交流"]


def test_a_phrase_from_the_story_finds_the_worker(tmp_path: Path) -> None:
    assert titles(analysed(tmp_path, SITE), "一井一策") == ["王强"]
    assert titles(analysed(tmp_path, SITE), "节能改造") == ["李青"]
    assert titles(analysed(tmp_path, SITE), "lng") == ["李青"]


def test_an_honour_finds_its_holders_before_mere_mentions(tmp_path: Path) -> None:
    assert titles(analysed(tmp_path, SITE), "劳动模范") == ["王进喜", "李青"]
    assert titles(analysed(tmp_path, SITE), "岗位能手")[:2] == ["王强", "欧阳春梅"]


def test_a_year_in_the_query_filters_by_year(tmp_path: Path) -> None:
    index = analysed(tmp_path, SITE)
    assert titles(index, "2024年岗位能手") == ["欧阳春梅"]
    assert titles(index, "2025年岗位能手") == ["王强"]
    assert set(titles(index, "2024")) == {"李青", "欧阳春梅"}
    assert titles(index, "2025年经验交流")[0] == "采油一队党支部经验交流"


def test_equal_matches_of_one_year_come_kind_by_kind_newest_first(tmp_path: Path) -> None:
    def dated(name: str, day: str) -> str:
        return profile(name, honors="[岗位能手]", extra=f"date: {day}\n", body="巡井。")

    index = analysed(
        tmp_path,
        {
            "profiles/2025/a.md": dated("张一", "2025-01-05"),
            "profiles/2025/b.md": dated("张二", "2025-06-01"),
            "profiles/2025/c.md": dated("张三", "2025-03-09"),
            "profiles/2024/d.md": profile("张四", year=2024, honors="[岗位能手]", body="巡井。"),
            "reports/2025/r.md": (
                "---\ntitle: 巡井经验交流\nunit: branch\ndate: 2025-12-01\n"
                "speakers: [张二]\n---\n巡井。\n"
            ),
        },
    )
    # documents are numbered oldest first, so the newest is the last document
    assert [row(index, n)[1] for n in range(5)] == ["张四", "张一", "张三", "张二", "巡井经验交流"]
    assert titles(index, "岗位能手") == ["张二", "张三", "张一", "张四"]
    # of one year and score, profiles come before reports, however new the report
    assert titles(index, "张二") == ["张二", "巡井经验交流"]
    assert titles(index, "2025") == ["张二", "张三", "张一", "巡井经验交流"]


def test_speakers_and_units_are_searchable(tmp_path: Path) -> None:
    index = analysed(tmp_path, SITE)
    assert "采油一队党支部经验交流" in titles(index, "王强")
    assert set(titles(index, "炼化公司")) == {"李青"}


def test_when_nothing_matches_every_word_the_best_partial_matches_are_shown(
    tmp_path: Path,
) -> None:
    index = analysed(tmp_path, SITE)
    assert titles(index, "王强 没有这个词") == []  # half the terms: not enough
    assert titles(index, "王强 岗位 没有") == ["王强"]  # two of three terms
    assert titles(index, "完全无关的词语") == []
    assert search.search(index.manifest, index.shards.__getitem__, "王强 岗位 没有").partial


def test_documents_carry_unit_year_and_kind_for_the_filters(tmp_path: Path) -> None:
    index = analysed(tmp_path, SITE)
    manifest = index.manifest
    units = manifest["units"]
    assert isinstance(units, list)
    assert [u[0] for u in units] == ["group", "plant", "branch", "other", "other-branch"]
    assert units[2] == ["branch", "采油一队党支部", 1]  # id, name, parent
    docs = {str(row(index, n)[1]): n for n in range(int(manifest["count"]))}  # type: ignore[call-overload]
    wang = docs["王强"]
    assert search.doc_years(manifest)[wang] == 2025
    assert manifest["kinds"] == ["profile", "report", "pledge"]
    assert str(manifest["docKinds"])[docs["采油一队党支部经验交流"]] == "B"  # a report
    assert row(index, wang)[0] == "../profiles/2025/wang-qiang/index.html"  # relative to search/
    assert manifest["years"] == [2025, 2024]


def test_whole_bodies_are_searchable_and_excerpts_come_apart(tmp_path: Path) -> None:
    long_story = "开头。" + "平凡岗位。" * 2000 + "最后一句写到了稠油热采。"
    index = analysed(
        tmp_path,
        {"profiles/2025/a.md": profile("张三", body=long_story, extra="summary: 摘要。\n")},
    )
    assert row(index, 0)[3] == "摘要。"  # shown as the excerpt when the match lies beyond the text
    assert len(str(row(index, 0)[4])) == search.TEXT_LENGTH
    assert titles(index, "稠油热采") == ["张三"]


def test_index_files_are_deterministic_scripts(tmp_path: Path) -> None:
    source = write_site(tmp_path / "src", SITE)
    first, second = build.analyse(source), build.analyse(source)
    one = search.build_index(first.site, first.plan, texts_of(first))
    two = search.build_index(second.site, second.plan, texts_of(second))
    for part, count in (("index", 1), ("t", len(one.shards)), ("x", 5)):
        for n in range(count):
            script = search.script(one, part, n)
            assert script == search.script(two, part, n)
            assert script.startswith(f"{search.DATA_CALL}(")
            name, data = search.parse_script(script)
            assert name == ("index" if part == "index" else f"{part}/{n}")
    name, data = search.parse_script(search.script(one, "t", 0))
    assert isinstance(data, dict) and list(data) == sorted(data)
    assert search.parse_script(search.script(one, "index"))[1]["version"] == search.FORMAT_VERSION  # type: ignore[index]


def test_index_script_cannot_break_out_of_a_script() -> None:
    script = search.to_script("x/0", "</script><b>\u2028")
    assert "</script>" not in script and "\u2028" not in script
    assert search.parse_script(script) == ("x/0", "</script><b>\u2028")


def test_build_writes_the_search_page_and_index(make_site: SiteBuilder) -> None:
    report, out = make_site(SITE)
    assert report.ok, report.diagnostics
    page = (out / "search/index.html").read_text(encoding="utf-8")
    assert '<script src="../assets/js/search.js"></script>' in page
    assert "index-20" not in page  # the index loads on demand, not with the page
    assert 'name="unit"' in page and 'name="year"' in page and 'name="kind"' in page
    assert '<option value="plant">' in page
    assert 'id="search-more"' in page
    assert (out / "assets/js/search.js").is_file()
    name, manifest = search.parse_script((out / search.MANIFEST).read_text(encoding="utf-8"))
    assert name == "index" and manifest["count"] == 5  # type: ignore[index]
    assert sorted(p.name for p in (out / "search/x").iterdir()) == [f"{n}.js" for n in range(5)]
    assert (out / "search/t/0.js").is_file()
    home = (out / "index.html").read_text(encoding="utf-8")
    assert 'action="search/index.html"' in home and 'name="q"' in home
    detail = (out / "profiles/2025/wang-qiang/index.html").read_text(encoding="utf-8")
    assert 'action="../../../search/index.html"' in detail
