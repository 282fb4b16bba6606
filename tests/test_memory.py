"""A build hands the memory it let go back to the system, so that its peak counts each
stage's memory once."""

from __future__ import annotations

from pathlib import Path

import pytest

import generator.build as building
from generator.base import memory
from generator.base.config import BuildOptions
from generator.output import cache
from generator.pages.view import SiteView
from tests.conftest import profile, write_site


@pytest.mark.skipif(memory._malloc_trim() is None, reason="glibc's malloc_trim")
def test_memory_let_go_goes_back_to_the_system() -> None:
    # blocks larger than Python's small-object pools come from the C heap; one in a hundred
    # stays, so the heap cannot shrink from its top alone
    blocks = [bytes(2000) + bytes([n % 256]) for n in range(100_000)]
    kept = blocks[::100]
    grown = memory.resident_bytes()
    del blocks
    assert memory.resident_bytes() > grown - 50 * 2**20  # freed, still held by the heap
    assert memory.give_back()
    assert memory.resident_bytes() < grown - 100 * 2**20
    assert len(kept) == 1000


def test_a_build_gives_back_memory_after_reading_and_after_the_search_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stories = {f"profiles/2025/p{n}.md": profile(name=name) for n, name in enumerate("王李张")}
    source = write_site(tmp_path / "site", stories)
    stages: list[str] = []
    forgotten: list[bool] = []
    real_forget = SiteView.forget_search_index

    def forget(view: SiteView) -> bool:
        forgotten.append(view._search is not None)  # the index its files were made from
        return real_forget(view)

    monkeypatch.setattr(building.memory, "give_back", lambda: stages.append("give back"))
    monkeypatch.setattr(SiteView, "forget_search_index", forget)
    report = building.build(BuildOptions(source=source, output=tmp_path / "out", cache_dir=None))
    assert report.ok
    assert stages == ["give back", "give back"]  # after the model, after the search index
    assert forgotten[0] and not any(forgotten[1:])  # let go of once, as soon as its files are
    assert (tmp_path / "out" / "search" / "index.js").is_file()
    # a long-lived process (the daemon, serve) hands memory back between builds instead:
    # a trim takes tens of milliseconds on a large fragmented heap, too long for an edit
    stages.clear()
    remembering = cache.Cache.open(tmp_path / "cache", remember=True)
    try:
        options = BuildOptions(
            source=source, output=tmp_path / "kept", cache_dir=tmp_path / "cache"
        )
        assert building.build(options, store=remembering).ok
    finally:
        remembering.close()
    assert stages == []
