"""The layers (import-linter contracts), the translation catalogs, and ruff and mypy."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys

import jinja2
import pytest
import yaml

from generator.base import messages
from generator.kinds.registry import BUILT_IN
from tests.conftest import ROOT

PACKAGES = ("base", "content", "kinds", "site", "pages", "output", "importing", "cli")


def test_every_module_is_in_a_layer() -> None:
    """Only the orchestrator and the package's entry points sit outside the layer packages."""
    loose = {p.stem for p in (ROOT / "generator").glob("*.py")}
    assert loose == {"__init__", "__main__", "build"}
    for package in PACKAGES:
        assert (ROOT / "generator" / package / "__init__.py").is_file(), package


def test_import_linter_contracts_hold() -> None:
    """The layers of pyproject.toml's [tool.importlinter]: each package imports only those
    below it, and the model and page families stay free of I/O and templates."""
    result = subprocess.run(
        [*tool("lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def theme_msgids() -> set[str]:
    env = jinja2.Environment(extensions=["jinja2.ext.i18n"])
    ids: set[str] = set()
    for template in (ROOT / "themes/default/templates").iterdir():
        source = template.read_text(encoding="utf-8")
        for _line, _func, message in env.extract_translations(source):
            # a message given by a variable (a kind's label) is checked where it is declared
            if message is None:
                continue
            ids.update(
                [message]
                if isinstance(message, str)
                else [m for m in message if isinstance(m, str)]
            )
    return ids


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_theme_catalog_translates_every_visible_string(language: str) -> None:
    catalog = yaml.safe_load(
        (ROOT / f"themes/default/i18n/{language}.yaml").read_text(encoding="utf-8")
    )
    msgids = theme_msgids()
    assert msgids
    missing = sorted(msgids - set(catalog))
    assert not missing, f"{language}: no translation for {missing}"
    for msgid in msgids:
        assert sorted(re.findall(r"%\(\w+\)", msgid)) == sorted(
            re.findall(r"%\(\w+\)", catalog[msgid])
        ), msgid


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_every_kind_label_is_translated(language: str) -> None:
    catalog = yaml.safe_load(
        (ROOT / f"themes/default/i18n/{language}.yaml").read_text(encoding="utf-8")
    )
    missing = [kind.label for kind in BUILT_IN if kind.label not in catalog]
    assert not missing, missing


def test_editor_catalogs_have_the_same_messages() -> None:
    zh, en = messages.catalog("zh-CN"), messages.catalog("en")
    assert set(zh) == set(en)
    for code, entry in zh.items():
        for part, text in entry.items():
            assert sorted(re.findall(r"\{\w+\}", text)) == sorted(
                re.findall(r"\{\w+\}", en[code].get(part, ""))
            ), (code, part)


def test_every_diagnostic_code_in_the_code_has_a_message() -> None:
    zh = messages.catalog("zh-CN")
    used: set[str] = set()
    for path in (ROOT / "generator").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        used.update(re.findall(r'(?:error|warning)\([^()]*?"([a-z]+(?:-[a-z]+)+)"', text, re.S))
    used.update(
        re.findall(
            r'"(output-[a-z-]+)"', (ROOT / "generator/output/writer.py").read_text(encoding="utf-8")
        )
    )
    assert used
    assert not used - set(zh), used - set(zh)


def tool(name: str) -> list[str]:
    path = shutil.which(name)
    return [path] if path else [sys.executable, "-m", name]


def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [*tool("ruff"), "check", "generator", "tests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


MAX_FUNCTION_LINES = 60


def test_no_function_is_longer_than_sixty_lines() -> None:
    """ruff checks complexity (C901) and statements (PLR0915); this checks the length."""
    long: list[str] = []
    for path in sorted((ROOT / "generator").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length})")
    assert not long, long


ISSUE_LABEL = re.compile(r"\b(?:issue|Issue)\s+#?\d+|\(#\d+\)")


def test_comments_say_what_the_code_does_not_which_issue_asked() -> None:
    folders = ("generator", "themes", "tests", "benchmarks")
    found = []
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*")):
            if "golden_site" in path.parts or "vendor" in path.parts or not path.is_file():
                continue
            if {".venv", "work"} & set(path.relative_to(ROOT).parts[:2]):
                continue  # the benchmarks' own environment and corpora (git-ignored)
            if path.suffix not in {".py", ".html", ".js", ".css", ".yaml", ".xml", ".txt"}:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            for number, line in enumerate(text.splitlines(), start=1):
                if ISSUE_LABEL.search(line) and "ISSUE_LABEL" not in line:
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)
