"""Unit roll-ups (a branch's content shows on every parent unit) and year grouping."""

from __future__ import annotations

import re

from generator.pages.units import UNIT_YEAR_PREVIEW
from tests.conftest import SiteBuilder, profile

REPORT = "---\ntitle: {title}\nunit: {unit}\ndate: {date}\n---\n正文\n"


def test_branch_content_rolls_up_to_every_parent(make_site: SiteBuilder) -> None:
    report, out = make_site(
        {
            "profiles/2025/a.md": profile(name="王进喜", unit="branch"),
            "profiles/2024/b.md": profile(name="李华", unit="other-branch", year=2024),
            "reports/2025/r.md": REPORT.format(title="采油经验", unit="branch", date="2025-05-01"),
        }
    )
    assert report.ok, report.diagnostics

    def text(rel: str) -> str:
        return (out / rel).read_text(encoding="utf-8")

    for unit in ("branch", "plant", "group"):
        assert "王进喜" in text(f"units/{unit}/index.html")
        assert "采油经验" in text(f"units/{unit}/index.html")
        assert "王进喜" in text(f"units/{unit}/2025/index.html")
    assert "李华" in text("units/group/index.html")
    assert "李华" not in text("units/plant/index.html")  # a sibling's content stays out
    assert "王进喜" not in text("units/other/index.html")
    # year pages exist only for years the unit has content in
    assert not (out / "units/plant/2024").exists()
    assert (out / "units/group/2024/index.html").is_file()
    # newest year first on the unit page
    group = text("units/group/index.html")
    assert group.index('id="y2025"') < group.index('id="y2024"')
    # counts in the tree include descendants
    tree = text("units/index.html")
    assert re.search(r'href="group/index.html">华油集团</a>\s*<small>[^<]*2', tree)


def test_year_page_groups_by_kind_and_unit(make_site: SiteBuilder) -> None:
    report, out = make_site(
        {
            "profiles/2025/a.md": profile(name="王进喜", unit="branch"),
            "profiles/2025/b.md": profile(name="李华", unit="other-branch"),
            "profiles/2024/c.md": profile(name="张三", unit="branch", year=2024),
            "reports/2025/r.md": REPORT.format(title="炼化经验", unit="other", date="2025-05-01"),
        }
    )
    assert report.ok
    html = (out / "years/2025/index.html").read_text(encoding="utf-8")
    assert "王进喜" in html and "李华" in html and "炼化经验" in html
    assert "张三" not in html
    companies = html[html.index('class="link-list company-list"') :]
    groups = re.findall(r'<li><a href="([^"]+)">([^<]+)</a>', companies)
    assert ("../../units/plant/2025/index.html", "第一采油厂") in groups
    assert ("../../units/other/2025/index.html", "炼化公司") in groups
    years = (out / "years/index.html").read_text(encoding="utf-8")
    assert years.index("2025/index.html") < years.index("2024/index.html")


def test_unit_page_previews_each_year_and_links_to_the_full_list(make_site: SiteBuilder) -> None:
    files = {
        f"profiles/2025/p{i:02d}.md": profile(name=f"王{'一二三四五六七八九十'[i % 10]}{i}")
        for i in range(15)
    }
    report, out = make_site(files)
    assert report.ok
    unit_page = (out / "units/branch/index.html").read_text(encoding="utf-8")
    assert unit_page.count('class="card profile-card"') == UNIT_YEAR_PREVIEW
    assert 'href="2025/index.html"' in unit_page
    # the year's page lists them all, page by page (page_size: 2)
    full = [(out / "units/branch/2025/index.html").read_text(encoding="utf-8")]
    more = (out / "units/branch/2025/page").rglob("*.html")
    full += [p.read_text(encoding="utf-8") for p in more]
    assert len(full) == 8
    assert sum(page.count('class="card profile-card"') for page in full) == 15
