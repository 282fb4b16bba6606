"""Content kinds are declared once: a kind declared only here (a 视频 story) builds with no
other code change, and a field declared once is validated and reaches the model."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from generator.base import messages
from generator.base.config import BuildOptions
from generator.build import BuildReport, analyse, build, model_site
from generator.cli import docs
from generator.cli.console import format_diagnostic
from generator.cli.new import flags, scaffold
from generator.content import fields as f
from generator.content.fields import front
from generator.content.frontmatter import split
from generator.kinds import profile
from generator.kinds.item import Item
from generator.kinds.kind import Kind, Registry, year_of_date
from generator.kinds.profile import Profile
from generator.kinds.registry import BUILT_IN
from generator.output import cache
from generator.site import search
from tests.conftest import write_site


@dataclass(frozen=True, slots=True, kw_only=True)
class Video(Item):
    """A 视频 story: a title, a unit and a date (from the Item base), and a duration."""

    date: dt.date | None = field(default=None, metadata=front(f.date, required=True))
    duration: int = field(default=0, metadata=front(f.integer, required=True))


VIDEO = Kind("video", "videos", Video, derive=year_of_date, label="Videos")
WITH_VIDEO = BUILT_IN.adding(VIDEO)

VIDEO_TEMPLATE = """\
{% extends "base.html" %}
{% block title %}{{ item.title }}{% endblock %}
{% block main %}<h1 class="video">{{ item.title }}</h1>
<p class="duration">{{ item.duration }}</p><div class="prose">{{ body }}</div>{% endblock %}
"""


def video(title: str = "采油一队的一天", extra: str = "duration: 95\n") -> str:
    front_matter = f"title: {title}\nunit: branch\ndate: 2025-06-01\ntags: [巡井]\n{extra}"
    return f"---\n{front_matter}---\n视频简介。\n"


def build_with(
    tmp_path: Path, files: dict[str, str], kinds: Registry = WITH_VIDEO
) -> tuple[BuildReport, Path, Path]:
    source = write_site(tmp_path / "src", files)
    out = tmp_path / "out"
    return build(BuildOptions(source=source, output=out, workers=1), kinds=kinds), source, out


def test_an_extra_kind_builds_with_no_other_code_change(tmp_path: Path) -> None:
    report, _source, out = build_with(
        tmp_path,
        {
            "videos/2025/a.md": video(),
            "videos/2025/b.md": video("党员先锋岗", "duration: 30\nslug: xian-feng\n"),
            "theme/templates/video.html": VIDEO_TEMPLATE,
        },
    )
    assert report.ok, report.diagnostics
    assert not report.diagnostics
    # detail pages at <folder>/<year>/<slug>/, the slug derived from the title or given
    first = out / "videos/2025/cai-you-yi-dui-de-yi-tian/index.html"
    second = out / "videos/2025/xian-feng/index.html"
    assert '<h1 class="video">采油一队的一天</h1>' in first.read_text(encoding="utf-8")
    assert '<p class="duration">30</p>' in second.read_text(encoding="utf-8")
    # listed by the default theme wherever it lists kinds: the tag page, the unit's year page
    # (and the unit's parents, rolled up), the year page, the kind's own list, linked from
    # the navigation of every page; also the sitemap, the feed and the search index
    for page in (
        "tags/xun-jing/index.html",
        "units/branch/2025/index.html",
        "units/group/2025/index.html",
        "years/2025/index.html",
        "videos/index.html",
    ):
        html = (out / page).read_text(encoding="utf-8")
        assert html.count('<article class="row item-row">') == 2, page
        assert "xian-feng/index.html" in html, page
        assert ">Videos<" in html, page  # the label (no catalog entry: shown as declared)
    home = (out / "index.html").read_text(encoding="utf-8")
    assert '<a href="videos/index.html">Videos</a>' in home
    assert "videos/2025/xian-feng/" in (out / "sitemap.xml").read_text(encoding="utf-8")
    assert "videos/2025/xian-feng/" in (out / "feed.xml").read_text(encoding="utf-8")
    _, manifest = search.parse_script((out / search.MANIFEST).read_text(encoding="utf-8"))
    assert isinstance(manifest, dict) and "video" in manifest["kinds"]
    number = manifest["kinds"].index("video")
    rows: list[Any] = [
        search.parse_script(file.read_text(encoding="utf-8"))[1]
        for file in sorted((out / "search/x").iterdir(), key=lambda p: int(p.stem))
    ]
    kinds = str(manifest["docKinds"])
    titles = sorted(r[1] for n, r in enumerate(rows) if search.ALPHABET.index(kinds[n]) == number)
    assert titles == ["党员先锋岗", "采油一队的一天"]


def test_an_extra_kind_is_in_the_site_model(tmp_path: Path) -> None:
    source = write_site(tmp_path / "src", {"videos/2025/a.md": video()})
    analysis = analyse(source, kinds=WITH_VIDEO)
    site = analysis.site
    (item,) = site.of_kind("video")
    assert isinstance(item, Video)
    assert (item.title, item.unit, item.year) == ("采油一队的一天", "branch", 2025)
    assert item.duration == 95
    assert item in site.items() and item in site.of_year(2025)
    assert item in site.by_unit["group"] and item in site.by_tag["巡井"]
    assert analysis.plan.items[item.key] == "videos/2025/cai-you-yi-dui-de-yi-tian/index.html"


def test_an_unregistered_folder_is_not_content(tmp_path: Path) -> None:
    source = write_site(tmp_path / "src", {"videos/2025/a.md": video()})
    analysis = analyse(source)
    assert analysis.site.items() == ()
    assert analysis.copied == ()  # the Markdown file of an unknown folder is not copied either


def test_a_kind_without_its_detail_template_is_an_error_before_rendering(
    tmp_path: Path,
) -> None:
    # the default theme lists any kind, but has no video.html for its detail pages
    report, source, out = build_with(tmp_path, {"videos/2025/a.md": video()})
    assert not report.ok
    (problem,) = report.diagnostics
    assert problem.is_error and problem.code == "kind-template-missing"
    assert problem.path == "theme/templates/video.html"
    assert not out.exists()  # stopped before anything rendered or was written
    zh = format_diagnostic(problem, "zh-CN", source)
    assert zh.startswith("theme/templates/video.html: 错误: 内容类型“video”"), zh
    assert "“video.html”" in zh and "videos/" in zh
    assert "修改方法：在网站中添加 theme/templates/video.html" in zh
    en = format_diagnostic(problem, "en", source)
    assert "content kind “video”" in en and "Add theme/templates/video.html" in en
    # `check` finds it too: it is part of the analysis
    assert problem in analyse(source, kinds=WITH_VIDEO).diagnostics


def test_a_kind_without_items_needs_no_detail_template(tmp_path: Path) -> None:
    report, _source, _out = build_with(tmp_path, {}, kinds=WITH_VIDEO)
    assert report.ok, report.diagnostics
    assert not report.diagnostics


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("duration: 长\n", "videos/2025/a.md:6: 错误: 字段 duration"),
        ("", "videos/2025/a.md:1: 错误:"),
        ("duration: 95\nduraton: 3\n", "videos/2025/a.md:7: 警告:"),
    ],
    ids=["wrong type", "missing", "unknown field"],
)
def test_an_extra_kinds_fields_are_validated_with_file_and_line(
    tmp_path: Path, extra: str, expected: str
) -> None:
    files = {"videos/2025/a.md": video(extra=extra), "theme/templates/video.html": VIDEO_TEMPLATE}
    report, source, _out = build_with(tmp_path, files)
    shown = [format_diagnostic(d, "zh-CN", source) for d in report.diagnostics]
    assert len(shown) == 1, shown
    assert shown[0].startswith(expected), shown[0]
    assert "duration" in shown[0]


def test_two_kinds_may_not_share_a_folder() -> None:
    with pytest.raises(ValueError, match="share"):
        BUILT_IN.adding(dataclasses.replace(VIDEO, folder="profiles"))


# ---------------------------------------------------------------------------------------------
# a field declared once


@dataclass(frozen=True, slots=True, kw_only=True)
class MentoredProfile(Profile):
    """A profile with one field more, declared once here."""

    mentor: str = field(default="", metadata=front(f.text, required=True, search="words"))


WITH_MENTOR = Registry(
    tuple(
        dataclasses.replace(k, model=MentoredProfile) if k is profile.KIND else k for k in BUILT_IN
    )
)
PROFILE = "---\nname: 王进喜\nunit: branch\nyear: 2025\nhonors: [劳动模范]\n{extra}---\n事迹。\n"


def test_a_field_declared_once_reaches_the_model(tmp_path: Path) -> None:
    files = {"profiles/a.md": PROFILE.format(extra="mentor: 李师傅\n")}
    source = write_site(tmp_path / "src", files)
    analysis = analyse(source, kinds=WITH_MENTOR)
    assert not analysis.diagnostics
    (worker,) = analysis.site.profiles
    assert isinstance(worker, MentoredProfile)
    assert worker.mentor == "李师傅"
    assert "李师傅" in worker.search_words()


@pytest.mark.parametrize(
    ("extra", "code", "line"),
    [("", "missing-field", 1), ("mentor: [a, b]\n", "expected-text", 6)],
)
def test_a_field_declared_once_is_validated(
    tmp_path: Path, extra: str, code: str, line: int
) -> None:
    source = write_site(tmp_path / "src", {"profiles/a.md": PROFILE.format(extra=extra)})
    analysis = analyse(source, kinds=WITH_MENTOR)
    found = [(d.code, d.path, d.line, d.field) for d in analysis.diagnostics]
    assert found == [(code, "profiles/a.md", line, "mentor")]
    assert analysis.site.profiles == ()


def test_the_built_in_kinds_read_the_same_files_as_before(tmp_path: Path) -> None:
    source = write_site(tmp_path / "src", {"profiles/a.md": PROFILE.format(extra="mentor: x\n")})
    analysis = analyse(source)
    # without the declaration the field is unknown: a warning with a suggestion, never kept
    assert [(d.code, d.field) for d in analysis.diagnostics] == [("unknown-field", "mentor")]
    assert not hasattr(analysis.site.profiles[0], "mentor")
    assert re.fullmatch(r"[a-z-]+", analysis.plan.slugs["profiles/a.md"])


# ---------------------------------------------------------------------------------------------
# the field reference of the docs


def test_the_docs_field_reference_matches_the_declarations() -> None:
    page = docs.DOCS.read_text(encoding="utf-8")
    assert docs.rewritten(page) == page, "run: python3 -m generator.cli.docs"


def test_the_field_reference_follows_a_new_kind_and_a_new_field() -> None:
    built_in = docs.kinds_reference()
    assert "### profile (profiles/**.md)" in built_in
    assert "| `honors` | yes | list of text, not empty |" in built_in
    assert "videos/**.md" not in built_in and "`mentor`" not in built_in
    assert "| `duration` | yes | int |" in docs.kinds_reference(WITH_VIDEO)
    assert "### video (videos/**.md)" in docs.kinds_reference(WITH_VIDEO)
    assert "| `mentor` | yes | text |" in docs.kinds_reference(WITH_MENTOR)


# ---------------------------------------------------------------------------------------------
# the scaffold of `showcase new`

PARAMS = {
    "name": "张秀兰",
    "honors": "  - 劳动模范",
    "unit": "branch",
    "unit_name": "采油一队",
    "year": 2025,
    "today": "2025-01-02",
    "slug": "zhang",
    "slug_value": "zhang",
    "title": "标题",
    "date": "2025-01-02",
    "branch": "branch",
    "branch_name": "采油一队",
}


@pytest.mark.parametrize("language", ["zh-CN", "en"])
@pytest.mark.parametrize("kind", [k.name for k in BUILT_IN])
def test_the_scaffold_has_a_line_for_every_declared_field(language: str, kind: str) -> None:
    text = scaffold(BUILT_IN[kind], language, PARAMS)
    front, problems = split(text, "new.md")
    assert front is not None and not problems
    for attr, spec in BUILT_IN[kind].source_order():
        key = spec.key or attr
        if spec.required:
            assert key in front.meta, key
        else:
            assert f"\n# {key}:" in text, key  # commented out, ready to fill in
    assert set(front.meta) == {s.key or a for a, s in BUILT_IN[kind].source_order() if s.required}


def scaffold_wording(monkeypatch: pytest.MonkeyPatch, entries: dict[str, dict[str, str]]) -> None:
    for code, entry in entries.items():
        monkeypatch.setitem(messages.catalog("zh-CN"), code, entry)


def test_a_field_declared_once_reaches_the_scaffold(monkeypatch: pytest.MonkeyPatch) -> None:
    mentor = {"message": "师傅（必填）", "value": "mentor: 李师傅"}
    scaffold_wording(monkeypatch, {"new-field-profile-mentor": mentor})
    text = scaffold(WITH_MENTOR["profile"], "zh-CN", PARAMS)
    assert "# 师傅（必填）\nmentor: 李师傅\n" in text
    assert "mentor" not in scaffold(BUILT_IN["profile"], "zh-CN", PARAMS)


def test_a_new_kind_words_only_its_own_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    scaffold_wording(
        monkeypatch,
        {
            "new-scaffold-video": {"message": "# 视频。\n", "body": "\n视频简介。\n"},
            "new-field-video-title": {"message": "标题（必填）", "value": "title: {title}"},
            "new-field-video-unit": {"message": "单位（必填）", "value": "unit: {unit}"},
            "new-field-video-date": {"message": "日期（必填）", "value": "date: {today}"},
            "new-field-video-duration": {"message": "时长（必填）", "value": "duration: 60"},
        },
    )
    text = scaffold(VIDEO, "zh-CN", PARAMS, written=("slug",))
    front, problems = split(text, "new.md")
    assert front is not None and not problems
    # the shared fields (summary, tags, slug, draft) take the shared wording
    assert front.meta == {
        "title": "标题",
        "unit": "branch",
        "date": "2025-01-02",
        "duration": "60",
        "slug": "zhang",
    }  # numbers stay as written
    assert "\n# tags:\n#   - 党建引领\n" in text and "\n# draft: true\n" in text
    assert text.endswith("---\n\n视频简介。\n")


def test_the_options_of_new_follow_the_declarations() -> None:
    def names(kind: Kind[Any]) -> tuple[str, ...]:
        return tuple(flag.name for flag in flags(kind))

    assert names(BUILT_IN["profile"]) == ("name", "unit", "year", "honor", "slug")
    assert names(BUILT_IN["report"]) == ("title", "unit", "date", "slug")
    assert names(BUILT_IN["pledge"]) == ("branch", "year")  # one per branch: no --slug
    assert names(BUILT_IN["page"]) == ("title", "slug")
    assert names(WITH_MENTOR["profile"]) == ("name", "unit", "year", "honor", "mentor", "slug")
    assert names(VIDEO) == ("title", "unit", "date", "slug")  # a duration is filled in later


@pytest.mark.parametrize("language", ["zh-CN", "en"])
@pytest.mark.parametrize("kind", [k.name for k in BUILT_IN])
def test_every_kind_and_field_has_its_wording_in_the_catalogs(kind: str, language: str) -> None:
    """What a new kind or field needs in the editor catalogs, listed by what is missing (so
    `showcase new` never meets a missing message at run time)."""
    catalog = messages.catalog(language)
    declared = BUILT_IN[kind]
    codes = [f"{prefix}-{kind}" for prefix in ("cli-new", "new-scaffold", "new-file-exists")]
    codes += [f"cli-new-{flag.name}" for flag in flags(declared)]
    missing = [code for code in codes if code not in catalog]
    for attr, spec in declared.source_order():
        key = spec.key or attr
        if f"new-field-{kind}-{key}" not in catalog and f"new-field-{key}" not in catalog:
            missing.append(f"new-field-{kind}-{key}")
    assert not missing, missing


def test_a_process_that_models_again_with_other_kinds_checks_every_file_again(
    tmp_path: Path,
) -> None:
    """A process that keeps the last tree's items (serve, the daemon) and reads one file
    again does not take the others' items as they were when the kinds are others."""
    files = {"profiles/a.md": PROFILE.format(extra=""), "profiles/b.md": PROFILE.format(extra="")}
    source = write_site(tmp_path / "src", files)
    store = cache.Cache.open(tmp_path / "cache", remember=True)
    assert not model_site(source, store=store).diagnostics
    (source / "profiles/a.md").write_text(PROFILE.format(extra="mentor: 李师傅\n"), "utf-8")
    changed = frozenset({"profiles/a.md"})
    modelled = model_site(source, store=store, kinds=WITH_MENTOR, changed=changed)
    store.close()
    assert [(d.code, d.path) for d in modelled.diagnostics] == [("missing-field", "profiles/b.md")]
