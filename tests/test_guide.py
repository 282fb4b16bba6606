"""The editors' guide runs as written: every ``showcase`` command of docs/publishing-guide.md
runs on a copy of the example site, its example file parses, its example link points at a
file that exists; and the Chinese field reference it links to is up to date."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from generator.cli import docs
from generator.content.frontmatter import split
from generator.kinds.registry import BUILT_IN
from tests.conftest import EXAMPLE, ROOT
from tests.test_import import clean_roster_xlsx, profile_docx, report_docx

GUIDE = ROOT / "docs" / "publishing-guide.md"
BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)
# the preview runs until Ctrl+C: started by tests/test_serve.py, not here
LONG_RUNNING = ("showcase serve",)


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(GUIDE.read_text("utf-8")) if lang == language]


def commands() -> list[list[str]]:
    found = []
    for body in blocks("sh"):
        for line in body.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("showcase ") and not line.startswith(LONG_RUNNING):
                found.append(shlex.split(line))
    return found


def test_the_guide_s_commands_run_on_the_example_site(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "site_content")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ran = commands()
    assert [c[:3] for c in ran] == [
        ["showcase", "new", "profile"],
        ["showcase", "check"],
        ["showcase", "import", "word"],
        ["showcase", "import", "roster"],
        ["showcase", "import", "roster"],
    ]
    _documents_of(ran, tmp_path)
    for command in ran:
        result = subprocess.run(
            [sys.executable, "-m", "generator", *command[1:]],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, (command, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
    assert (tmp_path / "site_content/profiles/2025/zhang-xiu-lan.md").is_file()
    assert (tmp_path / "site_content/profiles/2025/li-hong-mei.md").is_file()
    assert (tmp_path / "site_content/profiles/2025/sun-li-xin.md").is_file()


def _documents_of(commands: list[list[str]], folder: Path) -> None:
    """The Word documents and rosters the guide's import commands name, made as units send
    them (a profile of 李红梅, a report, a roster)."""
    for command in commands:
        for name in command[3:]:
            if name.endswith(".docx") and "交流" in name:
                report_docx(folder / name)
            elif name.endswith(".docx"):
                profile_docx(folder / name, "李红梅")
            elif name.endswith(".xlsx") and not (folder / name).exists():
                clean_roster_xlsx(folder / name)


def test_the_guide_s_example_file_parses_and_its_link_exists() -> None:
    (example,) = blocks("markdown")
    front, problems = split(example, "profiles/2025/zhang-xiu-lan.md")
    assert front is not None and not problems
    assert front.meta["unit"] in (EXAMPLE / "units.yaml").read_text("utf-8")
    links = re.findall(r"\]\((\.\./[^)]+\.md)\)", GUIDE.read_text("utf-8"))
    assert links
    for link in links:
        assert (EXAMPLE / "profiles/2025" / link).resolve().is_file(), link


def test_the_chinese_field_reference_is_up_to_date() -> None:
    assert docs.FIELDS_DOC.read_text("utf-8") == docs.fields_page(), (
        "run: python3 -m generator.cli.docs"
    )
    page = docs.fields_page()
    for kind in BUILT_IN:
        for attr, spec in kind.source_order():
            assert f"| `{spec.key or attr}` |" in page
    assert "(fields.md)" in GUIDE.read_text("utf-8")
