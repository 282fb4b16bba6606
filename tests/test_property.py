"""Property-based tests (hypothesis): random and hostile front matter and Markdown never crash
the build, every failure is a content error naming a file, and no output page can run script.

Three layers keep thousands of examples fast: front matter through the stages up to the URL
plan (``analyse``), bodies through the Markdown converter, and whole sites built in-process.
"""

from __future__ import annotations

import html
import html.parser
import re
import string
import tempfile
from pathlib import Path
from typing import Any

import markdown
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.base import hanzi
from generator.base.config import BuildOptions
from generator.base.errors import Diagnostic
from generator.build import analyse, build
from generator.content import paths
from generator.output import markup
from tests.conftest import write_site

FIELDS = [
    "name",
    "unit",
    "year",
    "honors",
    "position",
    "photo",
    "party_member",
    "summary",
    "tags",
    "slug",
    "date",
    "draft",
    "title",
    "event",
    "speakers",
    "attachments",
    "branch",
    "items",
    "secretary",
    "review",
    "order",
    "text",
    "status",
    "note",
    "unti",
]
KINDS = {
    "profiles": "profiles/2025/",
    "reports": "reports/",
    "pledges": "pledges/2025/",
    "pages": "pages/",
}
UNITS = ["group", "plant", "branch", "other", "other-branch"]

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//x.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<img src=x OnError=alert(1)>",
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    '<a href="javascript:alert(1)">点我</a>',
    '<a href="JaVaScRiPt:alert(1)">点我</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    "[点我](javascript:alert(1))",
    '[点我](JAVASCRIPT:alert(1) "t")',
    "![图](javascript:alert(1))",
    "[x]: javascript:alert(1)\n\n[x]",
    "<javascript:alert(1)>",
    '<iframe src="https://x.example"></iframe>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<div style="display:none">隐藏</div>',
    '<p style="position:absolute;left:-9999px">藏</p>',
    '<form action="javascript:alert(1)"><button formaction="javascript:1">提交</button></form>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "<!-- <script>alert(1)</script> -->",
    "<![CDATA[<script>alert(1)</script>]]>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<link rel="stylesheet" href="javascript:alert(1)">',
    "<style>body{display:none}</style>",
    '<table><tr><td onclick="alert(1)">表格</td></tr></table>',
    '<span class="x" data-x="1" onmouseover=alert(1)>文字</span>',
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "    <script>alert(1)</script>",
    "<details open ontoggle=alert(1)>",
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
    "<",
    "&lt;script&gt;",
    "***",
    "> 引用\n> > 嵌套",
    "- 列表\n  - 子项\n    - 孙项",
    "| 表 | 格 |\n|---|---|\n| a | b |",
    "[链接](../../../etc/passwd)",
    "[链接](/etc/passwd)",
    "![](../../../../secret.jpg)",
    "# 标题\n\n## 二级",
    "\x00\x01\x02\x0b\x0c",
    "\u202e\u200b\ufeff",
    "---",
    "...",
]

text_piece = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=30),
    st.text(alphabet="<>&\"'=:/[]()!#*_`-\\ \n\tjavascriptonerloadalert", max_size=40),
)
markdown_body = st.lists(text_piece, max_size=8).map("\n\n".join)

scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([*UNITS, "2025", "2025-02-30", "2024-01-01", "done", "planned", "是"]),
    st.sampled_from(HOSTILE),
    st.text(max_size=20),
)
value = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4),
    ),
    max_leaves=12,
)
meta = st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), value, max_size=8)


def dumped(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, default_flow_style=None, sort_keys=False)


raw_yaml = st.text(
    alphabet=string.ascii_letters + string.digits + ":-[]{}'\"#&*!|>%@`,?  \n\t王进喜",
    max_size=80,
)
front_matter = st.one_of(meta.map(dumped), raw_yaml)


@st.composite
def document(draw: st.DrawFn) -> str:
    head = draw(front_matter)
    body = draw(markdown_body)
    shape = draw(
        st.sampled_from(
            ["normal", "normal", "normal", "unclosed", "none", "crlf", "bom", "only-front"]
        )
    )
    if shape == "unclosed":
        return f"---\n{head}\n{body}"
    if shape == "none":
        return body
    if shape == "only-front":
        return f"---\n{head}---\n"
    text = f"---\n{head}---\n{body}\n"
    if shape == "crlf":
        return text.replace("\n", "\r\n")
    if shape == "bom":
        return "\ufeff" + text
    return text


names = st.text(
    alphabet=string.ascii_lowercase + string.digits + "-_.~ 王", min_size=1, max_size=10
)
site_files = st.dictionaries(
    st.tuples(st.sampled_from(list(KINDS)), names).map(lambda p: KINDS[p[0]] + p[1] + ".md"),
    document(),
    min_size=1,
    max_size=4,
)


# ---------------------------------------------------------------------------------------------
# what must hold


ALLOWED_SCRIPT = re.compile(
    r'<script src="(?:\.\./)*(?:index-\d{4}\.js|assets/js/[a-z-]+\.js)"></script>'
)
URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "data",
    "poster",
    "background",
    "srcset",
    "content",
}


class _Audit(html.parser.HTMLParser):
    """Every tag and attribute of a page, as a browser would read them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("iframe", "object", "embed", "base", "style"):
            self.problems.append(f"<{tag}>")
        for name, raw in attrs:
            if name.startswith("on"):
                self.problems.append(f"handler {name}= on <{tag}>")
            squeezed = re.sub(r"[\x00-\x20]", "", raw or "").lower()
            if name in URL_ATTRIBUTES and ("javascript:" in squeezed or "vbscript:" in squeezed):
                self.problems.append(f"{name}={raw!r} on <{tag}>")
            if name == "style" and "display:none" in squeezed:
                self.problems.append(f"hidden style on <{tag}>")


def assert_no_script(text: str, where: str) -> None:
    rest = ALLOWED_SCRIPT.sub("", text)
    assert "<script" not in rest.lower(), (where, rest[rest.lower().index("<script") - 80 :][:200])
    audit = _Audit()
    audit.feed(text)
    audit.close()
    assert not audit.problems, (where, audit.problems)


def assert_reported_with_a_file(diagnostics: tuple[Diagnostic, ...], files: set[str]) -> None:
    for d in diagnostics:
        assert d.path, d
        if d.is_error:
            assert d.path in files or d.path in ("site.yaml", "units.yaml"), d


# ---------------------------------------------------------------------------------------------
# the properties


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=site_files)
def test_random_front_matter_is_reported_never_raised(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = write_site(Path(tmp) / "src", {})
        for rel, text in files.items():
            path = source / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
        analysis = analyse(source)
    assert_reported_with_a_file(analysis.diagnostics, set(files))
    for page in analysis.plan.items.values():
        assert paths.is_safe(page) and page.endswith("/index.html"), page
    for tag_page in analysis.plan.tags.values():
        assert paths.is_safe(tag_page), tag_page


@settings(max_examples=2000, deadline=None)
@given(body=markdown_body)
def test_hostile_markdown_is_sanitized(body: str) -> None:
    converter = markup.Converter({}, 120)
    rendered = converter.convert(body, "profiles/2025/a.md", "profiles/2025/a/index.html")
    assert_no_script(rendered.html, body)


_PLAIN_MARKDOWN = markdown.Markdown(extensions=list(markup.EXTENSIONS), output_format="html")
_SKIPPING_MARKDOWN = markdown.Markdown(extensions=list(markup.EXTENSIONS), output_format="html")
markup._skip_plain_text(_SKIPPING_MARKDOWN)
prose = st.text(alphabet="劳动模范的事迹 \n\t　，。*_`[]!<>&\\:~#-|>0a", max_size=60)


@settings(max_examples=1500, deadline=None)
@given(body=st.lists(st.one_of(text_piece, prose), max_size=8).map("\n".join))
def test_skipping_plain_text_gives_what_python_markdown_gives(body: str) -> None:
    assert isinstance(_SKIPPING_MARKDOWN.treeprocessors["inline"], markup._PlainTextSkipper)
    _PLAIN_MARKDOWN.reset()
    _SKIPPING_MARKDOWN.reset()
    assert _SKIPPING_MARKDOWN.convert(body) == _PLAIN_MARKDOWN.convert(body)


def _whole_summary(body_html: str, length: int) -> str:
    """The summary made from every paragraph of the body, then cut."""
    paragraphs = (markup.plain_text(p) for p in re.findall(r"<p>(.*?)</p>", body_html, re.S))
    return hanzi.truncate(" ".join(p for p in paragraphs if p), length)


@settings(max_examples=1500, deadline=None)
@given(
    paragraphs=st.lists(st.one_of(text_piece, prose), max_size=12),
    length=st.integers(min_value=0, max_value=80),
)
def test_a_summary_reads_only_the_paragraphs_it_needs_and_is_the_same(
    paragraphs: list[str], length: int
) -> None:
    body_html = "".join(f"<p>{html.escape(p)}</p>\n<h2>x</h2>" for p in paragraphs)
    assert markup.summary_of(body_html, length) == _whole_summary(body_html, length)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=site_files, body=markdown_body, title=text_piece)
def test_whole_sites_never_crash_nor_run_script(
    files: dict[str, str], body: str, title: str
) -> None:
    # one valid document of each kind carries the hostile text into every template
    valid = {
        "profiles/2025/ok.md": dumped(
            {
                "name": title or "王",
                "unit": "branch",
                "year": 2025,
                "honors": [title or "劳模"],
                "tags": [title or "t"],
                "position": title,
            }
        ),
        "reports/ok.md": dumped(
            {
                "title": title or "题",
                "unit": "branch",
                "date": "2025-03-01",
                "speakers": [title or "王"],
                "event": title,
            }
        ),
        "pledges/2025/ok.md": dumped(
            {"branch": "branch", "year": 2025, "items": [{"text": title or "项", "status": "done"}]}
        ),
        "pages/ok.md": dumped({"title": title or "页"}),
    }
    hostile = {rel: f"---\n{head}---\n{body}\n" for rel, head in valid.items()}
    with tempfile.TemporaryDirectory() as tmp:
        # the hostile but valid site builds, and no page of it can run script
        out = Path(tmp) / "out"
        report = build(BuildOptions(source=write_site(Path(tmp) / "a", hostile), output=out))
        assert_reported_with_a_file(report.diagnostics, set(hostile))
        if report.ok:
            pages = [p for p in out.rglob("*") if p.suffix in (".html", ".xml")]
            assert len(pages) > 10
            for page in pages:
                assert_no_script(page.read_text(encoding="utf-8"), str(page.relative_to(out)))
        else:  # only a title of blanks makes it invalid (a required field left empty)
            assert not title.strip() or not out.exists(), report.diagnostics
        # with random documents added it builds or fails with content errors, never raises
        source = write_site(Path(tmp) / "b", hostile)
        for rel, text in files.items():
            path = source / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
        out = Path(tmp) / "out-b"
        report = build(BuildOptions(source=source, output=out))
        assert_reported_with_a_file(report.diagnostics, {*hostile, *files})
        assert out.exists() == report.ok
