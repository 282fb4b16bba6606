"""Shared fixtures: the example site built once, and tiny sites written inline by tests."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from generator.base.config import BuildOptions
from generator.build import BuildReport, build
from tests.golden import build_example
from tests.scale import build_scale_site

ROOT = Path(__file__).resolve().parent.parent
# Debian's Chromium, installed by .ci/run; `playwright install` is never used
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EXAMPLE = ROOT / "site_content"

SITE_YAML = """\
title: 测试站点
campaign: 创先争优
language: zh-CN
page_size: 2
"""

UNITS_YAML = """\
- id: group
  name: 华油集团
  kind: group
- id: plant
  name: 第一采油厂
  parent: group
- id: branch
  name: 采油一队党支部
  parent: plant
- id: other
  name: 炼化公司
  parent: group
- id: other-branch
  name: 常减压车间党支部
  parent: other
"""


def profile(
    name: str = "王进喜",
    unit: str = "branch",
    year: int = 2025,
    honors: str = "[劳动模范]",
    extra: str = "",
    body: str = "正文。",
) -> str:
    return f"---\nname: {name}\nunit: {unit}\nyear: {year}\nhonors: {honors}\n{extra}---\n{body}\n"


def write_site(
    root: Path, files: dict[str, str], site_yaml: str = SITE_YAML, units_yaml: str = UNITS_YAML
) -> Path:
    """Write a small site: site.yaml, units.yaml and ``files`` (path -> text)."""
    root.mkdir(parents=True, exist_ok=True)
    all_files = {"site.yaml": site_yaml, "units.yaml": units_yaml, **files}
    for rel, text in all_files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text) if text.startswith("\n") else text, encoding="utf-8")
    return root


SiteBuilder = Callable[..., tuple[BuildReport, Path]]


@pytest.fixture
def make_site(tmp_path: Path) -> SiteBuilder:
    """Write a tiny site and build it; returns (report, output folder)."""

    def make(
        files: dict[str, str], drafts: bool = False, strict: bool = False, **kwargs: str
    ) -> tuple[BuildReport, Path]:
        source = write_site(tmp_path / "src", files, **kwargs)
        out = tmp_path / "out"
        report = build(BuildOptions(source=source, output=out, drafts=drafts, strict=strict))
        return report, out

    return make


@pytest.fixture(scope="session")
def example_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example site of the README, built once for the whole test session."""
    report, out = build_example(tmp_path_factory.mktemp("example"))
    assert report.ok, report.diagnostics
    return out


@pytest.fixture(scope="session")
def scale_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A generated 5,000-document site, built once for the whole test session:
    (source folder, output folder)."""
    report, source, out = build_scale_site(tmp_path_factory.mktemp("scale"))
    assert report.ok, report.diagnostics[:5]
    return source, out


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium for the tests of one module."""
    assert Path(CHROMIUM).exists(), "Chromium is installed by .ci/run (apt-get install chromium)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()
