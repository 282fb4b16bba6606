"""The search index builder (generator/site/search.py): Chinese terms, two-character names, phrases,
honours, field ranking, the compact deterministic index file, and the search page in the build."""

from __future__ import annotations

import json
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


def analysed(tmp_path: Path, files: dict[str, str]) -> dict[str, object]:
    source = write_site(tmp_path / "src", files)
    analysis = build.analyse(source)
    assert not [d for d in analysis.diagnostics if d.is_error], analysis.diagnostics
    return search.build_index(analysis.site, analysis.plan, texts_of(analysis))


def titles(index: dict[str, object], query: str) -> list[str]:
    docs = index["docs"]
    assert isinstance(docs, list)
    return [docs[doc]["title"] for doc, _, _ in search.iter_hits(index, query)]


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
}


def test_chinese_text_is_indexed_as_characters_and_pairs() -> None:
    assert search.terms("王强") == ["王", "强", "王强"]
    assert search.terms("劳动模范") == ["劳", "动", "模", "范", "劳动", "动模", "模范"]
    assert search.terms("LNG装置 2025年") == ["lng", "装", "置", "装置", "2025", "年"]
    assert search.terms("“一井一策”，") == ["一", "井", "一", "策", "一井", "井一", "一策"]


def test_a_query_is_split_the_same_way() -> None:
    assert search.query_terms("王") == ["王"]
    assert search.query_terms("王强") == ["王强"]
    assert search.query_terms("劳动模范") == ["劳动", "动模", "模范"]
    assert search.query_terms("LNG  装置，lng") == ["lng", "装置"]
    assert search.query_terms("  ，。 ") == []


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
    # one character looks in names, honours and units, not in every story that mentions it
    # (single characters of body text are not indexed, which keeps large indexes small)
    assert set(found) == {"王强", "王进喜"}


def test_a_phrase_from_the_story_finds_the_worker(tmp_path: Path) -> None:
    assert titles(analysed(tmp_path, SITE), "一井一策") == ["王强"]
    assert titles(analysed(tmp_path, SITE), "节能改造") == ["李青"]
    assert titles(analysed(tmp_path, SITE), "lng") == ["李青"]


def test_an_honour_finds_its_holders_before_mere_mentions(tmp_path: Path) -> None:
    assert titles(analysed(tmp_path, SITE), "劳动模范") == ["王进喜", "李青"]
    assert titles(analysed(tmp_path, SITE), "岗位能手") == ["王强"]


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


def test_documents_carry_unit_chain_year_and_kind_for_the_filters(tmp_path: Path) -> None:
    index = analysed(tmp_path, SITE)
    units = [row[0] for row in index["units"]]  # type: ignore[attr-defined]
    docs = {d["title"]: d for d in index["docs"]}  # type: ignore[attr-defined]
    wang = docs["王强"]
    assert [units[u] for u in wang["units"]] == ["group", "plant", "branch"]
    assert units[wang["unit"]] == "branch"
    assert (wang["year"], wang["kind"]) == (2025, "profile")
    assert docs["采油一队党支部经验交流"]["kind"] == "report"
    assert wang["url"] == "../profiles/2025/wang-qiang/index.html"  # relative to search/
    assert index["years"] == [2025, 2024]


def test_index_is_compact_and_keeps_whole_bodies_searchable(tmp_path: Path) -> None:
    long_story = "开头。" + "平凡岗位。" * 200 + "最后一句写到了稠油热采。"
    index = analysed(
        tmp_path,
        {"profiles/2025/a.md": profile("张三", body=long_story, extra="summary: 摘要。\n")},
    )
    doc = index["docs"][0]  # type: ignore[index]
    assert len(doc["text"]) == search.EXCERPT_LENGTH
    assert doc["summary"] == "摘要。"  # shown as the excerpt when the match lies beyond the text
    assert titles(index, "稠油热采") == ["张三"]
    for posting in index["terms"].values():  # type: ignore[attr-defined]
        assert all(isinstance(n, int) for n in posting) and len(posting) % 2 == 0


def test_index_part_adds_itself_to_a_global_list_and_is_deterministic(tmp_path: Path) -> None:
    source = write_site(tmp_path / "src", SITE)
    first = build.analyse(source)
    second = build.analyse(source)
    script = search.part_script(first.site, first.plan, 2025, texts_of(first))
    assert script == search.part_script(second.site, second.plan, 2025, texts_of(second))
    prefix = f"(window.{search.PARTS_NAME}=window.{search.PARTS_NAME}||[]).push("
    assert script.startswith(prefix) and script.endswith(");\n")
    data = json.loads(script[len(prefix) : -3])
    assert data["version"] == search.FORMAT_VERSION and data["years"] == [2025]
    assert list(data["terms"]) == sorted(data["terms"])


def test_index_script_cannot_break_out_of_a_script(tmp_path: Path) -> None:
    script = search.to_script({"text": "</script><b>\u2028"}, search.PARTS_NAME)
    assert "</script>" not in script and "\u2028" not in script
    prefix = f"window.{search.PARTS_NAME}="
    assert json.loads(script[len(prefix) : -2]) == {"text": "</script><b>\u2028"}


def test_build_writes_the_search_page_and_index(make_site: SiteBuilder) -> None:
    report, out = make_site(SITE)
    assert report.ok, report.diagnostics
    page = (out / "search/index.html").read_text(encoding="utf-8")
    years = sorted({int(path.split("/")[1]) for path in SITE if path.startswith("profiles/")})
    for year in years:  # one index part per year, so one edit re-renders one part
        assert f'<script src="index-{year}.js"></script>' in page
    assert '<script src="../assets/js/search.js"></script>' in page
    assert 'name="unit"' in page and 'name="year"' in page and 'name="kind"' in page
    assert '<option value="plant">' in page
    assert (out / "assets/js/search.js").is_file()
    for year in years:
        part = (out / f"search/index-{year}.js").read_text(encoding="utf-8")
        assert part.startswith("(window.SHOWCASE_SEARCH_PARTS=window.SHOWCASE_SEARCH_PARTS||[])")
    assert not (out / "search/index.js").exists()
    home = (out / "index.html").read_text(encoding="utf-8")
    assert 'action="search/index.html"' in home and 'name="q"' in home
    detail = (out / "profiles/2025/wang-qiang/index.html").read_text(encoding="utf-8")
    assert 'action="../../../search/index.html"' in detail
