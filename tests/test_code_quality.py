"""The pipeline's import direction, the translation catalogs, and ruff and mypy."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys

import jinja2
import pytest
import yaml

from generator import messages
from tests.conftest import ROOT

# Each module may import only modules listed after it (see ARCHITECTURE.md).
ORDER = [
    "cli",
    "scaffold",
    "checks",
    "serve",
    "compile",
    "edition",
    "build",
    "reporting",
    "writer",
    "pool",
    "deps",
    "images",
    "render",
    "charts",
    "stats",
    "search",
    "theme",
    "markup",
    "urls",
    "model",
    "loader",
    "history",
    "schema",
    "frontmatter",
    "hanzi",
    "messages",
    "config",
    "cache",
    "errors",
]
ALLOWED_ANYWHERE = {"generator"}  # the package itself, for __version__


def imports_of(path: str) -> set[str]:
    tree = ast.parse((ROOT / "generator" / f"{path}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("generator"):
            if node.module == "generator":
                found.update(alias.name for alias in node.names)
            else:
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(
                a.name.split(".")[1] for a in node.names if a.name.startswith("generator.")
            )
    return found


def test_every_module_is_placed_in_the_pipeline() -> None:
    modules = {p.stem for p in (ROOT / "generator").glob("*.py")} - {"__init__", "__main__"}
    assert modules == set(ORDER)


@pytest.mark.parametrize("module", ORDER)
def test_imports_point_down_the_pipeline(module: str) -> None:
    allowed = set(ORDER[ORDER.index(module) + 1 :]) | {"__version__", "themes"}
    wrong = imports_of(module) - allowed
    assert not wrong, f"generator/{module}.py imports {wrong} against the pipeline's direction"


def theme_msgids() -> set[str]:
    env = jinja2.Environment(extensions=["jinja2.ext.i18n"])
    ids: set[str] = set()
    for template in (ROOT / "themes/default/templates").iterdir():
        source = template.read_text(encoding="utf-8")
        for _line, _func, message in env.extract_translations(source):
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
    for path in (ROOT / "generator").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        used.update(re.findall(r'(?:error|warning)\([^()]*?"([a-z]+(?:-[a-z]+)+)"', text, re.S))
    used.update(
        re.findall(
            r'"(output-[a-z-]+)"', (ROOT / "generator/writer.py").read_text(encoding="utf-8")
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
