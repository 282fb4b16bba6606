"""Nothing unfinished goes live: ``showcase new`` writes drafts, and a published file that
still holds one of its bracketed notes is an error naming the file and the line."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from generator.base.config import BuildOptions
from generator.build import build
from generator.cli.main import main
from generator.site import placeholders
from tests.conftest import profile, write_site

NEW = {
    "profile": (
        "profiles/2025/zhang-xiu-lan.md",
        "--name",
        "张秀兰",
        "--unit",
        "branch",
        "--year",
        "2025",
    ),
    "report": (
        "reports/2025/jie-neng-jiang-hao.md",
        "--title",
        "节能降耗",
        "--unit",
        "plant",
        "--date",
        "2025-07-15",
    ),
    "pledge": ("pledges/2025/other-branch.md", "--branch", "other-branch", "--year", "2025"),
    "page": ("pages/about.md", "--title", "关于本站", "--slug", "about"),
}
BRACKETED = re.compile(r"（[^）\n]*）")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    return write_site(tmp_path / "src", {"profiles/2024/wang.md": profile(year=2024)})


def created(site: Path, kind: str) -> Path:
    rel, *args = NEW[kind]
    assert main(["new", kind, *args, "--source", str(site)]) == 0
    return site / rel


def output_of(site: Path, rel: str) -> Path:
    return Path(rel).with_suffix("") / "index.html"


@pytest.mark.parametrize("kind", sorted(NEW))
def test_a_new_file_is_a_draft_and_not_published(site: Path, tmp_path: Path, kind: str) -> None:
    path = created(site, kind)
    assert "\ndraft: true\n" in path.read_text(encoding="utf-8")
    report = build(BuildOptions(source=site, output=tmp_path / "out"))
    assert report.ok and not report.diagnostics, report.diagnostics
    assert not (tmp_path / "out" / output_of(site, NEW[kind][0])).exists()


@pytest.mark.parametrize("kind", sorted(NEW))
def test_a_published_file_with_placeholders_is_an_error(
    site: Path, tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = created(site, kind)
    text = path.read_text(encoding="utf-8").replace("\ndraft: true\n", "\n")
    path.write_text(text, encoding="utf-8")
    report = build(BuildOptions(source=site, output=tmp_path / "out"))
    found = [d for d in report.diagnostics if d.code == "placeholder-left"]
    assert not report.ok and found
    lines = text.split("\n")
    for problem in found:
        assert problem.path == NEW[kind][0] and problem.is_error
        quoted = problem.param_dict()["text"].rstrip("…")
        assert quoted in lines[problem.line - 1]  # the line that holds the note
    body_notes = [n for n, line in enumerate(lines, 1) if line.startswith("（")]
    assert body_notes and set(body_notes) <= {d.line for d in found}
    capsys.readouterr()
    assert main(["check", str(site)]) == 1
    printed = capsys.readouterr()
    shown = printed.out + printed.err
    assert f"{NEW[kind][0]}:{found[0].line}:" in shown and "还没有填写" in shown


@pytest.mark.parametrize("kind", sorted(NEW))
def test_a_filled_in_file_is_published(site: Path, tmp_path: Path, kind: str) -> None:
    path = created(site, kind)
    text = path.read_text(encoding="utf-8").replace("\ndraft: true\n", "\n")
    path.write_text(BRACKETED.sub("实际内容", text), encoding="utf-8")
    report = build(BuildOptions(source=site, output=tmp_path / "out"))
    assert report.ok, report.diagnostics
    assert not [d for d in report.diagnostics if d.code == "placeholder-left"]
    assert (tmp_path / "out" / output_of(site, NEW[kind][0])).is_file()


def test_every_language_s_notes_are_found() -> None:
    rx = placeholders.pattern()
    assert rx.search(
        "（用一两段话介绍张秀兰同志：岗位、工作年限和主要荣誉。没有写摘要时，"
        "这一段的开头就是列表页上的介绍。）"
    )
    assert rx.search("(The results in numbers.)")
    assert rx.search("（荣誉称号，例如 劳动模范）")
    assert not rx.search("（完）") and not rx.search("劳动模范")


def test_a_draft_with_errors_is_held_back_with_warnings_and_publishes_nothing(
    tmp_path: Path,
) -> None:
    """A draft whose unit is still the importer's note (no such unit) does not stop the
    build: its errors are told as warnings, with one more that it must be mended before it
    is published, and nothing of it is published (its page, its photo, a file its text
    shows). Built with ``--drafts``, the same errors stop the build."""
    draft = profile(name="王小明", unit="（所在单位：请填写）", extra="draft: true\nphoto: a.jpg\n")
    files = {
        "profiles/2025/ok.md": profile(name="李四", extra="photo: shared.jpg\n"),
        "profiles/2025/d.md": draft
        + "\n![图](b.txt) ![合影](shared.jpg) ![](/static/banner.txt)\n",
        "profiles/2025/d2.md": profile(name="赵六", unit="某队", extra="draft: 是\n"),
        "profiles/2025/a.jpg": "not shown",
        "profiles/2025/b.txt": "not shown",
        "profiles/2025/shared.jpg": "shown: the published profile's photo",
        "static/banner.txt": "shown: the site's own",
    }
    source = write_site(tmp_path / "site", files)
    out = tmp_path / "out"
    report = build(BuildOptions(source=source, output=out))
    assert report.ok
    told = [
        (d.code, d.severity.value, d.line) for d in report.diagnostics if d.path.endswith("d.md")
    ]
    assert ("unknown-unit", "warning", 3) in told and ("draft-unready", "warning", 6) in told
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert not any(
        name.endswith(("a.jpg", "b.txt")) or "wang-xiao-ming" in name for name in written
    )
    assert any("li-si" in name for name in written)
    assert {"profiles/2025/shared.jpg", "static/banner.txt"} <= written
    assert ("draft-unready", "warning", 6) in [
        (d.code, d.severity.value, d.line) for d in report.diagnostics if d.path.endswith("d2.md")
    ]
    drafts = build(BuildOptions(source=source, output=tmp_path / "with-drafts", drafts=True))
    assert not drafts.ok
    assert [(d.code, d.severity.value) for d in drafts.diagnostics if d.path.endswith("/d.md")] == [
        ("unknown-unit", "error")
    ]
