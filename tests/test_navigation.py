"""Finding one's way: pagers with gaps, the index by surname, one card per person and year,
breadcrumbs from the home page on every page below it, the years of a unit, the kind and the
year of a detail page."""

from __future__ import annotations

import itertools
import posixpath
import re
from pathlib import Path

import pytest

from generator.base import hanzi
from generator.pages.base import Pagination, page_numbers
from tests.conftest import SiteBuilder, profile

SITE_STROKES = """\
title: 测试站点
campaign: 创先争优
language: zh-CN
page_size: 2
name_order: strokes
"""

PEOPLE = ("欧阳明远", "欧阳华", "欧小英", "王一", "王二", "汪三", "张三", "章四", "李五")


@pytest.mark.parametrize("total", [1, 2, 8, 9, 10, 11, 12, 30, 251])
def test_pagers_show_first_last_and_a_window_with_gaps(total: int) -> None:
    for current in range(1, total + 1):
        numbers = page_numbers(current, total)
        assert len(numbers) + 2 <= 12  # with "previous" and "next"
        shown = [n for n in numbers if n is not None]
        assert shown == sorted(set(shown))
        assert shown[0] == 1 and shown[-1] == total
        for near in range(current - 2, current + 3):
            assert near not in range(1, total + 1) or near in shown
        for before, after in itertools.pairwise(numbers):
            if before is None or after is None:
                assert before is not None or after is not None  # never two gaps in a row
            else:
                assert after == before + 1  # a gap wherever pages are left out
        gaps = [i for i, n in enumerate(numbers) if n is None]
        for i in gaps:  # a gap stands for two pages or more
            left, right = numbers[i - 1], numbers[i + 1]
            assert isinstance(left, int) and isinstance(right, int) and right - left > 2


def test_pagination_entries_carry_the_paths() -> None:
    paths = tuple(f"p{n}" for n in range(1, 31))
    entries = Pagination(15, 30, paths).entries
    assert entries[0] == (1, "p1") and entries[-1] == (30, "p30")
    assert (15, "p15") in entries and None in entries


def people_site(make_site: SiteBuilder, **kwargs: str) -> Path:
    files = {
        f"profiles/2025/p{n}.md": profile(name=name, honors="[劳动模范]")
        for n, name in enumerate(PEOPLE)
    }
    report, out = make_site(files, **kwargs)
    assert report.ok, report.diagnostics
    return out


def resolve(page: Path, href: str) -> tuple[Path, str]:
    target, _, anchor = href.partition("#")
    return Path(posixpath.normpath(str(page.parent / target))), anchor


def cards(html: str) -> list[str]:
    return re.findall(r'<strong class="card-title">([^<]+)</strong>', html)


@pytest.mark.parametrize("order", ["pinyin", "strokes"])
def test_a_surname_links_to_the_page_that_lists_its_people(
    make_site: SiteBuilder, order: str
) -> None:
    out = people_site(make_site, **({"site_yaml": SITE_STROKES} if order == "strokes" else {}))
    first = out / "profiles/index.html"
    assert 'class="surname-bar"' in first.read_text(encoding="utf-8")
    index_page = out / "profiles/names/index.html"
    html = index_page.read_text(encoding="utf-8")
    index = html[html.index('id="surnames"') :]
    links = dict(
        (name, href)
        for href, name in re.findall(r'<li><a href="([^"]+)">([^<]+)</a> <small>', index)
    )
    assert set(links) == {hanzi.surname_of(n) for n in PEOPLE}
    assert "欧阳" in links and "欧" in links  # a compound surname is a surname of its own
    key = hanzi.name_sort_key(order)
    for surname, href in links.items():
        target, anchor = resolve(index_page, href)
        page = target.read_text(encoding="utf-8")
        section = page[page.index(f'id="{anchor}"') :]
        section = section[: section.index("</section>")]
        people = sorted((n for n in PEOPLE if hanzi.surname_of(n) == surname), key=key)
        assert cards(section)[0] == people[0], surname
        assert all(hanzi.surname_of(name) == surname for name in cards(section))
    if order == "strokes":
        # grouped by the surname's strokes: 王 has 4, 李 7
        assert "<dt>4画</dt>" in index and index.index("4画") < index.index("7画")
    else:
        assert re.search(r"<dt>O</dt>", index) and re.search(r"<dt>W</dt>", index)


def test_every_person_is_on_one_page_of_the_list_by_surname(make_site: SiteBuilder) -> None:
    out = people_site(make_site)
    pages = [out / "profiles/names/index.html", *(out / "profiles/names/page").rglob("index.html")]
    listed = [name for p in pages for name in cards(p.read_text(encoding="utf-8"))]
    assert sorted(listed) == sorted(PEOPLE)


def test_one_card_per_person_and_year_with_every_honour(make_site: SiteBuilder) -> None:
    files = {
        "profiles/2025/a.md": profile(name="王进喜", honors="[劳动模范, 技术标兵, 岗位能手]"),
        "profiles/2025/b.md": profile(name="李华", honors="[技术标兵]"),
        "profiles/2024/c.md": profile(name="王进喜", year=2024, honors="[劳动模范]"),
    }
    report, out = make_site(files)
    assert report.ok
    for rel in ("index.html", "years/2025/index.html", "years/2025/honours/index.html"):
        html = (out / rel).read_text(encoding="utf-8")
        assert cards(html).count("王进喜") == 1, rel
        card = html[html.index('<strong class="card-title">王进喜') :]
        card = card[: card.index("</article>")]
        assert re.findall(r'<span class="honor">([^<]+)</span>', card) == [
            "劳动模范",
            "技术标兵",
            "岗位能手",
        ]
    # the whole roll still names every honour with its holders, the honours whose holders
    # all stand under an earlier one too (技术标兵, held by two, comes first)
    roll = (out / "years/2025/honours/index.html").read_text(encoding="utf-8")
    holders = roll[roll.index('class="honour-holders"') :]
    holders = holders[: holders.index("</section>")]
    assert re.search(r'<a href="index.html#honour-1">技术标兵</a> <small>2人获得</small>', holders)
    assert "<li>劳动模范 <small>1人获得</small>" in holders
    assert "<li>岗位能手 <small>1人获得</small>" in holders
    names = (out / "profiles/names/index.html").read_text(encoding="utf-8")
    assert cards(names).count("王进喜") == 1  # page 1 of 2 people per page
    everything = names + (out / "profiles/names/page/2/index.html").read_text(encoding="utf-8")
    assert cards(everything).count("王进喜") == 2  # one card for each year


def crumbs(html: str) -> list[str]:
    found = re.search(r'<nav class="breadcrumbs"[^>]*><ol>(.*?)</ol></nav>', html, re.S)
    assert found, "no breadcrumbs"
    return re.findall(r"<li>(.*?)</li>", found.group(1), re.S)


def test_every_page_below_the_home_has_breadcrumbs_from_the_home(example_build: Path) -> None:
    pages = [p for p in example_build.rglob("*.html") if p != example_build / "index.html"]
    templates = set()
    for page in pages:
        html = page.read_text(encoding="utf-8")
        trail = crumbs(html)
        assert len(trail) >= 2, page
        first = re.fullmatch(r'<a href="([^"]+)">首页</a>', trail[0].strip())
        assert first, (page, trail[0])
        home, _anchor = resolve(page, first.group(1))
        assert home == example_build / "index.html" or page.name == "404.html", page
        assert "<a " not in trail[-1], (page, trail[-1])
        assert 'aria-current="page"' in trail[-1]
        for middle in trail[1:-1]:
            href = re.search(r'<a href="([^"]+)">', middle)
            assert href, (page, middle)
            assert resolve(page, href.group(1))[0].is_file(), (page, middle)
        templates.add(
            re.sub(r"\d{4}|page/\d+|[a-z0-9-]+/index", "*", str(page.relative_to(example_build)))
        )
    assert len(templates) >= 12
    assert '<nav class="breadcrumbs"' not in (example_build / "index.html").read_text(
        encoding="utf-8"
    )


def test_unit_year_pages_link_the_units_other_years(example_build: Path) -> None:
    checked = 0
    for unit in (p for p in (example_build / "units").iterdir() if p.is_dir()):
        years = sorted(p.name for p in unit.iterdir() if p.name.isdigit())
        for year in years:
            html = (unit / year / "index.html").read_text(encoding="utf-8")
            nav = html[html.index('<nav class="year-nav"') :]
            nav = nav[: nav.index("</nav>")]
            assert f'<span aria-current="page">{year}年</span>' in nav
            for other in years:
                if other != year:
                    assert f'href="../{other}/index.html"' in nav
                    checked += 1
    assert checked > 5


@pytest.mark.parametrize("folder", ["profiles", "reports", "pledges"])
def test_detail_pages_link_their_year_and_kind(example_build: Path, folder: str) -> None:
    details = list((example_build / folder).glob("[0-9]*/*/index.html"))
    assert details
    for page in details:
        year = page.parent.parent.name
        html = page.read_text(encoding="utf-8")
        eyebrow = html[html.index('class="eyebrow"') :]
        eyebrow = eyebrow[: eyebrow.index("</p>")]
        assert 'href="../../index.html"' in eyebrow, page  # the kind's list
        assert f'href="../../../years/{year}/index.html">{year}年</a>' in eyebrow, page
        trail = crumbs(html)
        assert 'href="../../index.html"' in trail[1] and f"years/{year}/index.html" in trail[2]
