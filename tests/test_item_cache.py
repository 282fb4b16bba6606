"""Validated items kept in the build cache from process to process (output/itemcache.py):
what comes back equals what the checks made, and anything an item is made from, when it
changes, makes the item again."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator import build
from generator.kinds.registry import BUILT_IN
from generator.output import cache, itemcache
from generator.output import fingerprints as deps
from generator.site import model
from tests.conftest import EXAMPLE, profile, write_site


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the files checked (``model.build_item`` called), in order."""
    calls: list[str] = []
    original = model.build_item

    def counted(doc: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(doc.path)
        return original(doc, *args, **kwargs)

    monkeypatch.setattr(model, "build_item", counted)
    return calls


def _modelled(source: Path, kinds: Any = BUILT_IN, folder: Path | None = None) -> build.Modelled:
    """The site modelled in a new process's way: a cache opened anew (the source's, or the
    one in ``folder``), nothing in memory."""
    store = cache.Cache.open(folder or source / cache.CACHE_DIR)
    try:
        return build.model_site(source, store=store, kinds=kinds)
    finally:
        store.close()


def _same_items(fresh: build.Modelled, kept: build.Modelled) -> None:
    assert len(fresh.site.all_items()) == len(kept.site.all_items()) > 0
    for a, b in zip(fresh.site.all_items(), kept.site.all_items(), strict=True):
        assert a == b
        assert repr(a) == repr(b)
        assert a.lines == b.lines
        assert deps.face(a) == deps.face(b)
    assert fresh.diagnostics == kept.diagnostics


def test_every_item_of_the_example_comes_back_as_it_was_made(
    tmp_path: Path, made: list[str]
) -> None:
    source = tmp_path / "site"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns(".showcase-cache"))
    first = _modelled(source)
    checked = len(made)
    kinds = {item.kind for item in first.site.all_items()}
    assert kinds == {"profile", "report", "pledge", "page"}
    assert any(isinstance(i, model.Profile) and i.photo for i in first.site.all_items())
    assert any(isinstance(i, model.Pledge) and i.review for i in first.site.all_items())
    again = _modelled(source)
    assert len(made) == checked  # no file checked again
    _same_items(first, again)
    for item in again.site.all_items():  # the faces kept with the items are theirs
        assert deps._faces[id(item)] == (item, deps.face(item))
    _same_items(build.model_site(source), again)  # and equal to items made without a cache


def test_the_items_of_5000_documents_come_back_as_they_were_made(
    scale_build: tuple[Path, Path], made: list[str], tmp_path: Path
) -> None:
    source, _out = scale_build
    first = _modelled(source, folder=tmp_path)
    assert len(made) == 5000
    made.clear()
    again = _modelled(source, folder=tmp_path)
    assert made == []
    _same_items(first, again)


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Path]:
    yield write_site(
        tmp_path / "src",
        {
            "profiles/2025/a.md": profile(name="王进喜", extra="photo: a.jpg\n"),
            "profiles/2025/a.jpg": "not really a photo",
            "profiles/2025/b.md": profile(name="李华"),
            "profiles/2025/empty.md": profile(name="张三", body=""),
        },
    )


def test_a_new_story_is_checked_alone(small: Path, made: list[str]) -> None:
    _modelled(small)
    (small / "profiles/2025/c.md").write_text(profile(name="赵六"), encoding="utf-8")
    made.clear()
    _modelled(small)
    assert made == ["profiles/2025/c.md"]


def test_a_process_that_models_again_keeps_its_items_when_a_story_is_added(
    small: Path, made: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process that models the site again (serve, the daemon) keeps the items it made in
    memory when only the paths of Markdown files changed: the new story alone is looked up
    in the cache, and checked."""
    looked_up: list[list[str]] = []
    real = itemcache.KeptItems.load

    def load(self: itemcache.KeptItems, context: str, docs: Any) -> Any:
        looked_up.append([doc.path for doc in docs])
        return real(self, context, docs)

    monkeypatch.setattr(itemcache.KeptItems, "load", load)
    store = cache.Cache.open(small / cache.CACHE_DIR, remember=True)
    try:
        build.model_site(small, store=store)
        (small / "profiles/2025/c.md").write_text(profile(name="赵六"), encoding="utf-8")
        looked_up.clear()
        made.clear()
        again = build.model_site(small, store=store)
    finally:
        store.close()
    assert looked_up == [["profiles/2025/c.md"]] and made == ["profiles/2025/c.md"]
    assert len(again.site.profiles) == 4
    _same_items(_modelled(small, folder=small / "fresh-cache"), again)


def test_a_process_that_models_again_forgets_the_items_of_files_removed(small: Path) -> None:
    """What such a process keeps in memory is the items of the files there now: a story
    removed leaves nothing of it behind."""
    store = cache.Cache.open(small / cache.CACHE_DIR, remember=True)
    try:
        build.model_site(small, store=store)
        (small / "profiles/2025/b.md").unlink()
        again = build.model_site(small, store=store)
        memo = store.memory("items")
        assert memo is not None
        paths = {key[1] for key in memo if isinstance(key, tuple) and len(key) == 5}
    finally:
        store.close()
    assert paths == {"profiles/2025/a.md", "profiles/2025/empty.md"}
    assert len(again.site.profiles) == 2


def test_a_process_that_models_again_checks_an_item_with_errors_when_a_story_is_added(
    tmp_path: Path, made: list[str]
) -> None:
    """An item with an error stays out of what such a process keeps: the Markdown file its
    attachment names, added, makes it whole."""
    report = (
        "---\ntitle: 报告\nunit: branch\ndate: 2025-05-01\n"
        "attachments: [../../static/notes.md]\n---\n正文。\n"
    )
    source = write_site(tmp_path / "src", {"reports/2025/r.md": report})
    store = cache.Cache.open(tmp_path / "cache", remember=True)
    try:
        first = build.model_site(source, store=store)
        assert any(d.is_error for d in first.diagnostics)
        (source / "static").mkdir()
        (source / "static/notes.md").write_text("# 笔记\n", encoding="utf-8")
        made.clear()
        again = build.model_site(source, store=store)
    finally:
        store.close()
    assert made == ["reports/2025/r.md"]
    assert not any(d.is_error for d in again.diagnostics)
    assert [a.source for a in again.site.reports[0].attachments] == ["static/notes.md"]


def test_a_renamed_unit_makes_every_item_again(small: Path, made: list[str]) -> None:
    _modelled(small)
    units = (small / "units.yaml").read_text(encoding="utf-8")
    (small / "units.yaml").write_text(units.replace("采油一队党支部", "采油二队党支部"), "utf-8")
    made.clear()
    again = _modelled(small)
    assert sorted(made) == ["profiles/2025/a.md", "profiles/2025/b.md", "profiles/2025/empty.md"]
    assert again.site.unit_by_id["branch"].name == "采油二队党支部"


def test_a_changed_photo_makes_the_items_again(small: Path, made: list[str]) -> None:
    """Photos and attachments are part of every kept item's context (an item is made from
    the files its paths resolve to, and those depend on which files exist)."""
    first = _modelled(small)
    (small / "profiles/2025/a.jpg").write_text("a larger photo than before", encoding="utf-8")
    made.clear()
    again = _modelled(small)
    assert "profiles/2025/a.md" in made and len(made) == 3
    sizes = [i.photo.size for m in (first, again) for i in m.site.profiles if i.photo]
    assert sizes == [18, 26]


def test_warnings_come_back_with_the_item(small: Path, made: list[str]) -> None:
    first = _modelled(small)
    made.clear()
    again = _modelled(small)
    assert made == []
    codes = [d.code for d in again.diagnostics]
    assert "empty-body" in codes
    assert again.diagnostics == first.diagnostics


def test_a_file_with_errors_is_checked_every_time(small: Path, made: list[str]) -> None:
    (small / "profiles/2025/bad.md").write_text(profile(unit="nowhere"), encoding="utf-8")
    for _ in range(2):
        made.clear()
        found = _modelled(small)
        assert "profiles/2025/bad.md" in made
        assert any(d.code == "unknown-unit" for d in found.diagnostics)


def test_a_row_the_code_cannot_read_is_checked_again(small: Path, made: list[str]) -> None:
    first = _modelled(small)
    store = cache.Cache.open(small / cache.CACHE_DIR)
    try:
        rows = store.get_many(itemcache.TABLE, _row_keys(store))
        store.put_many(itemcache.TABLE, [(key, [["too", "few"], []]) for key in rows])
    finally:
        store.close()
    made.clear()
    again = _modelled(small)
    assert len(made) == 3
    _same_items(first, again)


def _row_keys(store: cache.Cache) -> list[str]:
    db = store._db
    assert db is not None
    return [key for (key,) in db.execute(f"SELECT key FROM {itemcache.TABLE}")]


def test_items_of_other_kinds_than_the_built_in_are_not_kept(small: Path, made: list[str]) -> None:
    """Another kind's code is not part of the cache's key: with it, every file is checked."""
    video = dataclasses.replace(BUILT_IN.kinds[0], name="video", folder="videos")
    for _ in range(2):
        made.clear()
        _modelled(small, BUILT_IN.adding(video))
        assert len(made) == 3
    assert itemcache.KeptItems.of(cache.Cache.disabled(), BUILT_IN) is None


def test_a_value_of_another_type_than_declared_is_not_kept() -> None:
    keep, _back = itemcache._codec(tuple[str, ...])
    assert keep(("a", "b")) == ["a", "b"]
    with pytest.raises(itemcache.Unkept):
        keep(["a", "b"])
    with pytest.raises(itemcache.Unkept):
        itemcache._codec(float)


def test_an_item_with_a_markdown_attachment_is_checked_every_time(
    tmp_path: Path, made: list[str]
) -> None:
    """Markdown files are not part of the kept items' context (adding a story must not make
    every item again), so an item made from one is not kept."""
    report = (
        "---\ntitle: 报告\nunit: branch\ndate: 2025-05-01\n"
        "attachments: [../../static/notes.md]\n---\n正文。\n"
    )
    source = write_site(
        tmp_path / "src", {"reports/2025/r.md": report, "static/notes.md": "# 笔记\n"}
    )
    for _ in range(2):
        made.clear()
        found = _modelled(source)
        assert made == ["reports/2025/r.md"]
        assert [a.source for a in found.site.reports[0].attachments] == ["static/notes.md"]


def test_an_item_with_errors_is_not_kept(tmp_path: Path, made: list[str]) -> None:
    """A file left with a note ``showcase new`` wrote makes an item and an error: checked
    again every time, so the error is found every time."""
    note = "（荣誉称号，例如 劳动模范）"
    source = write_site(tmp_path / "src", {"profiles/2025/a.md": profile(body=note)})
    for _ in range(2):
        made.clear()
        found = _modelled(source)
        assert made == ["profiles/2025/a.md"]
        assert [d.code for d in found.diagnostics if d.is_error] == ["placeholder-left"]


def test_a_row_of_other_fields_is_checked_again(small: Path, made: list[str]) -> None:
    first = _modelled(small)
    store = cache.Cache.open(small / cache.CACHE_DIR)
    try:
        rows = store.get_many(itemcache.TABLE, _row_keys(store))
        store.put_many(itemcache.TABLE, [(key, [["too", "few"], [], "face"]) for key in rows])
    finally:
        store.close()
    made.clear()
    _same_items(first, _modelled(small))
    assert len(made) == 3


def test_the_rows_of_an_older_context_are_dropped(small: Path) -> None:
    _modelled(small)
    units = (small / "units.yaml").read_text(encoding="utf-8")
    (small / "units.yaml").write_text(units.replace("采油一队党支部", "采油二队党支部"), "utf-8")
    _modelled(small)
    store = cache.Cache.open(small / cache.CACHE_DIR)
    try:
        assert len(_row_keys(store)) == 3
    finally:
        store.close()
