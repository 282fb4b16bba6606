"""Incremental builds equal clean builds byte for byte, whatever sequence of changes led there;
a build with nothing changed writes nothing."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import generator.build as building
from generator.base import hanzi
from generator.base.config import BuildOptions
from generator.build import BuildReport, build
from generator.content import loader
from generator.kinds.registry import BUILT_IN
from generator.output import cache, pool, writer
from generator.output import fingerprints as deps
from generator.pages.view import Read
from generator.site import search
from tests.conftest import profile, write_site

NAMES = ["王进喜", "李华", "张秀兰", "仇小明", "欧阳明远", "丁一", "戴明"]
UNITS = ["branch", "other-branch", "plant"]
TAGS = ["安全生产", "技术创新", "师带徒"]


def tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def report_md(title: str, unit: str, day: int, speakers: list[str]) -> str:
    return (
        f"---\ntitle: {title}\nunit: {unit}\ndate: 2025-03-{day:02d}\n"
        f"speakers: [{', '.join(speakers)}]\n---\n"
        f"{title}的正文，见[链接](../../profiles/2025/p0.md)。\n"
    )


def pledge_md(unit: str, year: int, statuses: list[str]) -> str:
    items = "".join(f"  - text: 第{i + 1}项承诺\n    status: {s}\n" for i, s in enumerate(statuses))
    return f"---\nbranch: {unit}\nyear: {year}\nitems:\n{items}---\n承诺书全文\n"


def fixed_times(root: Path) -> None:
    # dates of files without `date` come from file times outside git: pin them
    for path in root.rglob("*.md"):
        os.utime(path, (1_735_689_600, 1_735_689_600))


step = st.one_of(
    st.tuples(
        st.just("profile"),
        st.integers(0, 5),
        st.sampled_from(NAMES),
        st.sampled_from(UNITS),
        st.sampled_from([2024, 2025]),
        st.lists(st.sampled_from(TAGS), max_size=2, unique=True),
        st.text("事迹文字", max_size=5),
    ),
    st.tuples(
        st.just("report"),
        st.integers(0, 3),
        st.sampled_from(UNITS),
        st.integers(1, 28),
        st.lists(st.sampled_from(NAMES), max_size=2, unique=True),
    ),
    st.tuples(
        st.just("pledge"),
        st.sampled_from(["branch", "other-branch"]),
        st.sampled_from([2024, 2025]),
        st.lists(st.sampled_from(["planned", "in_progress", "done"]), min_size=1, max_size=3),
    ),
    st.tuples(st.just("delete"), st.integers(0, 20)),
    st.tuples(st.just("rename"), st.integers(0, 20), st.integers(6, 9)),
    st.tuples(st.just("template"), st.sampled_from(["", "<p>定制</p>", "<p>另一版</p>"])),
    st.tuples(
        st.just("config"), st.sampled_from([1, 2, 50]), st.sampled_from(["pinyin", "strokes"])
    ),
    st.tuples(st.just("units"), st.sampled_from(["采油一队党支部", "采油一队第一党支部"])),
)

# Site theme overrides whose templates read through the site view what the default templates
# do not: content reachable only through a view method (a speaker's summary, the related items'
# summaries, a branch's pledge), and aggregates (every unit's counts, the years, the tags).
VIEW_TEMPLATES = {
    "report.html": (
        '{% extends "base.html" %}{% block main %}{{ item.title }}'
        "{% for s in item.speakers %}[{% set p = site.speaker(item, s) %}"
        "{% if p %}{{ p.name }}:{{ site.summary(p) }}:"
        "{% for r in site.spoke_at(p) %}{{ r.title }}{{ r.date }}{% endfor %}{% endif %}]"
        "{% endfor %}{% endblock %}"
    ),
    "profile.html": (
        '{% extends "base.html" %}{% block main %}{{ item.name }}'
        "{% for r in site.related(item) %}[{{ r.key }}:{{ site.summary(r) }}]{% endfor %}"
        "{% set b = site.branch_pledge(item) %}{% if b %}{{ b.done_count }}{% endif %}"
        "/{{ site.unit_fulfilment(item.unit).done }}{% endblock %}"
    ),
    "404.html": (
        '{% extends "base.html" %}{% block main %}'
        "{% for u in site.units %}{{ u.name }}{{ site.unit_counts(u.id) }}{% endfor %}"
        "{% for y in site.years %}{{ y }}{% endfor %}"
        "{% for t, n in site.tag_counts() %}{{ t }}{{ n }}{% endfor %}{% endblock %}"
    ),
}
view_step = st.tuples(st.just("view"), st.sampled_from(sorted(VIEW_TEMPLATES)), st.booleans())
step = st.one_of(step, view_step)


def _apply_profile(src: Path, change: tuple[object, ...]) -> None:
    _, n, name, unit, year, tags, text = change
    extra = f"tags: [{', '.join(tags)}]\n" if tags else ""  # type: ignore[arg-type]
    (src / f"profiles/{year}").mkdir(parents=True, exist_ok=True)
    for other in (2024, 2025):
        (src / f"profiles/{other}/p{n}.md").unlink(missing_ok=True)
    (src / f"profiles/{year}/p{n}.md").write_text(
        profile(
            name=str(name),
            unit=str(unit),
            year=int(year),
            extra=extra,  # type: ignore[call-overload]
            body=f"正文{text}",
        ),
        encoding="utf-8",
    )


def _apply_report(src: Path, change: tuple[object, ...]) -> None:
    _, n, unit, day, speakers = change
    (src / "reports/2025").mkdir(parents=True, exist_ok=True)
    (src / f"reports/2025/r{n}.md").write_text(
        report_md(f"经验交流{n}", str(unit), int(day), list(speakers)),  # type: ignore[call-overload, arg-type]
        encoding="utf-8",
    )


def _apply_pledge(src: Path, change: tuple[object, ...]) -> None:
    _, unit, year, statuses = change
    (src / f"pledges/{year}").mkdir(parents=True, exist_ok=True)
    (src / f"pledges/{year}/{unit}.md").write_text(
        pledge_md(str(unit), int(year), list(statuses)), encoding="utf-8"
    )  # type: ignore[call-overload, arg-type]


def _apply_file_move(src: Path, change: tuple[object, ...]) -> None:
    files = sorted(p for p in src.rglob("*.md") if "theme" not in p.parts)
    if not files:
        return
    victim = files[int(change[1]) % len(files)]  # type: ignore[call-overload]
    if change[0] == "delete":
        victim.unlink()
    else:
        victim.rename(victim.with_name(f"renamed-{change[2]}-{victim.name}"))


def _apply_template(src: Path, change: tuple[object, ...]) -> None:
    target = src / "theme/templates/page.html"
    if change[1]:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            '{% extends "base.html" %}{% block main %}'
            + str(change[1])
            + "{{ body }}{% endblock %}",
            encoding="utf-8",
        )
    else:
        target.unlink(missing_ok=True)


def _apply_config(src: Path, change: tuple[object, ...]) -> None:
    (src / "site.yaml").write_text(
        f"title: 测试站点\npage_size: {change[1]}\nname_order: {change[2]}\n", encoding="utf-8"
    )


def _apply_view(src: Path, change: tuple[object, ...]) -> None:
    target = src / "theme/templates" / str(change[1])
    if change[2]:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(VIEW_TEMPLATES[str(change[1])], encoding="utf-8")
    else:
        target.unlink(missing_ok=True)


def _apply_units(src: Path, change: tuple[object, ...]) -> None:
    text = (src / "units.yaml").read_text(encoding="utf-8")
    for name in ("采油一队党支部", "采油一队第一党支部"):
        text = text.replace(f"name: {name}\n", f"name: {change[1]}\n")
    (src / "units.yaml").write_text(text, encoding="utf-8")


APPLY = {
    "profile": _apply_profile,
    "report": _apply_report,
    "pledge": _apply_pledge,
    "delete": _apply_file_move,
    "rename": _apply_file_move,
    "template": _apply_template,
    "config": _apply_config,
    "view": _apply_view,
    "units": _apply_units,
}


def apply(src: Path, change: tuple[object, ...]) -> None:
    APPLY[str(change[0])](src, change)


def assert_incremental_equals_clean(base: Path, steps: list[tuple[object, ...]]) -> None:
    """Apply ``steps`` one by one; after each, an incremental build equals a clean build."""
    src = write_site(
        base / "src",
        {
            "profiles/2025/p0.md": profile(),
            "pages/about.md": "---\ntitle: 关于\nslug: about\n---\n关于本站\n",
        },
    )
    inc, clean = base / "inc", base / "clean"
    cache = base / "cache"
    fixed_times(src)
    first = build(BuildOptions(source=src, output=inc, cache_dir=cache))
    assert first.ok, first.diagnostics
    for change in steps:
        apply(src, change)
        fixed_times(src)
        incremental = build(BuildOptions(source=src, output=inc, cache_dir=cache))
        if clean.exists():
            shutil.rmtree(clean)
        full = build(BuildOptions(source=src, output=clean))
        assert incremental.ok == full.ok, (change, incremental.diagnostics, full.diagnostics)
        if full.ok:
            assert tree(inc) == tree(clean), change


@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(step, min_size=1, max_size=6))
def test_incremental_builds_equal_clean_builds(
    tmp_path_factory: object, steps: list[tuple[object, ...]]
) -> None:
    base: Path = tmp_path_factory.mktemp("inc")  # type: ignore[attr-defined]
    assert_incremental_equals_clean(base, steps)


@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=view_step.map(lambda v: (v[0], v[1], True)), steps=st.lists(step, max_size=5))
def test_incremental_builds_equal_clean_builds_when_templates_read_through_the_view(
    tmp_path_factory: object, first: tuple[object, ...], steps: list[tuple[object, ...]]
) -> None:
    base: Path = tmp_path_factory.mktemp("view")  # type: ignore[attr-defined]
    assert_incremental_equals_clean(base, [first, *steps])


SPEAKER = ("report", 0, "plant", 3, ["王进喜"])


def test_an_item_read_only_through_the_view_is_a_dependency(tmp_path: Path) -> None:
    # the report page shows its speaker's summary only through site.speaker() and
    # site.summary(); an edit to the speaker's profile must reach it
    assert_incremental_equals_clean(
        tmp_path,
        [
            SPEAKER,
            ("view", "report.html", True),
            ("profile", 0, "王进喜", "branch", 2025, [], "事迹"),
            ("profile", 0, "王进喜", "other-branch", 2025, [], "文字"),
            ("profile", 0, "李华", "other-branch", 2025, [], "文字"),
            ("profile", 0, "王进喜", "other-branch", 2024, [], "文字"),
        ],
    )


def test_aggregates_read_through_the_view_are_dependencies(tmp_path: Path) -> None:
    # the 404 page starts reading every unit's counts, the years and the tags
    assert_incremental_equals_clean(
        tmp_path,
        [
            ("view", "404.html", True),
            ("profile", 1, "李华", "other-branch", 2024, ["师带徒"], ""),
            ("profile", 1, "李华", "plant", 2024, [], ""),
            ("pledge", "branch", 2025, ["done"]),
            ("view", "profile.html", True),
            ("pledge", "branch", 2025, ["planned", "done"]),
            ("profile", 2, "张秀兰", "branch", 2025, [], "新"),
            ("delete", 0),
        ],
    )


def test_second_build_writes_nothing(tmp_path: Path) -> None:
    src = write_site(
        tmp_path / "src",
        {
            "profiles/2025/a.md": profile(),
            "profiles/2025/b.md": profile(name="李华", extra="tags: [安全生产]\n"),
        },
    )
    out, cache = tmp_path / "out", tmp_path / "cache"
    assert build(BuildOptions(source=src, output=out, cache_dir=cache)).files > 0
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    again = build(BuildOptions(source=src, output=out, cache_dir=cache))
    assert again.ok and again.files == 0 and again.pages == 0
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


@pytest.mark.parametrize(
    "naming",
    ['{% include "_dy" ~ "n.html" %}', '{% include ["_none.html", part] %}'],
)
def test_a_template_named_by_a_value_made_as_it_renders_is_a_dependency(
    tmp_path: Path, naming: str
) -> None:
    """The template a page includes by a computed name is not known before it renders: every
    template of the theme is then one it depends on, and an edit of it makes the page again."""
    src = write_site(
        tmp_path / "src",
        {
            "profiles/2025/a.md": profile(),
            "theme/templates/profile.html": '{% extends "base.html" %}{% block main %}'
            + naming.replace("part", '"_dy" ~ "n.html"')
            + "{% endblock %}",
            "theme/templates/_dyn.html": "<span>第一版</span>",
        },
    )
    out, cache = tmp_path / "out", tmp_path / "cache"
    assert build(BuildOptions(source=src, output=out, cache_dir=cache)).ok
    page = next(out.glob("profiles/2025/*/index.html"))
    assert "第一版" in page.read_text(encoding="utf-8")
    (src / "theme/templates/_dyn.html").write_text("<span>第二版</span>", encoding="utf-8")
    again = build(BuildOptions(source=src, output=out, cache_dir=cache))
    assert again.ok and again.pages >= 1
    assert "第二版" in page.read_text(encoding="utf-8")


def test_a_changed_generator_renders_every_page_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages depend on the generator's own code: after an upgrade (or an edit to a page
    family) nothing made by the old code is kept."""
    src = write_site(tmp_path / "src", {"profiles/2025/a.md": profile()})
    out, cache_dir = tmp_path / "out", tmp_path / "cache"
    first = build(BuildOptions(source=src, output=out, cache_dir=cache_dir))
    assert first.ok and first.pages > 0
    monkeypatch.setattr(cache, "code_digest", lambda: "another version of the code")
    again = build(BuildOptions(source=src, output=out, cache_dir=cache_dir))
    assert again.ok and again.pages == first.pages


def test_one_edit_rebuilds_only_the_pages_that_show_it(tmp_path: Path) -> None:
    src = write_site(
        tmp_path / "src",
        {
            "profiles/2025/a.md": profile(),
            "profiles/2024/b.md": profile(name="李华", unit="other-branch", year=2024),
        },
    )
    out, cache = tmp_path / "out", tmp_path / "cache"
    total = build(BuildOptions(source=src, output=out, cache_dir=cache)).pages
    (src / "profiles/2024/b.md").write_text(
        profile(name="李华", unit="other-branch", year=2024, body="新的事迹。"), encoding="utf-8"
    )
    again = build(BuildOptions(source=src, output=out, cache_dir=cache))
    assert 0 < again.pages < total
    assert "新的事迹" in (out / "profiles/2024/li-hua/index.html").read_text(encoding="utf-8")
    # the other worker's own page and branch were not re-rendered
    report = build(BuildOptions(source=src, output=out, cache_dir=cache))
    assert report.pages == 0


def test_a_body_edit_checks_only_the_pages_that_hold_or_read_the_item(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When only a body changed, a page that holds and read none of the changed items is kept
    without computing its fingerprint; the result still equals a clean build."""
    files = {
        f"profiles/{2020 + n % 5}/p{n}.md": profile(
            name=f"员工{n}", unit=UNITS[n % 3], year=2020 + n % 5, body=f"第{n}号的事迹。"
        )
        for n in range(30)
    }
    src = write_site(tmp_path / "src", files)
    out, cache_dir, clean = tmp_path / "out", tmp_path / "cache", tmp_path / "clean"
    fixed_times(src)
    assert build(BuildOptions(source=src, output=out, cache_dir=cache_dir)).ok
    checked: list[str] = []
    original = deps.Fingerprints.page

    planning = building._plan_work
    in_planning: list[bool] = []

    def counting(self: deps.Fingerprints, template: str, context: dict[str, object]) -> object:
        if in_planning:  # checked before rendering (not a page fingerprinted once rendered)
            checked.append(f"{template}:{context.get('part', '')}")
        return original(self, template, context)

    def planned(*args: Any) -> Any:
        in_planning.append(True)
        try:
            return planning(*args)
        finally:
            in_planning.clear()

    monkeypatch.setattr(deps.Fingerprints, "page", counting)
    monkeypatch.setattr(building, "_plan_work", planned)
    full = len(list(out.rglob("index.html")))
    edited = src / "profiles/2021/p1.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "新增的一段。\n", encoding="utf-8")
    fixed_times(src)
    again = build(BuildOptions(source=src, output=out, cache_dir=cache_dir))
    assert again.ok and again.pages > 0
    assert 0 < len(checked) < full / 3, (len(checked), full)
    # the search manifest and shards are made again from the patched index, unchecked
    assert not {"search_data.js:index", "search_data.js:t"} & set(checked), checked
    # pages that only count items or list their addresses hold no item to check: the
    # sitemap, the years page, and unit pages that preview none of the year edited
    assert not {"sitemap.xml:", "years.html:", "unit.html:"} & set(checked), checked
    assert "新增的一段" in (out / "profiles/2021/yun-gong-1/index.html").read_text("utf-8")
    monkeypatch.undo()
    assert build(BuildOptions(source=src, output=clean)).ok
    assert tree(out) == tree(clean)
    # a change beyond bodies (a new tag) checks every page again
    edited.write_text(
        profile(name="员工1", unit=UNITS[1], year=2021, extra="tags: [安全生产]\n"),
        encoding="utf-8",
    )
    monkeypatch.setattr(deps.Fingerprints, "page", counting)
    monkeypatch.setattr(building, "_plan_work", planned)
    checked.clear()
    assert build(BuildOptions(source=src, output=out, cache_dir=cache_dir)).ok
    assert len(checked) >= full


def test_a_broken_cache_gives_a_warning_and_a_clean_build(tmp_path: Path) -> None:
    src = write_site(tmp_path / "src", {"profiles/2025/a.md": profile()})
    out, cache = tmp_path / "out", tmp_path / "cache"
    assert build(BuildOptions(source=src, output=out, cache_dir=cache)).ok
    (cache / "build.sqlite").write_bytes(b"this is not a database")
    for extra in ("build.sqlite-wal", "build.sqlite-shm"):
        (cache / extra).unlink(missing_ok=True)
    report = build(BuildOptions(source=src, output=out, cache_dir=cache))
    assert report.ok and report.pages > 0
    assert [d.code for d in report.diagnostics] == ["cache-corrupt"]
    shutil.rmtree(cache)  # the folder can be deleted at any time
    assert build(BuildOptions(source=src, output=out, cache_dir=cache)).ok


def test_parallel_and_serial_builds_are_identical(tmp_path: Path) -> None:
    files = {
        f"profiles/2025/p{i}.md": profile(
            name=f"王{'一二三四五六七八九十'[i % 10]}{i}", extra=f"tags: [{TAGS[i % 3]}]\n"
        )
        for i in range(240)
    }
    src = write_site(tmp_path / "src", files)
    fixed_times(src)
    one = build(BuildOptions(source=src, output=tmp_path / "one", workers=1))
    two = build(BuildOptions(source=src, output=tmp_path / "two", workers=2))
    assert one.ok and two.ok and one.pages >= 200
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


def test_front_matter_that_is_not_plain_data_still_builds_with_a_cache(tmp_path: Path) -> None:
    src = write_site(
        tmp_path / "src",
        {
            "profiles/2025/a.md": profile(extra="note: !!binary aGVsbG8=\nmore: !!set {a, b}\n"),
        },
    )
    out, cache = tmp_path / "out", tmp_path / "cache"
    for _ in range(2):
        report = build(BuildOptions(source=src, output=out, cache_dir=cache))
        assert report.ok, report.diagnostics


def test_the_cache_records_which_pages_read_each_input(tmp_path: Path) -> None:
    src = write_site(
        tmp_path / "src",
        {
            "profiles/2025/a.md": profile(),
            "reports/2025/r.md": report_md("经验交流", "branch", 3, ["王进喜"]),
        },
    )
    out, cache_dir = tmp_path / "out", tmp_path / "cache"
    assert build(BuildOptions(source=src, output=out, cache_dir=cache_dir)).ok
    store = cache.Cache.open(cache_dir)
    try:
        readers = store.readers(Read("years").encode())
        speaker = store.readers(Read("speaker", ("reports/2025/r.md", "王进喜")).encode())
        search_files = store.readers(Read("items").encode())
        one_result = store.readers(Read("search_item", (1,)).encode())
        # a record's reads are read from the cache when asked for, while it is open
        records = {
            path: dict(record.reads) for path, record in store.outputs(writer.identity(out)).items()
        }
    finally:
        store.close()
    # the home page lists the years; the search index reads every item, except what one
    # result shows, which reads its own item
    assert "index.html" in readers
    assert {"search/index.js", "search/t/0.js"} <= set(search_files)
    assert one_result == ["search/x/1.js"] and "search/x/1.js" not in search_files
    assert len(speaker) == 1 and speaker[0].startswith("reports/")
    assert Read("speaker", ("reports/2025/r.md", "王进喜")).encode() in records[speaker[0]]
    assert not records["feed.xml"].keys() & {Read("years").encode()}


def test_workers_write_each_page_once_into_the_staged_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # with forked workers, the workers write the pages they render, each page once, and the
    # output holds exactly the pages written
    files = {f"profiles/2025/p{i}.md": profile(name=f"王{i}") for i in range(220)}
    src = write_site(tmp_path / "src", files)
    log = tmp_path / "writes.log"
    original = writer.write_new

    def write_new(root: Path, rel: str, data: bytes) -> None:
        with log.open("a", encoding="utf-8") as fh:  # one line a call, from any process
            fh.write(f"{os.getpid()} {rel}\n")
        original(root, rel, data)

    monkeypatch.setattr(writer, "write_new", write_new)
    report = build(BuildOptions(source=src, output=tmp_path / "out", workers=2))
    assert report.ok and report.pages >= 200
    calls = [line.split(" ", 1) for line in log.read_text(encoding="utf-8").splitlines()]
    written = [rel for _, rel in calls]
    pages = {p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.html")}
    assert pages <= set(written)
    assert len(written) == len(set(written)) == report.pages
    html_writers = {pid for pid, rel in calls if rel.endswith(".html")}
    assert str(os.getpid()) not in html_writers and len(html_writers) == 2
    # the build process claimed every page the workers wrote: the marker lists them
    assert set(written) <= writer.marked_files(tmp_path / "out")


def test_a_page_claimed_twice_or_outside_the_output_is_refused(tmp_path: Path) -> None:
    staged = writer.StagedOutput(tmp_path / "out")
    try:
        staged.claim(["a/index.html"])
        with pytest.raises(ValueError):
            staged.claim(["a/index.html"])
        with pytest.raises(ValueError):
            staged.claim(["../elsewhere.html"])
    finally:
        staged.abort()


def test_pinyin_readings_come_from_the_cache_in_a_new_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pypinyin (a second to load) is asked only for text the cache has no reading of."""

    def new_process() -> None:  # nothing known in memory
        monkeypatch.setattr(hanzi, "_known", {})
        monkeypatch.setattr(hanzi, "_learned", {})
        hanzi._both.cache_clear()
        hanzi.name_pinyin.cache_clear()

    new_process()
    src = write_site(
        tmp_path / "src",
        {"profiles/2025/a.md": profile(), "profiles/2025/b.md": profile(name="欧阳明远")},
    )
    out, cache_dir = tmp_path / "out", tmp_path / "cache"
    assert build(BuildOptions(source=src, output=out, cache_dir=cache_dir)).ok
    new_process()  # where pypinyin must not be asked

    def refuse(text: str) -> object:
        raise AssertionError(f"pypinyin asked for {text!r}")

    monkeypatch.setattr(hanzi, "_convert", refuse)
    (src / "profiles/2025/a.md").write_text(profile(body="新的事迹。"), encoding="utf-8")
    assert build(BuildOptions(source=src, output=out, cache_dir=cache_dir)).ok
    assert (out / "profiles/2025/ou-yang-ming-yuan/index.html").is_file()


@pytest.mark.parametrize("kept", ["not json", "[1, 2]", '{"a": 1}', '["other code", {}]'])
def test_pinyin_readings_the_cache_cannot_give_are_asked_again(
    tmp_path: Path, kept: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hanzi, "_known", {})  # a new process: nothing known in memory
    monkeypatch.setattr(hanzi, "_learned", {})
    hanzi._both.cache_clear()
    hanzi.name_pinyin.cache_clear()
    src = write_site(tmp_path / "src", {"profiles/2025/a.md": profile()})
    out, cache_dir = tmp_path / "out", tmp_path / "cache"
    assert build(BuildOptions(source=src, output=out, cache_dir=cache_dir)).ok
    store = cache.Cache.open(cache_dir)
    store.set_meta("pinyin", kept)
    store.close()
    (src / "profiles/2025/b.md").write_text(profile(name="欧阳明远"), encoding="utf-8")
    assert build(BuildOptions(source=src, output=out, cache_dir=cache_dir)).ok
    assert (out / "profiles/2025/ou-yang-ming-yuan/index.html").is_file()


def test_a_discarded_cache_is_reported_once(tmp_path: Path) -> None:
    src = write_site(tmp_path / "src", {"profiles/2025/a.md": profile()})
    options = BuildOptions(source=src, output=tmp_path / "out", cache_dir=tmp_path / "cache")
    assert build(options).ok
    store = cache.Cache.open(tmp_path / "cache")
    store.set_meta("schema", "an older showcase")
    store.close()
    assert "cache-stale" in [d.code for d in build(options).diagnostics]
    assert "cache-stale" not in [d.code for d in build(options).diagnostics]


def test_the_reads_of_a_page_are_read_from_the_cache_only_when_it_is_checked(
    tmp_path: Path,
) -> None:
    src = write_site(tmp_path / "src", {"profiles/2025/a.md": profile()})
    out, cache_dir = tmp_path / "out", tmp_path / "cache"
    assert build(BuildOptions(source=src, output=out, cache_dir=cache_dir)).ok
    store = cache.Cache.open(cache_dir)
    queries: list[str] = []
    store._db.set_trace_callback(queries.append)  # type: ignore[union-attr]
    try:
        records = store.outputs(writer.identity(out))
        assert records and not any("page_reads" in q for q in queries)
        home = dict(records["index.html"].reads)
        assert Read("years").encode() in home
        assert sum("page_reads" in q for q in queries) == 1  # that page's alone
        assert records["index.html"] == cache.OutputRecord(
            records["index.html"].fingerprint,
            records["index.html"].sha,
            home,
            records["index.html"].items,
        )
    finally:
        store.close()


def _collector_state(indices: range) -> list[tuple[bool, int]]:
    return [(gc.isenabled(), gc.get_freeze_count()) for _ in indices]


def test_the_collector_is_paused_while_a_build_runs_and_on_in_its_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    original = building._build

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return original(*args, **kwargs)

    monkeypatch.setattr(building, "_build", watched)
    src = write_site(tmp_path / "src", {"profiles/2025/a.md": profile()})
    assert gc.isenabled()
    assert build(BuildOptions(source=src, output=tmp_path / "out")).ok
    assert seen == [False] and gc.isenabled()
    gc.disable()  # a caller that paused it (serve) finds it paused still
    try:
        assert build(BuildOptions(source=src, output=tmp_path / "out2")).ok
        assert not gc.isenabled()
    finally:
        gc.enable()
    # workers collect their own garbage (even forked from a build that paused it), not what
    # they inherited (frozen while they run)
    gc.disable()
    try:
        states = [s for part in pool._run(_collector_state, 8, 2, None, 1) for s in part]
        assert not gc.isenabled()  # as the build process left it
    finally:
        gc.enable()
    assert states and all(enabled and frozen > 0 for enabled, frozen in states)
    assert gc.get_freeze_count() == 0


def test_workers_that_cannot_start_leave_nothing_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise OSError(11, "no more processes")

    monkeypatch.setattr(os, "fork", no_fork)
    with pytest.raises(OSError):
        list(pool._run(_collector_state, 8, 2, None, 1))
    assert gc.get_freeze_count() == 0
    # front matter is then parsed in this process
    files = [(f"profiles/2025/p{i}.md", profile(name=f"王强{i}").encode()) for i in range(300)]
    assert pool.parse_files(files, 2) == loader.parse_files(files)


def test_the_cache_keeps_a_body_as_html_and_the_search_reads_its_text_from_it(
    tmp_path: Path,
) -> None:
    """A cached body is its HTML, summary and links; a later build that makes every search
    table again from cached bodies (a unit renamed) writes what a clean build writes."""
    src = write_site(
        tmp_path / "src",
        {
            "profiles/2025/a.md": profile(body="坚守井场二十年，创新采油工艺。"),
            "profiles/2024/b.md": profile(name="李华", year=2024, body="带领班组攻关节能降耗。"),
        },
    )
    fixed_times(src)
    out, cache_dir = tmp_path / "out", tmp_path / "cache"
    assert build(BuildOptions(source=src, output=out, cache_dir=cache_dir)).ok
    with sqlite3.connect(cache_dir / "build.sqlite") as db:
        rows = [json.loads(data) for (data,) in db.execute("SELECT data FROM markup")]
    assert len(rows) == 2 and all(len(row) == 3 for row in rows)
    assert any("坚守井场" in row[0] for row in rows)
    apply(src, ("units", "采油一队攻坚党支部"))
    fixed_times(src)
    again = build(BuildOptions(source=src, output=out, cache_dir=cache_dir))
    clean = build(BuildOptions(source=src, output=tmp_path / "clean"))
    assert again.ok and clean.ok
    assert tree(out) == tree(tmp_path / "clean")
    results = "".join(p.read_text(encoding="utf-8") for p in (out / "search/x").iterdir())
    assert "坚守井场" in results and "节能降耗" in results


def _recording(real: Callable[..., Any], calls: Path) -> Callable[..., Any]:
    """``real``, writing the number of the process that calls it, a line a call, to ``calls``
    (worker processes share the file)."""

    def recording(*args: Any) -> Any:
        with open(calls, "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()}\n")
        return real(*args)

    return recording


def test_the_search_term_tables_are_made_in_the_workers_that_convert_the_bodies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each document's term table is made once, in the worker that converted its body, and
    the index is made from those tables: it equals a build's in one process."""
    calls = tmp_path / "calls"
    monkeypatch.setattr(search, "split_table", _recording(search.split_table, calls))
    files = {f"profiles/2025/p{i}.md": profile(name=f"王{NAMES[i % 7]}{i}") for i in range(300)}
    src = write_site(tmp_path / "src", files)
    fixed_times(src)
    two = build(
        BuildOptions(source=src, output=tmp_path / "two", cache_dir=tmp_path / "c", workers=2)
    )
    assert two.ok
    pids = calls.read_text(encoding="utf-8").split()
    assert len(pids) == 300 and str(os.getpid()) not in pids
    one = build(BuildOptions(source=src, output=tmp_path / "one", workers=1))
    assert one.ok and tree(tmp_path / "one") == tree(tmp_path / "two")


def test_a_build_stopped_after_storing_term_tables_leaves_no_table_of_another_context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build with a unit renamed stores the term tables of the bodies it converts, then
    stops before its index is made; the last index (of the old names) is forgotten, so a
    later build under the old names does not take those tables for its own."""
    files = {f"profiles/2025/p{i}.md": profile(name=f"王{NAMES[i]}") for i in range(2)}
    src = write_site(tmp_path / "src", files)
    fixed_times(src)
    out, cache_dir = tmp_path / "out", tmp_path / "cache"
    assert build(BuildOptions(source=src, output=out, cache_dir=cache_dir)).ok
    units = (src / "units.yaml").read_text(encoding="utf-8")
    apply(src, ("units", "采油一队攻坚党支部"))
    with sqlite3.connect(cache_dir / "build.sqlite") as db:  # every body is converted again
        db.execute("DELETE FROM markup")
        db.execute("DELETE FROM links")

    def stopped(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("stopped")

    with monkeypatch.context() as patch:
        patch.setattr(building.searchindex, "search_index", stopped)
        with pytest.raises(RuntimeError):
            build(BuildOptions(source=src, output=out, cache_dir=cache_dir))
    (src / "units.yaml").write_text(units, encoding="utf-8")
    (src / "profiles/2025/p9.md").write_text(profile(name="赵新"), encoding="utf-8")
    fixed_times(src)
    assert build(BuildOptions(source=src, output=out, cache_dir=cache_dir)).ok
    assert build(BuildOptions(source=src, output=tmp_path / "clean")).ok
    assert tree(out / "search") == tree(tmp_path / "clean/search")


def test_front_matter_is_parsed_in_workers_as_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many files to parse are shared out among worker processes; the documents and the
    problems found, in order, are those of a parse in one process."""
    calls = tmp_path / "calls"
    monkeypatch.setattr(loader, "parse_file", _recording(loader.parse_file, calls))
    files = {f"profiles/2025/p{i}.md": profile(name=f"王{NAMES[i % 7]}{i}") for i in range(300)}
    files["profiles/2025/p7.md"] = "---\nname: [王\n---\n正文\n"  # broken YAML
    files["profiles/2025/p8.md"] = "没有前言的文件\n"
    src = write_site(tmp_path / "src", files)
    two = building.model_site(src, workers=2)
    pids = calls.read_text(encoding="utf-8").split()
    assert len(pids) == 300 and str(os.getpid()) not in pids
    one = building.model_site(src, workers=1)
    assert one.tree.docs == two.tree.docs and len(one.tree.docs) == 298
    assert one.diagnostics == two.diagnostics
    assert {d.path for d in one.diagnostics} >= {"profiles/2025/p7.md", "profiles/2025/p8.md"}
    # what the workers parsed is cached: a second load parses only the two broken files
    # (never cached) and finds the same
    store = cache.Cache.open(tmp_path / "cache")
    building.model_site(src, store=store, workers=2)
    store.close()

    def nothing_to_parse(files: Sequence[tuple[str, bytes]]) -> list[loader.Parsed]:
        assert sorted(rel for rel, _ in files) == ["profiles/2025/p7.md", "profiles/2025/p8.md"]
        return loader.parse_files(files)

    again = cache.Cache.open(tmp_path / "cache")
    tree, problems = loader.load(src, again, folders=BUILT_IN.folders(), parse=nothing_to_parse)
    again.close()
    assert tree.docs == one.tree.docs
    assert [d for d in problems if d.path.startswith("profiles")] == [
        d for d in one.diagnostics if d.path.startswith("profiles")
    ]


def test_a_file_that_changes_as_it_is_read_again_gets_the_digest_of_what_was_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file known by its stamp but whose parse is not cached is read again to be parsed; if
    it changed meanwhile, its document and its cached parse have the digest of what was read,
    and a file gone meanwhile is left out."""
    src = write_site(tmp_path / "src", {"profiles/2025/a.md": profile()})
    fixed_times(src)  # stamps of files older than the build are trusted
    store = cache.Cache.open(tmp_path / "cache")
    building.model_site(src, store=store)
    store.close()
    with sqlite3.connect(tmp_path / "cache/build.sqlite") as db:
        db.execute("DELETE FROM parsed")
    changed = profile(name="李华").encode("utf-8")
    real = loader._read
    monkeypatch.setattr(
        loader, "_read", lambda r, rel: changed if rel.endswith(".md") else real(r, rel)
    )
    store = cache.Cache.open(tmp_path / "cache")
    modelled = building.model_site(src, store=store)
    store.close()
    digest = hashlib.sha256(changed).hexdigest()
    assert [(doc.meta["name"], doc.digest) for doc in modelled.tree.docs] == [("李华", digest)]
    with sqlite3.connect(tmp_path / "cache/build.sqlite") as db:
        assert [row[0] for row in db.execute("SELECT digest FROM parsed")] == [digest]
        db.execute("DELETE FROM parsed")

    def gone(root: Path, rel: str) -> bytes:
        if rel.endswith(".md"):
            raise FileNotFoundError(rel)
        return real(root, rel)

    monkeypatch.setattr(loader, "_read", gone)
    assert building.model_site(src, store=cache.Cache.open(tmp_path / "cache")).tree.docs == ()


def test_a_body_the_sanitiser_reads_otherwise_twice_is_converted_again_not_cached(
    tmp_path: Path,
) -> None:
    """A body whose sanitised HTML the sanitiser would change on a second pass (``&#13;``) is
    converted again instead of taken from the cache: its page equals a clean build's."""
    src = write_site(tmp_path / "src", {"profiles/2025/a.md": profile(body="第一行&#13;第二行")})
    fixed_times(src)
    out, cache_dir = tmp_path / "out", tmp_path / "cache"
    assert build(BuildOptions(source=src, output=out, cache_dir=cache_dir)).ok
    apply(src, ("units", "采油一队攻坚党支部"))  # the page shows its unit: it renders again
    fixed_times(src)
    assert build(BuildOptions(source=src, output=out, cache_dir=cache_dir)).ok
    assert build(BuildOptions(source=src, output=tmp_path / "clean")).ok
    assert tree(out) == tree(tmp_path / "clean")


def test_the_reads_pages_share_come_back_from_the_workers_as_one_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every page reads the site's units; a build of thousands of pages keeps one object
    for each distinct read, not one per page and read."""
    returned: list[list[pool.Written]] = []
    original = pool.render_pages

    def recorded(*args: Any, **kwargs: Any) -> Any:
        written, problems = original(*args, **kwargs)
        returned.append(list(written))  # the build extends the list it is given
        return written, problems

    monkeypatch.setattr(pool, "MIN_PARALLEL", 1)  # rendered by workers, even a small site
    monkeypatch.setattr(building.pool, "render_pages", recorded)
    stories = {f"profiles/2025/p{i}.md": profile(name=f"王强{i}") for i in range(6)}
    src = write_site(tmp_path / "site", stories)
    assert build(BuildOptions(source=src, output=tmp_path / "out", workers=2)).ok
    objects: dict[Read, set[int]] = {}
    for page in returned[0]:  # the pages but the search index's, rendered last
        for read in page.reads:
            objects.setdefault(read, set()).add(id(read))
    shared = [read for read, ids in objects.items() if len(ids) > 1 or read.query == "units"]
    assert shared and all(len(objects[read]) == 1 for read in shared)
    assert sum(1 for page in returned[0] if Read("units") in page.reads) > 1


def _two_profiles(tmp_path: Path) -> tuple[Path, Path, BuildOptions]:
    """A site of two profiles: its source, its output and the options of a build with a
    cache."""
    files = {"profiles/2025/a.md": profile(), "profiles/2025/b.md": profile(name="李四")}
    source = write_site(tmp_path / "src", files)
    out = tmp_path / "out"
    return source, out, BuildOptions(source=source, output=out, cache_dir=tmp_path / "cache")


@pytest.mark.parametrize("deleted", ["a page", "a copied file", "a folder of pages"])
def test_files_deleted_from_the_output_by_hand_are_made_again(tmp_path: Path, deleted: str) -> None:
    """Files deleted inside the output (the folder itself and its marker untouched) are found
    by the next build, which makes them again and nothing else: the output equals a clean
    build's, and the build after it finds nothing to do."""
    _source, out, options = _two_profiles(tmp_path)
    assert build(options).ok
    clean = tree(out)
    copied = next(p for p in sorted(out.rglob("*.css")))
    gone = {
        "a page": [out / "profiles/2025/wang-jin-xi/index.html"],
        "a copied file": [copied],
        "a folder of pages": sorted((out / "units").rglob("*.html")),
    }[deleted]
    assert gone and all(path.is_file() for path in gone)
    for path in gone:
        path.unlink()
    report = build(options)
    assert report.ok and report.files == len(gone)
    assert tree(out) == clean
    assert build(options).files == 0


def test_a_file_deleted_by_hand_after_a_watched_build_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build started by a watcher (serve) that changes files in place looks again only at
    the folders it changes; a file deleted by hand elsewhere is still found by the next
    build."""
    monkeypatch.setattr(building, "IN_PLACE_SHARE", 1)  # every build changes files in place
    source, out, options = _two_profiles(tmp_path)
    store = cache.Cache.open(tmp_path / "cache", remember=True)
    assert build(options, store=store).ok
    (source / "profiles/2025/a.md").write_text(profile(body="改过。"), encoding="utf-8")
    assert build(options, store=store, changed=frozenset({"profiles/2025/a.md"})).ok
    store.close()
    clean = tree(out)
    assert build(options).stages == {}  # nothing to do
    (out / "profiles/2025/li-si/index.html").unlink()
    report = build(options)
    assert report.ok and report.files == 1
    assert tree(out) == clean


def test_a_file_deleted_by_hand_while_a_build_changes_its_folder_is_found_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file deleted in a folder a build is about to change in place (after the build
    looked at the folders) is found by the next build: the folder's time is kept as
    unknown, not taken as the build left it."""
    monkeypatch.setattr(building, "IN_PLACE_SHARE", 1)
    source, out, options = _two_profiles(tmp_path)
    assert build(options).ok
    clean = tree(out)
    deleted: list[str] = []
    copy_all = writer.StagedOutput.copy_all

    def meanwhile(self: writer.StagedOutput, copies: Any) -> None:
        # once the pages are rendered, before they move in
        victim = out / "404.html"
        victim.unlink()  # in the output's own folder, which every small build touches
        deleted.append(victim.name)
        copy_all(self, copies)

    monkeypatch.setattr(writer.StagedOutput, "copy_all", meanwhile)
    (source / "profiles/2025/a.md").write_text(profile(body="改过。"), encoding="utf-8")
    assert build(options).ok and deleted
    monkeypatch.setattr(writer.StagedOutput, "copy_all", copy_all)
    (source / "profiles/2025/a.md").write_text(profile(), encoding="utf-8")
    assert build(options).ok
    assert tree(out) == clean


def test_files_gone_from_the_output_are_forgotten_by_the_cache(tmp_path: Path) -> None:
    source, out, options = _two_profiles(tmp_path)
    assert build(options).ok
    (out / "profiles/2025/li-si/index.html").unlink()
    (source / "profiles/2025/b.md").unlink()  # and no longer made
    assert build(options).ok
    store = cache.Cache.open(tmp_path / "cache")
    recorded = store.outputs(writer.identity(out))
    store.close()
    assert recorded and "profiles/2025/li-si/index.html" not in recorded


def test_change_times_in_whole_seconds_of_the_last_two_are_kept_as_unknown() -> None:
    from generator.output import freshness

    second = 1_000_000_000
    fine = {"": 1_700_000_000 * second + 123, "a": 1_600_000_000 * second}
    assert freshness._coarse_as_unknown(fine) == fine
    coarse = {"": 1_700_000_000 * second, "a": 1_699_999_999 * second, "b": 1_600_000_000 * second}
    assert freshness._coarse_as_unknown(coarse) == {"": -2, "a": -2, "b": coarse["b"]}
    assert not freshness.folders_intact(Path("."), {"": -2})


def _profiles_site(tmp_path: Path, count: int = 30) -> tuple[Path, Path, BuildOptions]:
    """A site of ``count`` profiles, built once with a cache: its source, its output and the
    options of that build."""
    files = {
        f"profiles/2025/p{n}.md": profile(name=f"员工{n}", body=f"第{n}号的事迹。")
        for n in range(count)
    }
    source = write_site(tmp_path / "src", files)
    fixed_times(source)
    out = tmp_path / "out"
    options = BuildOptions(source=source, output=out, cache_dir=tmp_path / "cache")
    assert build(options).ok
    return source, out, options


def _edit_p1(source: Path) -> tuple[Path, bytes]:
    """Append a paragraph to the body of the profile ``p1``; its path and its bytes before."""
    edited = source / "profiles/2025/p1.md"
    original = edited.read_bytes()
    edited.write_text(edited.read_text(encoding="utf-8") + "新增的一段。\n", encoding="utf-8")
    fixed_times(source)
    return edited, original


def _equals_clean(source: Path, out: Path, clean: Path) -> None:
    """The output ``out`` equals a clean build of ``source`` (made into ``clean``)."""
    assert build(BuildOptions(source=source, output=clean)).ok
    assert tree(out) == tree(clean)


def _index_files(out: Path) -> dict[str, str]:
    """The digests of the search manifest and shards in ``out``, by path."""
    return {
        path: digest
        for path, digest in tree(out).items()
        if path == search.MANIFEST or path.startswith(search.SHARD_FOLDER)
    }


def test_the_changed_pages_are_shown_before_the_search_index_follows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A caller that asks is told once the changed pages are in the output; after a small
    change of bodies, the files of the search index are moved in after that, and the output
    then equals a clean build's."""
    monkeypatch.setattr(building, "IN_PLACE_SHARE", 1)  # every build changes files in place
    source, out, options = _profiles_site(tmp_path)
    index_before = _index_files(out)
    _edit_p1(source)
    seen: list[tuple[str, dict[str, str]]] = []

    def shown(so_far: BuildReport) -> None:
        assert so_far.ok and so_far.pages > 0
        page = out / "profiles/2025/yun-gong-1/index.html"
        seen.append((page.read_text(encoding="utf-8"), _index_files(out)))

    report = build(options, shown=shown)
    assert report.ok and len(seen) == 1
    page, index_then = seen[0]
    assert "新增的一段" in page
    assert index_then == index_before  # the index had not moved in yet
    assert _index_files(out) != index_before  # it has now
    # the folders both moves changed are known as they left them: nothing to do next
    assert build(options).stages == {}
    _equals_clean(source, out, tmp_path / "clean")


def test_a_caller_told_the_output_is_published_finds_every_file_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A caller that waits for the output alone (the daemon) is told once every file the
    build changes is in place, the search index included; the records follow, so that the
    next build has nothing to do."""
    monkeypatch.setattr(building, "IN_PLACE_SHARE", 1)
    source, out, options = _profiles_site(tmp_path)
    _edit_p1(source)
    assert build(BuildOptions(source=source, output=tmp_path / "clean")).ok
    seen: list[tuple[BuildReport, dict[str, str]]] = []
    report = build(options, published=lambda so_far: seen.append((so_far, tree(out))))
    assert report.ok and len(seen) == 1
    so_far, then = seen[0]
    assert so_far.ok and so_far.pages == report.pages > 0
    assert then == tree(tmp_path / "clean")
    assert build(options).stages == {}


def test_a_file_deleted_right_after_the_caller_is_told_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the caller told does to the output at once (a script deleting a file after the
    build) is seen by the next build: the folders' times were kept before it was told."""
    monkeypatch.setattr(building, "IN_PLACE_SHARE", 1)
    source, out, options = _profiles_site(tmp_path)
    _edit_p1(source)
    victim = out / "profiles/2025/yun-gong-1/index.html"
    assert build(options, published=lambda _report: victim.unlink()).ok
    assert not victim.exists()
    assert build(options).ok and victim.exists()
    _equals_clean(source, out, tmp_path / "clean")


@pytest.mark.parametrize("step", ["again", "taken back"])
def test_a_caller_told_the_output_is_published_that_fails_leaves_true_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    monkeypatch.setattr(building, "IN_PLACE_SHARE", 1)
    source, out, options = _profiles_site(tmp_path)
    edited, original = _edit_p1(source)

    def fails(_report: BuildReport) -> None:
        raise RuntimeError("the caller failed")

    with pytest.raises(RuntimeError):
        build(options, published=fails)
    if step == "taken back":
        edited.write_bytes(original)
        fixed_times(source)
    report = build(options)
    assert report.ok and report.pages < len(tree(out)) / 2  # the records were kept
    _equals_clean(source, out, tmp_path / "clean")


def _failing(how: str, monkeypatch: pytest.MonkeyPatch) -> type[BaseException] | None:
    """Make the files of the search index fail to move in after the pages were: ``how``
    names the failure; returns the exception the build raises (None: it reports it)."""
    if how == "half moved":  # the move stops after its first file
        real = writer._apply

        def half(output: Path, root: Path, changed: list[str], removed: list[str]) -> None:
            shards = [rel for rel in changed if rel.startswith(search.SHARD_FOLDER)]
            if shards:  # a changed shard moves in, then the move fails
                real(output, root, shards[:1], [])
                raise OSError(5, "Input/output error")
            real(output, root, changed, removed)

        monkeypatch.setattr(writer, "_apply", half)
        return None
    if how == "caller fails":
        return RuntimeError

    def fails(_self: object) -> None:
        if how == "disk full":
            raise OSError(28, "No space left on device")
        raise RuntimeError("a bug")

    monkeypatch.setattr(building._Publisher, "_compute_index", fails)
    return RuntimeError if how == "a bug" else None


@pytest.mark.parametrize(
    ("how", "step"),
    [
        ("disk full", "again"),
        ("disk full", "taken back"),
        ("a bug", "taken back"),
        ("caller fails", "taken back"),
        ("half moved", "taken back"),
    ],
)
def test_a_search_index_that_fails_after_the_pages_are_shown_leaves_true_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str, step: str
) -> None:
    """When the files of the search index cannot be written after the pages were shown (the
    disk is full, a bug, the caller told fails, the move stops half-way), the records of
    what moved in are kept: building ``again``, or with the edit ``taken back``, gives the
    output of a clean build, rendering less than all of it."""
    monkeypatch.setattr(building, "IN_PLACE_SHARE", 1)
    source, out, options = _profiles_site(tmp_path)
    edited, original = _edit_p1(source)
    raised = _failing(how, monkeypatch)
    shown: list[bool] = []

    def told(_report: BuildReport) -> None:
        shown.append(True)
        if how == "caller fails":
            raise RuntimeError("the caller failed")

    if raised is None:
        failed = build(options, shown=told)
        assert not failed.ok and failed.diagnostics
    else:
        with pytest.raises(raised):
            build(options, shown=told)
    page = out / "profiles/2025/yun-gong-1/index.html"
    assert shown and "新增的一段" in page.read_text(encoding="utf-8")
    monkeypatch.undo()
    if step == "taken back":
        edited.write_bytes(original)
        fixed_times(source)
    report = build(options)
    assert report.ok and report.pages < len(tree(out)) / 2  # the records were kept
    assert ("新增的一段" in page.read_text(encoding="utf-8")) is (step == "again")
    _equals_clean(source, out, tmp_path / "clean")


def _add_newest(source: Path) -> None:
    """Add a profile dated after every other: it heads every list it is in."""
    added = profile(name="新来人", extra="date: 2025-12-31\n", body="新人的事迹。")
    (source / "profiles/2025/new.md").write_text(added, encoding="utf-8")
    fixed_times(source)


# each move made in place; the first in place, the second a new folder; each a new folder
@pytest.mark.parametrize("share", [1, 0.3, 0])
def test_a_new_story_is_shown_with_the_first_pages_of_its_lists_before_the_later_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, share: float
) -> None:
    """A caller told when the pages are shown (serve) is told once the pages a change is
    seen on are in the output: the new story's page and the first page of each list it heads;
    the later pages of those lists, which all shift by one, and the search index follow. The
    output then equals a clean build's, and the next build has nothing to do."""
    monkeypatch.setattr(building, "IN_PLACE_SHARE", share)
    monkeypatch.setattr(building, "FRONT_FROM", 1)
    source, out, options = _profiles_site(tmp_path)
    later = out / "profiles/page/2/index.html"
    later_before = later.read_bytes()
    index_before = _index_files(out)
    _add_newest(source)
    seen: list[tuple[str, str, bytes, dict[str, str]]] = []

    def shown(so_far: BuildReport) -> None:
        assert so_far.ok and so_far.pages > 0
        page = out / "profiles/2025/xin-lai-ren/index.html"
        first = (out / "profiles/index.html").read_text(encoding="utf-8")
        now = (page.read_text(encoding="utf-8"), first, later.read_bytes(), _index_files(out))
        seen.append(now)

    report = build(options, shown=shown)
    assert report.ok and len(seen) == 1
    page, first, later_then, index_then = seen[0]
    assert "新人的事迹" in page and "新来人" in first
    assert later_then == later_before and index_then == index_before  # not moved in yet
    assert later.read_bytes() != later_before and _index_files(out) != index_before
    assert build(options).stages == {}
    _equals_clean(source, out, tmp_path / "clean")


def test_a_build_no_one_is_told_of_moves_its_pages_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a caller told when the pages are shown (``showcase build``, the daemon), the
    pages of a change move into the output together, however many they are."""
    monkeypatch.setattr(building, "FRONT_FROM", 1)
    source, _out, options = _profiles_site(tmp_path)
    _add_newest(source)
    moves: list[int] = []
    real = building._commit

    def counted(staged: writer.StagedOutput, work: Any, *args: Any) -> Any:
        moves.append(len(args[0]))
        return real(staged, work, *args)

    monkeypatch.setattr(building, "_commit", counted)
    assert build(options).ok
    assert len(moves) == 1 and moves[0] > 2


def test_later_pages_that_fail_to_move_in_after_the_first_leave_true_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the later pages cannot be moved in after the first pages were shown (the disk
    is full), the build fails, and the records of what moved are kept: building again makes
    the later pages, not the first ones, and gives the output of a clean build."""
    monkeypatch.setattr(building, "IN_PLACE_SHARE", 1)
    monkeypatch.setattr(building, "FRONT_FROM", 1)
    source, out, options = _profiles_site(tmp_path)
    _add_newest(source)
    real = writer.StagedOutput.commit_changes
    calls: list[int] = []

    def second_fails(self: writer.StagedOutput, changed: Any, removed: Any, every: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(self, changed, removed, every)

    monkeypatch.setattr(writer.StagedOutput, "commit_changes", second_fails)
    shown: list[bool] = []
    failed = build(options, shown=lambda _report: shown.append(True))
    assert not failed.ok and failed.diagnostics and shown
    assert "新来人" in (out / "profiles/index.html").read_text(encoding="utf-8")
    moved = (out / "profiles/2025/xin-lai-ren/index.html").stat().st_ino
    monkeypatch.undo()
    report = build(options)
    assert report.ok and report.pages > 0
    # the page that moved in first was not made again: its record was kept
    assert (out / "profiles/2025/xin-lai-ren/index.html").stat().st_ino == moved
    _equals_clean(source, out, tmp_path / "clean")


def test_later_pages_that_stop_moving_in_half_way_are_moved_in_by_the_next_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the move of the later pages stops half-way, after a new page of a list moved in
    (an error of the disk), the next build finishes the move: the new page is listed as the
    build's own, not refused as a file someone else put there, and the output then equals a
    clean build's."""
    monkeypatch.setattr(building, "IN_PLACE_SHARE", 1)
    monkeypatch.setattr(building, "FRONT_FROM", 1)
    source, out, options = _profiles_site(tmp_path)
    before = set(tree(out))
    _add_newest(source)
    real = os.replace
    moved: list[str] = []

    def half(src: Any, dst: Any) -> None:
        rel = Path(dst).relative_to(out).as_posix() if Path(dst).is_relative_to(out) else ""
        if moved and rel:  # a new later page moved in: the next file fails to
            raise OSError(5, "Input/output error")
        if "/page/" in rel and rel not in before:
            moved.append(rel)
        real(src, dst)

    monkeypatch.setattr(writer.os, "replace", half)
    failed = build(options, shown=lambda _report: None)
    assert not failed.ok and failed.diagnostics and moved
    assert (out / moved[0]).is_file()
    monkeypatch.undo()
    assert build(options).ok
    _equals_clean(source, out, tmp_path / "clean")


def test_a_link_found_when_the_search_index_moves_in_after_the_pages_forgets_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A link in the way of the files of the search index, found after the pages moved in:
    the build fails and the cache forgets the output (the next build makes every page and
    looks through the whole folder), though it kept the records of the pages."""
    monkeypatch.setattr(building, "IN_PLACE_SHARE", 1)
    source, out, options = _profiles_site(tmp_path)
    _edit_p1(source)
    real = writer.StagedOutput.commit_changes

    def linked(self: writer.StagedOutput, changed: Any, removed: Any, every: Any) -> None:
        changed = list(changed)
        if any(rel.startswith(search.SHARD_FOLDER) for rel in changed):
            raise writer.OutputError("output-link", self.output, file=changed[0])
        real(self, changed, removed, every)

    monkeypatch.setattr(writer.StagedOutput, "commit_changes", linked)
    failed = build(options, shown=lambda _report: None)
    assert [d.code for d in failed.diagnostics] == ["output-link"]
    store = cache.Cache.open(tmp_path / "cache")
    try:
        assert not store.knows_output(writer.identity(out))
    finally:
        store.close()
    monkeypatch.undo()
    assert build(options).ok
    _equals_clean(source, out, tmp_path / "clean")


def test_a_unit_renamed_reaches_the_pledges_titled_by_its_name(tmp_path: Path) -> None:
    # a pledge's title is worked out from its unit's name: its search result and the lists
    # of a unit above hold the title, not the unit
    assert_incremental_equals_clean(
        tmp_path,
        [
            ("pledge", "branch", 2025, ["done"]),
            ("profile", 0, "王进喜", "plant", 2025, [], "事迹"),
            ("units", "采油一队第一党支部"),
        ],
    )


def test_a_unit_renamed_makes_again_the_pages_that_show_it_not_every_page(tmp_path: Path) -> None:
    """Units are read through the view or held in a page's context, not a part of every
    page: renaming one branch makes again its items' pages and the lists that name it."""
    files = {f"profiles/2025/p{i}.md": profile(name=f"王{NAMES[i]}") for i in range(4)}
    files |= {
        f"profiles/2024/q{i}.md": profile(name=f"李{NAMES[i]}", unit="other-branch", year=2024)
        for i in range(4)
    }
    src = write_site(tmp_path / "src", files)
    fixed_times(src)
    out, cache_dir = tmp_path / "out", tmp_path / "cache"
    first = build(BuildOptions(source=src, output=out, cache_dir=cache_dir))
    assert first.ok, first.diagnostics
    kept = {
        path: path.stat().st_ino for path in out.rglob("*.html") if "/profiles/2025/" in str(path)
    }
    assert len(kept) == 4
    units = (src / "units.yaml").read_text(encoding="utf-8")
    (src / "units.yaml").write_text(
        units.replace("常减压车间党支部", "常减压第二车间党支部"), "utf-8"
    )
    fixed_times(src)
    again = build(BuildOptions(source=src, output=out, cache_dir=cache_dir))
    assert again.ok, again.diagnostics
    assert 0 < again.pages < first.pages // 2, (again.pages, first.pages)
    assert all(path.stat().st_ino == ino for path, ino in kept.items())  # not made again
    renamed = next((out / "profiles/2024").glob("*/index.html")).read_text(encoding="utf-8")
    assert "常减压第二车间党支部" in renamed
    assert build(BuildOptions(source=src, output=tmp_path / "clean")).ok
    assert tree(out) == tree(tmp_path / "clean")
