"""``showcase check``: every finding in text and JSON, its position, and the exit codes."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from generator.base.config import BuildOptions
from generator.build import analyse, build
from generator.cli import check as checks
from generator.cli.main import main
from generator.site import stats
from tests.conftest import EXAMPLE, SITE_YAML, profile, write_site

MB = 1024 * 1024
PHOTO = "photo: p.jpg\n"  # a profile with a photo has no "no photo" note
JSON_KEYS = {"file", "line", "column", "field", "code", "severity", "message", "hint"}
LABELS = {"error": "错误", "warning": "警告", "info": "提示"}


def report(speakers: tuple[str, ...] = (), extra: str = "", body: str = "正文。") -> str:
    listed = "".join(f"  - {s}\n" for s in speakers)
    return (
        "---\ntitle: 采油一队经验交流材料\nunit: branch\ndate: 2025-03-01\n"
        f"speakers:\n{listed}{extra}---\n{body}\n"
    )


def pledge(year: int, statuses: tuple[str, ...] = ("planned", "planned")) -> str:
    items = "".join(f"  - text: 承诺事项{n}\n    status: {s}\n" for n, s in enumerate(statuses))
    return f"---\nbranch: branch\nyear: {year}\nitems:\n{items}---\n承诺书正文。\n"


def big(size_mb: float) -> bytes:
    return b"\0" * int(size_mb * MB)


def make(root: Path, files: dict[str, str | bytes]) -> Path:
    texts = {k: v for k, v in files.items() if isinstance(v, str)}
    source = write_site(root / "src", texts)
    for rel, data in files.items():
        if isinstance(data, bytes):
            (source / rel).parent.mkdir(parents=True, exist_ok=True)
            (source / rel).write_bytes(data)
    return source


def run_json(source: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, Any]:
    code = main(["check", str(source), "--format", "json", *flags])
    out = capsys.readouterr().out
    return code, json.loads(out)


def run_text(source: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, str]:
    code = main(["check", str(source), *flags])
    return code, capsys.readouterr().out


# (files, expected code, file, line, field, severity)
CASES: dict[str, tuple[dict[str, str | bytes], str, str, int, str, str]] = {
    "broken link": (
        {
            "profiles/2025/a.md": profile(
                extra=PHOTO, body="第一段。\n\n见[李华](../2024/li.md)。"
            ),
            "profiles/2025/p.jpg": b"jpeg",
        },
        "broken-link",
        "profiles/2025/a.md",
        10,
        "",
        "warning",
    ),
    "broken image": (
        {
            "profiles/2025/a.md": profile(extra=PHOTO, body="正文。\n![合影](images/team.jpg)"),
            "profiles/2025/p.jpg": b"jpeg",
        },
        "broken-image",
        "profiles/2025/a.md",
        9,
        "",
        "warning",
    ),
    "link to a draft": (
        {
            "profiles/2025/a.md": profile(extra=PHOTO, body="见[李华](b.md)。"),
            "profiles/2025/b.md": profile(name="李华", extra=PHOTO + "draft: true\n"),
            "profiles/2025/p.jpg": b"jpeg",
        },
        "link-unpublished",
        "profiles/2025/a.md",
        8,
        "",
        "warning",
    ),
    "missing photo file": (
        {"profiles/2025/a.md": profile(extra="photo: nope.jpg\n")},
        "missing-asset",
        "profiles/2025/a.md",
        6,
        "photo",
        "error",
    ),
    "large photo": (
        {"profiles/2025/a.md": profile(extra=PHOTO), "profiles/2025/p.jpg": big(2.5)},
        "large-photo",
        "profiles/2025/a.md",
        6,
        "photo",
        "warning",
    ),
    "large body image": (
        {
            "profiles/2025/a.md": profile(extra=PHOTO, body="![现场](/static/images/site.jpg)"),
            "profiles/2025/p.jpg": b"jpeg",
            "static/images/site.jpg": big(3),
        },
        "large-image",
        "profiles/2025/a.md",
        8,
        "",
        "warning",
    ),
    "large attachment": (
        {
            "reports/2025/r.md": report(extra="attachments:\n  - small.pdf\n  - big.pdf\n"),
            "reports/2025/small.pdf": b"%PDF",
            "reports/2025/big.pdf": big(5.5),
        },
        "large-attachment",
        "reports/2025/r.md",
        8,
        "attachments.1",
        "warning",
    ),
    "profile without photo": (
        {"profiles/2025/a.md": profile()},
        "profile-without-photo",
        "profiles/2025/a.md",
        2,
        "",
        "info",
    ),
    "pledge never started": (
        # the site's current year is the newest with content: 2021, so 2020 is over
        {"pledges/2020/branch.md": pledge(2020), "pledges/2021/branch.md": pledge(2021)},
        "pledge-not-started",
        "pledges/2020/branch.md",
        4,
        "items",
        "warning",
    ),
    "speaker without profile": (
        {
            "profiles/2025/a.md": profile(extra=PHOTO),
            "profiles/2025/p.jpg": b"jpeg",
            "reports/2025/r.md": report(speakers=("王进喜", "李四")),
        },
        "speaker-without-profile",
        "reports/2025/r.md",
        7,
        "speakers.1",
        "info",
    ),
    "honoured twice": (
        {
            "profiles/2025/a.md": profile(extra=PHOTO),
            "profiles/2025/b.md": profile(honors="[优秀共产党员]", extra=PHOTO),
            "profiles/2025/p.jpg": b"jpeg",
        },
        "duplicate-honoree",
        "profiles/2025/b.md",
        2,
        "name",
        "warning",
    ),
    "unknown unit": (
        {"profiles/2025/a.md": profile(unit="nowhere")},
        "unknown-unit",
        "profiles/2025/a.md",
        3,
        "unit",
        "error",
    ),
    "unknown field": (
        {"profiles/2025/a.md": profile(extra=PHOTO + "unti: x\n"), "profiles/2025/p.jpg": b"j"},
        "unknown-field",
        "profiles/2025/a.md",
        7,
        "unti",
        "warning",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_finding_in_json(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files, code, file, line, field, severity = CASES[case]
    source = make(tmp_path, files)
    status, data = run_json(source, capsys)
    assert set(data) == {"findings", "errors", "warnings", "infos"}
    assert all(set(f) == JSON_KEYS for f in data["findings"])
    matching = [f for f in data["findings"] if f["code"] == code]
    assert len(matching) == 1, data["findings"]
    found = matching[0]
    assert (found["file"], found["line"], found["field"], found["severity"]) == (
        file,
        line,
        field,
        severity,
    )
    assert found["message"] and found["hint"]
    assert found["message"].isascii() is False  # worded in the site's language (zh-CN)
    positions = [(f["file"], f["line"], f["column"]) for f in data["findings"]]
    assert positions == sorted(positions)
    plural = {"error": "errors", "warning": "warnings", "info": "infos"}
    for name, key in plural.items():
        assert data[key] == sum(f["severity"] == name for f in data["findings"])
    # exit codes: errors fail; warnings only with --strict; notes never
    assert status == (1 if severity == "error" else 0)
    strict, _ = run_json(source, capsys, "--strict")
    assert strict == (1 if severity in ("error", "warning") else 0)


@pytest.mark.parametrize("case", list(CASES))
def test_each_finding_in_text(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files, _code, file, line, _field, severity = CASES[case]
    source = make(tmp_path, files)
    status, out = run_text(source, capsys)
    assert f"{file}:{line}: {LABELS[severity]}: " in out
    assert "修改方法：" in out
    assert out.rstrip().splitlines()[-1].startswith("检查完毕：")
    assert status == (1 if severity == "error" else 0)
    strict, strict_out = run_text(source, capsys, "--strict")
    assert strict == (1 if severity in ("error", "warning") else 0)
    if severity == "warning":
        assert "--strict" in strict_out


def test_a_link_is_reported_at_its_own_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = "见[甲](x.md)。\n\n又见[乙](x.md)和[丙](y.md)。"
    source = make(
        tmp_path,
        {"profiles/2025/a.md": profile(extra=PHOTO, body=body), "profiles/2025/p.jpg": b"j"},
    )
    _status, data = run_json(source, capsys)
    links = [(f["line"], f["column"], f["message"]) for f in data["findings"]]
    assert [(line, column) for line, column, _m in links] == [(8, 6), (10, 7), (10, 17)]
    assert "x.md" in links[0][2] and "y.md" in links[2][2]


def test_links_that_resolve_are_not_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = "\n".join(
        [
            "[李华](../2024/li.md) [章程](/pages/rules.md) [评选](../../pages/rules.md)",
            "[页面](../../2024/li-hua/) [年份](/years/2025/) [单位](/units/branch/index.html)",
            "[外部](https://example.org/) [邮件](mailto:a@b.cn) [本页](#top) [附件](files/a.pdf)",
            "![合影](team.jpg) ![图](images/x.jpg) ![主题](../../../assets/css/site.css)",
            "`[代码](nowhere.md)`",
        ]
    )
    source = make(
        tmp_path,
        {
            "profiles/2025/a.md": profile(extra=PHOTO, body=body),
            "profiles/2025/p.jpg": b"j",
            "profiles/2025/team.jpg": b"j",
            "profiles/2024/li.md": profile(name="李华", year=2024, extra="photo: l.jpg\n"),
            "profiles/2024/l.jpg": b"j",
            "pages/rules.md": "---\ntitle: 评选办法\nslug: rules\n---\n正文\n",
            "static/images/x.jpg": b"j",
            "static/files/a.pdf": b"%PDF",
        },
    )
    status, data = run_json(source, capsys, "--strict")
    assert data["findings"] == [], data["findings"]
    assert status == 0


def test_namesakes_in_different_units_are_different_people(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = make(
        tmp_path,
        {
            "profiles/2025/a.md": profile(extra=PHOTO),
            "profiles/2025/b.md": profile(unit="other-branch", extra=PHOTO),
            "profiles/2024/c.md": profile(year=2024, extra=PHOTO),
            "profiles/2025/p.jpg": b"j",
            "profiles/2024/p.jpg": b"j",
        },
    )
    status, data = run_json(source, capsys, "--strict")
    assert (status, data["findings"]) == (0, [])


def test_a_started_or_current_pledge_is_fine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = make(tmp_path, {"pledges/2020/branch.md": pledge(2020, ("planned", "done"))})
    status, data = run_json(source, capsys, "--strict")
    assert (status, data["findings"]) == (0, [])


def test_over_means_before_the_site_s_current_year_as_on_the_pages(tmp_path: Path) -> None:
    source = make(tmp_path, {"pledges/2025/branch.md": pledge(2025)})
    during = checks.findings(analyse(source))  # 2025 is the current year: not over
    assert [d.code for d in during] == []
    (source / "site.yaml").write_text(SITE_YAML + "current_year: 2026\n", encoding="utf-8")
    analysis = analyse(source)
    after = checks.findings(analysis)
    assert [(d.code, d.line, d.field) for d in after] == [("pledge-not-started", 4, "items")]
    # the pages count the same items as overdue
    (pledge_item,) = analysis.site.pledges
    assert stats.of_pledge(pledge_item, analysis.site.config.current_year).overdue == 2


def test_size_thresholds_are_module_constants(tmp_path: Path) -> None:
    source = make(
        tmp_path,
        {
            "profiles/2025/a.md": profile(extra=PHOTO),
            "profiles/2025/p.jpg": big(1.5),
            "reports/2025/r.md": report(extra="attachments: a.pdf\n"),
            "reports/2025/a.pdf": big(4),
        },
    )
    analysis = analyse(source)
    assert checks.findings(analysis) == ()
    old = checks.IMAGE_LIMIT_MB, checks.ATTACHMENT_LIMIT_MB
    try:
        checks.IMAGE_LIMIT_MB, checks.ATTACHMENT_LIMIT_MB = 1, 3
        found = {(d.code, d.field): d.param_dict() for d in checks.findings(analysis)}
    finally:
        checks.IMAGE_LIMIT_MB, checks.ATTACHMENT_LIMIT_MB = old
    assert found[("large-photo", "photo")]["size"] == "1.5"
    assert found[("large-attachment", "attachments")] == {
        "name": "a.pdf",
        "size": "4.0",
        "limit": "3",
    }


def test_drafts_are_checked_only_with_drafts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = make(tmp_path, {"profiles/2025/a.md": profile(extra="draft: true\n")})
    assert run_json(source, capsys)[1]["findings"] == []
    _status, data = run_json(source, capsys, "--drafts")
    assert [f["code"] for f in data["findings"]] == ["profile-without-photo"]


def test_english_site_gets_english_messages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = make(tmp_path, {"profiles/2025/a.md": profile()})
    (source / "site.yaml").write_text("title: Showcase\nlanguage: en\n", encoding="utf-8")
    _status, data = run_json(source, capsys)
    assert data["findings"][0]["message"] == "The model worker “王进喜” has no photo yet."
    _status, out = run_text(source, capsys)
    assert "profiles/2025/a.md:2: note: " in out


def test_clean_site_and_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = make(
        tmp_path, {"profiles/2025/a.md": profile(extra=PHOTO), "profiles/2025/p.jpg": b"j"}
    )
    assert run_text(source, capsys, "--strict") == (0, "检查完毕，没有发现问题。\n")
    assert main(["check", str(tmp_path / "nowhere")]) == 2
    assert "找不到网站目录" in capsys.readouterr().err


def test_the_example_site_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "site_content"
    shutil.copytree(EXAMPLE, source)
    status, data = run_json(source, capsys)
    assert status == 0
    assert data["errors"] == 0
    assert not [f for f in data["findings"] if f["severity"] == "error"]
    status, out = run_text(source, capsys)
    assert status == 0 and "0个错误" in out
    # usable in CI: the shipped example passes the strict check
    assert main(["check", str(source), "--strict"]) == 0, capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# the output paths that links written as URLs are checked against


def _pages_of(out: Path, copied: set[str]) -> set[str]:
    """The pages of a built output folder: every file but the copied ones and the marker."""
    found = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    copies = ("assets/", "photos/", "editions/2")  # theme files, resized photos, editions
    return {rel for rel in found - copied if not rel.startswith(copies)} - {".showcase-build"}


def test_page_paths_are_the_pages_of_the_example_site() -> None:
    analysis = analyse(EXAMPLE)
    golden = Path(__file__).parent / "golden_site"
    expected = _pages_of(golden, set(analysis.plan.assets.values()))
    assert len(expected) > 50
    assert checks.page_paths(analysis.site, analysis.plan) == expected


def test_page_paths_are_the_pages_of_a_small_site(tmp_path: Path) -> None:
    files = {
        "profiles/2025/a.md": profile("王进喜", extra="tags: [石油, 铁人]\n"),
        "profiles/2025/b.md": profile("李华", unit="other-branch"),
        "profiles/2024/c.md": profile("张三", year=2024, extra="tags: [石油]\n"),
        "reports/2025/r.md": report(),
        "pledges/2024/p.md": pledge(2024),
        "pages/about.md": "---\ntitle: 关于\n---\n关于本站。\n",
        "editions/2023/index.html": "<p>2023</p>\n",
        "editions/2023/manifest.json": json.dumps(
            {"files": {"index.html": hashlib.sha256(b"<p>2023</p>\n").hexdigest()}}
        ),
    }
    source = write_site(tmp_path / "src", files)
    out = tmp_path / "out"
    report_ = build(BuildOptions(source=source, output=out))
    assert report_.ok, report_.diagnostics
    analysis = analyse(source)
    assert analysis.site.editions == (2023,)
    expected = _pages_of(out, set(analysis.plan.assets.values()))
    assert "profiles/page/2/index.html" in expected and "editions/index.html" in expected
    assert checks.page_paths(analysis.site, analysis.plan) == expected


def test_a_report_filed_for_a_new_year_notes_that_the_home_page_loses_its_honour_roll(
    tmp_path: Path,
) -> None:
    early = "---\ntitle: 经验交流\nunit: branch\ndate: 2026-03-05\n---\n正文\n"
    files = {"profiles/2025/a.md": profile(), "reports/2026/early.md": early}
    source = write_site(tmp_path / "site", files)
    assert build(BuildOptions(source=source, output=tmp_path / "out")).diagnostics == ()
    found = [d for d in checks.findings(analyse(source)) if d.code.startswith("current-year")]
    assert [(d.path, d.line, d.severity.value) for d in found] == [
        ("reports/2026/early.md", 4, "info")  # a note: it fails no check, even --strict
    ]
    shown = checks.as_text(found, "zh-CN", source, False)
    assert "2026年还没有先进典型" in shown and "current_year: 2025" in shown
    pinned = write_site(tmp_path / "pinned", files, site_yaml=SITE_YAML + "current_year: 2025\n")
    assert not [d for d in checks.findings(analyse(pinned)) if d.code.startswith("current-year")]
    pledge = (
        "---\nbranch: branch\nyear: 2026\nitems:\n  - text: 建成示范岗\n    status: planned\n---\n"
    )
    pledged = write_site(tmp_path / "pledged", {**files, "pledges/2026/p.md": pledge})
    assert not [d for d in checks.findings(analyse(pledged)) if d.code.startswith("current-year")]


def test_many_notes_of_one_kind_are_counted_after_the_first_few_and_warnings_come_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {f"profiles/2025/p{n}.md": profile(name=f"王{'一二三四五六七八'[n]}") for n in range(8)}
    files["profiles/2025/bad.md"] = profile(name="李华", extra="phot: li.jpg\n")
    source = write_site(tmp_path / "site", files)
    code, out = run_text(source, capsys)
    assert code == 0
    lines = out.splitlines()
    photo_notes = [line for line in lines if "还没有照片" in line]
    assert len(photo_notes) == checks.NOTES_SHOWN  # of 9
    assert "同类提示还有4条没有列出" in out and "--all" in out
    warning = next(i for i, line in enumerate(lines) if "phot" in line)
    assert warning < lines.index(photo_notes[0])  # the warning is not buried under notes
    assert "检查完毕：0个错误，1个警告，9条提示。" in out
    code, every = run_text(source, capsys, "--all")
    assert len([line for line in every.splitlines() if "还没有照片" in line]) == 9
    assert "同类提示还有" not in every
