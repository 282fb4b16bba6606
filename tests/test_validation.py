"""Every kind of content error names the file, the line and the field, and all are listed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from generator.base.config import BuildOptions
from generator.base.errors import Diagnostic
from generator.build import BuildReport, build
from generator.cli.console import field_label, format_diagnostic
from generator.content import fields
from tests.conftest import SITE_YAML, UNITS_YAML, SiteBuilder, profile, write_site


def shown(report: BuildReport, root: Path = Path("/nonexistent")) -> str:
    return "\n".join(format_diagnostic(d, "zh-CN", root) for d in report.diagnostics)


def codes(report: BuildReport) -> list[tuple[str, str, int, str, str]]:
    return [(d.code, d.path, d.line, d.field, d.severity.value) for d in report.diagnostics]


REPORT = "---\ntitle: 经验交流\nunit: branch\ndate: {date}\n---\n正文\n"
PLEDGE = (
    "---\nbranch: {branch}\nyear: 2025\nitems:\n  - text: 建成示范岗\n    status: {status}\n"
    "{extra}---\n承诺书正文\n"
)

CASES: list[tuple[str, dict[str, str], tuple[str, str, int, str], str]] = [
    (
        "unknown unit",
        {"profiles/2025/a.md": profile(unit="brnch")},
        ("unknown-unit", "profiles/2025/a.md", 3, "unit"),
        "您是不是想写“branch”",
    ),
    (
        "missing field",
        {"profiles/2025/a.md": "---\nname: 王进喜\nunit: branch\nyear: 2025\n---\n"},
        ("missing-field", "profiles/2025/a.md", 1, "honors"),
        "缺少必填字段 honors",
    ),
    (
        "empty required field",
        {"profiles/2025/a.md": profile(honors="")},
        ("empty-field", "profiles/2025/a.md", 5, "honors"),
        "必填字段是空的",
    ),
    (
        "empty list",
        {"profiles/2025/a.md": profile(honors="[]")},
        ("empty-list", "profiles/2025/a.md", 5, "honors"),
        "列表不能为空",
    ),
    (
        "year not a number",
        {"profiles/2025/a.md": profile(year="二〇二五")},  # type: ignore[arg-type]
        ("expected-int", "profiles/2025/a.md", 4, "year"),
        "应为整数",
    ),
    (
        "year out of range",
        {"profiles/2025/a.md": profile(year=20255)},
        ("year-out-of-range", "profiles/2025/a.md", 4, "year"),
        "20255",
    ),
    (
        "impossible date",
        {"reports/2025/r.md": REPORT.format(date="2025-02-30")},
        ("impossible-date", "reports/2025/r.md", 4, "date"),
        "日期“2025-02-30”不存在",
    ),
    (
        "not a date",
        {"reports/2025/r.md": REPORT.format(date="去年三月")},
        ("expected-date", "reports/2025/r.md", 4, "date"),
        "年-月-日",
    ),
    (
        "bad status",
        {"pledges/2025/p.md": PLEDGE.format(branch="branch", status="finished", extra="")},
        ("bad-status", "pledges/2025/p.md", 6, "items.0.status"),
        "planned",
    ),
    (
        "pledge of an unknown branch",
        {"pledges/2025/p.md": PLEDGE.format(branch="nowhere", status="done", extra="")},
        ("unknown-unit", "pledges/2025/p.md", 2, "branch"),
        "单位“nowhere”不在 units.yaml 中",
    ),
    (
        "bad slug",
        {"profiles/2025/a.md": profile(extra="slug: 王 进喜\n")},
        ("bad-slug", "profiles/2025/a.md", 6, "slug"),
        "小写英文字母",
    ),
    (
        "wrong type for a list",
        {"profiles/2025/a.md": profile(extra="tags: {a: 1}\n")},
        ("expected-list", "profiles/2025/a.md", 6, "tags"),
        "应为列表",
    ),
    (
        "boolean",
        {"profiles/2025/a.md": profile(extra="party_member: 也许\n")},
        ("expected-bool", "profiles/2025/a.md", 6, "party_member"),
        "true 或 false",
    ),
    (
        "duplicate key",
        {"profiles/2025/a.md": profile(extra="name: 王铁人\n")},
        ("duplicate-key", "profiles/2025/a.md", 6, "name"),
        "“name”写了两次",
    ),
    (
        "yaml syntax",
        {"profiles/2025/a.md": profile(extra="position: [采油工\n")},
        ("yaml-syntax", "profiles/2025/a.md", 7, ""),
        "格式有误，信息块读不出来",
    ),
    (
        "no front matter",
        {"profiles/2025/a.md": "王进喜的故事\n"},
        ("no-front-matter", "profiles/2025/a.md", 1, ""),
        "缺少以 --- 包围的信息块",
    ),
    (
        "unclosed front matter",
        {"profiles/2025/a.md": "---\nname: 王进喜\n正文\n"},
        ("unclosed-front-matter", "profiles/2025/a.md", 1, ""),
        "没有找到结束的 --- 行",
    ),
    (
        "empty file",
        {"profiles/2025/a.md": ""},
        ("empty-file", "profiles/2025/a.md", 1, ""),
        "文件是空的",
    ),
    (
        "missing photo",
        {"profiles/2025/a.md": profile(extra="photo: wang.jpg\n")},
        ("missing-asset", "profiles/2025/a.md", 6, "photo"),
        "找不到文件“wang.jpg”",
    ),
    (
        "missing attachment",
        {
            "reports/2025/r.md": REPORT.format(date="2025-03-01").replace(
                "---\n正文", "attachments: [x.pdf]\n---\n正文"
            )
        },
        ("missing-asset", "reports/2025/r.md", 5, "attachments.0"),
        "x.pdf",
    ),
    (
        "duplicate explicit slug",
        {
            "profiles/2025/a.md": profile(extra="slug: wang\n"),
            "profiles/2025/b.md": profile(name="王铁", extra="slug: wang\n"),
        },
        ("duplicate-slug", "profiles/2025/b.md", 6, "slug"),
        "profiles/2025/a.md",
    ),
    (
        "two pledges of one branch in one year",
        {
            "pledges/2025/a.md": PLEDGE.format(branch="branch", status="done", extra=""),
            "pledges/2025/b.md": PLEDGE.format(branch="branch", status="done", extra=""),
        },
        ("duplicate-pledge", "pledges/2025/b.md", 2, "branch"),
        "pledges/2025/a.md",
    ),
    (
        "unknown field",
        {"profiles/2025/a.md": profile(extra="unti: branch\n")},
        ("unknown-field", "profiles/2025/a.md", 6, "unti"),
        "您是不是想写“unit”",
    ),
]


@pytest.mark.parametrize(("case", "files", "expected", "words"), CASES, ids=[c[0] for c in CASES])
def test_content_error(
    make_site: SiteBuilder,
    case: str,
    files: dict[str, str],
    expected: tuple[str, str, int, str],
    words: str,
) -> None:
    report, _out = make_site(files)
    code, path, line, field = expected
    found = [d for d in report.diagnostics if d.code == code]
    assert found, f"{case}: expected {code}, got {codes(report)}"
    d = found[0]
    assert (d.path, d.line, d.field) == (path, line, field), codes(report)
    text = shown(report)
    assert f"{path}:{line}: " in text
    if field:
        assert f"字段 {field_label(field, 'zh-CN')}：" in text
    assert words in text
    assert "修改方法：" in text  # every message says how to fix it
    assert report.ok == (code == "unknown-field")  # warnings alone do not fail a build


def test_formatted_message_shows_the_source_line(make_site: SiteBuilder, tmp_path: Path) -> None:
    report, _ = make_site({"profiles/2025/a.md": profile(unit="caiyou-9")})
    text = shown(report, tmp_path / "src")
    assert "profiles/2025/a.md:3: 错误: 字段 unit：单位“caiyou-9”不在 units.yaml 中。" in text
    assert "       3 | unit: caiyou-9" in text


def test_all_errors_are_listed_at_once(make_site: SiteBuilder) -> None:
    report, out = make_site(
        {
            "profiles/2025/a.md": profile(unit="nowhere"),
            "profiles/2025/b.md": profile(name="李", honors="[]"),
            "reports/2025/r.md": REPORT.format(date="2025-13-01"),
        }
    )
    assert not report.ok
    assert {d.path for d in report.diagnostics if d.is_error} == {
        "profiles/2025/a.md",
        "profiles/2025/b.md",
        "reports/2025/r.md",
    }
    assert not out.exists(), "nothing is written when content has errors"


def test_strict_fails_on_warnings(make_site: SiteBuilder) -> None:
    report, _ = make_site({"profiles/2025/a.md": profile(extra="unti: x\n")}, strict=True)
    assert not report.ok


@pytest.mark.parametrize(
    ("units", "code", "line", "words"),
    [
        (
            UNITS_YAML + "- id: branch\n  name: 重复\n  parent: plant\n",
            "duplicate-unit",
            16,
            "单位 id“branch”重复",
        ),
        (
            UNITS_YAML + "- id: lost\n  name: 迷路\n  parent: plnt\n",
            "unknown-parent",
            18,
            "上级单位“plnt”",
        ),
        (
            UNITS_YAML + "- id: a\n  name: 甲\n  parent: b\n- id: b\n  name: 乙\n  parent: a\n",
            "unit-cycle",
            16,
            "循环",
        ),
        (UNITS_YAML + "- id: Bad Id\n  name: 坏\n", "bad-slug", 16, "小写英文字母"),
        (UNITS_YAML + "- id: noname\n", "missing-field", 16, "缺少必填字段 name"),
    ],
)
def test_units_errors(make_site: SiteBuilder, units: str, code: str, line: int, words: str) -> None:
    report, _ = make_site({}, units_yaml=units)
    found = [d for d in report.diagnostics if d.code == code]
    assert found, codes(report)
    assert found[0].path == "units.yaml" and found[0].line == line
    assert words in shown(report)
    assert not report.ok


def test_gbk_file_is_named_with_its_encoding(make_site: SiteBuilder, tmp_path: Path) -> None:
    src = tmp_path / "src" / "profiles" / "2025"
    src.mkdir(parents=True)
    (src / "gbk.md").write_bytes(profile().encode("gb18030"))
    report, _ = make_site({})
    found = [d for d in report.diagnostics if d.code == "encoding-gbk"]
    assert found and found[0].path == "profiles/2025/gbk.md"
    assert "GB18030/GBK" in shown(report)


def test_bom_and_crlf_are_accepted(make_site: SiteBuilder) -> None:
    text = "\ufeff" + profile().replace("\n", "\r\n")
    report, out = make_site({"profiles/2025/a.md": text})
    assert report.ok, codes(report)
    assert (out / "profiles/2025/wang-jin-xi/index.html").is_file()


def test_paths_cannot_leave_the_source(make_site: SiteBuilder, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret", encoding="utf-8")
    static = tmp_path / "src" / "static"
    static.mkdir(parents=True)
    (static / "leak.txt").symlink_to(secret)
    report, out = make_site(
        {
            "profiles/2025/a.md": profile(extra="photo: ../../../secret.txt\n"),
            "profiles/2025/b.md": profile(name="李华", extra=f"photo: {secret}\n"),
        }
    )
    assert not report.ok
    found = {(d.code, d.path) for d in report.diagnostics}
    assert ("link-outside-source", "static/leak.txt") in found
    assert ("missing-asset", "profiles/2025/a.md") in found
    assert ("missing-asset", "profiles/2025/b.md") in found
    assert not out.exists()


def test_a_linked_content_folder_is_named_not_dropped_silently(
    make_site: SiteBuilder, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "b.md").write_text(profile(name="李华", year=2024), encoding="utf-8")
    (tmp_path / "src" / "profiles").mkdir(parents=True)
    (tmp_path / "src" / "profiles" / "2024").symlink_to(elsewhere, target_is_directory=True)
    (tmp_path / "src" / "profiles" / ".kept").symlink_to(elsewhere, target_is_directory=True)
    # a theme shared through a link is read by the theme's loader, which follows it
    shared = tmp_path / "shared-theme"
    (shared / "templates").mkdir(parents=True)
    (shared / "templates" / "404.html").write_text("<p>共享的主题</p>\n", encoding="utf-8")
    (tmp_path / "src" / "theme").symlink_to(shared, target_is_directory=True)
    report, out = make_site({"profiles/2025/a.md": profile()})
    assert report.ok  # the folder is left out, as before, with a warning that says so
    found = [(d.code, d.path) for d in report.diagnostics]
    assert found == [("linked-folder", "profiles/2024")]  # a hidden name is meant to stay out
    assert "不读取其中的文件" in format_diagnostic(report.diagnostics[0], "zh-CN", out)
    assert not (out / "profiles/2024").exists()
    assert "共享的主题" in (out / "404.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "units",
    ["- id: [坏\n  name: 集团\n", "GBK", "# 单位列表（待补）\n"],
    ids=["bad YAML", "GBK", "empty"],
)
def test_an_unreadable_units_file_is_told_once_not_as_every_unit_unknown(
    tmp_path: Path, units: str
) -> None:
    """units.yaml that cannot be read (bad YAML, saved in GBK) or holds no units gives one
    error that the items' units were not checked (and its own error, if any), not an unknown
    unit for every item."""
    files = {f"profiles/2025/p{n}.md": profile(name=f"员工{n}") for n in range(5)}
    files["pledges/2025/p.md"] = PLEDGE.format(branch="branch", status="done", extra="")
    source = write_site(tmp_path / "src", files, units_yaml=units)
    if units == "GBK":
        (source / "units.yaml").write_bytes(UNITS_YAML.encode("gbk"))
    report = build(BuildOptions(source=source, output=tmp_path / "out"))
    assert not report.ok
    assert [d for d in report.diagnostics if d.code == "unknown-unit"] == []
    errors = [d for d in report.diagnostics if d.severity.value == "error"]
    assert {d.path for d in errors} == {"units.yaml"}
    assert len(errors) == (1 if units.startswith("#") else 2)  # and why it could not be read
    unread = [d for d in report.diagnostics if d.code == "units-unread"]
    assert [(d.path, d.severity.value, dict(d.params)) for d in unread] == [
        ("units.yaml", "error", {"count": "6"})
    ]


def test_a_list_written_on_one_line_is_a_warning(make_site: SiteBuilder) -> None:
    """``honors: 优秀党务工作者、先进工作者`` is one honour, not two: the editor is told; a
    single honour written so, or a list in brackets, is not."""
    files = {
        "profiles/2025/a.md": profile(name="甲", honors="优秀党务工作者、先进工作者"),
        "profiles/2025/b.md": profile(name="乙", honors="劳动模范"),
        "profiles/2025/c.md": profile(name="丙", honors="[劳动模范, 先进工作者]"),
    }
    report, _out = make_site(files)
    assert report.ok
    told = [c for c in codes(report) if c[0] == "list-on-one-line"]
    assert told == [("list-on-one-line", "profiles/2025/a.md", 5, "honors", "warning")]


@pytest.mark.parametrize(
    ("written", "meant"),
    [("采油一队党支部", "branch"), ("采油一队", "branch"), ("brnch", "branch"), ("油", "")],
)
def test_a_unit_written_by_its_name_suggests_its_id(
    make_site: SiteBuilder, written: str, meant: str
) -> None:
    """A unit written by its name, or a part of one name alone, suggests that unit's id; a
    word several names hold suggests none."""
    report, _out = make_site({"profiles/2025/a.md": profile(unit=written)})
    [found] = [d for d in report.diagnostics if d.code == "unknown-unit"]
    assert dict(found.params)["suggestion"] == meant


def test_a_story_whose_name_ends_otherwise_than_md_is_a_warning(make_site: SiteBuilder) -> None:
    """A story saved as ``.MD`` or ``.md.txt`` is not read, nor published as a file (it may
    be a draft): the editor is told how to name it; another file (notes) is not a story."""
    files = {
        "profiles/2025/a.MD": profile(name="甲"),
        "profiles/2025/b.md.txt": profile(name="乙"),
        "profiles/2025/notes.txt": "备忘",
        "profiles/2025/c.md": profile(name="丙"),
    }
    report, out = make_site(files)
    assert report.ok
    assert (out / "profiles/2025/notes.txt").is_file()
    assert (
        not (out / "profiles/2025/a.MD").exists() and not (out / "profiles/2025/b.md.txt").exists()
    )
    told = {d.path: dict(d.params) for d in report.diagnostics if d.code == "misnamed-markdown"}
    assert told == {
        "profiles/2025/a.MD": {"name": "a.MD", "fixed": "a.md"},
        "profiles/2025/b.md.txt": {"name": "b.md.txt", "fixed": "b.md"},
    }


def test_a_name_several_units_share_suggests_none(tmp_path: Path) -> None:
    units = UNITS_YAML + "- id: b2\n  name: 采油一队党支部\n  parent: other\n"
    files = {"profiles/2025/a.md": profile(unit="采油一队党支部")}
    source = write_site(tmp_path / "src", files, units_yaml=units)
    report = build(BuildOptions(source=source, output=tmp_path / "out"))
    [found] = [d for d in report.diagnostics if d.code == "unknown-unit"]
    assert dict(found.params)["suggestion"] == ""


@pytest.mark.parametrize(
    ("written", "meant"),
    [("完成", "done"), ("计划", "planned"), ("Done", "done"), ("In progress", "in_progress")],
)
def test_a_status_as_editors_also_write_it(
    make_site: SiteBuilder, written: str, meant: str
) -> None:
    problems: list[Diagnostic] = []
    assert fields.status(fields.Context("p.md", {}, problems), "status", written) == meant
    assert problems == []
    files = {"pledges/2025/p.md": PLEDGE.format(branch="branch", status=written, extra="")}
    report, _out = make_site(files)
    assert report.ok, report.diagnostics


def test_a_year_more_than_one_after_this_one_is_a_warning(
    make_site: SiteBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2099 for 2025 would make the site's current year 2099: the editor is told; next
    year's pledge (made in December) is not a slip. A build dated long ago
    (``SOURCE_DATE_EPOCH`` of 1980, as some build systems set it), or by no time at all, is
    no reason for more; a site whose current year is set is not told."""
    this_year = dt.date.today().year
    files = {
        "profiles/2025/a.md": profile(name="甲", year=2099),
        "profiles/2025/b.md": profile(name="乙", year=this_year + 1),
    }
    for epoch in ("315532800", "99999999999999", "soon"):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
        report, _out = make_site(files)
        assert report.ok
        told = [(d.path, d.line) for d in report.diagnostics if d.code == "year-in-future"]
        assert told == [("profiles/2025/a.md", 4)], epoch
    pinned = SITE_YAML + f"current_year: {this_year}\n"
    report, _out = make_site(files, site_yaml=pinned)
    assert [d for d in report.diagnostics if d.code == "year-in-future"] == []
