"""Properties of the whole output: relative links only, nothing external, deterministic bytes,
atomic replacement, and the site's theme overrides."""

from __future__ import annotations

import hashlib
import posixpath
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jinja2
import pytest

from generator import build as build_mod
from generator.base.config import BuildOptions
from generator.base.errors import Diagnostic
from generator.build import build
from generator.cli import console as reporting
from generator.output import templatefaults
from tests.conftest import EXAMPLE, ROOT, SITE_YAML, SiteBuilder, profile, write_site


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("href", "src", "action", "poster", "data"):
                self.refs.append((tag, name, value))
            if name == "srcset":
                self.refs.extend((tag, name, v.split()[0]) for v in value.split(",") if v.strip())
            if name == "id":
                self.ids.add(value)


def crawl(root: Path) -> tuple[list[str], list[str]]:
    """Links that do not resolve to a file inside ``root``, and requests that leave it."""
    broken: list[str] = []
    external: list[str] = []
    for page in sorted(root.rglob("*.html")):
        parser = Links()
        parser.feed(page.read_text(encoding="utf-8"))
        rel_page = page.relative_to(root).as_posix()
        for tag, attr, ref in parser.refs:
            parts = urlsplit(ref)
            if parts.scheme or ref.startswith("//"):
                if tag != "a" or parts.scheme not in ("http", "https", "mailto"):
                    external.append(f"{rel_page}: {tag} {attr}={ref}")
                continue
            if ref.startswith("/"):
                external.append(f"{rel_page}: {ref}")
                continue
            if not parts.path:
                continue
            target = posixpath.normpath(
                posixpath.join(posixpath.dirname(rel_page), unquote(parts.path))
            )
            if target.startswith("..") or not (root / target).is_file():
                broken.append(f"{rel_page}: {ref}")
    return broken, external


def test_crawl_finds_no_broken_link_and_no_external_request(example_build: Path) -> None:
    assert len(sorted(example_build.rglob("*.html"))) > 50
    # only a visitor's own click may leave the site; nothing loads from outside, and no link
    # is absolute (it would break under a sub-path and from file://)
    broken, external = crawl(example_build)
    assert not broken, broken[:20]
    assert not external, external[:20]
    css = (example_build / "assets/css/site.css").read_text(encoding="utf-8")
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", css)
    assert "@import" not in css or "http" not in css


def test_every_page_links_with_index_html_so_file_urls_work(example_build: Path) -> None:
    for page in example_build.rglob("*.html"):
        parser = Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for tag, _attr, ref in parser.refs:
            if tag == "a" and not urlsplit(ref).scheme and not ref.startswith("#"):
                assert not urlsplit(ref).path.endswith("/"), f"{page}: {ref}"


def digest_tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    source = tmp_path / "site_content"
    shutil.copytree(EXAMPLE, source)
    first, second = tmp_path / "one", tmp_path / "two"
    assert build(BuildOptions(source=source, output=first)).ok
    # a different file order on disk and a later time must not change a byte
    (source / "profiles" / "2025" / "zz-touch.txt").write_text("x", encoding="utf-8")
    (source / "profiles" / "2025" / "zz-touch.txt").unlink()
    assert build(BuildOptions(source=source, output=second)).ok
    assert digest_tree(first) == digest_tree(second)


def test_failed_build_keeps_the_last_good_output(make_site: SiteBuilder, tmp_path: Path) -> None:
    report, out = make_site({"profiles/2025/a.md": profile()})
    assert report.ok
    before = digest_tree(out)
    report, out = make_site({"profiles/2025/a.md": profile(unit="nowhere")})
    assert not report.ok
    assert digest_tree(out) == before
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(".out.")]
    assert leftovers == []


def test_rebuild_removes_pages_of_deleted_content(make_site: SiteBuilder, tmp_path: Path) -> None:
    report, out = make_site(
        {"profiles/2025/a.md": profile(), "profiles/2025/b.md": profile(name="李华")}
    )
    assert (out / "profiles/2025/li-hua/index.html").is_file()
    (tmp_path / "src/profiles/2025/b.md").unlink()
    report, out = make_site({})
    assert report.ok
    assert not (out / "profiles/2025/li-hua").exists()


def test_refuses_to_replace_a_folder_it_did_not_make(
    tmp_path: Path, make_site: SiteBuilder
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("keep me", encoding="utf-8")
    report, _ = make_site({"profiles/2025/a.md": profile()})
    assert not report.ok
    assert [d.code for d in report.diagnostics] == ["output-not-ours"]
    assert (out / "precious.txt").read_text(encoding="utf-8") == "keep me"


def test_site_overrides_a_single_template_and_static_file(make_site: SiteBuilder) -> None:
    report, out = make_site(
        {
            "profiles/2025/a.md": profile(),
            "theme/templates/profile.html": (
                '{% extends "base.html" %}{% block main %}<p class="custom">定制：{{ item.name }}'
                "</p>{% endblock %}"
            ),
            "theme/static/css/extra.css": "body { color: black; }\n",
            "theme/i18n/zh-CN.yaml": '"Model workers": "劳模风采"\n',
        }
    )
    assert report.ok, report.diagnostics
    html = (out / "profiles/2025/wang-jin-xi/index.html").read_text(encoding="utf-8")
    assert '<p class="custom">定制：王进喜</p>' in html
    assert "劳模风采" in html  # catalog override reaches the shared base template
    assert (out / "assets/css/extra.css").is_file()
    assert (out / "assets/css/site.css").is_file()  # the rest of the theme is still there
    home = (out / "index.html").read_text(encoding="utf-8")
    assert 'class="custom"' not in home


def test_template_error_names_the_template_line_and_content_file(make_site: SiteBuilder) -> None:
    report, _ = make_site(
        {
            "profiles/2025/a.md": profile(),
            "profiles/2025/b.md": profile(name="李四"),
            "profiles/2025/c.md": profile(name="赵五"),
            "theme/templates/profile.html": '{% extends "base.html" %}\n{% block main %}\n'
            "{{ item.nonexistent }}\n{% endblock %}",
        }
    )
    assert not report.ok
    [d] = [d for d in report.diagnostics if d.is_error]  # one fault, however many pages had it
    assert (d.code, d.path, d.line) == ("template-undefined", "theme/templates/profile.html", 3)
    params = d.param_dict()
    assert params["name"] == "nonexistent"  # the misspelt name, not Python's words
    assert (params["content"], params["others"]) == ("profiles/2025/a.md", "2")
    words = reporting.message(d, "zh-CN")
    assert words.startswith("生成“profiles/2025/a.md”的页面时：") and "另有2个页面" in words, words


@pytest.mark.parametrize(
    ("line", "code", "words"),
    [
        ("{{ (1, 2)(3) }}", "template-not-callable", "不是函数的值后面加了括号"),
        ("{{ 1 + 'a' }}", "template-mixed-types", "不能一起计算或比较"),
        ("{{ 'a' < 1 }}", "template-mixed-types", "不能一起计算或比较"),
        ("{{ 1 // 0 }}", "template-divided-by-zero", "除以了 0"),
        ("{{ site.unit('无此单位') }}", "template-no-key", "“无此单位”不存在"),
        ("{{ {}.pop(5) }}", "template-no-key", "“5”不存在"),
        ("{{ none() }}", "template-not-callable", "不是函数的值后面加了括号"),
        ("{{ [][3] }}", "template-no-index", "列表没有这么长"),
        ("{{ (site.units|list)[100000] }}", "template-no-index", "列表没有这么长"),
    ],
)
def test_common_python_faults_are_told_in_the_editor_s_words(
    make_site: SiteBuilder, line: str, code: str, words: str
) -> None:
    report, _ = make_site({"profiles/2025/a.md": profile(), "theme/templates/404.html": line})
    [d] = [d for d in report.diagnostics if d.is_error]
    assert (d.code, d.path, d.line) == (code, "theme/templates/404.html", 1)
    said = reporting.format_diagnostic(d, "zh-CN", Path("/x"))
    assert words in said and "Error" not in said, said
    assert "Error" in d.param_dict()["problem"]  # Python's words, kept for --verbose


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("{{ {}[item.name] }}", "template-undefined"),
        ("{{ site.unit(item.name) }}", "template-no-key"),
    ],
)
def test_a_fault_whose_words_hold_the_value_met_is_one_fault(
    make_site: SiteBuilder, line: str, code: str
) -> None:
    """The words of a fault may name the value the line met, another on every page: the
    fault is still told once, with the first page's words and how many others had it."""
    report, _ = make_site(
        {
            "profiles/2025/a.md": profile(),
            "profiles/2025/b.md": profile(name="李四"),
            "profiles/2025/c.md": profile(name="赵五"),
            "theme/templates/profile.html": '{% extends "base.html" %}\n{% block main %}\n'
            + line
            + "\n{% endblock %}",
        }
    )
    [d] = [d for d in report.diagnostics if d.is_error]
    assert (d.code, d.path, d.line) == (code, "theme/templates/profile.html", 3)
    params = d.param_dict()
    assert (params["content"], params["others"]) == ("profiles/2025/a.md", "2")
    assert "王进喜" in reporting.message(d, "zh-CN")  # the first page's value


def test_a_fault_of_a_list_page_names_the_page(make_site: SiteBuilder) -> None:
    report, _ = make_site(
        {"profiles/2025/a.md": profile(), "theme/templates/home.html": "{{ no_such_name }}\n"}
    )
    [d] = [d for d in report.diagnostics if d.is_error]
    assert (d.code, d.param_dict()["page"]) == ("template-undefined", "index.html")
    assert "others" not in d.param_dict()
    assert reporting.message(d, "zh-CN").startswith("生成页面 index.html 时：")


@pytest.mark.parametrize("codec", ["gbk", "utf-16"])
def test_a_template_not_saved_as_utf8_is_named_and_mended_by_fix_encoding(
    tmp_path: Path, codec: str
) -> None:
    source = write_site(tmp_path / "src", {"profiles/2025/a.md": profile()})
    template = source / "theme/templates/profile.html"
    template.parent.mkdir(parents=True)
    text = '{% extends "base.html" %}\n{% block main %}\n<h1>姓名：{{ item.name }}</h1>\n'
    text += "{% endblock %}\n"
    template.write_bytes(text.encode(codec))
    report = build(BuildOptions(source=source, output=tmp_path / "out"))
    [d] = report.diagnostics
    code = "encoding-gbk" if codec == "gbk" else "encoding-utf16"
    assert (d.code, d.path) == (code, "theme/templates/profile.html")
    checked = run_check(source)
    assert checked.returncode == 1 and "theme/templates/profile.html" in checked.stdout
    assert "Traceback" not in checked.stdout + checked.stderr
    assert run_check(source, "--fix-encoding").returncode == 0
    assert template.read_text(encoding="utf-8") == text  # its backup is not read as a template
    report = build(BuildOptions(source=source, output=tmp_path / "out"))
    assert report.ok, report.diagnostics
    page = (tmp_path / "out/profiles/2025/wang-jin-xi/index.html").read_text(encoding="utf-8")
    assert "<h1>姓名：王进喜</h1>" in page


def run_check(source: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", "check", str(source), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


# Jinja's syntax faults, each with the catalog code that words it for the editor
SYNTAX_FAULTS = {
    "{% for a in b %}{% endif %}": "template-syntax-misplaced-tag",
    "{% if a %}{% else %}{% else %}{% endif %}": "template-syntax-misplaced-tag",
    "{% foo %}": "template-syntax-unknown-tag",
    "{% if a %}{% iff b %}{% endif %}": "template-syntax-unknown-tag",  # not a misplaced tag
    "{%- %}": "template-syntax-no-tag",
    "{% endif %}": "template-syntax-stray-tag",  # a known tag with nothing open
    "{% endblock %}": "template-syntax-stray-tag",
    "{% else %}": "template-syntax-stray-tag",
    "{% if a %}": "template-syntax-unclosed-block",
    "{{ a": "template-syntax-cut",
    "{% if a %": "template-syntax-cut-tag",
    "{# a": "template-syntax-cut-tag",
    "{% raw %}a": "template-syntax-cut-tag",
    "{{ a b }}": "template-syntax-got",
    "{{ }}": "template-syntax-no-expression",
    "{{ a. }}": "template-syntax-no-expression",
    "{{ (a ] }}": "template-syntax-pair",
    "{{ a }": "template-syntax-unexpected",
    "{{ a（ }}": "template-syntax-unexpected",
    "{{ a | nosuch }}": "template-syntax-no-filter",
    "{{ a is nosuch }}": "template-syntax-no-test",
    "{% block x %}{% endblock %}{% block x %}{% endblock %}": "template-syntax-block-twice",
}


@pytest.mark.parametrize("source", SYNTAX_FAULTS)
def test_jinja_syntax_faults_are_worded_by_the_catalogs(source: str) -> None:
    with pytest.raises(jinja2.TemplateSyntaxError) as caught:
        jinja2.Environment().compile(source)
    code, params = templatefaults.syntax_words(caught.value.message or "")
    assert code == SYNTAX_FAULTS[source], caught.value.message
    d = Diagnostic.error("t.html", 1, code, problem=caught.value.message, **params)
    for language in ("zh-CN", "en"):
        words = reporting.message(d, language) + reporting.hint(d, language)
        assert not re.search(r"\{[a-z]+\}", words), words  # every placeholder filled
        assert (caught.value.message or "") not in words, words  # not Jinja's English
    assert all(v and "'" not in v for v in params.values()), params


def test_a_stray_end_tag_is_not_called_unknown_nor_suggested_as_itself() -> None:
    with pytest.raises(jinja2.TemplateSyntaxError) as caught:
        jinja2.Environment().compile("<p>x</p>\n{% endblock %}")
    code, params = templatefaults.syntax_words(caught.value.message or "")
    assert (code, params) == ("template-syntax-stray-tag", {"tag": "endblock"})


def test_a_macro_the_imported_template_lacks_is_named_with_its_template(
    make_site: SiteBuilder,
) -> None:
    files = {
        "profiles/2025/a.md": profile(),
        "theme/templates/_cards.html": "{% macro card(x) %}{{ x }}{% endmacro %}\n",
        "theme/templates/404.html": '{% from "_cards.html" import crad %}\n{{ crad(1) }}\n',
    }
    report, _ = make_site(files)
    [d] = [d for d in report.diagnostics if d.is_error]
    assert (d.code, d.path, d.line) == ("template-no-macro", "theme/templates/404.html", 2)
    said = reporting.message(d, "zh-CN")
    assert "模板“_cards.html”中没有名为“crad”的宏" in said, said


def test_a_misspelt_tag_filter_or_test_gets_a_suggestion() -> None:
    for source, suggestion in (
        ("{% if a %}{% iff b %}{% endif %}", "if"),
        ("{{ a | lenght }}", "length"),
        ("{{ a is strng }}", "string"),
    ):
        with pytest.raises(jinja2.TemplateSyntaxError) as caught:
            jinja2.Environment().compile(source)
        _code, params = templatefaults.syntax_words(caught.value.message or "")
        assert params.get("suggestion") == suggestion, (source, params)


def test_faults_met_as_a_page_renders_are_worded_with_a_suggestion(
    make_site: SiteBuilder,
) -> None:
    """A filter or test inside {% if %} is looked up only when its line runs, and a field
    only when it is read: worded as the compiler's faults are, with the closest name."""
    body = (
        '{% extends "base.html" %}\n{% block main %}\n{% if item.name | lenght > 0 %}'
        "{{ item.postion }}{% endif %}\n{% endblock %}\n"
    )
    report, _ = make_site({"profiles/2025/a.md": profile(), "theme/templates/profile.html": body})
    [d] = report.diagnostics
    assert (d.code, d.line, d.param_dict()["suggestion"]) == (
        "template-syntax-no-filter",
        3,
        "length",
    )
    fixed = body.replace("lenght", "length")
    report, _ = make_site({"profiles/2025/a.md": profile(), "theme/templates/profile.html": fixed})
    [d] = report.diagnostics
    assert (d.code, d.param_dict()["suggestion"]) == ("template-undefined", "position")
    assert "您是不是想写“position”" in reporting.hint(d, "zh-CN")


def test_a_template_named_but_missing_is_told_where_it_is_named(
    make_site: SiteBuilder, tmp_path: Path
) -> None:
    body = (
        '{% extends "base.html" %}\n{% block main %}\n{% include "relatd.html" %}\n{% endblock %}\n'
    )
    files = {"profiles/2025/a.md": profile(), "theme/templates/profile.html": body}
    files["theme/templates/related.html"] = "<p>related</p>\n"
    report, _ = make_site(files)
    [d] = [d for d in report.diagnostics if d.is_error]
    [unused] = [d for d in report.diagnostics if not d.is_error]  # named by no template
    assert (unused.code, unused.path) == ("template-unused", "theme/templates/related.html")
    assert (d.code, d.path, d.line) == ("template-missing", "theme/templates/profile.html", 3)
    assert d.param_dict()["suggestion"] == "related.html"
    checked = run_check(tmp_path / "src")
    assert checked.returncode == 1 and "theme/templates/profile.html:3" in checked.stdout


def test_a_build_names_every_broken_template_at_once(make_site: SiteBuilder) -> None:
    report, _ = make_site(
        {
            "profiles/2025/a.md": profile(),
            "theme/templates/profile.html": "{{ item.name }\n",
            "theme/templates/home.html": "\n{% if x %}\n",
        }
    )
    found = sorted((d.path, d.line, d.code) for d in report.diagnostics)
    assert found == [
        ("theme/templates/home.html", 2, "template-syntax-unclosed-block"),
        ("theme/templates/profile.html", 1, "template-syntax-unexpected"),
    ]


def test_a_template_that_does_not_parse_leaves_what_it_names_not_called_unused(
    make_site: SiteBuilder,
) -> None:
    """What a broken template names cannot be known: no template of the site is called
    unused then (the error says what to mend)."""
    body = '{% extends "base.html" %}\n{% block main %}{% include "card.html" %}\n{% if %}\n'
    files = {"profiles/2025/a.md": profile(), "theme/templates/profile.html": body}
    files["theme/templates/card.html"] = "<p>named by profile.html</p>\n"
    report, _ = make_site(files)
    codes = [d.code for d in report.diagnostics]
    assert codes and all(code.startswith("template-syntax") for code in codes), codes


def test_a_block_its_parent_lacks_and_a_template_no_build_reads_are_warned(
    make_site: SiteBuilder, tmp_path: Path
) -> None:
    child = '{% extends "base.html" %}\n{% block title %}X{% endblock %}\n{% block mian %}'
    child += '{% include "card.html" %}{% endblock %}\n'
    files = {"profiles/2025/a.md": profile(), "theme/templates/profile.html": child}
    files["theme/templates/card.html"] = "<p>named by profile.html: used</p>\n"
    files["theme/templates/Report.html"] = "<p>no build reads it</p>\n"
    report, _ = make_site(files)
    assert report.ok
    found = sorted(
        (d.path, d.line, d.code, d.param_dict().get("suggestion")) for d in report.diagnostics
    )
    assert found == [
        ("theme/templates/Report.html", 0, "template-unused", "report.html"),
        ("theme/templates/profile.html", 3, "template-unknown-block", "main"),
    ]
    checked = run_check(tmp_path / "src")
    assert "theme/templates/profile.html:3" in checked.stdout and "Report.html" in checked.stdout


def test_check_renders_sample_pages_of_the_sites_own_templates(tmp_path: Path) -> None:
    """A fault that shows only as a page renders (a misspelt field, read only when the
    profile has a position) is found by check, which renders pages of each of the site's
    templates in memory, spread over them, and writes nothing."""
    files = {f"profiles/2025/p{n}.md": profile(name=f"员工{n}") for n in range(12)}
    files["profiles/2025/p9.md"] = profile(name="员工九", extra="position: 采油工\n")
    body = '{% extends "base.html" %}\n{% block main %}\n'
    body += "{% if item.position %}{{ item.postion }}{% endif %}\n{% endblock %}\n"
    files["theme/templates/profile.html"] = body
    source = write_site(tmp_path / "src", files)
    before = sorted(p.relative_to(source) for p in source.rglob("*"))
    checked = run_check(source)
    assert checked.returncode == 1, checked.stdout
    assert "theme/templates/profile.html:3" in checked.stdout and "“postion”" in checked.stdout
    assert "profiles/2025/p9.md" in checked.stdout and "另有" not in checked.stdout
    assert sorted(p.relative_to(source) for p in source.rglob("*")) == before
    # the shipped theme alone is not rendered by check
    (source / "theme/templates/profile.html").unlink()
    assert build_mod.sampled_pages(build_mod.analyse(source)) == []


@pytest.mark.parametrize(
    "nested",
    ["{% for a in b %}" * 25 + "{% endfor %}" * 25, "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}"],
    ids=["blocks", "brackets"],
)
def test_a_template_nested_too_deep_is_named(
    make_site: SiteBuilder, tmp_path: Path, nested: str
) -> None:
    body = '{% extends "base.html" %}\n{% block main %}' + nested + "{% endblock %}\n"
    report, _ = make_site({"profiles/2025/a.md": profile(), "theme/templates/profile.html": body})
    assert [(d.code, d.path) for d in report.diagnostics] == [
        ("template-too-nested", "theme/templates/profile.html")
    ]
    checked = run_check(tmp_path / "src")
    assert checked.returncode == 1 and "Traceback" not in checked.stderr
    assert "theme/templates/profile.html: 错误: 模板嵌套得太深" in checked.stdout


def test_templates_named_as_they_render_or_optional_are_neither_unused_nor_missing(
    make_site: SiteBuilder,
) -> None:
    """A template named by a value made as it renders may read any file: none is called
    unused. An include that may be missing (``ignore missing``, a list) is no fault. A
    missing one is told at the line that names it, not at a comment naming it before."""
    child = '{% extends "base.html" %}\n{% block main %}\n'
    child += '{% include "cards/" ~ item.kind ~ ".html" %}\n'
    child += '{% include "gone.html" ignore missing %}'
    child += '{% include ["nope.html", "cards/profile.html"] %}\n'
    child += "{% endblock %}\n"
    files = {"profiles/2025/a.md": profile(), "theme/templates/profile.html": child}
    files["theme/templates/cards/profile.html"] = "<p>card</p>\n"
    files["theme/templates/Thumbs.db"] = "\0\0binary"  # no template: not read
    report, out = make_site(files)
    assert report.ok and report.diagnostics == (), report.diagnostics
    page = (out / "profiles/2025/wang-jin-xi/index.html").read_text(encoding="utf-8")
    assert page.count("<p>card</p>") == 2
    child = '{% extends "base.html" %}\n{% block main %}{# {% include "nav.html" %} #}\n'
    child += '{% include "nav.html" %}{% endblock %}\n'
    report, _ = make_site({"profiles/2025/a.md": profile(), "theme/templates/profile.html": child})
    [d] = [d for d in report.diagnostics if d.is_error]  # (the card is no longer included)
    assert (d.code, d.line) == ("template-missing", 3)
    assert "suggestion" not in d.param_dict()  # names.html is no spelling of nav.html


def test_template_warnings_stop_a_strict_build(make_site: SiteBuilder, tmp_path: Path) -> None:
    files = {"profiles/2025/a.md": profile(), "theme/templates/Report.html": "<p>x</p>\n"}
    report, _ = make_site(files)
    assert report.ok and [d.code for d in report.diagnostics] == ["template-unused"]
    strict = build(BuildOptions(source=tmp_path / "src", output=tmp_path / "strict", strict=True))
    assert not strict.ok and not (tmp_path / "strict").exists()


def test_a_binary_file_named_as_a_template_is_told_as_a_template(tmp_path: Path) -> None:
    source = write_site(tmp_path / "src", {"profiles/2025/a.md": profile()})
    (source / "theme/templates").mkdir(parents=True)
    (source / "theme/templates/profile.html").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\xff")
    report = build(BuildOptions(source=source, output=tmp_path / "out"))
    assert [(d.code, d.path) for d in report.diagnostics] == [
        ("template-binary", "theme/templates/profile.html")
    ]


def test_fix_encoding_converts_the_templates_of_a_theme_in_the_site_not_its_static_files(
    tmp_path: Path,
) -> None:
    source = write_site(
        tmp_path / "src",
        {"profiles/2025/a.md": profile()},
        site_yaml=SITE_YAML + "theme: mine\n",
    )
    shutil.copytree(ROOT / "themes/default", source / "themes/mine")
    template = source / "themes/mine/templates/profile.html"
    text = template.read_text(encoding="utf-8").replace("<h1>", "<h1>姓名：", 1)
    template.write_bytes(text.encode("gbk"))
    table = source / "themes/mine/static/名单.csv"
    table.write_bytes("姓名,单位\n".encode("gbk"))  # published as it is: Excel reads GBK
    assert run_check(source).returncode == 1
    assert run_check(source, "--fix-encoding").returncode == 0
    assert template.read_text(encoding="utf-8") == text
    assert table.read_bytes() == "姓名,单位\n".encode("gbk")
    assert build(BuildOptions(source=source, output=tmp_path / "out")).ok


def test_an_unknown_jinja_message_keeps_its_words() -> None:
    assert templatefaults.syntax_words("something new") == ("template-syntax", {})


@pytest.mark.parametrize(
    "broken",
    ["{{ item.name }\n", "{% if item %}\n", "{{ item.name | nosuchfilter }}\n"],
    ids=["brace", "endif", "filter"],
)
def test_a_template_syntax_error_names_its_file_in_build_and_check(
    make_site: SiteBuilder, broken: str, tmp_path: Path
) -> None:
    body = '{% extends "base.html" %}\n{% block main %}\n' + broken + "{% endblock %}\n"
    report, _ = make_site({"profiles/2025/a.md": profile(), "theme/templates/profile.html": body})
    assert not report.ok
    [d] = report.diagnostics
    assert d.code.startswith("template-syntax-") and d.path == "theme/templates/profile.html"
    checked = subprocess.run(
        [sys.executable, "-m", "generator", "check", str(tmp_path / "src")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert checked.returncode == 1, checked.stdout
    assert "theme/templates/profile.html" in checked.stdout
    assert reporting.message(d, "zh-CN") in checked.stdout and "Traceback" not in checked.stderr
    # named as the file is in the site, so that its line is shown as a content file's is
    line = report.diagnostics[0].line
    assert f"{line:>4} | {body.splitlines()[line - 1]}" in checked.stdout


def test_unknown_theme_is_reported(make_site: SiteBuilder) -> None:
    report, _ = make_site({}, site_yaml="title: 测\ntheme: fancy\n")
    assert [d.code for d in report.diagnostics] == ["unknown-theme"]
    assert report.diagnostics[0].line == 2


def test_site_selects_another_theme(make_site: SiteBuilder, tmp_path: Path) -> None:
    source = tmp_path / "src"
    theme = source / "themes" / "plain"
    shutil.copytree(ROOT / "themes" / "default", theme)
    (theme / "templates" / "home.html").write_text(
        '{% extends "base.html" %}{% block main %}<p id="plain">素雅主题</p>{% endblock %}',
        encoding="utf-8",
    )
    report, out = make_site(
        {"profiles/2025/a.md": profile()}, site_yaml="title: 测试\ntheme: plain\n"
    )
    assert report.ok, report.diagnostics
    assert '<p id="plain">素雅主题</p>' in (out / "index.html").read_text(encoding="utf-8")


def test_english_site_uses_the_english_catalog(make_site: SiteBuilder) -> None:
    report, out = make_site(
        {"profiles/2025/a.md": profile()}, site_yaml="title: Showcase\nlanguage: en\n"
    )
    assert report.ok
    html = (out / "index.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html and "Model workers" in html and "先进典型" not in html
    _zh_report, zh_out = make_site({"profiles/2025/a.md": profile()})
    assert "先进典型" in (zh_out / "index.html").read_text(encoding="utf-8")


def test_markdown_links_to_source_files_become_page_links(make_site: SiteBuilder) -> None:
    body = (
        "见[李华的事迹](../2024/li.md)和![合影](team.jpg)，"
        "以及[章程](/pages/rules.md)与[外部](https://example.org/)。"
    )
    report, out = make_site(
        {
            "profiles/2025/a.md": profile(body=body),
            "profiles/2025/team.jpg": "not really a jpeg",
            "profiles/2024/li.md": profile(name="李华", year=2024),
            "pages/rules.md": "---\ntitle: 评选办法\nslug: rules\n---\n正文\n",
        }
    )
    assert report.ok, report.diagnostics
    html = (out / "profiles/2025/wang-jin-xi/index.html").read_text(encoding="utf-8")
    assert 'href="../../2024/li-hua/index.html"' in html
    assert 'src="../team.jpg"' in html
    assert 'href="../../../pages/rules/index.html"' in html
    assert 'href="https://example.org/"' in html
    assert (out / "profiles/2025/team.jpg").is_file()


def test_body_headings_never_compete_with_the_page_title(make_site: SiteBuilder) -> None:
    report, out = make_site({"profiles/2025/a.md": profile(body="# 大标题\n\n## 小标题\n\n正文")})
    assert report.ok
    html = (out / "profiles/2025/wang-jin-xi/index.html").read_text(encoding="utf-8")
    assert html.count("<h1") == 1
    assert "<h2>大标题</h2>" in html and "<h3>小标题</h3>" in html


def test_raw_html_in_markdown_is_sanitized(make_site: SiteBuilder) -> None:
    body = (
        '<p onclick="steal()" style="display:none">粘贴的<span class="x">文字</span></p>\n\n'
        "<script>alert(1)</script>\n\n"
        '<a href="javascript:alert(1)">链接</a> <img src="x.png" onerror="alert(1)" alt="图">\n\n'
        '<iframe src="https://example.org/"></iframe>\n\n'
        "<table><tr><td>产量</td></tr></table>\n"
    )
    report, out = make_site({"profiles/2025/a.md": profile(body=body)})
    assert report.ok
    html = (out / "profiles/2025/wang-jin-xi/index.html").read_text(encoding="utf-8")
    prose = html.split('<div class="prose">')[1].split("</div>")[0]
    for bad in ("<script", "onclick", "onerror", "javascript:", "<iframe", "display:none"):
        assert bad not in prose
    assert '<span class="x">文字</span>' in prose and "<td>产量</td>" in prose
    assert '<img src="x.png" alt="图">' in prose
