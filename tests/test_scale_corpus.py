"""The generated site the tests at scale build on."""

from __future__ import annotations

from pathlib import Path

from tests.scale import MAKE_CORPUS, SHARED, VENDOR


def test_vendored_generator_matches_the_shared_one_where_both_exist() -> None:
    """The copy in tests/vendor/corpus is the shared generator; refresh it when that changes."""
    assert MAKE_CORPUS.is_file() and (VENDOR / "corpus-seed.txt").is_file()
    if SHARED.is_file():
        assert MAKE_CORPUS.read_bytes() == SHARED.read_bytes(), "cp ../shared/make_corpus.py"
        seed = SHARED.parent / "corpus-seed.txt"
        assert (VENDOR / "corpus-seed.txt").read_bytes() == seed.read_bytes()


def test_the_scale_site_builds_every_document(scale_build: tuple[Path, Path]) -> None:
    source, out = scale_build
    sources = list(source.rglob("*.md"))
    assert len(sources) >= 5000
    kinds = ("profiles", "reports", "pledges")
    details = [p for kind in kinds for p in (out / kind).rglob("*.html")]
    assert len(details) >= 5000
