"""Fingerprints taken over from build to build in one process (``Fingerprints.inherit``):
the reads whose answers hold a changed item are dropped, wherever they were computed, and
the rest are kept without being computed again."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.build import analyse
from generator.output import fingerprints
from generator.output.fingerprints import Fingerprints
from generator.pages.view import Read
from tests.conftest import profile, write_site


def _prints(src: Path) -> Fingerprints:
    analysis = analyse(src)
    return Fingerprints(analysis.site, analysis.plan, "g", {}, lambda name: name)


def _site(tmp_path: Path) -> tuple[Path, list[str]]:
    src = write_site(
        tmp_path / "src",
        {
            "profiles/2025/a.md": profile(),
            "profiles/2025/b.md": profile(name="李华"),
            "profiles/2024/c.md": profile(name="赵六", year=2024),
        },
    )
    keys = ["profiles/2025/a.md", "profiles/2025/b.md", "profiles/2024/c.md"]
    assert sorted(keys) == sorted(item.key for item in analyse(src).site.all_items())
    return src, keys


@pytest.mark.parametrize("wide", [1, fingerprints.WIDE_READ], ids=["listed apart", "indexed"])
def test_reads_holding_a_changed_item_are_dropped_from_build_to_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wide: int
) -> None:
    monkeypatch.setattr(fingerprints, "WIDE_READ", wide)
    src, keys = _site(tmp_path)
    a, b, c = keys
    first = _prints(src)
    for key in keys:
        first.read(Read("item", (key,)))
    first.read(Read("year_items", (2025,)))
    second = _prints(src)
    second.inherit(first.known_reads(), frozenset({a}))
    kept = second.known_reads().digests
    assert Read("item", (a,)) not in kept and Read("year_items", (2025,)) not in kept
    assert Read("item", (b,)) in kept and Read("item", (c,)) in kept
    # computed again in this build, then dropped by the next change of the same item
    second.read(Read("year_items", (2025,)))
    third = _prints(src)
    third.inherit(second.known_reads(), frozenset({b}))
    kept = third.known_reads().digests
    assert Read("year_items", (2025,)) not in kept and Read("item", (b,)) not in kept
    assert Read("item", (c,)) in kept


def test_fingerprints_given_new_links_start_again_from_nothing(tmp_path: Path) -> None:
    src, keys = _site(tmp_path)
    a, b, _c = keys
    prints = _prints(src)
    before = prints.read(Read("item", (b,)))
    prints.read(Read("item", (a,)))
    linked = prints.with_links({}, frozenset({a}))
    assert Read("item", (b,)) in linked.known_reads().digests
    assert Read("item", (a,)) not in linked.known_reads().digests
    given = prints.known_reads()  # given away: nothing stale is read from it
    assert given.digests == {} and given.item_digests == {} and given.holding is None
    assert prints.read(Read("item", (b,))) == before
