"""The example site builds byte for byte into the golden tree (tests/golden_site/).

After an intended change to the output, regenerate the tree with ``python3 -m tests.golden``
and commit it with the change, so the diff shows what changed for readers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.golden import GOLDEN, differences, files_of


def test_golden_tree_is_present() -> None:
    assert len(files_of(GOLDEN)) > 100


def test_example_site_matches_the_golden_tree(example_build: Path) -> None:
    changes = differences(example_build)
    assert not changes, (
        f"{len(changes)} output file(s) differ from tests/golden_site/ "
        "(regenerate with `python3 -m tests.golden` if the change is intended):\n"
        + "\n".join(changes[:10])
    )


def test_the_comparison_sees_a_changed_byte(example_build: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(example_build, copy)
    page = copy / "index.html"
    page.write_bytes(page.read_bytes().replace(b"</body>", b"<p>x</p></body>"))
    (copy / "extra.txt").write_text("x", encoding="utf-8")
    changes = differences(copy)
    assert any("index.html" in c and "+" in c for c in changes)
    assert "only in the build: extra.txt" in changes
