"""Campaign figures (pledge fulfilment, roll-ups, honour rolls, counts), the SVG charts, and the
pages and downloads built from them, checked against values worked out by hand."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from generator import build
from generator.base.config import BuildOptions
from generator.pages import charts
from generator.site import stats
from generator.site.model import Pledge, Site
from tests.conftest import SITE_YAML, SiteBuilder, profile, write_site

SVG = "{http://www.w3.org/2000/svg}"


def pledge(branch: str, year: int, statuses: str) -> str:
    """A pledge whose items have the given statuses: d(one), i(n progress), p(lanned)."""
    names = {"d": "done", "i": "in_progress", "p": "planned"}
    items = "".join(
        f"  - text: 第{n}项承诺\n    status: {names[s]}\n" for n, s in enumerate(statuses, 1)
    )
    return f"---\nbranch: {branch}\nyear: {year}\nitems:\n{items}---\n承诺书正文。\n"


def report(title: str, unit: str, date: str, speakers: str = "[]") -> str:
    return f"---\ntitle: {title}\nunit: {unit}\ndate: {date}\nspeakers: {speakers}\n---\n正文。\n"


# Hand-checked figures of this fixture (current year 2025; units: group > plant > branch,
# group > other > other-branch):
#   branch 2024        d d i p          4 items, 2 done, 50 %, 2 overdue (open after 2024)
#   branch 2025        d i p            3 items, 1 done, 33 %
#   other-branch 2025  d d d p p i d d  8 items, 5 done, 62.5 % -> 63 %
FILES = {
    "pledges/2024/branch.md": pledge("branch", 2024, "ddip"),
    "pledges/2025/branch.md": pledge("branch", 2025, "dip"),
    "pledges/2025/other.md": pledge("other-branch", 2025, "dddppidd"),
    "profiles/2025/wang.md": profile("王进喜", "branch", 2025, "[劳动模范, 技术标兵]"),
    "profiles/2025/zhang.md": profile("张三", "branch", 2025, "[劳动模范]"),
    "profiles/2025/ai.md": profile("艾青", "other-branch", 2025, "[技术标兵, 劳动模范]"),
    "profiles/2025/ding.md": profile("丁一", "other-branch", 2025, "[先进工作者]"),
    "profiles/2024/li.md": profile("李四", "branch", 2024, "[劳动模范]"),
    "reports/2025/a.md": report("稳产上产经验", "branch", "2025-05-01", "[王进喜]"),
    "reports/2025/b.md": report("炼化节能经验", "other-branch", "2025-06-01"),
    "reports/2024/c.md": report("师带徒经验", "other", "2024-06-01"),
}
SITE = SITE_YAML + "current_year: 2025\n"


@pytest.fixture
def site(tmp_path: Path) -> Site:
    source = write_site(tmp_path / "src", FILES, site_yaml=SITE)
    analysis = build.analyse(source)
    assert not [d for d in analysis.diagnostics if d.is_error], analysis.diagnostics
    return analysis.site


def the_pledge(site: Site, unit: str, year: int) -> Pledge:
    return next(p for p in site.pledges if p.unit == unit and p.year == year)


def test_percent_rounds_half_up() -> None:
    assert [stats.percent(p, w) for p, w in ((1, 8), (5, 8), (1, 3), (2, 3), (0, 0))] == [
        13,
        63,
        33,
        67,
        0,
    ]


def test_fulfilment_per_pledge(site: Site) -> None:
    old = stats.of_pledge(the_pledge(site, "branch", 2024), 2025)
    assert (old.total, old.done, old.in_progress, old.planned, old.overdue) == (4, 2, 1, 1, 2)
    assert old.percent == 50
    new = stats.of_pledge(the_pledge(site, "branch", 2025), 2025)
    assert (new.total, new.done, new.overdue, new.percent) == (3, 1, 0, 33)
    assert new.in_progress_percent == 34  # 2 of 3 done or in progress = 67 %, less 33 %
    other = stats.of_pledge(the_pledge(site, "other-branch", 2025), 2025)
    assert (other.total, other.done, other.planned, other.percent) == (8, 5, 2, 63)


def test_overdue_is_relative_to_the_current_year(site: Site) -> None:
    old = the_pledge(site, "branch", 2024)
    assert [stats.is_overdue(old, i, 2025) for i in old.items] == [False, False, True, True]
    assert not any(stats.is_overdue(old, i, 2024) for i in old.items)


def test_fulfilment_per_branch_over_years(site: Site) -> None:
    history = stats.branch_fulfilment(site, "branch")
    assert [(p.year, f.done, f.total, f.percent) for p, f in history] == [
        (2025, 1, 3, 33),
        (2024, 2, 4, 50),
    ]
    assert stats.branch_fulfilment(site, "plant") == ()  # the pledges below it are not its own


def test_fulfilment_rolls_up_over_descendants(site: Site) -> None:
    plant = stats.unit_fulfilment(site, "plant")  # only branch, both years: 3 of 7
    assert (plant.pledges, plant.done, plant.total, plant.percent, plant.overdue) == (
        2,
        3,
        7,
        43,
        2,
    )
    group_2025 = stats.unit_fulfilment(site, "group", 2025)  # 1 + 5 of 3 + 8
    assert (group_2025.done, group_2025.total, group_2025.percent) == (6, 11, 55)
    group = stats.unit_fulfilment(site, "group")  # 8 of 15
    assert (group.done, group.total, group.percent) == (8, 15, 53)
    assert stats.unit_fulfilment(site, "other", 2024).total == 0


def test_fulfilment_per_year(site: Site) -> None:
    def of_year(year: int) -> stats.Fulfilment:
        pledges = (p for p in site.pledges if p.year == year)
        return stats.fulfilment(pledges, site.config.current_year)

    assert of_year(2024).as_dict() == {
        "pledges": 1,
        "items": 4,
        "done": 2,
        "in_progress": 1,
        "planned": 1,
        "overdue": 2,
        "percent": 50,
    }
    assert of_year(2025).percent == 55


def test_branch_table_sets_branches_side_by_side(site: Site) -> None:
    years, rows = stats.branch_table(site, "group")
    assert years == (2025, 2024)
    assert [r.unit.id for r in rows] == ["branch", "other-branch"]
    branch, other = rows
    assert [(y, f.percent if f else None) for y, _p, f in branch.cells] == [
        (2025, 33),
        (2024, 50),
    ]
    assert [(y, p) for y, p, _f in other.cells][1] == (2024, None)
    assert branch.total.percent == 43


def test_pledge_for_a_profile_is_its_branch_pledge_of_the_year(site: Site) -> None:
    found = stats.pledge_for(site, "branch", 2025)
    assert found is not None and found.year == 2025 and found.unit == "branch"
    assert stats.pledge_for(site, "plant", 2025) is None  # nothing at or above the plant
    assert stats.pledge_for(site, "other-branch", 2024) is None


def names(
    site: Site, year: int, honours: tuple[str, ...], order: str
) -> list[tuple[str, list[str]]]:
    roll = stats.honour_roll((p for p in site.profiles if p.year == year), honours, order)
    return [(h.title, [p.name for p in h.profiles]) for h in roll]


def test_honour_roll_default_order_is_by_count_and_names_by_pinyin(site: Site) -> None:
    assert names(site, 2025, (), "pinyin") == [
        ("劳动模范", ["艾青", "王进喜", "张三"]),
        ("技术标兵", ["艾青", "王进喜"]),
        ("先进工作者", ["丁一"]),
    ]


def test_honour_roll_follows_the_official_order_and_strokes(site: Site) -> None:
    # 王 4 strokes, 艾 5, 张 7; honours listed in site.yaml come first, in that order
    assert names(site, 2025, ("先进工作者", "技术标兵"), "strokes") == [
        ("先进工作者", ["丁一"]),
        ("技术标兵", ["王进喜", "艾青"]),
        ("劳动模范", ["王进喜", "艾青", "张三"]),
    ]


def test_counts_per_year_and_unit(site: Site) -> None:
    figures = stats.figures(site)
    by_year = {c.year: (c.workers, c.honours, c.reports, c.pledge.pledges) for c in figures.years}
    assert by_year == {2025: (4, 6, 2, 2), 2024: (1, 1, 1, 1)}
    assert [(c.unit, c.workers, c.reports, c.pledge.percent) for c in figures.units] == [
        ("plant", 3, 1, 43),
        ("other", 2, 2, 63),
    ]
    assert [(c.unit, c.workers, c.reports) for c in figures.units_of(2024)] == [
        ("plant", 1, 0),
        ("other", 0, 1),
    ]
    assert figures.honours_of(2025) == (("劳动模范", 3), ("技术标兵", 2), ("先进工作者", 1))
    assert (figures.total.workers, figures.total.reports, figures.total.pledge.total) == (5, 3, 15)


def test_json_and_csv_carry_the_same_figures(site: Site) -> None:
    figures = stats.figures(site)
    doc = json.loads(stats.to_json(figures))
    assert doc["total"]["pledge_done"] == 8 and doc["total"]["workers"] == 5
    assert [(y["year"], y["pledge_percent"]) for y in doc["years"]] == [(2025, 55), (2024, 50)]
    assert "劳动模范" in stats.to_json(figures)  # readable, not \\u escapes
    text = stats.to_csv(stats.csv_rows(figures))
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 2 + 2 * 2  # every year, then every top unit of every year
    assert rows[0]["year"] == "2025" and rows[0]["unit"] == "" and rows[0]["workers"] == "4"
    plant_2024 = next(r for r in rows if r["year"] == "2024" and r["unit"] == "plant")
    assert (plant_2024["pledge_items"], plant_2024["pledge_overdue"]) == ("4", "2")


def test_series_rejects_an_unknown_figure(site: Site) -> None:
    figures = stats.figures(site)
    assert stats.series(figures.years, "percent") == (("2025", 55), ("2024", 50))
    with pytest.raises(ValueError):
        stats.series(figures.years, "salary")


# ---------------------------------------------------------------------------------------------
# charts


def test_bar_chart_parses_and_carries_its_numbers() -> None:
    svg = charts.bar_chart(
        "c1",
        "承诺兑现率",
        "各年度 <比例> & 份数",
        [charts.Bar("2025", 55, "55%"), charts.Bar("A&B<公司>", 0), charts.Bar("2023", 100)],
        maximum=100,
    )
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").text == "承诺兑现率"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == "各年度 <比例> & 份数"  # type: ignore[union-attr]
    bars = root.findall(f"{SVG}g")
    assert [(g.get("data-label"), g.get("data-value")) for g in bars] == [
        ("2025", "55"),
        ("A&B<公司>", "0"),
        ("2023", "100"),
    ]
    values = [g.find(f"{SVG}text[@class='value']").text for g in bars]  # type: ignore[union-attr]
    assert values == ["55%", "0", "100"]
    widths = [g.find(f"{SVG}rect").get("width", "") for g in bars]  # type: ignore[union-attr]
    assert widths == [f"{charts.BAR_SHARE * 0.55:g}%", "0%", f"{charts.BAR_SHARE}%"]
    # no viewBox: the drawing is as wide as its box and its text keeps the CSS size
    assert root.get("viewBox") is None and root.get("width") == "100%"


def test_bar_chart_colours_come_from_the_theme() -> None:
    svg = charts.bar_chart("c", "t", "d", [charts.Bar("甲", 3)], colour=6)
    rect = ET.fromstring(svg).find(f"{SVG}g/{SVG}rect")
    assert rect is not None and rect.get("class") == "series-2"
    assert not re.search(r"#[0-9a-fA-F]{6}", svg), "colours are the stylesheet's --chart-N"


def test_bar_chart_is_deterministic_and_handles_no_bars() -> None:
    bars = [charts.Bar("甲", 3), charts.Bar("乙", 7)]
    assert charts.bar_chart("x", "t", "d", bars) == charts.bar_chart("x", "t", "d", bars)
    empty = ET.fromstring(charts.bar_chart("e", "t", "d", []))
    assert empty.findall(f"{SVG}g") == []


# ---------------------------------------------------------------------------------------------
# pages


@pytest.fixture
def built(make_site: SiteBuilder) -> Path:
    report_, out = make_site(FILES, site_yaml=SITE + "honours: [先进工作者, 技术标兵]\n")
    assert report_.ok, report_.diagnostics
    return out


def svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg\b.*?</svg>", html, re.S)]


def test_stats_pages_have_accessible_charts_with_tables(built: Path) -> None:
    html = (built / "stats/index.html").read_text(encoding="utf-8")
    charts_found = svgs(html)
    assert len(charts_found) == 6
    for svg in charts_found:
        title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
        assert title is not None and title.text and desc is not None and desc.text
    # each figure once: the chart, and its column in the section's table (no table per chart)
    assert html.count('class="chart-table"') == 0
    assert html.count('class="stats-table"') == 2
    by_year = charts_found[2]  # fulfilment per year
    assert [(g.get("data-label"), g.get("data-value")) for g in by_year.findall(f"{SVG}g")] == [
        ("2025年", "55"),
        ("2024年", "50"),
    ]
    assert 'href="stats.json"' in html and 'href="stats.csv"' in html
    year = (built / "stats/2024/index.html").read_text(encoding="utf-8")
    assert len(svgs(year)) == 4  # honours, and per unit: workers, reports, fulfilment
    assert year.count('class="chart-table"') == 1  # the honours, which have no other table
    assert (
        json.loads((built / "stats/stats.json").read_text(encoding="utf-8"))["total"][
            "pledge_items"
        ]
        == 15
    )
    assert (built / "stats/stats.csv").read_bytes().startswith(b"\xef\xbb\xbfyear,unit,")


def test_overdue_items_are_marked_on_the_pledge_page(built: Path) -> None:
    old = next((built / "pledges/2024").glob("*/index.html")).read_text(encoding="utf-8")
    assert old.count("is-overdue") == 2
    assert "2项逾期" in old
    new = next((built / "pledges/2025").glob("*/index.html"))
    assert "is-overdue" not in new.read_text(encoding="utf-8")


def test_unit_page_shows_branches_side_by_side(built: Path) -> None:
    html = (built / "units/group/index.html").read_text(encoding="utf-8")
    table = html[html.index('class="fulfilment-table"') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr>") == 4  # head, two branches, roll-up
    assert "33%" in table and "50%" in table and "63%" in table and "55%" in table


def test_profile_links_its_branch_pledge_and_more_from_the_unit(built: Path) -> None:
    html = next((built / "profiles/2025").glob("wang*/index.html")).read_text(encoding="utf-8")
    assert "所在党支部承诺书" in html
    assert re.search(r'href="\.\./\.\./\.\./pledges/2025/[^"]+/index\.html"', html)
    related = html[html.index('class="block related"') :]
    assert "张三" in related and "稳产上产经验" in related


def test_honour_roll_on_the_year_page_uses_the_official_order(built: Path) -> None:
    html = (built / "years/2025/index.html").read_text(encoding="utf-8")
    roll = html[html.index("honour-roll") :]
    positions = [roll.index(h) for h in ("先进工作者", "技术标兵", "劳动模范")]
    assert positions == sorted(positions)


def test_stats_output_is_byte_identical_across_builds(tmp_path: Path) -> None:
    source = write_site(tmp_path / "src", FILES, site_yaml=SITE)
    outputs = []
    for name in ("a", "b"):
        assert build.build(BuildOptions(source=source, output=tmp_path / name)).ok
        outputs.append(
            [(tmp_path / name / f).read_bytes() for f in ("stats/index.html", "stats/stats.json")]
        )
    assert outputs[0] == outputs[1]


def test_a_unit_without_pledges_shows_a_dash_everywhere(make_site: SiteBuilder) -> None:
    pledge = "---\nbranch: branch\nyear: 2025\nitems:\n  - text: 示范岗\n    status: done\n---\n"
    report, out = make_site(
        {
            "pledges/2025/branch.md": pledge,
            "profiles/2025/a.md": profile(unit="other-branch"),
        }
    )
    assert report.ok, report.diagnostics
    page = (out / "stats/2025/index.html").read_text(encoding="utf-8")
    row = re.search(r"<tr>\s*<th scope=\"row\"><a [^>]*>炼化公司</a></th>.*?</tr>", page, re.S)
    assert row is not None and '<span class="no-pledge"' in row.group(0)
    assert "共0项" not in page  # no 0 % for a unit that made no pledges
    chart = re.search(r'<svg[^>]*aria-labelledby="unit-pledges-2025-title.*?</svg>', page, re.S)
    assert chart is not None and "第一采油厂" in chart.group(0) and "炼化公司" not in chart.group(0)
    unit_page = (out / "units/other/index.html").read_text(encoding="utf-8")
    assert "共0项" not in unit_page


def test_the_status_columns_of_a_stats_table_add_up_to_the_items_pledged(built: Path) -> None:
    """Done, in progress and planned: every item pledged is in one of the columns."""
    rows = 0
    for rel in ("stats/index.html", "stats/2025/index.html"):
        html = (built / rel).read_text(encoding="utf-8")
        for table in re.findall(r'<table class="stats-table">(.*?)</table>', html, re.S):
            heads = re.findall(r'<th scope="col">(.*?)</th>', table)
            names = ("承诺事项", "已完成", "推进中", "计划中")
            at = {name: heads.index(name) - 1 for name in names}
            for row in re.findall(r"<tr>\s*<th scope=\"row\">.*?</th>(.*?)</tr>", table, re.S):
                cells = [int(c) for c in re.findall(r"<td>(\d+)</td>", row)]
                total, done, going, planned = (cells[at[k]] for k in at)
                assert done + going + planned == total, (rel, row)
                rows += 1
    assert rows > 5
