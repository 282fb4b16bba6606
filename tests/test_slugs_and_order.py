"""Pinyin slugs (surnames read as surnames, long titles, collisions) and name ordering."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator.base import hanzi
from tests.conftest import SiteBuilder, profile


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("王进喜", "wang-jin-xi"),
        ("仇志刚", "qiu-zhi-gang"),
        ("区慧敏", "ou-hui-min"),
        ("查海生", "zha-hai-sheng"),
        ("单立新", "shan-li-xin"),
        ("曾庆华", "zeng-qing-hua"),
        ("欧阳明远", "ou-yang-ming-yuan"),
        ("吕建", "lv-jian"),
        ("朴英", "piao-ying"),
    ],
)
def test_name_slugs_read_surnames_as_surnames(name: str, slug: str) -> None:
    assert hanzi.name_slug(name) == slug


def test_common_reading_is_kept_outside_the_surname() -> None:
    # 查 is zha as a surname but cha in ordinary text; 单 is dan outside a surname
    assert hanzi.slugify_syllables(hanzi.text_pinyin("检查单")) == "jian-cha-dan"


def test_long_titles_are_shortened_at_a_sensible_place() -> None:
    title = "传承铁人精神 党建引领老油田稳产——第一采油厂创先争优经验交流材料"
    assert hanzi.title_slug(title) == "chuan-cheng-tie-ren-jing-shen"
    assert hanzi.title_slug("QHSE管理体系建设") == "qhse-guan-li-ti-xi-jian-she"
    long_word = "一二三四五六七八九十百千万亿"
    assert len(hanzi.title_slug(long_word).split("-")) == 10


def test_a_title_in_latin_letters_keeps_its_words() -> None:
    """A title without Chinese is measured in words: it is not cut at its first space (two
    reports beginning with one word would share a slug)."""
    assert hanzi.title_slug("Digital Transformation 2025") == "digital-transformation-2025"
    assert hanzi.title_slug("Digital Oilfield Construction") == "digital-oilfield-construction"
    assert hanzi.title_slug("Safety First: A Report on 2025") == "safety-first-a-report-on-2025"
    # a title with Chinese in it is measured in characters, as it always was
    assert hanzi.title_slug("2025年：数字化转型经验") == "2025-nian"
    assert hanzi.title_slug("《采油》：一线故事") == "cai-you"


def test_slug_collisions_get_a_deterministic_suffix(make_site: SiteBuilder) -> None:
    files = {
        "profiles/2025/a.md": profile(name="王建国", unit="branch"),
        "profiles/2025/b.md": profile(name="王建国", unit="other-branch"),
        "profiles/2024/c.md": profile(name="王建国", year=2024),
    }
    report, out = make_site(files)
    assert report.ok, report.diagnostics
    first = (out / "profiles/2025/wang-jian-guo/index.html").read_text(encoding="utf-8")
    second = (out / "profiles/2025/wang-jian-guo-2/index.html").read_text(encoding="utf-8")
    assert "采油一队党支部" in first and "常减压车间党支部" in second
    assert (out / "profiles/2024/wang-jian-guo/index.html").is_file()  # other year: no clash


def test_explicit_slug_is_used_and_kept_free(make_site: SiteBuilder) -> None:
    report, out = make_site(
        {
            "profiles/2025/a.md": profile(name="王建国"),
            "profiles/2025/b.md": profile(name="李华", extra="slug: wang-jian-guo\n"),
        }
    )
    assert report.ok
    assert "李华" in (out / "profiles/2025/wang-jian-guo/index.html").read_text(encoding="utf-8")
    assert "王建国" in (out / "profiles/2025/wang-jian-guo-2/index.html").read_text(
        encoding="utf-8"
    )


NAMES = ["魏强", "丁一", "王进喜", "戴明", "安然", "仇小明"]


def test_pinyin_order_reads_surnames_as_surnames() -> None:
    assert sorted(NAMES, key=hanzi.pinyin_key) == [
        "安然",
        "戴明",
        "丁一",
        "仇小明",
        "王进喜",
        "魏强",
    ]


def test_stroke_order_sorts_by_surname_strokes() -> None:
    # 丁 2, 仇 4, 王 4 (tie: given name 小 3 < 进 7), 安 6, 戴 17, 魏 17 (tie: 明 8 < 强 12)
    assert sorted(NAMES, key=hanzi.stroke_key) == [
        "丁一",
        "仇小明",
        "王进喜",
        "安然",
        "戴明",
        "魏强",
    ]


def list_order(out: Path, rel: str) -> list[str]:
    html = (out / rel).read_text(encoding="utf-8")
    return re.findall(r'<strong class="card-title">([^<]+)</strong>', html)


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("pinyin", ["安然", "戴明", "丁一", "王进喜", "魏强"]),
        ("strokes", ["丁一", "王进喜", "安然", "戴明", "魏强"]),
    ],
)
def test_site_chooses_name_order(make_site: SiteBuilder, order: str, expected: list[str]) -> None:
    files = {
        f"profiles/2025/{n}.md": profile(name=n) for n in ["魏强", "丁一", "王进喜", "戴明", "安然"]
    }
    site_yaml = f"title: 测试\npage_size: 50\nname_order: {order}\n"
    report, out = make_site(files, site_yaml=site_yaml)
    assert report.ok, report.diagnostics
    assert list_order(out, "profiles/index.html") == expected
    assert list_order(out, "units/branch/2025/index.html") == expected


def test_free_pages_take_the_file_name_when_it_is_a_valid_slug(make_site: SiteBuilder) -> None:
    report, out = make_site(
        {
            "pages/about.md": "---\ntitle: 关于本站活动\n---\n正文。\n",
            "pages/评选办法.md": "---\ntitle: 评选办法\n---\n正文。\n",
            "pages/Rules_2025.md": "---\ntitle: 章程\n---\n正文。\n",
            "pages/kept.md": "---\ntitle: 说明\nslug: shuo-ming\n---\n正文。\n",
        }
    )
    assert report.ok, report.diagnostics
    assert (out / "pages/about/index.html").is_file()  # the file name, as the editor chose
    assert not (out / "pages/guan-yu-ben-ci-huo-dong").exists()
    assert (out / "pages/ping-xuan-ban-fa/index.html").is_file()  # not a slug: the title
    assert (out / "pages/zhang-cheng/index.html").is_file()
    assert (out / "pages/shuo-ming/index.html").is_file()  # a slug written wins


def test_a_plan_made_again_in_one_process_is_the_plan_made_afresh(tmp_path: Path) -> None:
    """A process that plans again (``build._url_plan`` with a cache that remembers) keeps the
    paths of the groups of items (a kind's items of one year) whose items are the very
    objects of the last plan; the plan and its problems are those made afresh, slug
    collisions included (derived and explicit), after a name changed, a story added, one
    removed and an explicit slug taken by another."""
    from generator import build as building
    from generator.output import cache
    from generator.site import urls
    from tests.conftest import write_site

    files = {f"profiles/2025/p{n}.md": profile(name="王进喜") for n in range(3)}
    files["profiles/2024/q.md"] = profile(name="李四", year=2024)
    files["profiles/2025/s.md"] = profile(name="张三", extra="slug: wang-jin-xi-2\n")
    source = write_site(tmp_path / "site", files)
    store = cache.Cache.open(tmp_path / "c", remember=True)
    try:

        def both() -> tuple[object, object, dict[str, str]]:
            site = building.model_site(source, store=store).site
            again = building._url_plan(site, [], store)
            return again, urls.plan(site, ()), dict(again[0].items)

        again, afresh, items = both()
        assert again == afresh and items["profiles/2025/p2.md"].endswith("wang-jin-xi-4/index.html")
        groups = store.memory("url_plan_groups")
        assert groups is not None
        kept = groups["groups"][("profile", 2024)]
        edits = [
            ("profiles/2025/p0.md", profile(name="赵六")),  # p1 and p2 move up a suffix
            ("profiles/2025/p3.md", profile(name="王进喜")),
            ("profiles/2025/p4.md", profile(name="钱七", extra="slug: wang-jin-xi-2\n")),
            ("profiles/2024/q.md", None),
        ]
        for rel, text in edits:
            if rel.startswith("profiles/2024"):  # the other year's group was kept till now
                assert groups["groups"][("profile", 2024)] is kept
            if text is None:
                (source / rel).unlink()
            else:
                (source / rel).write_text(text, encoding="utf-8")
            again, afresh, items = both()
            assert again == afresh, rel
        assert items["profiles/2025/p1.md"].endswith("wang-jin-xi/index.html")
        assert items["profiles/2025/p3.md"].endswith("wang-jin-xi-4/index.html")
        assert "profiles/2024/q.md" not in items
        assert set(groups["groups"]) == {("profile", 2025)}
    finally:
        store.close()
