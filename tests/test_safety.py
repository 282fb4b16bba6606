"""Hostile content: templates from the site run in the sandbox, YAML cannot expand without
bound, the theme stays inside the site, and each case is a clear error with file and line."""

from __future__ import annotations

import contextlib
import errno
import json
import multiprocessing
import os
import resource
import shutil
import signal
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.base.config import BuildOptions
from generator.build import BuildReport, build, system_error
from generator.cli.console import format_diagnostic
from generator.cli.main import main
from generator.output import cache, guard, pool, writer
from tests.conftest import ROOT, SITE_YAML, UNITS_YAML, SiteBuilder, profile, write_site
from tests.test_output import digest_tree

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)
PERSON = {"profiles/2025/a.md": profile()}


def codes(report: BuildReport) -> list[tuple[str, str, int]]:
    return [(d.code, d.path, d.line) for d in report.diagnostics]


def shown(report: BuildReport) -> str:
    return "\n".join(format_diagnostic(d, "zh-CN", Path("/x")) for d in report.diagnostics)


# ---------------------------------------------------------------------------------------------
# templates of the site run in the sandbox

ESCAPES = [
    "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}",
    "{{ lipsum.__globals__['os'].system('touch PWNED') }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ site._site }}",
    "{{ 'x' * 100000000 }}",
    "{{ 9 ** 9999999 }}",
]


@pytest.mark.parametrize("expression", ESCAPES)
def test_a_site_template_cannot_run_code(
    make_site: SiteBuilder, tmp_path: Path, expression: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    files = {**PERSON, "theme/templates/404.html": f"<p>{expression}</p>\n"}
    report, _out = make_site(files)
    assert not report.ok
    assert not (tmp_path / "PWNED").exists()
    codes_ = {"template-unsafe", "template-error", "template-undefined"}
    found = [d for d in report.diagnostics if d.code in codes_]
    assert found, codes(report)
    assert (found[0].path, found[0].line) == ("theme/templates/404.html", 1), codes(report)
    assert "Traceback" not in shown(report)


@pytest.mark.parametrize("expression", ["(10 ** 1000) ** 1000", "((2 ** 999) ** 999) ** 999"])
def test_a_power_of_a_power_is_bounded_by_its_size(make_site: SiteBuilder, expression: str) -> None:
    files = {**PERSON, "theme/templates/404.html": f"{{{{ ({expression}) % 7 }}}}\n"}
    report, _out = make_site(files)
    assert codes(report) == [("template-unsafe", "theme/templates/404.html", 1)]


def test_an_unsafe_attribute_is_named_in_chinese(make_site: SiteBuilder) -> None:
    files = {**PERSON, "theme/templates/404.html": "{{ cycler.__init__.__globals__ }}\n"}
    report, _out = make_site(files)
    assert [c for c in codes(report) if c[0] == "template-unsafe"] == [
        ("template-unsafe", "theme/templates/404.html", 1)
    ]
    assert "模板使用了不允许的写法" in shown(report)


def test_a_template_runtime_error_is_a_diagnostic(make_site: SiteBuilder) -> None:
    files = {**PERSON, "theme/templates/404.html": "\n{{ 1 // 0 }}\n"}
    report, _out = make_site(files)
    assert ("template-divided-by-zero", "theme/templates/404.html", 2) in codes(report)


# a loop of about 3 * 10**7 rounds: seconds of processor time, far over the test's limit
SLOW = "{% for a in range(100000) %}{% for b in range(300) %}{% endfor %}{% endfor %}"
# a text doubled in a loop: 2**28 characters, over the test's limit of memory
DOUBLED = '{% set ns = namespace(s="x") %}{% for i in range(28) %}{% set ns.s = ns.s ~ ns.s %}'


# each round's list made inside the try of Jinja's test ``sequence`` (len() of the loop)
SWALLOWING = (
    "{% for i in range(100000) %}"
    "{% for x in range(300)|map('string')|map('center', 100000)|map('trim')|map('length') %}"
    "{% if loop.first and loop is sequence %}{% endif %}{% endfor %}{% endfor %}"
)


@pytest.fixture
def low_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Limits of a page of a site's own templates low enough for a test to pass them."""
    monkeypatch.setattr(guard, "PAGE_SECONDS", 0.3)
    monkeypatch.setattr(guard, "PAGE_MEMORY", 64 * 1024 * 1024)


@pytest.mark.usefixtures("low_limits")
@pytest.mark.parametrize(
    ("line", "code"),
    [
        (SLOW, "template-too-slow"),
        (DOUBLED + "{% endfor %}{{ ns.s|length }}", "template-too-big"),
        ('{{ "x".ljust(200000000)|length }}', "template-too-big"),
        # plain values: Jinja would compute this as it compiles, in the build's own process
        ('{{ "x"|center(200000000)|length }}', "template-too-big"),
        # a Jinja test catches any Exception while the loop runs: the limit is none
        (SWALLOWING, "template-too-slow"),
    ],
)
def test_a_page_over_the_limits_is_stopped_and_told_with_its_line(
    make_site: SiteBuilder, line: str, code: str
) -> None:
    # only the second profile's page passes the limits: the other pages render
    template = (
        '{% extends "base.html" %}{% block main %}{{ item.name }}\n'
        f'{{% if item.name == "李华" %}}{line}{{% endif %}}\n'
        "{% endblock %}\n"
    )
    files = {
        **PERSON,
        "profiles/2025/b.md": profile(name="李华"),
        "theme/templates/profile.html": template,
    }
    report, _out = make_site(files)
    assert codes(report) == [(code, "theme/templates/profile.html", 2)]
    text = shown(report)
    assert "profiles/2025/b.md" in text and "Traceback" not in text
    assert ("已停止" in text) and ("MB" in text if code == "template-too-big" else "0.3 秒" in text)


@pytest.mark.usefixtures("low_limits")
def test_after_a_page_over_a_limit_no_more_pages_render(make_site: SiteBuilder) -> None:
    # every profile's page loops: the first one over the limit stops the others, which would
    # each take as long
    template = f'{{% extends "base.html" %}}{{% block main %}}\n{SLOW}\n{{% endblock %}}\n'
    files = {
        **PERSON,
        "profiles/2025/b.md": profile(name="李华"),
        "profiles/2025/c.md": profile(name="赵五"),
        "theme/templates/profile.html": template,
    }
    report, _out = make_site(files)
    [d] = report.diagnostics
    assert (d.code, d.line) == ("template-too-slow", 2)
    assert "others" not in d.param_dict()  # the other two pages were not rendered


@pytest.mark.usefixtures("low_limits")
def test_a_page_stuck_inside_the_c_library_ends_its_worker_and_the_build(
    make_site: SiteBuilder,
) -> None:
    # one comparison of two long texts after another, never back in Python: the system ends
    # the worker (RLIMIT_CPU), and the build says so rather than wait
    line = (
        '{% set a = "x".ljust(5000000) %}{% set b = "x".ljust(4999999) ~ "y" %}'
        "{{ ([a] * 1000000).count(b) }}"
    )
    report, _out = make_site({**PERSON, "theme/templates/404.html": f"<p>x</p>\n{line}\n"})
    assert [c[0] for c in codes(report)] == ["worker-lost"], codes(report)


def test_a_macro_calling_itself_is_told_as_such(make_site: SiteBuilder) -> None:
    line = "{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}\n{{ r(0) }}\n"
    report, _out = make_site({**PERSON, "theme/templates/404.html": line})
    assert [c[0] for c in codes(report)] == ["template-calls-itself"], codes(report)
    assert "没有结束" in shown(report)


def test_a_huge_value_in_an_error_is_cut_short(make_site: SiteBuilder) -> None:
    line = '{% set k = "键" * 100000 %}{{ site.unit(k) }}\n'
    report, _out = make_site({**PERSON, "theme/templates/404.html": line})
    [d] = report.diagnostics
    assert d.code == "template-no-key"
    assert all(len(value) < 300 for _name, value in d.params), d.code
    assert len(shown(report)) < 2000


@pytest.mark.usefixtures("low_limits")
def test_check_renders_its_sample_pages_within_the_limits(
    make_site: SiteBuilder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {**PERSON, "theme/templates/404.html": f"<p>x</p>\n{SLOW}\n"}
    source = write_site(tmp_path / "site", files)
    assert main(["check", str(source)]) == 1
    out = capsys.readouterr().out
    assert "theme/templates/404.html:2" in out and "模板运行超过了 0.3 秒" in out


@pytest.mark.usefixtures("low_limits")
def test_the_build_process_itself_is_never_limited(make_site: SiteBuilder) -> None:
    memory = resource.getrlimit(resource.RLIMIT_AS)
    report, _out = make_site({**PERSON, "theme/templates/404.html": f"<p>x</p>\n{SLOW}\n"})
    assert [c[0] for c in codes(report)] == ["template-too-slow"]  # limited in its worker
    assert signal.getsignal(signal.SIGPROF) == signal.SIG_DFL
    assert resource.getrlimit(resource.RLIMIT_AS) == memory
    assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)


@pytest.mark.parametrize("theme", ["/etc", "../elsewhere", "themes/../../x", "~/t", "C:\\\\t"])
def test_the_theme_cannot_be_outside_the_site(make_site: SiteBuilder, theme: str) -> None:
    report, _out = make_site(PERSON, site_yaml=SITE_YAML + f'theme: "{theme}"\n')
    assert ("theme-outside-site", "site.yaml", 5) in codes(report), codes(report)
    assert "不在网站文件夹内" in shown(report)
    assert not report.ok


def test_a_theme_folder_inside_the_site_is_allowed(make_site: SiteBuilder, tmp_path: Path) -> None:
    default = Path(__file__).resolve().parents[1] / "themes/default"
    source = write_site(tmp_path / "src", PERSON, site_yaml=SITE_YAML + "theme: themes/mine\n")
    for rel in ("templates", "i18n", "static"):
        _copy_tree(default / rel, source / "themes/mine" / rel)
    report = build(BuildOptions(source=source, output=tmp_path / "out"))
    assert report.ok, codes(report)


def _copy_tree(src: Path, dst: Path) -> None:
    for path in src.rglob("*"):
        if path.is_file():
            target = dst / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())


def test_catalog_strings_of_the_site_are_text_not_markup(make_site: SiteBuilder) -> None:
    i18n = '"Model workers": "<script>alert(1)</script>劳模"\n'
    report, out = make_site({**PERSON, "theme/i18n/zh-CN.yaml": i18n})
    assert report.ok, codes(report)
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;劳模" in html


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        ('"Home": [unclosed\n', "yaml-syntax", 2),
        ("- a\n- b\n", "theme-i18n-not-mapping", 1),
        ("a: &a x\nb: *a\n", "yaml-alias", 2),
    ],
)
def test_a_bad_theme_catalog_is_a_diagnostic(
    make_site: SiteBuilder, text: str, code: str, line: int
) -> None:
    report, _out = make_site({**PERSON, "theme/i18n/zh-CN.yaml": text})
    assert (code, "theme/i18n/zh-CN.yaml", line) in codes(report), codes(report)
    assert not report.ok


# ---------------------------------------------------------------------------------------------
# YAML aliases are refused everywhere content is read


def test_an_alias_bomb_is_refused_quickly(make_site: SiteBuilder) -> None:
    text = profile(extra="x:\n  " + BOMB.replace("\n", "\n  ").rstrip() + "\n")
    started = time.monotonic()
    report, _out = make_site({"profiles/2025/a.md": text})
    assert time.monotonic() - started < 20
    assert ("yaml-alias", "profiles/2025/a.md", 8) in codes(report)
    assert "不支持 YAML 的引用写法" in shown(report)


@pytest.mark.parametrize("file", ["site.yaml", "units.yaml"])
def test_aliases_in_the_settings_are_refused(make_site: SiteBuilder, file: str) -> None:
    site_yaml, units_yaml = SITE_YAML, UNITS_YAML
    if file == "site.yaml":
        site_yaml += "subtitle: &s 一\ncampaign: *s\n"
    else:
        units_yaml = units_yaml.replace("name: 华油集团", "name: &n 华油集团") + (
            "- id: more\n  name: *n\n  parent: group\n"
        )
    report, _out = make_site(PERSON, site_yaml=site_yaml, units_yaml=units_yaml)
    assert [c[:2] for c in codes(report) if c[0] == "yaml-alias"] == [("yaml-alias", file)]
    assert not report.ok


def test_check_fails_on_an_alias_and_prints_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = profile(extra="x:\n  " + BOMB.replace("\n", "\n  ").rstrip() + "\n")
    source = write_site(tmp_path / "src", {"profiles/2025/a.md": text})
    code = main(["check", str(source), "--format", "json"])
    assert code != 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert "yaml-alias" in json.dumps(data)


# ---------------------------------------------------------------------------------------------
# files a browser would run are not published from the content


@pytest.mark.parametrize(
    "rel",
    [
        "static/evil.html",
        "static/x/evil.HTM",
        "static/logo.svg",
        "profiles/2025/page.xhtml",
        "reports/run.js",
        "static/feed.xml",
    ],
)
def test_an_active_file_is_refused(make_site: SiteBuilder, rel: str) -> None:
    report, out = make_site({**PERSON, rel: "<script>alert(1)</script>\n"})
    assert ("active-file-refused", rel, 0) in codes(report), codes(report)
    assert "不会发布" in shown(report)
    assert not report.ok
    assert not list(out.rglob("*evil*")) if out.exists() else True


def test_a_draft_publishes_nothing_of_its_own(make_site: SiteBuilder) -> None:
    draft = (
        "---\ntitle: 计划\nunit: branch\ndate: 2025-03-01\ndraft: true\n"
        "attachments: [secret-plan.pdf]\n---\n正文\n"
    )
    files = {**PERSON, "reports/2025/plan.md": draft, "reports/2025/secret-plan.pdf": "%PDF-1.4"}
    report, out = make_site(files)
    assert report.ok, codes(report)
    assert not list(out.rglob("secret-plan*"))
    report, out = make_site(files, drafts=True)
    assert report.ok, codes(report)
    assert list(out.rglob("secret-plan*"))


def test_files_only_a_draft_links_are_not_published(make_site: SiteBuilder) -> None:
    draft = (
        "---\ntitle: 计划\nunit: branch\ndate: 2025-03-01\ndraft: true\n---\n"
        '见[方案](budget.pdf "方案")、![现场](site-photo.png)和[附表][t]。\n\n'
        '<img src="raw.png">\n\n![合影](shared.png)\n\n[t]: /reports/2025/table.xlsx\n'
    )
    published = profile(body="![合影](../../reports/2025/shared.png)")
    files = {
        "profiles/2025/a.md": published,
        "reports/2025/plan.md": draft,
        **{
            f"reports/2025/{name}": "x"
            for name in ("budget.pdf", "site-photo.png", "table.xlsx", "raw.png", "shared.png")
        },
    }
    report, out = make_site(files)
    assert report.ok, codes(report)
    assert sorted(p.name for p in (out / "reports/2025").iterdir()) == ["shared.png"]
    report, out = make_site(files, drafts=True)
    assert report.ok, codes(report)
    assert {p.name for p in (out / "reports/2025").iterdir()} >= {"budget.pdf", "raw.png"}


@pytest.mark.parametrize("url", ["javascript:alert(1)//", "//evil.example/", "ftp://x/", "a b"])
def test_base_url_must_be_a_web_address(make_site: SiteBuilder, url: str) -> None:
    report, _out = make_site(PERSON, site_yaml=SITE_YAML + f'base_url: "{url}"\n')
    assert ("bad-base-url", "site.yaml", 5) in codes(report), codes(report)
    assert not report.ok


@pytest.mark.parametrize("url", ["https://cxzy.example.com/", "http://10.0.0.1/s/", "/showcase/"])
def test_base_url_accepts_addresses_and_paths(make_site: SiteBuilder, url: str) -> None:
    report, _out = make_site(PERSON, site_yaml=SITE_YAML + f'base_url: "{url}"\n')
    assert report.ok, codes(report)


# ---------------------------------------------------------------------------------------------
# limits: Chinese errors with file and line instead of tracebacks

LONG = "王" * 90


@pytest.mark.parametrize(
    ("files", "units", "expected"),
    [
        ({"profiles/2025/a.md": profile(name=LONG)}, None, None),
        ({"profiles/2025/a.md": profile(extra=f"tags: [{'石' * 90}]\n")}, None, None),
        (
            {"profiles/2025/a.md": profile(extra="slug: " + "a" * 300 + "\n")},
            None,
            ("slug-too-long", "profiles/2025/a.md", 6),
        ),
        (
            {"profiles/2025/a.md": profile(unit="u" * 260)},
            UNITS_YAML + "- id: " + "u" * 260 + "\n  name: 长\n  parent: group\n",
            ("slug-too-long", "units.yaml", 16),
        ),
    ],
)
def test_long_names_never_make_a_path_too_long(
    make_site: SiteBuilder,
    files: dict[str, str],
    units: str | None,
    expected: tuple[str, str, int] | None,
) -> None:
    report, out = make_site(files, units_yaml=units or UNITS_YAML)
    if expected is None:
        assert report.ok, codes(report)
        assert all(len(p.name.encode()) <= 255 for p in out.rglob("*"))
    else:
        assert expected in codes(report), codes(report)


def test_a_derived_slug_is_short() -> None:
    from generator.base import hanzi

    assert len(hanzi.name_slug("欧阳" * 25)) <= hanzi.MAX_DERIVED_SLUG
    assert hanzi.name_slug("王进喜") == "wang-jin-xi"


def test_new_refuses_a_slug_too_long(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_site(tmp_path / "src", PERSON)
    args = ["new", "profile", "--source", str(source), "--name", "王", "--unit", "branch"]
    assert main([*args, "--slug", "a" * 300]) != 0
    assert "最长 100 个字符" in capsys.readouterr().err
    assert main([*args[:-4], "--name", "欧阳" * 25, "--unit", "branch", "--year", "2025"]) == 0


def test_a_copied_file_on_a_page_path_is_an_error(make_site: SiteBuilder) -> None:
    files = {**PERSON, "profiles/2025/wang-jin-xi": "x"}
    report, _out = make_site(files)
    assert ("copy-clashes-with-page", "profiles/2025/wang-jin-xi", 0) in codes(report)
    assert "与网站自动生成的网页冲突" in shown(report)


def nested_list(depth: int) -> str:
    return "".join("  " * i + "- x\n" for i in range(depth))


@pytest.mark.parametrize(
    ("body", "code", "line"),
    [
        (nested_list(500), "body-too-deep", 58),
        ("> " * 200 + "x\n", "body-too-deep", 7),
        ("[" * 20000, "too-many-brackets", 7),
        ("\n\n".join(["[" * 150] * 20), "too-many-brackets", 7 + 2 * 13),
    ],
)
def test_bodies_over_the_limits_are_refused_quickly(
    make_site: SiteBuilder,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    body: str,
    code: str,
    line: int,
) -> None:
    started = time.monotonic()
    report, _out = make_site({"profiles/2025/a.md": profile(body=body)})
    assert (code, "profiles/2025/a.md", line) in codes(report), codes(report)
    assert main(["check", str(tmp_path / "src"), "--format", "json"]) != 0
    found = json.loads(capsys.readouterr().out)["findings"]
    assert code in {f["code"] for f in found}
    assert time.monotonic() - started < 30


def test_a_nested_list_within_the_limit_builds(make_site: SiteBuilder) -> None:
    report, _out = make_site({"profiles/2025/a.md": profile(body=nested_list(40))})
    assert report.ok, codes(report)


def test_control_characters(make_site: SiteBuilder) -> None:
    report, _out = make_site({"profiles/2025/a.md": profile(name='"张\\x0b三"')})
    assert ("control-character", "profiles/2025/a.md", 2) in codes(report)
    assert "U+000B" in shown(report)
    body = "正文\x1b[31m，\x7f第二句\x0c。"  # (a NUL makes the file binary: refused)
    report, out = make_site({"profiles/2025/a.md": profile(body=body)})
    assert report.ok, codes(report)
    for path in [*out.rglob("*.html"), *out.rglob("*.xml")]:
        text = path.read_text(encoding="utf-8")
        assert not any(c in text for c in "\x1b\x7f\x0c"), path
    assert "正文[31m，第二句。" in (out / "profiles/2025/wang-jin-xi/index.html").read_text()


@pytest.mark.parametrize(
    ("number", "code", "words"),
    [
        (errno.ENOSPC, "disk-full", "磁盘空间已满"),
        (errno.EROFS, "output-read-only", "只读"),
        (errno.EIO, "system-error", "读写"),
        (errno.EEXIST, "system-error", "已经有同名的文件或目录"),
    ],
)
def test_a_failing_disk_is_a_diagnostic(
    make_site: SiteBuilder,
    monkeypatch: pytest.MonkeyPatch,
    number: int,
    code: str,
    words: str,
) -> None:
    report, out = make_site(PERSON)
    assert report.ok
    before = (out / "index.html").read_bytes()

    def fail(root: Path, rel: str, data: bytes) -> None:
        raise OSError(number, os.strerror(number), str(root / rel))

    monkeypatch.setattr(writer, "write_new", fail)
    report, out = make_site({**PERSON, "profiles/2025/b.md": profile(name="李华")})
    assert [d.code for d in report.diagnostics] == [code]
    assert words in shown(report)
    assert os.strerror(number) not in shown(report)  # the system's English words, translated
    assert (out / "index.html").read_bytes() == before
    assert not [p for p in out.parent.iterdir() if ".building-" in p.name]


def test_a_system_error_is_worded_in_the_language_it_is_shown_in(tmp_path: Path) -> None:
    failure = OSError(errno.EEXIST, os.strerror(errno.EEXIST), str(tmp_path / "x"))
    found = system_error(failure)
    assert "已经有同名的文件或目录" in format_diagnostic(found, "zh-CN", tmp_path)
    english = format_diagnostic(found, "en", tmp_path)
    assert "a file or folder of that name already exists" in english
    assert "已经" not in english


def test_a_disk_failing_in_a_worker_is_a_diagnostic(
    make_site: SiteBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the workers write the pages they render: the error crosses into the build process
    many = {f"profiles/2025/p{i}.md": profile(name=f"王{i}") for i in range(220)}
    report, out = make_site(many)
    assert report.ok
    before = (out / "index.html").read_bytes()
    parent = os.getpid()
    original = writer.write_new

    def fail_in_workers(root: Path, rel: str, data: bytes) -> None:
        if os.getpid() != parent:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(root / rel))
        original(root, rel, data)

    monkeypatch.setattr(writer, "write_new", fail_in_workers)
    monkeypatch.setenv("SHOWCASE_WORKERS", "2")
    report, out = make_site({**many, "profiles/2025/b.md": profile(name="李华")})
    assert [d.code for d in report.diagnostics] == ["disk-full"]
    assert (out / "index.html").read_bytes() == before
    assert not [p for p in out.parent.iterdir() if ".building-" in p.name]
    assert not multiprocessing.active_children()  # the workers were stopped


# ---------------------------------------------------------------------------------------------
# what is published: spreadsheets, names, photos


def test_csv_cells_never_start_a_formula(make_site: SiteBuilder) -> None:
    units = UNITS_YAML.replace("name: 第一采油厂", 'name: "=HYPERLINK(\\"http://x\\",\\"点\\")"')
    units = units.replace("name: 炼化公司", 'name: "@SUM(1+1)"')
    report, out = make_site(PERSON, units_yaml=units)
    assert report.ok, codes(report)
    text = (out / "stats/stats.csv").read_text(encoding="utf-8-sig")
    cells = [cell for line in text.splitlines() for cell in line.split(",")]
    assert not [c for c in cells if c.lstrip('"').startswith(("=", "+", "@"))], text
    assert "'=HYPERLINK" in text


def test_csv_cell_rule() -> None:
    from generator.site.stats import csv_cell

    assert csv_cell("-1+2") == "'-1+2"
    assert csv_cell("＝1") == "'＝1"
    assert csv_cell(-3) == -3
    assert csv_cell(None) == ""
    assert csv_cell("华油") == "华油"


def test_names_that_differ_only_in_case_or_form_are_flagged(make_site: SiteBuilder) -> None:
    files = {
        **PERSON,
        "static/files/Plan.pdf": "a",
        "static/files/plan.pdf": "b",
        "static/files/caf\u00e9.pdf": "c",
        "static/files/cafe\u0301.pdf": "d",
    }
    report, _out = make_site(files)
    clashes = sorted(c[1] for c in codes(report) if c[0] == "name-clash")
    assert len(clashes) == 2, codes(report)
    assert "只有大小写或字符编码形式不同" in shown(report)


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [9000, 20000])
def test_a_huge_photo_is_reported_in_chinese(
    make_site: SiteBuilder, tmp_path: Path, side: int, recwarn: pytest.WarningsRecorder
) -> None:
    source = write_site(tmp_path / "src", {"profiles/2025/a.md": profile(extra="photo: a.png\n")})
    (source / "profiles/2025/a.png").write_bytes(_png_header(side, side))
    report = build(BuildOptions(source=source, output=tmp_path / "out"))
    found = [d for d in report.diagnostics if d.code == "photo-too-large"]
    assert [(d.path, d.line) for d in found] == [("profiles/2025/a.md", 6)], codes(report)
    assert "太大" in shown(report) and "百万像素" in shown(report)
    assert not [w for w in recwarn if "DecompressionBomb" in type(w.message).__name__]


# ---------------------------------------------------------------------------------------------
# the output folder


def test_an_output_inside_the_source_is_refused(tmp_path: Path) -> None:
    source = write_site(tmp_path / "src", PERSON)
    report = build(BuildOptions(source=source, output=source / "public"))
    assert [d.code for d in report.diagnostics] == ["output-inside-source"]
    assert "在网站源文件目录里面" in shown(report)
    assert not (source / "public").exists()
    # a hidden folder (never read as source), as serve's private folder, is fine
    assert build(BuildOptions(source=source, output=source / ".preview")).ok


def test_staging_folders_of_killed_builds_are_removed(tmp_path: Path) -> None:
    source = write_site(tmp_path / "src", PERSON)
    out = tmp_path / "out"
    dead = tmp_path / ".out.building-999999999-abc"
    (dead / "profiles").mkdir(parents=True)
    old = tmp_path / ".out.building-xyz"
    old.mkdir()
    os.utime(old, (0, 0))
    alive = tmp_path / f".out.building-{os.getpid()}-abc"
    alive.mkdir()
    assert build(BuildOptions(source=source, output=out)).ok
    assert not dead.exists() and not old.exists()
    assert alive.exists()  # a build still running keeps its folder


def test_only_the_shipped_themes_alone_render_outside_the_sandbox(tmp_path: Path) -> None:
    from generator.output import theme

    plain = write_site(tmp_path / "plain", PERSON)
    located = theme.locate(plain, "default")
    assert located is not None and not located.sandboxed
    assert not isinstance(theme.environment(located, "zh-CN"), theme.SafeEnvironment)
    overridden = write_site(tmp_path / "over", {**PERSON, "theme/i18n/zh-CN.yaml": "a: b\n"})
    located = theme.locate(overridden, "default")
    assert located is not None and located.sandboxed
    assert isinstance(theme.environment(located, "zh-CN"), theme.SafeEnvironment)
    (overridden / "themes/mine/templates").mkdir(parents=True)
    (overridden / "theme").rename(overridden / "unused")
    located = theme.locate(overridden, "mine")
    assert located is not None and located.sandboxed


def _fresh_template_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[Path, Path]:
    """A site, and compiled templates forgotten as in a new process with Jinja's folder of
    them (returned) in a temporary folder of its own."""
    import tempfile

    from generator.output import theme

    source = write_site(tmp_path / "site", PERSON)
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.setattr(theme, "_COMPILED", {})
    return source, tmp_path / "tmp" / f"_jinja2-cache-{os.getuid()}"


def test_compiled_templates_are_kept_for_the_next_process_in_a_folder_of_the_user_alone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import jinja2

    from generator.output import theme

    source, folder = _fresh_template_cache(monkeypatch, tmp_path)
    located = theme.locate(source, "default")
    assert located is not None
    theme.environment(located, "zh-CN").get_template("base.html")
    kept = sorted(folder.glob("showcase-TrustedEnvironment-*.cache"))
    assert kept and (folder.stat().st_mode & 0o777) == 0o700
    # a new process loads them: nothing is compiled again
    monkeypatch.setattr(theme, "_COMPILED", {})

    def no_compile(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("compiled again")

    with monkeypatch.context() as patched:
        patched.setattr(jinja2.Environment, "compile", no_compile)
        first = theme.environment(located, "zh-CN").get_template("base.html")
    # a damaged file is compiled again and replaced
    monkeypatch.setattr(theme, "_COMPILED", {})
    for path in kept:
        path.write_bytes(path.read_bytes()[:40])
    again = theme.environment(located, "zh-CN").get_template("base.html")
    assert again.blocks.keys() == first.blocks.keys()
    assert all(path.stat().st_size > 40 for path in kept)
    # another version of Jinja (or of another library) never loads them
    monkeypatch.setattr(theme, "_COMPILED", {})
    monkeypatch.setattr(cache, "schema", lambda: "showcase-cache/x jinja2=0")
    theme.environment(located, "zh-CN").get_template("base.html")
    assert len(list(folder.glob("showcase-TrustedEnvironment-*.cache"))) == 2 * len(kept)


def test_compiled_templates_never_go_through_a_planted_link(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source, folder = _fresh_template_cache(monkeypatch, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder.symlink_to(elsewhere)
    assert build(BuildOptions(source=source, output=tmp_path / "out")).ok
    assert not list(elsewhere.iterdir())  # kept in memory only


def test_check_prints_json_even_when_the_machine_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from generator.cli import check

    source = write_site(tmp_path / "src", PERSON)

    def deep(*_args: object, **_kwargs: object) -> object:
        raise RecursionError

    monkeypatch.setattr(check, "findings", deep)
    assert main(["check", str(source), "--format", "json"]) != 0
    found = json.loads(capsys.readouterr().out)["findings"]
    assert [f["code"] for f in found] == ["nested-too-deep"]

    def unreadable(*_args: object, **_kwargs: object) -> object:
        raise PermissionError(errno.EACCES, "Permission denied", str(source / "units.yaml"))

    monkeypatch.setattr(check, "findings", unreadable)
    assert main(["check", str(source), "--format", "json"]) != 0
    found = json.loads(capsys.readouterr().out)["findings"]
    assert [f["code"] for f in found] == ["no-permission"]


def test_no_output_holds_the_build_machine_paths(make_site: SiteBuilder, tmp_path: Path) -> None:
    body = f"见[本机]({tmp_path}/secret.pdf)与![图]({tmp_path}/x.png)。"
    report, out = make_site({"profiles/2025/a.md": profile(body=body)})
    assert report.ok, codes(report)
    machine = str(tmp_path / "src").encode()
    leaks = [p for p in out.rglob("*") if p.is_file() and machine in p.read_bytes()]
    assert leaks == []


def test_body_html_from_a_tampered_cache_is_not_used(tmp_path: Path) -> None:
    """A cached body the sanitiser would change is not taken: it is converted again from its
    source."""
    import sqlite3

    from generator.output import cache

    source = write_site(tmp_path / "site", {"profiles/2025/a.md": profile(body="正文。")})
    folder = tmp_path / "cache"
    options = BuildOptions(source=source, output=tmp_path / "out", cache_dir=folder)
    assert build(options).ok
    with sqlite3.connect(folder / cache.FILE) as db:
        for key, data in db.execute("SELECT key, data FROM markup").fetchall():
            entry = json.loads(data)
            entry[0] += '<script>alert(1)</script><p onclick="x()">点</p>'
            db.execute("UPDATE markup SET data = ? WHERE key = ?", (json.dumps(entry), key))
    # another title: every page renders again, its body taken from the cache
    (source / "site.yaml").write_text(SITE_YAML.replace("测试站点", "测试站点二"), "utf-8")
    assert build(options).ok
    pages = (tmp_path / "out/profiles/2025").rglob("index.html")
    html = next(p for p in pages if "正文" in p.read_text("utf-8")).read_text("utf-8")
    assert "测试站点二" in html and "正文" in html and "点</p>" not in html
    assert "<script>alert" not in html and "onclick" not in html


def test_unrelated_files_in_the_output_ask_for_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_site(tmp_path / "src", PERSON)
    out = tmp_path / "out"
    (out / "notes").mkdir(parents=True)
    (out / "notes/plan.txt").write_text("keep", encoding="utf-8")
    (out / ".DS_Store").write_bytes(b"")  # what a desktop leaves behind is not asked about
    assert main(["build", str(source), "-o", str(out), "--no-cache"]) == 1
    err = capsys.readouterr().err
    assert "里有 1 个不是 showcase 生成的文件（notes/plan.txt）" in err
    assert "--force" in err
    assert (out / "notes/plan.txt").is_file()
    assert main(["build", str(source), "-o", str(out), "--no-cache", "--force", "-q"]) == 0
    assert not (out / "notes").exists()
    assert (out / "index.html").is_file()
    # the next build into it needs no --force: every file there is one it wrote
    assert main(["build", str(source), "-o", str(out), "--no-cache", "-q"]) == 0


@pytest.mark.parametrize(
    "marker",
    [
        "showcase\n",
        "",
        '{"generator": "showcase", "format": 2, "files": "*"}',
        '{"generator": "showcase", "format": 2, "files": ["index.html"]}',
    ],
)
def test_a_planted_marker_does_not_make_a_folder_replaceable(tmp_path: Path, marker: str) -> None:
    source = write_site(tmp_path / "src", PERSON)
    out = tmp_path / "home"
    (out / "Documents").mkdir(parents=True)
    (out / "Documents/thesis.docx").write_bytes(b"years of work")
    (out / "index.html").write_text("listed in the marker", encoding="utf-8")
    (out / writer.MARKER).write_text(marker, encoding="utf-8")
    report = build(BuildOptions(source=source, output=out))
    assert [d.code for d in report.diagnostics] == ["output-not-ours"]
    assert "Documents/thesis.docx" in shown(report)
    assert (out / "Documents/thesis.docx").read_bytes() == b"years of work"


def test_the_marker_lists_the_output_after_an_in_place_change(tmp_path: Path) -> None:
    files = {f"profiles/2025/p{i}.md": profile(name=f"张{chr(0x4E00 + i)}") for i in range(12)}
    source = write_site(tmp_path / "src", files)
    out, store = tmp_path / "out", tmp_path / "cache"
    assert build(BuildOptions(source=source, output=out, cache_dir=store)).ok
    (source / "profiles/2025/p3.md").write_text(profile(name="张三", body="改过。"), "utf-8")
    assert build(BuildOptions(source=source, output=out, cache_dir=store)).ok
    assert writer.foreign_files(out) == []
    listed = writer.marked_files(out)
    assert listed is not None and "profiles/2025/zhang-san/index.html" in listed


# ---------------------------------------------------------------------------------------------
# the build cache


def test_a_new_source_date_epoch_is_not_a_no_change_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_site(tmp_path / "src", PERSON)  # outside git: dates from file times
    out, store = tmp_path / "out", tmp_path / "cache"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1600000000")  # 2020-09-13
    assert build(BuildOptions(source=source, output=out, cache_dir=store)).ok
    assert "2020-09-13" in (out / "sitemap.xml").read_text(encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1500000000")  # 2017-07-14
    report = build(BuildOptions(source=source, output=out, cache_dir=store))
    assert report.ok and report.files > 0
    assert "2017-07-14" in (out / "sitemap.xml").read_text(encoding="utf-8")


def test_other_options_or_library_versions_are_not_a_no_change_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {**PERSON, "profiles/2025/b.md": profile(name="李四", extra="draft: true\n")}
    source = write_site(tmp_path / "src", files)
    out, store = tmp_path / "out", tmp_path / "cache"
    assert build(BuildOptions(source=source, output=out, cache_dir=store)).ok
    assert build(BuildOptions(source=source, output=out, cache_dir=store)).files == 0
    assert build(BuildOptions(source=source, output=out, cache_dir=store, drafts=True)).files
    assert (out / "profiles/2025/li-si/index.html").is_file()
    monkeypatch.setattr(cache, "schema", lambda: "showcase-cache/other markdown=0")
    report = build(BuildOptions(source=source, output=out, cache_dir=store, drafts=True))
    assert report.files > 0
    assert [d.code for d in report.diagnostics] == ["cache-stale"]


def test_the_cache_folder_can_be_chosen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = write_site(tmp_path / "src", PERSON)
    out = tmp_path / "out"
    args = ["build", str(source), "-o", str(out), "-q"]
    assert main([*args, "--cache-dir", str(tmp_path / "a")]) == 0
    assert (tmp_path / "a" / cache.FILE).is_file()
    monkeypatch.setenv("SHOWCASE_CACHE_DIR", str(tmp_path / "b"))
    assert main(args) == 0
    assert (tmp_path / "b" / cache.FILE).is_file()
    assert not (source / cache.CACHE_DIR).exists()  # nothing written into the source
    assert main([*args, "--no-cache"]) == 0
    assert not (source / cache.CACHE_DIR).exists()


@pytest.mark.parametrize(
    ("place", "expected"),
    [("out/cache", "在输出目录里面"), ("src/cache", "会被当作网站内容读取")],
)
def test_the_cache_folder_cannot_be_where_it_would_be_lost_or_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], place: str, expected: str
) -> None:
    source = write_site(tmp_path / "src", PERSON)
    args = ["build", str(source), "-o", str(tmp_path / "out"), "--cache-dir", str(tmp_path / place)]
    assert main(args) == 2
    assert expected in capsys.readouterr().err
    assert not (tmp_path / place).exists()


# ---------------------------------------------------------------------------------------------
# the folder of hostile sites (tests/hostile/*.yaml, see its README)

HOSTILE = Path(__file__).parent / "hostile"


def _hostile_files(case: dict[str, Any]) -> dict[str, str]:
    """The files of a hostile site, with what ``append`` generates added to one of them."""
    files = {rel: str(text) for rel, text in case["files"].items()}
    extra = case.get("append")
    if extra:
        if "nested_list" in extra:
            files[extra["file"]] += nested_list(int(extra["nested_list"]))
        else:
            files[extra["file"]] += str(extra["repeat"]) * int(extra["times"])
    return files


@pytest.mark.parametrize("name", sorted(p.stem for p in HOSTILE.glob("*.yaml")))
def test_a_hostile_site_gets_its_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    case = yaml.safe_load((HOSTILE / f"{name}.yaml").read_text(encoding="utf-8"))
    files = _hostile_files(case)
    site_yaml = files.pop("site.yaml", SITE_YAML)
    source = write_site(tmp_path / "src", files, site_yaml=site_yaml, units_yaml=UNITS_YAML)
    monkey = pytest.MonkeyPatch()
    monkey.chdir(tmp_path)  # a template that escaped would write here
    try:
        report = build(BuildOptions(source=source, output=tmp_path / "out"))
    finally:
        monkey.undo()
    expect = case["expect"]
    assert not report.ok
    assert (expect["code"], expect["file"], expect["line"]) in codes(report), codes(report)
    assert expect["says"] in shown(report)
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "out").exists()
    if case.get("check", True):
        capsys.readouterr()
        assert main(["check", str(source), "--format", "json"]) == 1
        findings = json.loads(capsys.readouterr().out)["findings"]
        assert expect["code"] in {f["code"] for f in findings}


def test_a_draft_linking_to_no_address_at_all_builds(make_site: SiteBuilder) -> None:
    draft = (
        "---\ntitle: 计划\nunit: branch\ndate: 2025-03-01\ndraft: true\n---\n[x](//[x) [y](%zz)\n"
    )
    report, _out = make_site({**PERSON, "reports/2025/plan.md": draft})
    assert report.ok, codes(report)


def _known_output(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A site of twelve profiles built once with a cache: (source, output, cache folder)."""
    files = {f"profiles/2025/p{i}.md": profile(name=f"张{chr(0x4E00 + i)}") for i in range(12)}
    source = write_site(tmp_path / "src", {**files, "static/readme.txt": "说明"})
    out, store = tmp_path / "out", tmp_path / "cache"
    assert build(BuildOptions(source=source, output=out, cache_dir=store)).ok
    return source, out, store


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_file_not_ours_where_a_known_output_gets_a_new_file_is_refused(
    tmp_path: Path,
) -> None:
    """A folder the last build committed is searched only where a small build adds files;
    a file not ours there stops the build before anything moves."""
    source, out, store = _known_output(tmp_path)
    (out / "static/notice.txt").write_text("the editor's own notice", encoding="utf-8")
    before = _tree(out)
    (source / "static/notice.txt").write_text("通知", encoding="utf-8")
    report = build(BuildOptions(source=source, output=out, cache_dir=store))
    assert [d.code for d in report.diagnostics] == ["output-not-ours"]
    assert "static/notice.txt" in shown(report)
    assert _tree(out) == before


def test_a_file_not_ours_stops_a_build_that_replaces_a_known_output(tmp_path: Path) -> None:
    source, out, store = _known_output(tmp_path)
    (out / "profiles/notes.txt").write_text("keep me", encoding="utf-8")
    before = _tree(out)
    site_yaml = (source / "site.yaml").read_text(encoding="utf-8")
    (source / "site.yaml").write_text(site_yaml.replace("测试站点", "新站点"), encoding="utf-8")
    report = build(BuildOptions(source=source, output=out, cache_dir=store))
    assert [d.code for d in report.diagnostics] == ["output-not-ours"]
    assert _tree(out) == before
    forced = build(BuildOptions(source=source, output=out, cache_dir=store, force=True))
    assert forced.ok and not (out / "profiles/notes.txt").exists()


def test_a_small_build_leaves_a_file_not_ours_where_it_is(tmp_path: Path) -> None:
    source, out, store = _known_output(tmp_path)
    (out / "profiles/notes.txt").write_text("keep me", encoding="utf-8")
    edited = profile(name=f"张{chr(0x4E03)}", body="改过。")
    (source / "profiles/2025/p3.md").write_text(edited, encoding="utf-8")
    report = build(BuildOptions(source=source, output=out, cache_dir=store))
    assert report.ok, report.diagnostics
    assert "改过" in (out / "profiles/2025/zhang-qi/index.html").read_text(encoding="utf-8")
    assert (out / "profiles/notes.txt").read_text(encoding="utf-8") == "keep me"


def _link_for_folder(page_folder: Path, outside: Path) -> None:
    shutil.rmtree(page_folder)
    page_folder.symlink_to(outside, target_is_directory=True)


def _file_for_folder(page_folder: Path, _outside: Path) -> None:
    shutil.rmtree(page_folder)
    page_folder.write_text("a file where the page's folder was", encoding="utf-8")


def _folder_for_page(page_folder: Path, _outside: Path) -> None:
    (page_folder / "index.html").unlink()
    (page_folder / "index.html").mkdir()
    (page_folder / "index.html/notes.txt").write_text("keep me", encoding="utf-8")


@pytest.mark.parametrize("planted", [_link_for_folder, _file_for_folder, _folder_for_page])
def test_a_small_build_into_a_known_output_follows_and_replaces_nothing_not_ours(
    tmp_path: Path, planted: Any
) -> None:
    """Where the files of a small build go, a link, a file in place of a folder or a folder
    in place of a page stops it before anything moves (none is seen from the output's top)."""
    source, out, store = _known_output(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "index.html").write_text("not the site's", encoding="utf-8")
    planted(out / "profiles/2025/zhang-qi", outside)
    before = _tree(out)
    edited = profile(name=f"张{chr(0x4E03)}", body="改过。")
    (source / "profiles/2025/p3.md").write_text(edited, encoding="utf-8")
    report = build(BuildOptions(source=source, output=out, cache_dir=store))
    assert [d.code for d in report.diagnostics] == ["output-not-ours"]
    assert "profiles/2025/zhang-qi" in shown(report)
    assert _tree(out) == before
    assert (outside / "index.html").read_text(encoding="utf-8") == "not the site's"


def _unlisted(out: Path) -> None:
    """The editor's own text in one of our pages, taken off the marker's list in place."""
    page = "profiles/2025/zhang-qi/index.html"
    (out / page).write_text("the editor's own page", encoding="utf-8")
    data = json.loads((out / writer.MARKER).read_text(encoding="utf-8"))
    data["files"].remove(page)
    (out / writer.MARKER).write_text(json.dumps(data), encoding="utf-8")


def _marker_emptied(out: Path) -> None:
    (out / writer.MARKER).write_text("{}", encoding="utf-8")


@pytest.mark.parametrize("edit", [_unlisted, _marker_emptied])
def test_a_marker_edited_in_place_makes_the_output_unknown(tmp_path: Path, edit: Any) -> None:
    """Whoever edits the marker makes the output one the cache does not know: it is looked
    through before the build, as any unknown folder is."""
    source, out, store = _known_output(tmp_path)
    edit(out)
    before = _tree(out)
    edited = profile(name=f"张{chr(0x4E03)}", body="改过。")
    (source / "profiles/2025/p3.md").write_text(edited, encoding="utf-8")
    report = build(BuildOptions(source=source, output=out, cache_dir=store))
    assert [d.code for d in report.diagnostics] == ["output-not-ours"]
    assert _tree(out) == before


def test_a_cache_committed_to_git_is_not_used(tmp_path: Path) -> None:
    """Anyone who can commit could have put converted HTML or checked items there: a cache
    that git tracks is left alone, with a warning saying how to take it out of git."""
    from tests.test_dates import git

    source = write_site(tmp_path / "src", PERSON)
    options = BuildOptions(source=source, output=tmp_path / "out", cache_dir=source / ".cache")
    assert build(options).ok
    git(source, "init", "-q")
    git(source, "add", "-A")
    git(source, "commit", "-q", "-m", "站点和缓存")
    committed = (source / ".cache" / cache.FILE).read_bytes()
    (source / "profiles/2025/a.md").write_text(profile(body="改过。"), encoding="utf-8")
    report = build(options)
    assert report.ok
    assert [d.code for d in report.diagnostics] == ["cache-tracked"]
    assert "git rm -r --cached" in shown(report)
    assert "改过" in (tmp_path / "out/profiles/2025/wang-jin-xi/index.html").read_text("utf-8")
    assert (source / ".cache" / cache.FILE).read_bytes() == committed
    git(source, "rm", "-r", "-q", "--cached", ".cache")
    assert build(options).diagnostics == ()


def test_a_second_build_into_the_same_output_waits_for_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two builds at once into one output (or with one cache) would write over each other:
    the second waits, says so, and builds when the first is done."""
    import threading

    from generator.cli import build as cli_build

    src = write_site(tmp_path / "site", {"profiles/2025/a.md": profile()})
    out = tmp_path / "out"
    events: list[str] = []
    holding, released = threading.Event(), threading.Event()

    def other_build() -> None:  # holds the output's lock as a running build does
        with writer.exclusive(out, None, lambda folder: events.append("other waited")):
            holding.set()
            released.wait(30)
            events.append("other done")

    def waiting(folder: Path) -> None:
        events.append(f"waiting for {folder.name}")
        original(folder)
        released.set()

    original = cli_build.say_waiting
    monkeypatch.setattr(cli_build, "say_waiting", waiting)
    thread = threading.Thread(target=other_build)
    thread.start()
    assert holding.wait(30)
    assert main(["build", str(src), "-o", str(out), "--quiet"]) == 0
    thread.join(30)
    assert events == ["waiting for out", "other done"]  # it built once the other was done
    assert (out / "index.html").exists()
    assert "另一个生成正在使用" in capsys.readouterr().err
    # the cache is locked the same way: a build with the same cache into another output
    holding.clear()
    released.clear()
    cache_dir = src / ".showcase-cache"

    def cache_user() -> None:
        with writer.exclusive(tmp_path / "elsewhere", cache_dir, lambda folder: None):
            holding.set()
            released.wait(30)
            events.append("cache user done")

    thread = threading.Thread(target=cache_user)
    thread.start()
    assert holding.wait(30)
    assert main(["build", str(src), "-o", str(tmp_path / "out2"), "--quiet"]) == 0
    thread.join(30)
    assert events[-2:] == ["waiting for .showcase-cache", "cache user done"]
    # no lock file stays behind
    assert not writer.lock_file(out).exists() and not (cache_dir / writer.CACHE_LOCK).exists()


def test_a_build_where_files_cannot_be_locked_runs_unlocked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some network folders refuse locks: the build runs as it would without them."""

    def refused(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(writer.fcntl, "flock", refused)
    src = write_site(tmp_path / "site", {"profiles/2025/a.md": profile()})
    out = tmp_path / "out"
    assert main(["build", str(src), "-o", str(out), "--quiet"]) == 0
    assert (out / "index.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "site"]  # no lock file left


def test_a_link_in_the_output_is_never_followed(tmp_path: Path) -> None:
    """A link put in the output where a page was (by anyone who can write there) is not a
    file of ours: the next build stops and names it rather than publish what it points to."""
    secret = tmp_path / "secret.txt"
    secret.write_text("口令", encoding="utf-8")
    src = write_site(tmp_path / "site", {"profiles/2025/a.md": profile()})
    out = tmp_path / "out"
    assert main(["build", str(src), "-o", str(out), "--quiet"]) == 0
    page = out / "units" / "index.html"
    page.unlink()
    page.symlink_to(secret)
    assert "units/index.html" in writer.foreign_files(out)
    (src / "site.yaml").write_text(SITE_YAML + "subtitle: 第二版\n", encoding="utf-8")
    assert main(["build", str(src), "-o", str(out), "--quiet"]) != 0
    assert page.is_symlink()  # the output stays as it was
    # carrying unchanged files over: neither the link nor a file under a linked folder
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(out / "profiles", elsewhere)
    shutil.rmtree(out / "profiles")
    (out / "profiles").symlink_to(elsewhere, target_is_directory=True)
    plain = writer.plain_files(writer.list_files(out))
    assert "index.html" in plain and "units/index.html" not in plain
    assert not any(rel.startswith("profiles/") for rel in plain)
    staged = writer.StagedOutput(out)
    try:
        with pytest.raises(writer.OutputError) as refused:
            staged.keep("units/index.html", out, plain)
        assert refused.value.code == "output-link"
        staged.keep("index.html", out, plain)  # a plain file is carried over
    finally:
        staged.abort()


@pytest.mark.parametrize("linked", ["an unchanged page", "the folder of a changed page"])
def test_a_link_in_place_of_a_page_is_replaced_and_one_above_a_page_stops_once_then_heals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, linked: str
) -> None:
    """A build told to go ahead (--force) that finds a link where an unchanged page was makes
    that page again: the link is replaced, never followed (the whole folder is swapped). A
    link on the way to a page it changes (changed in place) stops it with output-link, and it
    moves nothing; once the link is deleted, as the hint says, the next build makes every
    page again. Either way the output ends equal to a clean build's."""
    import generator.build as building

    # every build swaps a whole folder, or every build changes files in place
    monkeypatch.setattr(building, "IN_PLACE_SHARE", 0 if linked == "an unchanged page" else 1)
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "index.html").write_text("口令", encoding="utf-8")
    src = write_site(tmp_path / "site", {"profiles/2025/a.md": profile(body="第一稿。")})
    out = tmp_path / "out"
    options = BuildOptions(source=src, output=out, cache_dir=tmp_path / "cache", force=True)
    assert build(options).ok
    if linked == "an unchanged page":
        link = out / "units" / "index.html"
        link.unlink()
        link.symlink_to(secret / "index.html")
    else:  # and the folder's times put back, as the cache knows them
        before = out.stat()
        link = out / "profiles"
        shutil.rmtree(link)
        link.symlink_to(secret, target_is_directory=True)
        os.utime(out, ns=(before.st_atime_ns, before.st_mtime_ns))
    (src / "profiles/2025/a.md").write_text(profile(body="第二稿。"), encoding="utf-8")
    report = build(options)
    assert sorted(p.name for p in secret.iterdir()) == ["index.html"]
    assert (secret / "index.html").read_text(encoding="utf-8") == "口令"
    if linked == "an unchanged page":
        assert report.ok and not link.is_symlink()
    else:
        assert not report.ok and [d.code for d in report.diagnostics] == ["output-link"]
        assert link.is_symlink()
        link.unlink()
        assert build(options).ok
    assert build(BuildOptions(source=src, output=tmp_path / "clean")).ok
    assert digest_tree(out) == digest_tree(tmp_path / "clean")


def test_a_journal_replayed_after_a_crash_stays_inside_the_output(tmp_path: Path) -> None:
    """The journal of an unfinished incremental commit lies beside the output: replaying it
    neither deletes nor writes outside the output, nor through a link inside it."""
    out = tmp_path / "out"
    (out / "a").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("x", encoding="utf-8")
    (out / "linked").symlink_to(outside, target_is_directory=True)
    root = tmp_path / ".out.building-1-x"
    (root / "linked").mkdir(parents=True)
    (root / "linked" / "new.html").write_text("<p>", encoding="utf-8")
    (root / "a" / "b.html").parent.mkdir(parents=True)
    (root / "a" / "b.html").write_text("<p>", encoding="utf-8")
    plan = {
        "root": str(root),
        "changed": ["linked/new.html", "a/b.html"],
        "removed": ["../outside/keep.txt", "linked/keep.txt"],
    }
    (tmp_path / ".out.journal.json").write_text(json.dumps(plan), encoding="utf-8")
    writer.recover(out)
    assert (outside / "keep.txt").exists() and not (outside / "new.html").exists()
    assert (out / "a" / "b.html").exists()  # what is inside the output is finished
    assert not (tmp_path / ".out.journal.json").exists()
    # a link the journal would move in first, then delete through
    (root / "c").parent.mkdir(parents=True, exist_ok=True)
    (root / "c").symlink_to(outside, target_is_directory=True)
    plan = {"root": str(root), "changed": ["c"], "removed": ["c/keep.txt"]}
    (tmp_path / ".out.journal.json").write_text(json.dumps(plan), encoding="utf-8")
    writer.recover(out)
    assert (outside / "keep.txt").exists() and not (out / "c").exists()


def test_a_journal_acts_only_on_a_staging_folder_and_leaves_none_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A journal naming a folder that is not one of the output's staging folders (edited by
    hand: the source beside the output) is not replayed, and that folder is left as it is;
    a staging folder whose move fails again is removed with the journal."""
    out = tmp_path / "out"
    out.mkdir()
    source = tmp_path / "src"
    (source / "a").mkdir(parents=True)
    (source / "a" / "b.html").write_text("<p>", encoding="utf-8")
    journal = tmp_path / ".out.journal.json"
    plan = {"root": str(source), "changed": ["a/b.html"], "removed": []}
    journal.write_text(json.dumps(plan), encoding="utf-8")
    writer.recover(out)
    assert (source / "a" / "b.html").is_file() and not (out / "a").exists()
    assert not journal.exists()
    root = tmp_path / ".out.building-1-x"
    (root / "a").mkdir(parents=True)
    (root / "a" / "b.html").write_text("<p>", encoding="utf-8")
    journal.write_text(json.dumps({**plan, "root": str(root)}), encoding="utf-8")

    def full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer.os, "replace", full)
    writer.recover(out)
    assert not root.exists() and not journal.exists()


def test_a_large_site_of_its_own_templates_renders_within_the_limits(
    scale_build: tuple[Path, Path], tmp_path: Path
) -> None:
    """The 5,000-document site with one template of its own: every page renders in limited
    workers (the sandbox), none over the limits, and the pages are those the shipped theme
    alone makes (the same template)."""
    source, out = scale_build
    own = tmp_path / "site"
    shutil.copytree(source, own, ignore=shutil.ignore_patterns(".showcase-cache"))
    (own / "theme" / "templates").mkdir(parents=True)
    shutil.copy(ROOT / "themes" / "default" / "templates" / "404.html", own / "theme" / "templates")
    report = build(BuildOptions(source=own, output=tmp_path / "out"))
    assert report.ok, report.diagnostics[:5]
    assert digest_tree(tmp_path / "out") == digest_tree(out)


def test_a_render_worker_the_system_kills_fails_the_build_and_keeps_the_last_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped theme's pages render in workers too: one the system ends (out of memory)
    stops the build with its words, at once, and the output stays the last good build's."""
    source, out = tmp_path / "site", tmp_path / "out"
    shutil.copytree(ROOT / "site_content", source, ignore=shutil.ignore_patterns(".showcase-*"))
    assert build(BuildOptions(source=source, output=out)).ok
    before = digest_tree(out)
    edited = next(iter(sorted((source / "profiles").rglob("*.md"))))
    edited.write_text(edited.read_text(encoding="utf-8") + "\n又一句。\n", encoding="utf-8")
    parent, render = os.getpid(), pool.templating.render

    def killed(*args: Any, **kwargs: Any) -> Any:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return render(*args, **kwargs)

    monkeypatch.setattr(pool, "MIN_PARALLEL", 1)  # every page in the workers
    monkeypatch.setattr(pool.templating, "render", killed)
    with _at_most(90):  # a build that waits for the lost worker fails here, not hangs
        report = build(BuildOptions(source=source, output=out, workers=2))
    assert not report.ok and [c[0] for c in codes(report)] == ["worker-lost"], codes(report)
    assert digest_tree(out) == before


@contextlib.contextmanager
def _at_most(seconds: int) -> Iterator[None]:
    """Raise ``TimeoutError`` in this thread after ``seconds``."""

    def late(_signum: int, _frame: Any) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    before = signal.signal(signal.SIGALRM, late)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)


def _dies_at_chunk_two(chunk: range) -> list[int]:
    if chunk.start == pool.CHUNK * 2:
        os.kill(os.getpid(), signal.SIGKILL)  # as the system's out-of-memory killer does
    return list(chunk)


@pytest.mark.parametrize("limited", [False, True])
def test_a_worker_the_system_kills_stops_the_stage_instead_of_hanging_it(limited: bool) -> None:
    started = time.monotonic()
    with pytest.raises(pool.WorkerLost):
        for _ in pool._run(
            _dies_at_chunk_two, pool.CHUNK * 6, 2, None, min_parallel=1, limited=limited
        ):
            pass
    assert time.monotonic() - started < 30
    said = format_diagnostic(system_error(pool.WorkerLost(0, "x")), "zh-CN", Path("/x"))
    assert "子进程意外退出" in said and "Traceback" not in said
