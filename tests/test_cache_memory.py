"""A long-lived process (serve) keeps the cache open and what it holds in memory: its builds
read nothing again from the database and still equal clean builds."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import generator.build as building
from generator.base.config import BuildOptions
from generator.build import build
from generator.output import cache, pool, shape, writer
from generator.output import fingerprints as deps
from generator.pages.base import PageJob
from generator.pages.view import Read
from generator.site import search
from tests.conftest import profile, write_site
from tests.test_output import digest_tree as files


def _remembering(tmp_path: Path, stories: dict[str, str]) -> tuple[Path, BuildOptions, cache.Cache]:
    """A site of ``stories``, the options of a cached build of it, and its cache opened as
    serve opens it (remembering)."""
    source = write_site(tmp_path / "site", stories)
    folder = tmp_path / "cache"
    options = BuildOptions(source=source, output=tmp_path / "out", cache_dir=folder)
    return source, options, cache.Cache.open(folder, remember=True)


def _four_built(tmp_path: Path, body: str) -> tuple[Path, BuildOptions, cache.Cache]:
    """``_remembering`` of four profiles (``body`` filled with each name and number), built
    once."""
    names = ["王进喜", "李华", "张秀兰", "仇小明"]
    stories = {
        f"profiles/2025/p{n}.md": profile(name=name, body=body.format(name=name, n=n))
        for n, name in enumerate(names)
    }
    source, options, store = _remembering(tmp_path, stories)
    assert build(options, store=store).ok
    return source, options, store


def test_builds_with_a_remembering_cache_use_memory_and_equal_clean_builds(tmp_path: Path) -> None:
    people = ["王进喜", "李华", "张秀兰", "仇小明", "欧阳明远", "丁一", "戴明", "刘英俊", "陈红"]
    stories = {
        f"profiles/2025/p{n}.md": profile(name=name, body=f"{name}的事迹，第{n}篇。")
        for n, name in enumerate(people)
    }
    source, options, store = _remembering(tmp_path, stories)
    first = build(options, store=store)
    assert first.ok
    # what the database holds of the last build is gone: only memory still knows it
    with sqlite3.connect(tmp_path / "cache" / cache.FILE) as db:
        db.execute("DELETE FROM outputs")
        db.execute("DELETE FROM parsed")
    edited = profile(name="李华", body="李华改进了注水工艺。")
    (source / "profiles/2025/p1.md").write_text(edited, encoding="utf-8")
    report = build(options, store=store)
    # a file saved again unchanged: the shards are the last build's, with their scripts
    os.utime(source / "profiles/2025/p2.md", (1_800_000_000, 1_800_000_000))
    assert build(options, store=store).ok
    store.close()
    # incremental (the records of the last build came from memory), not a whole build
    assert report.ok and 0 < report.pages < first.pages / 2, (report.pages, first.pages)
    assert build(BuildOptions(source=source, output=tmp_path / "clean")).ok
    assert files(tmp_path / "out") == files(tmp_path / "clean")


def test_remembered_items_follow_renamed_units_and_removed_photos(tmp_path: Path) -> None:
    stories = {
        "profiles/2025/a.md": profile(name="王进喜", extra="photo: a.jpg\n"),
        "profiles/2025/a.jpg": "not really a photo, but a file",
        "profiles/2025/b.md": profile(name="李华", unit="plant"),
    }
    source, options, store = _remembering(tmp_path, stories)
    build(options, store=store)
    units = (source / "units.yaml").read_text(encoding="utf-8")
    (source / "units.yaml").write_text(units.replace("第一采油厂", "第二采油厂"), encoding="utf-8")
    assert build(options, store=store).ok
    assert build(BuildOptions(source=source, output=tmp_path / "clean")).ok
    assert files(tmp_path / "out") == files(tmp_path / "clean")
    (source / "profiles/2025/a.jpg").unlink()
    report = build(options, store=store)
    store.close()
    assert any(d.code == "missing-asset" for d in report.diagnostics)


def test_remembered_links_follow_a_linked_page_that_moves(tmp_path: Path) -> None:
    """A body whose text is unchanged is not converted again, but its links are resolved
    again when what they lead to moves."""
    stories = {
        "profiles/2025/a.md": profile(name="王进喜", body="学习[李华](b.md)的经验。"),
        "profiles/2025/b.md": profile(name="李华"),
    }
    source, options, store = _remembering(tmp_path, stories)
    assert build(options, store=store).ok
    # built again: the links of the first body are now known valid (and remembered)
    (source / "profiles/2025/c.md").write_text(profile(name="张秀兰"), encoding="utf-8")
    assert build(options, store=store).ok
    assert "li-hua/index.html" in (tmp_path / "out/profiles/2025/wang-jin-xi/index.html").read_text(
        encoding="utf-8"
    )
    moved = profile(name="李华", extra="slug: li-hua-model\n")
    (source / "profiles/2025/b.md").write_text(moved, encoding="utf-8")
    assert build(options, store=store).ok
    store.close()
    page = (tmp_path / "out/profiles/2025/wang-jin-xi/index.html").read_text(encoding="utf-8")
    assert "li-hua-model/index.html" in page
    assert build(BuildOptions(source=source, output=tmp_path / "clean")).ok
    assert files(tmp_path / "out") == files(tmp_path / "clean")


def test_pages_planned_once_while_only_bodies_change_and_builds_equal_clean_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In one process, while only bodies change, the last build's pages are used again (the
    page families are not asked again) with the changed items in the pages that show them."""
    people = ["王进喜", "李华", "张秀兰", "仇小明", "欧阳明远", "丁一"]
    stories = {
        f"profiles/2025/p{n}.md": profile(name=name, body=f"{name}的事迹，第{n}篇。")
        for n, name in enumerate(people)
    }
    # a site template that shows an item's source text, not only its converted body
    stories["theme/templates/profile.html"] = (
        '{% extends "base.html" %}{% block main %}{{ item.name }}:{{ item.body }}{% endblock %}'
    )
    source, options, store = _remembering(tmp_path, stories)
    planned: list[int] = []
    original = building.pages.pages

    def counting(*args: object) -> object:
        planned.append(1)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(building.pages, "pages", counting)
    assert build(options, store=store).ok and len(planned) == 1
    edits = [
        ("p1", profile(name="李华", body="李华改进了注水工艺。")),
        ("p2", profile(name="张秀兰", body="张秀兰带出了十名徒弟。")),
        ("p1", profile(name="李华", body="李华的事迹，第1篇。")),
        ("p1", profile(name="李华", body="李华又改进了一次。\n\n第二段。")),
    ]
    for step, (name, text) in enumerate(edits):
        (source / f"profiles/2025/{name}.md").write_text(text, encoding="utf-8")
        assert build(options, store=store).ok
        clean = tmp_path / f"clean{step}"
        assert build(BuildOptions(source=source, output=clean)).ok
        assert files(tmp_path / "out") == files(clean), step
    assert len(planned) == 1 + len(edits)  # each clean build plans its pages; serve did not
    # a change beyond a body (a new tag) plans the pages again
    (source / "profiles/2025/p3.md").write_text(
        profile(name="仇小明", extra="tags: [安全生产]\n"), encoding="utf-8"
    )
    assert build(options, store=store).ok
    store.close()
    assert len(planned) == 2 + len(edits)
    assert build(BuildOptions(source=source, output=tmp_path / "clean-last")).ok
    assert files(tmp_path / "out") == files(tmp_path / "clean-last")


def test_a_body_edit_that_changes_the_number_of_search_shards_plans_the_pages_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The number of search shards grows with the bodies: a body that grows or shrinks past
    a threshold changes which pages there are, in serve as in a clean build."""
    monkeypatch.setattr(search, "TEXT_PER_SHARD", 200)
    source, options, store = _four_built(tmp_path, "{name}的事迹。")
    for step, times in enumerate((40, 1)):  # longer, then short again
        body = "李华改进了注水工艺。" * times
        (source / "profiles/2025/p1.md").write_text(profile(name="李华", body=body), "utf-8")
        report = build(options, store=store)
        assert report.ok, report.diagnostics
        clean = tmp_path / f"clean{step}"
        assert build(BuildOptions(source=source, output=clean)).ok
        assert files(tmp_path / "out") == files(clean), step
    store.close()


def test_a_body_edit_evaluates_again_only_the_reads_that_hold_the_edited_item(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In one process, while only bodies change, a read whose answer holds none of the
    edited items keeps its last digest (its answer is made of faces); one that holds an
    edited item is evaluated again. The builds still equal clean ones."""
    source, options, store = _four_built(tmp_path, "{name}的事迹，第{n}篇。")
    evaluated: list[tuple[str, frozenset[str]]] = []
    original = deps.Fingerprints.read

    def counting(self: deps.Fingerprints, read: Read) -> str:
        fresh = read not in self._reads
        found = original(self, read)
        if fresh:
            evaluated.append((read.query, self.read_items(read)))
        return found

    monkeypatch.setattr(deps.Fingerprints, "read", counting)
    edited = profile(name="李华", body="李华改进了注水工艺。")
    (source / "profiles/2025/p1.md").write_text(edited, encoding="utf-8")
    assert build(options, store=store).ok
    store.close()
    key = "profiles/2025/p1.md"
    assert evaluated and all(key in items for _query, items in evaluated), evaluated
    assert build(BuildOptions(source=source, output=tmp_path / "clean")).ok
    assert files(tmp_path / "out") == files(tmp_path / "clean")


def _told_as_clean(
    tmp_path: Path,
    options: BuildOptions,
    store: cache.Cache,
    rel: str,
    step: int,
    then: Callable[[], None] = lambda: None,
) -> building.BuildReport:
    """Build ``options`` told that ``rel`` changed (``then`` called right after), and check
    that it reports and writes what a clean build does; the clean build's report."""
    report = build(options, store=store, changed=frozenset({rel}))
    then()
    clean = tmp_path / f"clean{step}"
    expected = build(BuildOptions(source=options.source, output=clean))
    assert report.diagnostics == expected.diagnostics, step
    if expected.ok:
        assert files(options.output) == files(clean), step
    return expected


def test_builds_told_which_files_changed_look_at_no_other_and_equal_clean_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """serve tells each build the files its watcher saw change: a body edit reads that file
    alone (the source is not walked again); a new file or a change to the configuration
    reads everything again. Each build equals a clean one."""
    from generator.content import loader
    from generator.output import freshness

    source, options, store = _four_built(tmp_path, "{name}的事迹，第{n}篇。")
    walks: list[str] = []
    for module in (loader, freshness):
        real = module._walk
        monkeypatch.setattr(
            module,
            "_walk",
            lambda *a, _real=real, _m=module.__name__: walks.append(_m) or _real(*a),
        )
    steps = [
        ("profiles/2025/p1.md", profile(name="李华", body="李华改进了注水工艺。"), False),
        (
            "profiles/2025/p2.md",
            profile(name="张秀兰", body="出错了 [[", extra="year: 二〇二五\n"),
            False,
        ),
        ("profiles/2025/p2.md", profile(name="张秀兰", body="张秀兰带出了十名徒弟。"), False),
        ("profiles/2025/p9.md", profile(name="丁一", body="新来的典型。"), True),
        ("units.yaml", (source / "units.yaml").read_text(encoding="utf-8") + "\n", True),
    ]
    for step, (rel, text, walked) in enumerate(steps):
        (source / rel).write_text(text, encoding="utf-8")
        walks.clear()

        def walked_as_said(step: int = step, walked: bool = walked) -> None:
            assert bool(walks) == walked, (step, walks)

        _told_as_clean(tmp_path, options, store, rel, step, walked_as_said)
    store.close()
    # the cache written by these builds says nothing changed since the last of them
    assert build(options).stages == {}


def test_pages_of_many_items_are_not_checked_after_an_edit_to_none_of_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page that holds too many items to record them is still known untouched, in a
    process that rendered it or checked it once, by an edit to an item it does not hold."""
    monkeypatch.setattr(deps, "MANY_ITEMS", 2)
    stories = {f"profiles/2025/o{n}.md": profile(name=f"李{n}", unit="other") for n in range(3)}
    stories["profiles/2025/b.md"] = profile(name="王进喜", unit="branch")
    source, options, store = _remembering(tmp_path, stories)
    checked: list[str] = []
    real = deps.Fingerprints.page

    def page(self: deps.Fingerprints, template: str, context: dict[str, object]) -> object:
        unit = context.get("unit")
        checked.append(getattr(unit, "id", ""))
        return real(self, template, context)

    monkeypatch.setattr(deps.Fingerprints, "page", page)
    assert build(options, store=store).ok  # every page rendered: what each holds is known
    for step in range(2):
        edited = profile(name="王进喜", unit="branch", body=f"第{step}次修改。")
        (source / "profiles/2025/b.md").write_text(edited, encoding="utf-8")
        checked.clear()
        assert build(options, store=store).ok
        assert "branch" in checked and "other" not in checked, (step, checked)
        store.close()
        # a new process: its first build checks the pages of many items once, unchanged
        store = cache.Cache.open(tmp_path / "cache", remember=True)
        assert build(options, store=store, whole=True).ok and "other" in checked
    store.close()
    assert build(BuildOptions(source=source, output=tmp_path / "clean")).ok
    assert files(tmp_path / "out") == files(tmp_path / "clean")


def test_a_load_that_fails_half_way_leaves_nothing_stale_to_patch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.content import loader
    from generator.kinds.registry import BUILT_IN

    stories = {"profiles/2025/a.md": profile(name="王进喜"), "profiles/2025/b.md": profile()}
    source = write_site(tmp_path / "site", stories)
    folders, kept = BUILT_IN.folders(), dict[str, object]()
    loader.load(source, folders=folders, kept=kept)
    (source / "profiles/2025/a.md").write_text(profile(body="第一处改动。"), encoding="utf-8")

    def broken(*_args: object) -> None:
        raise OSError("the disk went away")

    real = loader._documents
    monkeypatch.setattr(loader, "_documents", broken)
    with pytest.raises(OSError):
        loader.load(source, folders=folders, changed=frozenset({"profiles/2025/a.md"}), kept=kept)
    monkeypatch.setattr(loader, "_documents", real)
    (source / "profiles/2025/b.md").write_text(profile(body="第二处改动。"), encoding="utf-8")
    tree, _ = loader.load(
        source, folders=folders, changed=frozenset({"profiles/2025/b.md"}), kept=kept
    )
    bodies = {doc.path: doc.body for doc in tree.docs}
    assert "第一处改动" in bodies["profiles/2025/a.md"]  # not the tree before the failed load
    assert "第二处改动" in bodies["profiles/2025/b.md"]


def test_a_site_whose_items_changed_only_in_bodies_is_patched_and_equals_a_new_one(
    tmp_path: Path,
) -> None:
    """A process that models the site again after body edits puts the new items in place of
    the old in the last site (collections, units, tags) instead of assembling it again; the
    result equals the site modelled afresh. Any other change assembles it again."""
    units = ["branch", "other-branch", "plant"]
    stories = {
        f"profiles/{2024 + n % 2}/p{n}.md": profile(
            name=f"员工{n}",
            unit=units[n % 3],
            year=2024 + n % 2,
            extra=f"tags: [安全生产, 标签{n % 2}]\n",
            body=f"第{n}号的事迹。",
        )
        for n in range(8)
    }
    stories["pages/about.md"] = "---\ntitle: 关于本站\n---\n本站介绍。\n"
    source, _options, store = _remembering(tmp_path, stories)
    first = building.model_site(source, store=store).site
    asked = (first.of_year(2025), first.chronological())  # kept with the site once asked
    edited = source / "profiles/2025/p3.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "新增的一段。\n", encoding="utf-8")
    page = source / "pages/about.md"  # a free page: no unit, no year
    page.write_text(page.read_text(encoding="utf-8") + "更多介绍。\n", encoding="utf-8")
    patched = building.model_site(source, store=store).site
    assert "更多介绍" in patched.pages[0].body
    assert patched.unit_by_id is first.unit_by_id  # the last site's, patched
    assert any("新增的一段" in item.body for item in patched.by_unit["group"])
    fresh = building.model_site(source).site
    assert patched == fresh
    # what the patched site keeps besides its fields is a new site's too
    assert patched.of_year(2025) == fresh.of_year(2025) != asked[0]
    assert patched.chronological() == fresh.chronological() != asked[1]
    assert patched.of_year(2024) == fresh.of_year(2024)
    # it knows the site it was made from, and which items changed
    changed = patched.patched_from(first)
    assert changed is not None and set(changed) == {"profiles/2025/p3.md", "pages/about.md"}
    assert patched.patched_from(fresh) is None and fresh.patched_from(first) is None
    # a changed field (a tag) assembles the site again
    edited.write_text(
        edited.read_text(encoding="utf-8").replace("标签1", "标签9"), encoding="utf-8"
    )
    again = building.model_site(source, store=store).site
    store.close()
    assert again.unit_by_id is not patched.unit_by_id
    assert "标签9" in again.tags and again == building.model_site(source).site
    assert again.patched_from(patched) is None


def test_links_that_stopped_resolving_are_converted_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A body whose link lost its target is converted again, once: its new links are cached
    and the next builds take them from there."""
    stories = {
        "profiles/2025/a.md": profile(name="王进喜", body="学习[李华](b.md)的经验。"),
        "profiles/2025/b.md": profile(name="李华"),
        "profiles/2025/c.md": profile(name="张秀兰", body="第一稿。"),
    }
    source, options, store = _remembering(tmp_path, stories)
    assert build(options, store=store).ok
    converted: list[set[str]] = []
    real = building.convert_bodies

    def counting(items: Any, *args: Any, **kwargs: Any) -> Any:
        converted.append({item.key for item in items})
        return real(items, *args, **kwargs)

    monkeypatch.setattr(building, "convert_bodies", counting)
    (source / "profiles/2025/b.md").unlink()
    build(options, store=store)
    assert "profiles/2025/a.md" in set().union(*converted)
    converted.clear()
    (source / "profiles/2025/c.md").write_text(profile(name="张秀兰", body="第二稿。"), "utf-8")
    assert build(options, store=store).ok
    store.close()
    assert set().union(*converted) == {"profiles/2025/c.md"}


def test_put_many_writes_every_row_in_batches_and_skips_what_is_not_plain_data(
    tmp_path: Path,
) -> None:
    rows = [(f"k{n}", {"n": n}) for n in range(3 * cache.PUT_BATCH + 5)]
    rows.insert(7, ("odd", {1, 2}))  # a set is not JSON: left out, the rest written
    store = cache.Cache.open(tmp_path / "c", remember=True)
    store.put_many("links", iter(rows))
    store.put_many("stamps", iter(rows))
    store.flush()
    wanted = [key for key, _ in rows]
    expected = {key: value for key, value in rows if key != "odd"}
    assert store.memory("links") is not None
    assert {k: v for k, v in store._table("links").items() if k in expected} == expected
    again = cache.Cache.open(tmp_path / "c")
    assert again.get_many("links", wanted) == expected  # from the file
    assert again.get_many("stamps", wanted) == expected
    store.close()
    again.close()


def test_rows_put_while_writes_are_held_are_written_by_write_held(tmp_path: Path) -> None:
    store = cache.Cache.open(tmp_path / "c", remember=True)
    store.hold_writes()
    store.put_many("links", [("a", {"n": 1})])
    store.put_many("parsed", iter([("b", [1, "二"])]))
    store.flush()
    other = cache.Cache.open(tmp_path / "c")
    assert store.get_many("links", ["a"]) == other.get_many("parsed", ["b"]) == {}
    store.write_held()
    store.put_many("links", [("c", 3)])  # written at once again
    assert store.get_many("links", ["a", "c"]) == {"a": {"n": 1}, "c": 3}
    assert other.get_many("parsed", ["b"]) == {"b": [1, "二"]}
    assert other.get_many("links", ["a", "c"]) == {"a": {"n": 1}, "c": 3}
    store.close()
    other.close()


def test_put_many_stopped_half_way_stores_nothing(tmp_path: Path) -> None:
    def rows() -> Any:
        for n in range(2 * cache.PUT_BATCH + 3):
            yield f"k{n}", n
        raise RuntimeError("stopped")

    store = cache.Cache.open(tmp_path / "c", remember=True)
    for table in ("links", "stamps"):
        with pytest.raises(RuntimeError):
            store.put_many(table, rows())
        assert store.get_many(table, ["k0", "k300"]) == {}
    store.flush()
    store.close()
    again = cache.Cache.open(tmp_path / "c")
    assert again.get_many("links", ["k0"]) == again.get_many("stamps", ["k0"]) == {}
    again.close()


def _kept_bodies_site(tmp_path: Path) -> Path:
    stories = {
        f"profiles/2025/p{n}.md": profile(name=f"王{chr(0x4E00 + n)}", body=f"第{n}篇正文。" * 20)
        for n in range(6)
    }
    return write_site(tmp_path / "src", stories)


@pytest.mark.parametrize("tampered", [False, True])
def test_a_large_build_keeps_converted_bodies_in_the_cache_not_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tampered: bool
) -> None:
    """From KEPT_FROM converted bodies, the build holds their summaries and links alone and
    each page that shows a body reads it back from the cache; the pages are those a build
    holding every body makes. A body changed in the cache behind the build's back is not
    used: it is converted again. The pages render in worker processes, which read the
    cache themselves."""
    from generator.output import keptbodies

    source = _kept_bodies_site(tmp_path)
    assert build(BuildOptions(source=source, output=tmp_path / "all")).ok  # no cache
    monkeypatch.setattr(keptbodies, "KEPT_FROM", 1)
    held: list[keptbodies.KeptBodies] = []
    lighten = keptbodies.KeptBodies.lighten

    def spy(self: keptbodies.KeptBodies, bodies: Any) -> Any:
        held.append(self)
        light = lighten(self, bodies)
        if tampered:  # the stored HTML of every body changed once it is stored
            with sqlite3.connect(tmp_path / "cache" / cache.FILE) as db:
                db.execute("UPDATE markup SET data = json_set(data, '$[0]', '<p>篡改</p>')")
        return light

    monkeypatch.setattr(keptbodies.KeptBodies, "lighten", spy)
    monkeypatch.setattr(pool, "MIN_PARALLEL", 1)  # pages render in worker processes
    options = BuildOptions(
        source=source, output=tmp_path / "out", cache_dir=tmp_path / "cache", workers=2
    )
    assert build(options).ok
    assert held and all(not body.html and not body.text for body in held[0].values())
    assert len(held[0]) == 6
    assert files(tmp_path / "out") == files(tmp_path / "all")


def test_the_files_holding_each_item_follow_the_records_from_build_to_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a process that keeps the records in memory, which output files hold each item is
    kept beside them and changed with them: after body edits, a new item and a removed one,
    it is what the records kept then give; and the builds equal clean ones."""
    monkeypatch.setattr(building, "IN_PLACE_SHARE", 1)  # the output stays the same folder
    source, options, store = _four_built(tmp_path, "{name}的事迹，第{n}篇。")

    def listed(holders: cache.Holders) -> dict[str, set[str]]:
        return {key: paths for key, paths in holders._by_item.items() if paths}

    assert build(options, store=store).stages == {}  # nothing changed: nothing asked yet
    steps = [
        ("profiles/2025/p1.md", profile(name="李华", body="李华改进了注水工艺。")),
        ("profiles/2025/p2.md", profile(name="张秀兰", body="张秀兰带出了十名徒弟。")),
        ("profiles/2025/p4.md", profile(name="欧阳明远", unit="other-branch")),
        ("profiles/2025/p1.md", profile(name="李华", body="又一次修改。")),
        ("profiles/2025/p0.md", None),
        ("profiles/2025/p3.md", profile(name="仇小明", body="最后一次修改。")),
    ]
    for rel, text in steps:
        if text is None:
            (source / rel).unlink()
        else:
            (source / rel).write_text(text, encoding="utf-8")
        assert build(options, store=store, changed=frozenset({rel})).ok
        identity = writer.identity(options.output)
        assert store._holders is not None, rel  # kept through the build, not made again
        kept = store.holders(identity)
        assert kept is not None
        again = cache.Holders(store.outputs(identity))
        assert listed(kept) == listed(again) and kept.unlisted == again.unlisted, rel
        assert build(BuildOptions(source=source, output=tmp_path / "clean")).ok
        assert files(options.output) == files(tmp_path / "clean"), rel
    store.close()


def test_the_faces_of_a_patched_site_are_those_a_new_process_computes(tmp_path: Path) -> None:
    """Front matter written in another order (same values) leaves the items equal but for
    where each field is: the site is patched, and the digest of its faces taken from the last
    site is the one a new process computes (where a field is is no part of a face)."""
    text = profile(name="李华", extra="tags: [安全生产]\n")
    source, _options, store = _remembering(tmp_path, {"profiles/2025/a.md": text})
    first = building.model_site(source, store=store).site
    before = deps.faces(first)
    head, _, rest = text.partition("\n")  # the opening "---"
    fields, _, body = rest.partition("---\n")
    lines = fields.splitlines()
    reordered = "\n".join([lines[-1], *lines[:-1]]) + "\n"
    assert reordered != fields
    (source / "profiles/2025/a.md").write_text(f"{head}\n{reordered}---\n{body}", "utf-8")
    patched = building.model_site(source, store=store).site
    store.close()
    assert patched.patched_from(first) is not None
    assert deps.faces(patched) == before == deps.faces(building.model_site(source).site)


def test_items_swapped_into_a_group_take_every_place_of_their_key() -> None:
    """Putting new items in place of those of the same key in a group (a unit's, a tag's, a
    year's) replaces each place that key holds and nothing else; a key the group lacks is
    left out."""
    from types import SimpleNamespace

    from generator.site import model

    def item(key: str, version: int) -> Any:
        return SimpleNamespace(key=key, version=version)

    group = (item("a", 1), item("b", 1), item("a", 1), item("c", 1))
    swapped = model._swap(group, {"a": item("a", 2), "z": item("z", 2)})  # type: ignore[arg-type]
    assert [(i.key, i.version) for i in swapped] == [("a", 2), ("b", 1), ("a", 2), ("c", 1)]
    assert swapped[1] is group[1] and swapped[3] is group[3]


def test_a_theme_catalog_is_read_again_only_when_its_file_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.output import theme

    folder = tmp_path / "mytheme"
    (folder / "i18n").mkdir(parents=True)
    catalog = folder / "i18n" / "zh-CN.yaml"
    parsed: list[str] = []
    original = theme.parse_yaml

    def counting(text: str, shown: str) -> Any:
        parsed.append(text)
        return original(text, shown)

    monkeypatch.setattr(theme, "parse_yaml", counting)
    monkeypatch.setattr(theme.stamps, "RACY_NS", 0)  # as if written long ago
    catalog.write_text("home: 首页\n", encoding="utf-8")
    os.utime(catalog, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    assert theme._read_catalog(folder, "zh-CN")[0] == {"home": "首页"}
    assert theme._read_catalog(folder, "zh-CN")[0] == {"home": "首页"}
    assert len(parsed) == 1  # the second build read nothing
    catalog.write_text("home: 主页\n", encoding="utf-8")  # same size, same times
    os.utime(catalog, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    assert theme._read_catalog(folder, "zh-CN")[0] == {"home": "主页"}  # its change time moved
    monkeypatch.setattr(theme.stamps, "RACY_NS", 10**12)
    catalog.write_text("home: 网站首页\n", encoding="utf-8")  # changed just now: read again
    assert theme._read_catalog(folder, "zh-CN")[0] == {"home": "网站首页"}
    assert theme._read_catalog(folder, "zh-CN")[0] == {"home": "网站首页"}
    assert len(parsed) == 4


def test_the_reads_of_every_page_are_read_at_once_as_each_page_reads_its_own(
    tmp_path: Path,
) -> None:
    """``read_all_reads``: one pass for the pages whose reads were not read, each page with
    the reads, in the order, that its own query gives (an input no longer known is none)."""
    folder = tmp_path / "cache"
    store = cache.Cache.open(folder)
    records = {
        f"p{n}/index.html": cache.OutputRecord(
            f"f{n}",
            f"s{n}",
            {f"read-{(n * 7 + r) % 13}": f"d{(n * 7 + r) % 13}" for r in range(n % 5)},
        )
        for n in range(12)
    }
    records["z-gone/index.html"] = cache.OutputRecord("f", "s", {"read-x": "dx", "read-1": "d1"})
    store.save_outputs("out", records)
    store._db.execute("DELETE FROM inputs WHERE input = 'read-x'")  # type: ignore[union-attr]
    store.close()

    def opened() -> tuple[cache.Cache, dict[str, cache.OutputRecord], list[str]]:
        again = cache.Cache.open(folder)
        assert again._db is not None
        asked: list[str] = []
        again._db.set_trace_callback(asked.append)
        return again, again.outputs("out"), asked

    one_store, one_by_one, _ = opened()
    expected = {path: list(record.reads.items()) for path, record in one_by_one.items()}
    one_store.close()
    assert expected["z-gone/index.html"] == [("read-1", "d1")]
    assert expected["p3/index.html"] == sorted(records["p3/index.html"].reads.items())

    store, kept, asked = opened()
    list(kept["p1/index.html"].reads.items())  # one read before: not read again
    asked.clear()
    store.read_all_reads(kept)
    assert len(asked) == 2
    assert {path: list(record.reads.items()) for path, record in kept.items()} == expected
    store.read_all_reads(kept)
    assert len(asked) == 2  # nothing is read twice
    store.close()


def test_a_story_added_has_every_page_s_reads_read_at_once_and_an_edit_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, options, store = _four_built(tmp_path, "{name}的事迹，第{n}篇。")
    store.close()
    calls: list[int] = []
    original = cache.Cache.read_all_reads

    def counted(self: cache.Cache, records: Any) -> None:
        calls.append(len(records))
        original(self, records)

    monkeypatch.setattr(cache.Cache, "read_all_reads", counted)
    (source / "profiles/2025/p1.md").write_text(profile(name="李华", body="改了一句。"), "utf-8")
    assert build(options).ok
    assert calls == []  # a body edited: only the pages that hold it are checked
    (source / "profiles/2025/p9.md").write_text(profile(name="赵新"), encoding="utf-8")
    assert build(options).ok
    assert len(calls) == 1 and calls[0] > 10
    assert build(BuildOptions(source=source, output=tmp_path / "clean")).ok
    assert files(options.output) == files(tmp_path / "clean")


def test_the_pages_left_to_check_are_the_same_found_by_job_numbers_or_by_every_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the last build's jobs numbered, the records kept are found by taking out of the
    last build's records those of the files that hold a changed item (or too many to list,
    unless what they held is known apart), of copied files and of what is no page: the same
    records and jobs left as looking at every page gives."""
    jobs = [PageJob(f"p{n}/index.html", "t.html", {}) for n in range(8)]
    # the items each page of the last build listed (None: too many to list); 7 is new
    items = {0: ("a",), 1: ("b",), 2: None, 3: None, 4: ("a", "c"), 5: (), 6: None}
    previous = {
        jobs[n].path: cache.OutputRecord("f", "s", {}, None if i is None else frozenset(i))
        for n, i in items.items()
    }
    previous["photo.jpg"] = cache.OutputRecord("d", "d")  # a copied file
    previous["gone/index.html"] = cache.OutputRecord("f", "s", {}, frozenset())  # no page now
    held = {"p2/index.html": (frozenset({"a"}),), "p3/index.html": (frozenset({"x"}),)}
    holders = cache.Holders(previous)
    changed = frozenset({"a"})
    store = cache.Cache.open(tmp_path / "cache")

    def left(outline: shape.Outline | None) -> tuple[dict[str, Any], list[int]]:
        found = shape.unchecked_pages(jobs, outline, previous, changed, held, store, holders)
        records, numbers, dropped = found
        # every record not dropped is one of the last build's
        if dropped is not None:
            assert dropped == previous.keys() - records.keys()
        return records, numbers

    slow = left(None)
    # the outline made against other records than the cache's: every record is looked at
    assert left(shape.Outline.of(jobs, None)) == slow
    assert left(shape.Outline.of(jobs, {})) == slow
    # made against the cache's (the very records ``previous`` copies): none is
    monkeypatch.setattr(store, "kept_outputs", lambda: previous)
    fast = left(shape.Outline.of(jobs, previous))
    assert fast == slow
    # p3 held none of the changed items; p6 lists none, and this process knows not what it held
    assert fast[0].keys() == {"p1/index.html", "p3/index.html", "p5/index.html"}
    assert fast[1] == [0, 2, 4, 6, 7]
    store.close()


def test_records_saved_with_the_paths_checked_are_those_saved_looking_at_every_one(
    tmp_path: Path,
) -> None:
    """A build that says which paths' records may have changed (the others are the last
    build's, the same objects) leaves the cache as one that compares every record."""

    def record(n: int, fingerprint: str = "f") -> cache.OutputRecord:
        return cache.OutputRecord(f"{fingerprint}{n}", f"s{n}", {f"read-{n}": f"d{n}"})

    first = {f"p{n}/index.html": record(n) for n in range(10)}
    second = dict(first)
    second["p3/index.html"] = record(3, "g")  # rendered again
    second["p4/index.html"] = record(4)  # checked: an equal record
    del second["p5/index.html"]  # gone
    second["new/index.html"] = record(11)
    checked = {"p3/index.html", "p4/index.html", "p5/index.html", "new/index.html"}

    def saved(folder: Path, paths: set[str] | None) -> list[Any]:
        store = cache.Cache.open(folder)
        assert store._db is not None
        store.save_outputs("out", first)
        store.save_outputs("out", second, first, paths)
        rows = [
            store._db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in ("outputs", "inputs", "page_reads")
        ]
        store.close()
        return rows

    assert saved(tmp_path / "a", checked) == saved(tmp_path / "b", None)
    assert saved(tmp_path / "c", checked - {"p5/index.html"}) != saved(tmp_path / "d", None)


def test_records_saved_anew_keep_the_index_of_the_pages_by_read(tmp_path: Path) -> None:
    records = {
        f"p{n}/index.html": cache.OutputRecord("f", "s", {f"read-{n % 3}": "d"}) for n in range(6)
    }
    store = cache.Cache.open(tmp_path)
    assert store._db is not None
    store.save_outputs("out", records)
    store.save_outputs("out", records)  # anew again, over the rows of the first
    query = "SELECT path FROM page_reads WHERE input = 'read-1'"
    plan = store._db.execute(f"EXPLAIN QUERY PLAN {query}").fetchall()
    assert "readers" in str(plan)  # found through the index, not by reading every row
    assert store.readers("read-1") == ["p1/index.html", "p4/index.html"]
    store.close()


def test_what_is_worked_out_of_every_file_follows_files_added_in_one_process(
    tmp_path: Path,
) -> None:
    """In one process, a build told which files changed works out again what is made of
    every file (the files copied, names that clash, slugs given twice) when a file is added
    or a field changes, and keeps it through body edits: each build reports and writes what
    a clean build does."""
    source, options, store = _four_built(tmp_path, "{name}的事迹，第{n}篇。")
    (source / "static").mkdir()
    slug = "slug: same\n"
    steps = [
        ("static/a.txt", "一"),
        ("profiles/2025/p1.md", profile(name="李华", body="李华改进了注水工艺。")),
        ("static/A.txt", "二"),  # the same name but for its case: refused
        ("profiles/2025/p2.md", profile(name="张秀兰", body="张秀兰带出了十名徒弟。")),
        ("static/A.txt", None),
        ("profiles/2025/p0.md", profile(name="王进喜", extra=slug)),
        ("profiles/2025/p3.md", profile(name="仇小明", extra=slug)),  # a slug given twice
        ("profiles/2025/p1.md", profile(name="李华", body="李华又改进了注水工艺。")),
    ]
    for step, (rel, text) in enumerate(steps):
        if text is None:
            (source / rel).unlink()
        else:
            (source / rel).write_text(text, encoding="utf-8")
        expected = _told_as_clean(tmp_path, options, store, rel, step)
    store.close()
    codes = [d.code for d in expected.diagnostics]
    assert "duplicate-slug" in codes, codes


def test_documents_added_or_taken_away_are_read_alone_and_the_tree_is_a_whole_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Documents added to a folder of documents, or taken away, as a watcher saw them: only
    the added ones are read, and the tree is the one a whole load finds, files and documents
    in the same order; anything else (a new folder, another file, a name the walk skips, a
    link, an edit with an add) is read by a whole load."""
    from generator.content import loader
    from generator.kinds.registry import BUILT_IN

    stories = {
        f"profiles/{y}/p{n}.md": profile(name=f"员工{n}", year=y)
        for y in (2024, 2025)
        for n in range(3)
    }
    stories["reports/2025/r.md"] = "---\ntitle: 报告\nunit: branch\nyear: 2025\n---\n正文。\n"
    source = write_site(tmp_path / "site", stories)
    (source / "profiles/2025/a.jpg").write_bytes(b"photo")
    folders, kept = BUILT_IN.folders(), dict[str, object]()
    loader.load(source, folders=folders, kept=kept)
    walks: list[int] = []
    real_walk = loader._walk
    monkeypatch.setattr(loader, "_walk", lambda *a: walks.append(1) or real_walk(*a))

    def again(changed: set[str], grown: bool) -> None:
        walks.clear()
        tree, problems = loader.load(source, folders=folders, changed=frozenset(changed), kept=kept)
        assert (walks == []) is grown, changed
        whole, found = loader.load(source, folders=folders)
        assert tree == whole and list(tree.files) == list(whole.files), changed
        assert list(tree.digests) == list(whole.digests) and set(problems) == set(found)

    write = lambda rel, text: (source / rel).write_text(text, encoding="utf-8")  # noqa: E731
    write("profiles/2025/p10.md", profile(name="新人"))
    write("profiles/2024/0.md", "---\nname: [broken\n")  # a parse problem comes along
    again({"profiles/2025/p10.md", "profiles/2024/0.md"}, grown=True)
    (source / "profiles/2025/p1.md").unlink()
    (source / "profiles/2024/0.md").unlink()  # its problem goes with it
    again({"profiles/2025/p1.md", "profiles/2024/0.md"}, grown=True)
    (source / "profiles/2025/p2.md").rename(source / "profiles/2024/p9.md")  # moved
    again({"profiles/2025/p2.md", "profiles/2024/p9.md"}, grown=True)
    (source / "profiles/2026").mkdir()
    write("profiles/2026/n.md", profile(year=2026))
    again({"profiles/2026/n.md"}, grown=False)  # a new folder
    write("profiles/2025/b.jpg", "photo")
    again({"profiles/2025/b.jpg"}, grown=False)
    write("profiles/2025/~x.md", profile())
    write("profiles/2025/x.md.bak", profile())
    again({"profiles/2025/x.md.bak"}, grown=False)
    (source / "profiles/2025/l.md").symlink_to(source / "profiles/2025/p0.md")
    again({"profiles/2025/l.md"}, grown=False)
    write("profiles/2025/p0.md", profile(body="改过。"))
    write("profiles/2025/p11.md", profile(name="又一人"))
    again({"profiles/2025/p0.md", "profiles/2025/p11.md"}, grown=False)


def test_a_tree_with_a_linked_file_or_after_a_commit_is_read_whole(tmp_path: Path) -> None:
    """What a watcher cannot tell: a file that is a link shows what its target holds (its
    target taken away takes it away too), and a commit dates the documents anew; the source
    is then read whole, and the tree is a whole load's."""
    from generator.content import loader
    from generator.kinds.registry import BUILT_IN
    from tests.test_dates import git

    stories = {f"profiles/2025/p{n}.md": profile(name=f"员工{n}") for n in range(3)}
    source = write_site(tmp_path / "repo" / "site", stories)
    (source / "profiles/2025/l.md").symlink_to(source / "profiles/2025/p0.md")
    folders, kept = BUILT_IN.folders(), dict[str, object]()

    def again(changed: set[str]) -> tuple[object, object]:
        tree, _ = loader.load(source, folders=folders, changed=frozenset(changed), kept=kept)
        return tree, loader.load(source, folders=folders)[0]

    loader.load(source, folders=folders, kept=kept)
    (source / "profiles/2025/p0.md").unlink()
    tree, whole = again({"profiles/2025/p0.md"})
    assert tree == whole and "profiles/2025/l.md" not in {d.path for d in whole.docs}  # type: ignore[attr-defined]
    (source / "profiles/2025/l.md").unlink()
    loader.load(source, folders=folders, kept=kept)  # no link left
    git(source.parent, "init", "-q")
    git(source.parent, "add", "-A")
    git(source.parent, "commit", "-qm", "first", when="2025-03-08T10:00:00+08:00")
    (source / "profiles/2025/p9.md").write_text(profile(name="新人"), encoding="utf-8")
    tree, whole = again({"profiles/2025/p9.md"})
    assert tree == whole  # the documents dated by the commit, not by their files' times
    dates = {doc.path: doc.created for doc in whole.docs}  # type: ignore[attr-defined]
    assert str(dates["profiles/2025/p1.md"]) == "2025-03-08"
    (source / "profiles/2025/p8.md").write_text(profile(name="又一人"), encoding="utf-8")
    assert again({"profiles/2025/p8.md"})[0] == loader.load(source, folders=folders)[0]


def test_a_new_file_named_otherwise_than_its_folder_spells_it_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a file system that ignores the letters' case, a watcher may name ``new.md`` a file
    the folder holds as ``New.md``: that name is not taken for a document of its own."""
    from generator.content import loader
    from generator.kinds.registry import BUILT_IN

    source = write_site(tmp_path / "site", {"profiles/2025/a.md": profile()})
    folders, kept = BUILT_IN.folders(), dict[str, object]()
    loader.load(source, folders=folders, kept=kept)
    (source / "profiles/2025/New.md").write_text(profile(name="新人"), encoding="utf-8")
    real_stat, real_read = os.lstat, loader._read

    def ignoring_case(path: object) -> os.stat_result:  # as such a file system answers
        return real_stat(str(path).replace("new.md", "New.md"))

    monkeypatch.setattr(loader.os, "lstat", ignoring_case)
    monkeypatch.setattr(loader, "_read", lambda root, rel: real_read(root, rel.replace("/n", "/N")))
    changed = frozenset({"profiles/2025/new.md"})
    tree, _ = loader.load(source, folders=folders, changed=changed, kept=kept)
    assert sorted(doc.path for doc in tree.docs) == ["profiles/2025/New.md", "profiles/2025/a.md"]
