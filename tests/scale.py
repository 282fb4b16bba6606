"""A generated 5,000-document site for the tests at scale: written with the corpus generator
(``tests/vendor/corpus/make_corpus.py``, a copy of ``../shared/make_corpus.py`` so that the
suite runs on a clean clone) and built once per test session.

    python3 -m tests.scale OUT   # writes and builds the same site into OUT/site and OUT/public
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from generator.base.config import BuildOptions
from generator.build import BuildReport, build

VENDOR = Path(__file__).resolve().parent / "vendor" / "corpus"
MAKE_CORPUS = VENDOR / "make_corpus.py"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "make_corpus.py"
DOCUMENTS = 5000
SEED = 1


def write_corpus(target: Path, documents: int = DOCUMENTS, seed: int = SEED) -> Path:
    """The generated site's sources in ``target`` (which must not exist or be empty)."""
    subprocess.run(
        [
            sys.executable,
            str(MAKE_CORPUS),
            str(target),
            "--pages",
            str(documents),
            "--seed",
            str(seed),
            "--format",
            "native",
        ],
        check=True,
        capture_output=True,
    )
    return target


def build_scale_site(work: Path, documents: int = DOCUMENTS) -> tuple[BuildReport, Path, Path]:
    """Write and build the generated site: (report, source folder, output folder)."""
    source = write_corpus(work / "site", documents)
    out = work / "public"
    report = build(BuildOptions(source=source, output=out))
    return report, source, out


if __name__ == "__main__":
    result, _, folder = build_scale_site(Path(sys.argv[1]))
    print(folder, "ok" if result.ok else result.diagnostics)
