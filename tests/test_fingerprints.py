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


def test_many_items_are_digested_by_blocks_that_follow_every_change() -> None:
    """A canonical form of many items digests them in blocks, and keeps the digest of each
    block: what it gives after a change is what it gives asked for the first time."""
    keys = [f"profiles/2020/p{n:05d}.md" for n in range(3 * fingerprints.BLOCK + 7)]
    digests = [f"d{n}" for n in range(len(keys))]
    first = fingerprints._item_part(keys, digests)
    edited = [*digests[:600], "new", *digests[601:]]
    after = fingerprints._item_part(keys, edited)
    assert after != first
    fingerprints._blocks.clear()
    assert fingerprints._item_part(keys, edited) == after  # as a new process makes it
    assert fingerprints._item_part(keys, digests) == first
    renamed = [*keys[:-1], "profiles/2020/z.md"]
    assert fingerprints._item_part(renamed, digests) != first
    few = fingerprints._item_part(keys[:3], digests[:3])
    assert few == "".join(k + d for k, d in zip(keys[:3], digests[:3], strict=True)).encode()


def test_a_sequence_of_many_items_is_digested_by_its_keys_as_a_new_process_does(
    tmp_path: Path,
) -> None:
    """The last sequence of many items is kept by its keys: another sequence of the same
    length but other keys has another digest; the same keys give the same one."""
    write_site(tmp_path, {f"profiles/2025/p{n}.md": profile(name=f"张{n}") for n in range(300)})
    items = list(analyse(tmp_path).site.items())
    first = fingerprints._items_sequence(items)
    other = fingerprints._items_sequence([*items[1:], items[0]])
    assert other[1] != first[1] and other[2] == first[2]
    fingerprints._last_items[0] = None
    again = fingerprints._items_sequence(tuple(items))
    assert again[1:] == first[1:]


def _saved_records(cache_dir: Path) -> dict[str, list[tuple[object, ...]]]:
    import contextlib
    import sqlite3

    from generator.output import cache

    with contextlib.closing(sqlite3.connect(cache_dir / cache.FILE)) as db:
        tables = ("outputs", "inputs", "page_reads")
        return {table: sorted(db.execute(f"SELECT * FROM {table}").fetchall()) for table in tables}


def test_records_made_as_pages_come_back_are_those_made_once_all_are_rendered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator import build as building
    from generator.base.config import BuildOptions

    src, _keys = _site(tmp_path)
    made_early: list[str] = []
    original = building._RecordsMeanwhile.add

    def add(self: building._RecordsMeanwhile, written: object) -> None:
        original(self, written)  # type: ignore[arg-type]
        made_early.append(written.path)  # type: ignore[attr-defined]

    monkeypatch.setattr(building._RecordsMeanwhile, "add", add)
    early = BuildOptions(source=src, output=tmp_path / "a", cache_dir=tmp_path / "ca")
    assert building.build(early).ok
    assert any(path.endswith(".html") for path in made_early)
    monkeypatch.setattr(building._RecordsMeanwhile, "add", lambda self, written: None)
    late = BuildOptions(source=src, output=tmp_path / "b", cache_dir=tmp_path / "cb")
    assert building.build(late).ok
    assert _saved_records(tmp_path / "ca") == _saved_records(tmp_path / "cb")
