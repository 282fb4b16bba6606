"""``showcase new``: correctly named files that build as generated, checked values, no
overwriting, and prompts only on a terminal."""

from __future__ import annotations

import builtins
import datetime as dt
import sys
from pathlib import Path
from typing import Any

import pytest

from generator.base.config import BuildOptions
from generator.build import build
from generator.cli.main import main
from generator.content.frontmatter import split
from tests.conftest import SITE_YAML, profile, write_site


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny site; stdin is not a terminal unless a test says so."""
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    return write_site(tmp_path / "src", {"profiles/2024/wang.md": profile(year=2024)})


def new(site: Path, *args: str) -> int:
    return main(["new", *args, "--source", str(site)])


def meta(path: Path) -> dict[str, Any]:
    front, problems = split(path.read_text(encoding="utf-8"), path.name)
    assert front is not None and not problems
    return front.meta


def built(site: Path, tmp_path: Path) -> Path:
    """The site as the preview shows it (new files are drafts)."""
    out = tmp_path / "out"
    report = build(BuildOptions(source=site, output=out, drafts=True))
    assert report.ok, report.diagnostics
    assert not report.diagnostics, report.diagnostics  # not even a warning
    return out


def test_new_profile(site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = new(site, "profile", "--name", "张秀兰", "--unit", "branch", "--year", "2025")
    assert code == 0
    path = site / "profiles/2025/zhang-xiu-lan.md"
    out = capsys.readouterr().out
    assert path.as_posix() in out and "showcase serve" in out
    honour = "（荣誉称号，例如 劳动模范）"
    expected = {"name": "张秀兰", "unit": "branch", "year": "2025", "honors": [honour]}
    expected["draft"] = True
    assert meta(path) == expected
    text = path.read_text(encoding="utf-8")
    assert "# 姓名（必填）" in text and "# photo: zhang-xiu-lan.jpg" in text
    assert "unit: branch  # 采油一队党支部" in text
    assert "\n## " in text.split("\n---\n", 1)[1]  # the body suggests a structure
    html = (built(site, tmp_path) / "profiles/2025/zhang-xiu-lan/index.html").read_text("utf-8")
    assert "张秀兰" in html and honour in html


def test_new_profile_with_honours_and_year_from_site_yaml(site: Path, tmp_path: Path) -> None:
    (site / "site.yaml").write_text(SITE_YAML + "current_year: 2023\n", encoding="utf-8")
    args = ["--name", "欧阳明远", "--unit", "采油一队党支部"]  # a unit's full name works too
    assert new(site, "profile", *args, "--honor", "技术能手: 一级", "--honor", "#1 标兵") == 0
    path = site / "profiles/2023/ou-yang-ming-yuan.md"
    values = meta(path)
    assert values["honors"] == ["技术能手: 一级", "#1 标兵"] and values["unit"] == "branch"
    assert (built(site, tmp_path) / "profiles/2023/ou-yang-ming-yuan/index.html").is_file()


def test_new_report(site: Path, tmp_path: Path) -> None:
    title = "党建引领: 老油田焕发新活力——采油一队经验交流材料"
    assert new(site, "report", "--title", title, "--unit", "plant", "--date", "2025-07-15") == 0
    path = site / "reports/2025/dang-jian-yin-ling.md"
    assert meta(path) == {"title": title, "unit": "plant", "date": "2025-07-15", "draft": True}
    html = (built(site, tmp_path) / "reports/2025/dang-jian-yin-ling/index.html").read_text("utf-8")
    assert "老油田焕发新活力" in html


def test_new_report_with_slug_and_default_date(site: Path, tmp_path: Path) -> None:
    assert new(site, "report", "--title", "节能降耗", "--unit", "other", "--slug", "jieneng") == 0
    year = dt.date.today().year
    path = site / f"reports/{year}/jieneng.md"
    assert meta(path)["slug"] == "jieneng"
    assert (built(site, tmp_path) / f"reports/{year}/jieneng/index.html").is_file()


def test_new_pledge(site: Path, tmp_path: Path) -> None:
    assert new(site, "pledge", "--branch", "other-branch", "--year", "2025") == 0
    path = site / "pledges/2025/other-branch.md"
    values = meta(path)
    assert values["branch"] == "other-branch" and values["year"] == "2025"
    assert values["items"] == [{"text": values["items"][0]["text"], "status": "planned"}]
    html = (built(site, tmp_path) / "pledges/2025/other-branch/index.html").read_text("utf-8")
    assert "常减压车间党支部" in html


def test_new_page(site: Path, tmp_path: Path) -> None:
    assert new(site, "page", "--title", "评选办法") == 0
    path = site / "pages/ping-xuan-ban-fa.md"
    assert meta(path) == {"title": "评选办法", "slug": "ping-xuan-ban-fa", "draft": True}
    assert new(site, "page", "--title", "关于本站", "--slug", "about") == 0
    out = built(site, tmp_path)
    assert "评选办法" in (out / "pages/ping-xuan-ban-fa/index.html").read_text("utf-8")
    assert (out / "pages/about/index.html").is_file()


def test_english_site_gets_english_comments(site: Path) -> None:
    (site / "site.yaml").write_text(SITE_YAML.replace("zh-CN", "en"), encoding="utf-8")
    assert new(site, "page", "--title", "Rules") == 0
    text = (site / "pages/rules.md").read_text(encoding="utf-8")
    assert "# Title (required)" in text and "必填" not in text


def test_never_overwrites(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = site / "profiles/2025/wang-jin-xi.md"
    path.parent.mkdir(parents=True)
    path.write_text("mine", encoding="utf-8")
    assert new(site, "profile", "--name", "王进喜", "--unit", "branch", "--year", "2025") == 1
    assert path.read_text(encoding="utf-8") == "mine"
    err = capsys.readouterr().err
    assert path.as_posix() in err and "--slug" in err
    pledge = site / "pledges/2025/branch.md"
    assert new(site, "pledge", "--branch", "branch", "--year", "2025") == 0
    before = pledge.read_text(encoding="utf-8")
    assert new(site, "pledge", "--branch", "branch", "--year", "2025") == 1
    assert pledge.read_text(encoding="utf-8") == before


def test_namesake_keeps_the_existing_address(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # profiles/2024/wang.md holds 王进喜 with the derived slug wang-jin-xi
    assert new(site, "profile", "--name", "王进喜", "--unit", "other", "--year", "2024") == 0
    path = site / "profiles/2024/wang-jin-xi-2.md"
    assert meta(path)["slug"] == "wang-jin-xi-2"
    assert "profiles/2024/wang.md" in capsys.readouterr().err
    out = built(site, tmp_path)
    assert "采油一队党支部" in (out / "profiles/2024/wang-jin-xi/index.html").read_text("utf-8")
    assert (out / "profiles/2024/wang-jin-xi-2/index.html").is_file()
    # an explicit --slug that is taken is refused
    args = ["--name", "王进喜", "--unit", "other", "--year", "2024", "--slug", "wang-jin-xi"]
    assert new(site, "profile", *args) == 1
    assert not (site / "profiles/2024/wang-jin-xi.md").exists()


def test_unknown_unit(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert new(site, "profile", "--name", "张秀兰", "--unit", "branc", "--year", "2025") == 1
    err = capsys.readouterr().err
    assert "“branc”" in err and "units.yaml" in err and "“branch”" in err
    assert new(site, "pledge", "--branch", "other-brnach") == 1
    assert "“other-branch”" in capsys.readouterr().err
    # a part of several units' names: each of them
    assert new(site, "profile", "--name", "张秀兰", "--unit", "采油", "--year", "2025") == 1
    err = capsys.readouterr().err
    assert "共2个" in err and "plant（第一采油厂）" in err and "branch（采油一队党支部）" in err
    assert not (site / "profiles/2025").exists() and not (site / "pledges").exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["profile", "--name", "李华", "--unit", "branch", "--year", "25"], "“25”"),
        (["pledge", "--branch", "branch", "--year", "二〇二五"], "“二〇二五”"),
        (["report", "--title", "x", "--unit", "branch", "--date", "3/1/2025"], "“3/1/2025”"),
        (["report", "--title", "x", "--unit", "branch", "--date", "2025-02-30"], "不存在"),
        (["page", "--title", "规则", "--slug", "Rules"], "“Rules”"),
        (["page", "--title", "？？"], "--slug"),
    ],
)
def test_invalid_values(
    site: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    assert new(site, *args) == 1
    assert words in capsys.readouterr().err
    assert not any((site / folder).exists() for folder in ("reports", "pledges", "pages"))


def test_missing_flags_without_a_terminal(
    site: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_input(prompt: str = "") -> str:
        raise AssertionError("asked without a terminal")

    monkeypatch.setattr(builtins, "input", no_input)
    assert new(site, "profile", "--unit", "branch") == 2
    err = capsys.readouterr().err
    assert "--name" in err and "--unit" not in err.split("例如")[0]
    assert new(site, "report") == 2
    assert "--title、--unit" in capsys.readouterr().err
    assert not (site / "profiles/2025").exists() and not (site / "reports").exists()


def test_prompts_on_a_terminal(
    site: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    answers = iter(["", "张秀兰", "nowhere", "branch"])  # empty and unknown answers are asked again
    prompts: list[str] = []

    def fake_input(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr(builtins, "input", fake_input)
    assert new(site, "profile", "--year", "2025") == 0
    assert prompts == ["姓名：", "姓名：", *["所在单位（units.yaml 中的单位 id 或单位全称）："] * 2]
    assert "“nowhere”" in capsys.readouterr().err
    path = site / "profiles/2025/zhang-xiu-lan.md"
    assert meta(path)["unit"] == "branch"
    assert (built(site, tmp_path) / "profiles/2025/zhang-xiu-lan/index.html").is_file()


def test_prompt_cancelled(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)

    def eof(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr(builtins, "input", eof)
    assert new(site, "page") == 2
    assert not (site / "pages").exists()


def test_missing_source_and_kind(tmp_path: Path) -> None:
    assert main(["new", "page", "--title", "x", "--source", str(tmp_path / "nowhere")]) == 2
    assert main(["new"]) == 2


def test_bad_flags_are_reported_before_any_question(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)

    def no_input(prompt: str = "") -> str:
        raise AssertionError("asked although --year is wrong")

    monkeypatch.setattr(builtins, "input", no_input)
    assert new(site, "profile", "--year", "20025") == 1
    assert new(site, "profile", "--year", "2025", "--unit", "nowhere") == 1
