"""Input editors naturally type: Chinese pledge statuses, dates written 2025/6/18 or
2025年6月18日; and the rule that pledges are filed for party branches only."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

from generator.build import Modelled, model_site
from generator.cli.main import main
from generator.content.frontmatter import split
from tests.conftest import SITE_YAML, write_site

UNITS = """\
- id: group
  name: 华油集团
  kind: group
- id: plant
  name: 第一采油厂
  parent: group
  kind: plant
- id: branch
  name: 采油一队党支部
  parent: plant
  kind: branch
"""


def pledge(unit: str = "branch", statuses: tuple[str, ...] = ("done",), date: str = "") -> str:
    items = "".join(f"  - text: 第{n}项\n    status: {s}\n" for n, s in enumerate(statuses, 1))
    extra = f"date: {date}\n" if date else ""
    return f"---\nbranch: {unit}\nyear: 2025\n{extra}items:\n{items}---\n正文。\n"


def report(date: str) -> str:
    return f"---\ntitle: 经验交流\nunit: branch\ndate: {date}\n---\n正文。\n"


def modelled(tmp_path: Path, files: dict[str, str], site_yaml: str = SITE_YAML) -> Modelled:
    return model_site(write_site(tmp_path / "src", files, site_yaml, UNITS), drafts=False)


def test_chinese_pledge_statuses(tmp_path: Path) -> None:
    words = ("计划中", "进行中", "推进中", "已完成", "done")
    result = modelled(tmp_path, {"pledges/2025/p.md": pledge(statuses=words)})
    assert not result.diagnostics, result.diagnostics
    (item,) = result.site.pledges
    assert [i.status for i in item.items] == [
        "planned",
        "in_progress",
        "in_progress",
        "done",
        "done",
    ]


@pytest.mark.parametrize("written", ["2025-06-18", "2025/6/18", "2025年6月18日", "2025.6.18"])
def test_dates_as_editors_write_them(tmp_path: Path, written: str) -> None:
    result = modelled(tmp_path, {"reports/2025/r.md": report(written)})
    assert not result.diagnostics, result.diagnostics
    (item,) = result.site.reports
    assert item.date == dt.date(2025, 6, 18)


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("2025/2/30", "impossible-date"),
        ("2025/6-18", "expected-date"),
        ("6/18/2025", "expected-date"),
    ],
)
def test_wrong_dates_are_still_refused(tmp_path: Path, written: str, code: str) -> None:
    result = modelled(tmp_path, {"reports/2025/r.md": report(written)})
    codes = [d.code for d in result.diagnostics]
    assert codes == [code]


def test_a_pledge_only_for_a_branch(tmp_path: Path) -> None:
    result = modelled(tmp_path, {"pledges/2025/p.md": pledge(unit="plant")})
    (problem,) = result.diagnostics
    assert (problem.code, problem.line, problem.field) == ("wrong-unit-kind-pledge", 2, "branch")
    allowed = SITE_YAML + "pledge_unit_kinds: [branch, plant]\n"
    again = modelled(tmp_path / "2", {"pledges/2025/p.md": pledge(unit="plant")}, allowed)
    assert not again.diagnostics


def test_new_takes_chinese_dates_and_refuses_a_pledge_for_a_plant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    source = write_site(tmp_path / "src", {}, SITE_YAML, UNITS)
    args = ["new", "report", str(source), "--title", "节能", "--unit", "branch"]
    assert main([*args, "--date", "2025年7月15日", "--slug", "a"]) == 0
    assert main([*args, "--date", "2025/7/16", "--slug", "b"]) == 0
    for name, day in (("a", "2025-07-15"), ("b", "2025-07-16")):
        front, _ = split((source / f"reports/2025/{name}.md").read_text("utf-8"), "x")
        assert front is not None and front.meta["date"] == day
    capsys.readouterr()
    assert main(["new", "pledge", str(source), "--branch", "plant", "--year", "2025"]) == 1
    assert "不是党支部" in capsys.readouterr().err
    assert not (source / "pledges").exists()
