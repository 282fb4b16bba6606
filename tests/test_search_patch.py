"""The search index patched from the last build's equals the index computed again: in the
postings functions, and in builds where one story changes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.base.config import CACHE_DIR, BuildOptions
from generator.build import build
from generator.output import cache, indexer, searchindex, writer
from generator.site import search, termcodes
from tests.conftest import profile, write_site
from tests.test_output import digest_tree as files

TERMS = ["王进", "进喜", "安全", "生产", "创新", "wang", "2025", "技术革新"]
MASKS = [search.BODY, search.PEOPLE, search.TITLE | search.BODY, search.TAGS]
NAMES = ["王进喜", "李华", "张秀兰", "仇小明", "欧阳明远", "丁一", "戴明", "刘英俊", "陈红", "赵强"]
table = st.dictionaries(st.sampled_from(TERMS), st.sampled_from(MASKS), max_size=6)


def _site(tmp_path: Path, body: str) -> tuple[Path, BuildOptions]:
    """A site of one profile per name of NAMES (``body`` filled with the name and a number
    of years), built once with a cache, and the options of that build."""
    stories = {
        f"profiles/2025/p{n}.md": profile(name=name, body=body.format(name=name, years=n + 10))
        for n, name in enumerate(NAMES)
    }
    source = write_site(tmp_path / "site", stories)
    options = BuildOptions(source=source, output=tmp_path / "out", cache_dir=tmp_path / "cache")
    assert build(options).ok
    return source, options


def _split(table: dict[str, int]) -> termcodes.Table:
    """A term table as ``search.split_table`` gives it."""
    body = [t for t, m in table.items() if m == search.BODY]
    return termcodes.table(body, {t: m for t, m in table.items() if m != search.BODY})


@settings(max_examples=200, deadline=None)
@given(
    before=st.lists(table, min_size=1, max_size=12),
    edits=st.lists(st.tuples(st.integers(0, 11), table), max_size=4),
    added=st.lists(table, max_size=8),
    dropped=st.integers(0, 3),
    count=st.sampled_from([1, 2, 4]),
)
def test_patching_gives_the_postings_of_the_new_tables(
    before: list[dict[str, int]],
    edits: list[tuple[int, dict[str, int]]],
    added: list[dict[str, int]],
    dropped: int,
    count: int,
) -> None:
    """Documents edited, and added or removed at the end (bitmaps growing and shrinking)."""
    after = list(before)
    for number, new in edits:
        after[number % len(after)] = new
    after = after[: max(0, len(after) - dropped)] + added
    shards = search.postings(map(_split, before), count)
    numbers = searchindex._changed_numbers(before, after)  # type: ignore[arg-type]

    def at(tables: list[dict[str, int]], n: int) -> dict[str, int]:
        return tables[n] if n < len(tables) else {}

    changed = [(n, at(before, n), at(after, n)) for n in numbers]
    for shard, terms in search.table_changes(changed, count).items():
        shards[shard] = search.patch_shard(shards[shard], terms)
    assert shards == search.postings(map(_split, after), count)


@settings(max_examples=300, deadline=None)
@given(
    held=st.dictionaries(st.integers(0, 300), st.sampled_from(MASKS), min_size=1),
    dense=st.integers(0, 300),
    offsets=st.dictionaries(st.integers(-20, 60), st.sampled_from([0, *MASKS]), min_size=1),
)
def test_documents_added_after_a_long_posting_give_its_posting_made_again(
    held: dict[int, int], dense: int, offsets: dict[int, int]
) -> None:
    """Postings long enough to be bitmaps, some with fields, given documents just after
    theirs (the posting of a new story), or among them (the slower way)."""
    held = dict.fromkeys(range(dense), search.BODY) | held
    added = {max(held) + offset: mask for offset, mask in offsets.items()}
    patched = search.patch_shard({"t": search.encode_posting(held)}, {"t": added})
    after = {n: m for n, m in (held | added).items() if m}
    assert patched == ({"t": search.encode_posting(after)} if after else {})


def test_a_document_after_a_bitmap_is_flagged_without_reading_its_numbers() -> None:
    held = dict.fromkeys(range(0, 200, 2), search.BODY) | {7: search.TITLE}
    posting = search.encode_posting(held)
    assert posting.startswith("~") and "|" in posting
    for number, mask in ((203, search.PEOPLE), (204, search.BODY), (199, search.BODY)):
        found = search._appended(posting, {number: mask})
        assert found == search.encode_posting(held | {number: mask}), number
    assert search._appended(posting, {150: search.BODY}) is None  # among its documents
    assert search._appended(posting, {1000: search.BODY}) is None  # then a list of gaps may do


def test_the_last_document_of_a_bitmap_is_taken_out_without_reading_its_numbers() -> None:
    held = dict.fromkeys(range(0, 200, 2), search.BODY) | {7: search.TITLE}
    without_198 = {n: m for n, m in held.items() if n != 198}
    body_only = dict.fromkeys(range(0, 200, 2), search.BODY)
    for before, last, after in (
        (held | {204: search.UNIT}, 204, held),  # in a field: its pair goes too
        (held | {205: search.BODY}, 205, held),
        (held, 198, without_198),
        (body_only | {203: search.BODY}, 203, body_only),  # no documents in a field
    ):
        posting = search.encode_posting(before)
        assert posting.startswith("~")
        found = search._at_end(posting, {last: 0})
        assert found is not None and found == search.encode_posting(after), last
    posting = search.encode_posting(held)
    assert search._truncated(posting, {150: 0}) is None  # not its last document
    assert search._truncated(posting, {198: search.BODY}) is None  # not taken out
    sparse = dict.fromkeys((2, 8, 13, 18, 31, 40, 44, 45, 60, 61, 62, 67, 69), search.BODY)
    assert search.encode_posting(sparse).startswith("~")
    # without 69 it is a list of gaps
    assert search._truncated(search.encode_posting(sparse), {69: 0}) is None


def test_a_shard_patched_for_the_newest_story_deleted_reads_no_bitmap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held = dict.fromkeys(range(0, 300, 3), search.BODY) | {9: search.PEOPLE}
    newest = held | {301: search.TITLE}
    shard = {"a": search.encode_posting(newest), "b": search.encode_posting({301: search.BODY})}

    def unread(text: str) -> None:
        raise AssertionError(f"read: {text[:20]}")

    monkeypatch.setattr(search, "_read_bitmap", unread)  # a list of gaps ("b") is read
    patched = search.patch_shard(shard, {"a": {301: 0}, "b": {301: 0}})
    assert patched == {"a": search.encode_posting(held)}


def test_an_edited_story_patches_the_index_and_matches_a_clean_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, options = _site(tmp_path, "{name}在采油一线工作了{years}年。")
    edited = profile(name="仇小明", body="仇小明发明了抽油机节能装置，获得技术革新奖。")
    (source / "profiles/2025/p3.md").write_text(edited, encoding="utf-8")

    def refuse(*args: object) -> None:
        raise AssertionError("the index was computed again instead of patched")

    monkeypatch.setattr(searchindex, "_computed", refuse)
    assert build(options).ok
    monkeypatch.undo()
    assert build(BuildOptions(source=source, output=tmp_path / "clean")).ok
    assert files(tmp_path / "out") == files(tmp_path / "clean")
    shards = "".join(p.read_text("utf-8") for p in (tmp_path / "out/search/t").iterdir())
    assert '"节能"' in shards and '"安全"' not in shards


def test_a_body_edit_rewrites_only_the_shards_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "TEXT_PER_SHARD", 20)  # many shards for a small site
    source, options = _site(tmp_path, "{name}在采油一线工作了{years}年。")
    shards = sorted((tmp_path / "out/search/t").iterdir())
    before = {p.name: p.stat().st_mtime_ns for p in shards}
    edited = profile(name="仇小明", body="仇小明在采油一线工作了13年。节能。")
    (source / "profiles/2025/p3.md").write_text(edited, encoding="utf-8")
    assert build(options).ok
    after = {p.name: p.stat().st_mtime_ns for p in shards}
    rewritten = [name for name in before if after[name] != before[name]]
    assert 0 < len(rewritten) < len(shards) / 2, (rewritten, len(shards))
    assert build(BuildOptions(source=source, output=tmp_path / "clean")).ok
    assert files(tmp_path / "out") == files(tmp_path / "clean")


def test_a_failed_build_between_two_good_ones_leaves_no_stale_shard(tmp_path: Path) -> None:
    """A build that patches the cached index and then fails leaves the output's shards
    behind the cache's: the next build writes them all again."""
    source, options = _site(tmp_path, "{name}的事迹。")
    edited = profile(name="李华", body="李华改进了注水工艺。")
    (source / "profiles/2025/p1.md").write_text(edited, encoding="utf-8")
    broken = source / "theme/templates/404.html"  # fails while rendering
    broken.parent.mkdir(parents=True)
    broken.write_text("{{ no_such_thing.x }}", encoding="utf-8")
    assert not build(options).ok
    broken.unlink()
    assert build(options).ok
    assert build(BuildOptions(source=source, output=tmp_path / "clean")).ok
    assert files(tmp_path / "out") == files(tmp_path / "clean")


def _tables_made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The titles of the documents whose term tables ``search.split_table`` makes from now on."""
    made: list[str] = []
    original = search.split_table

    def counted(doc: search.Document, bulk: bool = False) -> termcodes.Table:
        made.append(doc.title)
        return original(doc, bulk)

    monkeypatch.setattr(search, "split_table", counted)
    return made


def _equals_a_clean_build(source: Path, tmp_path: Path) -> None:
    assert build(BuildOptions(source=source, output=tmp_path / "clean")).ok
    assert files(tmp_path / "out") == files(tmp_path / "clean")


def test_an_added_story_computes_the_index_from_the_cached_tables_of_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, options = _site(tmp_path, "{name}在采油一线工作了{years}年。")
    added = profile(name="孙立", body="孙立改进了注水工艺，节能降耗。")
    (source / "profiles/2025/p10.md").write_text(added, encoding="utf-8")
    made = _tables_made(monkeypatch)
    assert build(options).ok
    assert made == ["孙立"]  # the other ten documents' tables came from the cache
    monkeypatch.undo()
    _equals_a_clean_build(source, tmp_path)


def _refuse_computing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("the index was computed again instead of patched")

    monkeypatch.setattr(searchindex, "_computed", refuse)


def _mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def test_a_newest_story_takes_the_next_number_and_leaves_the_others_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Documents are numbered oldest first: a story added with the latest date is patched
    into the index, and no other document's result file is written again."""
    source, options = _site(tmp_path, "{name}在采油一线工作了{years}年。")
    results = tmp_path / "out/search/x"
    before = _mtimes(results)
    # dated, as the others, the day it was written; last by its name
    added = profile(name="孙立", body="孙立改进了注水工艺。")
    (source / "profiles/2025/z-new.md").write_text(added, encoding="utf-8")
    _refuse_computing(monkeypatch)
    assert build(options).ok
    after = _mtimes(results)
    assert set(after) - set(before) == {f"{len(NAMES)}.js"}
    assert all(after[name] == before[name] for name in before)
    assert "孙立" in (results / f"{len(NAMES)}.js").read_text("utf-8")
    monkeypatch.undo()
    _equals_a_clean_build(source, tmp_path)
    # and taken away again, the index is patched back
    (source / "profiles/2025/z-new.md").unlink()
    _refuse_computing(monkeypatch)
    assert build(options).ok
    assert _mtimes(results) == before
    monkeypatch.undo()
    _equals_a_clean_build(source, tmp_path)


def test_a_story_inserted_before_others_is_patched_with_their_cached_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A story that sorts before the last one moves it up a number: when few documents moved,
    the index is patched, and the moved document's table comes from the cache."""
    source, options = _site(tmp_path, "{name}在采油一线工作了{years}年。")
    added = profile(name="孙立", body="孙立改进了注水工艺。")
    (source / "profiles/2025/p85.md").write_text(added, encoding="utf-8")  # before p9
    monkeypatch.setattr(searchindex, "PATCH_SHARE", 2)  # two of eleven changed: patched
    _refuse_computing(monkeypatch)
    made = _tables_made(monkeypatch)
    assert build(options).ok
    assert made == ["孙立"]  # not 赵强's (p9), which only moved
    monkeypatch.undo()
    _equals_a_clean_build(source, tmp_path)


def test_renamed_units_make_every_table_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, options = _site(tmp_path, "{name}的事迹。")
    _rename_unit(source, "采油一队", "采油三队")
    made = _tables_made(monkeypatch)
    assert build(options).ok
    assert len(made) == len(NAMES)  # a unit's name is in every table that holds the unit
    monkeypatch.undo()
    _equals_a_clean_build(source, tmp_path)
    shards = "".join(p.read_text("utf-8") for p in (tmp_path / "out/search/t").iterdir())
    assert '"三队"' in shards


def test_a_renamed_unit_patches_the_tables_of_its_documents_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A unit's name is a part of the signature of the documents under it, not of every
    table: renaming a unit that holds one document of eleven patches the index."""
    source, options = _site(tmp_path, "{name}的事迹。")
    other = profile(name="孙立", unit="other-branch", body="孙立的事迹。")
    (source / "profiles/2025/q.md").write_text(other, encoding="utf-8")
    assert build(options).ok
    _rename_unit(source, "常减压车间", "常压车间")
    _refuse_computing(monkeypatch)
    made = _tables_made(monkeypatch)
    assert build(options).ok
    assert made == ["孙立"]
    monkeypatch.undo()
    _equals_a_clean_build(source, tmp_path)
    manifest = (tmp_path / "out/search/index.js").read_text("utf-8")
    assert "常压车间党支部" in manifest and "常减压" not in manifest


def _rename_unit(source: Path, old: str, new: str) -> None:
    units = (source / "units.yaml").read_text(encoding="utf-8")
    (source / "units.yaml").write_text(units.replace(old, new), encoding="utf-8")


def test_an_index_that_failed_half_way_lends_no_table_to_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the tables of a failed computation are of another context than the state before it
    source, options = _site(tmp_path, "{name}的事迹。")
    _rename_unit(source, "采油一队", "采油三队")
    original = search.postings

    def broken(tables: Any, count: int) -> list[dict[str, str]]:
        list(tables)  # every table made and kept in the cache
        raise RuntimeError("stopped")

    monkeypatch.setattr(search, "postings", broken)
    with pytest.raises(RuntimeError):
        build(options)
    monkeypatch.setattr(search, "postings", original)
    _rename_unit(source, "采油三队", "采油一队")
    (source / "profiles/2025/p10.md").write_text(profile(name="孙立"), encoding="utf-8")
    assert build(options).ok
    _equals_a_clean_build(source, tmp_path)


def test_only_the_tables_of_the_last_index_are_taken(tmp_path: Path) -> None:
    # a table kept from an older context (a story's earlier text) is not taken back
    source, options = _site(tmp_path, "{name}在采油一线工作了{years}年。")
    story = source / "profiles/2025/p3.md"
    first = story.read_text(encoding="utf-8")
    story.write_text(profile(name="仇小明", body="仇小明改进了抽油机。"), encoding="utf-8")
    assert build(options).ok
    _rename_unit(source, "采油一队", "采油三队")
    assert build(options).ok
    story.write_text(first, encoding="utf-8")
    (source / "profiles/2025/p10.md").write_text(profile(name="孙立"), encoding="utf-8")
    assert build(options).ok
    _equals_a_clean_build(source, tmp_path)


def test_a_large_index_is_made_in_a_fresh_process_with_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From ``indexer.ELSEWHERE_FROM`` documents the postings are made in another process,
    which gives the shards a build makes itself; when that process fails, the build makes
    them itself."""
    made: list[object] = []
    original = indexer.computed_elsewhere

    def recorded(*args: Any) -> list[dict[str, str]] | None:
        made.append(original(*args))
        return made[-1]  # type: ignore[return-value]

    monkeypatch.setattr(indexer, "ELSEWHERE_FROM", 1)
    monkeypatch.setattr(indexer, "computed_elsewhere", recorded)
    source, _ = _site(tmp_path, "{name}在采油一线工作了{years}年。")
    assert len(made) == 1 and isinstance(made[0], list)  # the other process made them
    _equals_a_clean_build(source, tmp_path)  # a build without a cache: in its own process
    # a process that fails: the build makes the shards itself
    monkeypatch.setattr(indexer, "MODULE", "generator.no_such_module")
    fresh = BuildOptions(source=source, output=tmp_path / "again", cache_dir=tmp_path / "c2")
    assert build(fresh).ok
    assert made[-1] is None and len(made) == 2
    assert files(tmp_path / "again") == files(tmp_path / "clean")


def test_tables_and_postings_made_with_numpy_give_the_bytes_of_the_pure_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small site's tables and postings are made by the pure functions; made with numpy
    (in the workers, in the build process and in the index process), its files are the same."""
    source, _ = _site(tmp_path, "{name}在采油一线工作了{years}年，带出3个QC小组。")
    monkeypatch.setattr(searchindex, "BULK_FROM", 1)
    monkeypatch.setattr(indexer, "ELSEWHERE_FROM", 1)
    cached = BuildOptions(source=source, output=tmp_path / "bulk", cache_dir=tmp_path / "c2")
    assert build(cached).ok
    assert build(BuildOptions(source=source, output=tmp_path / "bulk-clean")).ok
    assert files(tmp_path / "bulk") == files(tmp_path / "out")  # the pure ones'
    assert files(tmp_path / "bulk-clean") == files(tmp_path / "out")


def test_the_index_process_imports_nothing_from_the_folder_the_build_runs_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build is often run from the site's folder: a ``generator`` package or a module
    named as a standard one there must not be what the index process imports, and the
    relative path of the cache there is still found."""
    source = write_site(tmp_path / "site", {"profiles/2025/a.md": profile(name="王强")})
    marker = tmp_path / "ran"
    planted = f"open({str(marker)!r}, 'w').write('ran')\n"
    for rel in ("generator/__init__.py", "json.py", "base64.py"):
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        (source / rel).write_text(planted, encoding="utf-8")
    monkeypatch.chdir(source)
    monkeypatch.setattr(indexer, "ELSEWHERE_FROM", 1)
    made: list[object] = []
    original = indexer.computed_elsewhere
    monkeypatch.setattr(indexer, "computed_elsewhere", lambda *a: made.append(original(*a)))
    # the cache where the command line puts it when run from the site's folder: a relative
    # path, which the index process (started in another folder) must still find
    cache_dir = Path(".") / CACHE_DIR
    options = BuildOptions(source=Path("."), output=tmp_path / "out", cache_dir=cache_dir)
    build(options)
    assert not marker.exists()
    assert made and isinstance(made[0], list)  # the process ran, and made the shards


def test_a_tampered_cached_shard_is_not_patched_but_computed_again(tmp_path: Path) -> None:
    import sqlite3

    source, options = _site(tmp_path, "{name}在采油一线工作了{years}年。")
    assert options.cache_dir is not None
    db = sqlite3.connect(options.cache_dir / cache.FILE)
    with db:
        for key, data in db.execute("SELECT key, data FROM search_shards").fetchall():
            bad = dict.fromkeys(json.loads(data), "~!!!!B")  # read as "B" if not refused
            db.execute("UPDATE search_shards SET data = ? WHERE key = ?", (json.dumps(bad), key))
    db.close()
    edited = profile(name="仇小明", body="仇小明发明了抽油机节能装置。")
    (source / "profiles/2025/p3.md").write_text(edited, encoding="utf-8")
    assert build(options).ok
    _equals_a_clean_build(source, tmp_path)


@pytest.mark.parametrize(
    "row",
    [
        b"",
        b"\x01\x00",
        "[]",
        b"\x09\x00\x00\x00" + bytes(9) + b'["", {}]',
        b"\x00" * 4 + b"{}",
        b"\x00" * 4 + b"5",
        b"\x00" * 4 + b'["", {"a": "b"}]',
        b"\x00" * 4 + b"\xff",
    ],
)
def test_a_cached_row_that_is_not_a_term_table_is_refused(row: object) -> None:
    with pytest.raises(ValueError):
        indexer.split_row(row)


def test_a_tampered_cached_table_is_made_again_from_its_body(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    source, options = _site(tmp_path, "{name}在采油一线工作了{years}年。")
    assert options.cache_dir is not None
    db = sqlite3.connect(options.cache_dir / cache.FILE)
    with db:
        db.execute(f"UPDATE {indexer.TABLES} SET data = ?", (b"\x08\x00\x00\x00",))
    db.close()
    (source / "profiles/2025/p10.md").write_text(profile(name="孙立"), encoding="utf-8")
    made = _tables_made(monkeypatch)
    assert build(options).ok
    assert sorted(made) == sorted([*NAMES, "孙立"])  # no cached table was taken
    monkeypatch.undo()
    _equals_a_clean_build(source, tmp_path)


def test_the_index_process_sends_its_whole_answer_when_writes_are_cut_short(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a pipe's write interrupted (a profiler sampling the process) writes part of the data
    real_write = os.write
    monkeypatch.setattr(writer.os, "write", lambda fd, data: real_write(fd, data[:1000]))
    answer = json.dumps([{"词": "x" * 50_000}], ensure_ascii=False).encode("utf-8")
    with (tmp_path / "stdout").open("w", encoding="utf-8") as stdout:
        monkeypatch.setattr(indexer.sys, "stdout", stdout)
        indexer.send(answer)
    assert (tmp_path / "stdout").read_bytes() == answer
