"""The golden output tree of the example site: ``tests/golden_site/`` holds, byte for byte,
what ``showcase build`` makes of ``site_content/``. The test suite compares a fresh build with
it, so every change to the output shows up as a diff in review.

Regenerate it after an intended output change (and explain the change in the commit)::

    python3 -m tests.golden
"""

from __future__ import annotations

import difflib
import os
import shutil
import sys
import tempfile
from pathlib import Path

from generator.base.config import BuildOptions
from generator.build import BuildReport, build

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "site_content"
GOLDEN = Path(__file__).resolve().parent / "golden_site"
# files that no date field names are dated by their file time outside git, capped by this
SOURCE_DATE_EPOCH = "1735689600"  # 2025-01-01


def build_example(work: Path) -> tuple[BuildReport, Path]:
    """Build a copy of the example site (outside git, no cache) into ``work/public``."""
    source = work / "site_content"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns(".showcase-cache"))
    out = work / "public"
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = SOURCE_DATE_EPOCH
    try:
        report = build(BuildOptions(source=source, output=out))
    finally:
        if previous is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous
    return report, out


def files_of(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}


def differences(built: Path, golden: Path = GOLDEN, context: int = 2) -> list[str]:
    """What differs between a built tree and the golden one, as readable lines."""
    have, want = files_of(built), files_of(golden)
    out = [f"only in the build: {rel}" for rel in sorted(set(have) - set(want))]
    out += [f"missing from the build: {rel}" for rel in sorted(set(want) - set(have))]
    for rel in sorted(set(have) & set(want)):
        new, old = have[rel].read_bytes(), want[rel].read_bytes()
        if new == old:
            continue
        try:
            diff = difflib.unified_diff(
                old.decode("utf-8").splitlines(),
                new.decode("utf-8").splitlines(),
                f"golden/{rel}",
                f"built/{rel}",
                n=context,
                lineterm="",
            )
            out.append("\n".join(list(diff)[:40]))
        except UnicodeDecodeError:
            out.append(f"binary file differs: {rel}")
    return out


def update() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        report, out = build_example(Path(tmp))
        if not report.ok:
            print(report.diagnostics, file=sys.stderr)
            return 1
        changes = differences(out)
        if GOLDEN.exists():
            shutil.rmtree(GOLDEN)
        shutil.copytree(out, GOLDEN)
    print(f"{GOLDEN.relative_to(ROOT)}: {len(files_of(GOLDEN))} files, {len(changes)} changed")
    for change in changes[:40]:
        print(change.splitlines()[0])
    if len(changes) > 40:
        print(f"... and {len(changes) - 40} more")
    return 0


if __name__ == "__main__":
    raise SystemExit(update())
