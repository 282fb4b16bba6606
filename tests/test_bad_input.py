"""Bad input: encodings (and ``check --fix-encoding``), hostile front matter, huge and binary
files, escaping in every output format, slugs that try to leave the output, and input at a
scale no editor should reach (a 20 MB file, 50,000 units, 10,000 tags, a tree 200 deep)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.base.config import BuildOptions
from generator.base.errors import Diagnostic
from generator.build import BuildReport, analyse, build
from generator.cli.console import format_diagnostic
from generator.cli.main import main
from generator.content import fields as schema
from generator.content import paths
from generator.output import theme
from tests.conftest import UNITS_YAML, SiteBuilder, profile, write_site

REPORT = "---\ntitle: 经验交流\nunit: branch\ndate: 2025-03-01\n---\n正文\n"
PLEDGE = "---\nbranch: branch\nyear: 2025\nitems:\n  - text: 建成示范岗\n    status: done\n---\n"


def shown(report: BuildReport, root: Path = Path("/nonexistent")) -> str:
    return "\n".join(format_diagnostic(d, "zh-CN", root) for d in report.diagnostics)


def only(report: BuildReport, code: str) -> tuple[str, int, str, str]:
    found = [d for d in report.diagnostics if d.code == code]
    assert len(found) == 1, [(d.code, d.path, d.line) for d in report.diagnostics]
    d = found[0]
    return d.path, d.line, d.field, d.severity.value


# ---------------------------------------------------------------------------------------------
# encodings and check --fix-encoding


def gbk_site(tmp_path: Path) -> tuple[Path, bytes, bytes]:
    source = write_site(tmp_path / "src", {})
    text = profile(body="第一段。\r\n第二段，来自记事本。")
    original = text.encode("gb18030")
    (source / "profiles/2025").mkdir(parents=True)
    (source / "profiles/2025/wang.md").write_bytes(original)
    units = UNITS_YAML.encode("gbk")
    (source / "units.yaml").write_bytes(units)
    return source, original, units


def test_gbk_files_name_the_encoding_and_the_fix(tmp_path: Path) -> None:
    source, _original, _units = gbk_site(tmp_path)
    report = build(BuildOptions(source=source, output=tmp_path / "out"))
    assert not report.ok
    found = {(d.code, d.path) for d in report.diagnostics}
    assert ("encoding-gbk", "profiles/2025/wang.md") in found
    assert ("encoding-gbk", "units.yaml") in found
    text = shown(report)
    # the line of the first character that is not UTF-8: the name
    assert "profiles/2025/wang.md:2: 错误: 文件不是 UTF-8 编码，看起来是 GB18030/GBK 编码。" in text
    assert "showcase check --fix-encoding" in text
    # the offending line is quoted as the editor wrote it, decoded, not as mojibake
    quoted = shown(report, source)
    assert "       2 | name: 王进喜" in quoted and "\ufffd" not in quoted


def test_fix_encoding_converts_keeps_a_backup_and_the_build_ignores_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, original, units = gbk_site(tmp_path)
    assert main(["check", "--fix-encoding", str(source)]) == 0
    out = capsys.readouterr().out
    assert (
        "已把 profiles/2025/wang.md 从 GB18030/GBK 编码转换为 UTF-8，"
        "原文件备份为 profiles/2025/wang.md.gbk.bak" in out
    )
    assert "已把 units.yaml 从 GB18030/GBK 编码转换为 UTF-8" in out
    # the backup holds the original bytes; the file is the same text in UTF-8, line ends kept
    assert (source / "profiles/2025/wang.md.gbk.bak").read_bytes() == original
    assert (source / "units.yaml.gbk.bak").read_bytes() == units
    converted = (source / "profiles/2025/wang.md").read_bytes()
    assert converted == original.decode("gb18030").encode("utf-8")
    assert b"\r\n" in converted
    assert (source / "units.yaml").read_text(encoding="utf-8") == UNITS_YAML
    # the build reads the converted files and neither reads nor publishes the backups
    out_dir = tmp_path / "out"
    report = build(BuildOptions(source=source, output=out_dir))
    assert report.ok, report.diagnostics
    assert (out_dir / "profiles/2025/wang-jin-xi/index.html").is_file()
    assert not list(out_dir.rglob("*.bak"))
    # a second run has nothing to convert and leaves the backups alone
    assert main(["check", "--fix-encoding", str(source)]) == 0
    assert "没有需要转换编码的文件。" in capsys.readouterr().out
    backups = sorted(p.name for p in source.rglob("*.bak"))
    assert backups == ["units.yaml.gbk.bak", "wang.md.gbk.bak"]


def test_fix_encoding_never_overwrites_a_backup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, original, _units = gbk_site(tmp_path)
    (source / "profiles/2025/wang.md.gbk.bak").write_bytes(b"an older backup")
    assert main(["check", "--fix-encoding", "--format", "json", str(source)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {
        "file": "profiles/2025/wang.md",
        "backup": "profiles/2025/wang.md.gbk.2.bak",
        "encoding": "GB18030/GBK",
    } in data["converted"]
    assert (source / "profiles/2025/wang.md.gbk.bak").read_bytes() == b"an older backup"
    assert (source / "profiles/2025/wang.md.gbk.2.bak").read_bytes() == original


def test_utf16_is_named_and_fixed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_site(tmp_path / "src", {})
    (source / "reports").mkdir()
    (source / "reports/r.md").write_bytes(REPORT.encode("utf-16"))
    report = build(BuildOptions(source=source, output=tmp_path / "out"))
    assert only(report, "encoding-utf16") == ("reports/r.md", 0, "", "error")
    assert "reports/r.md: 错误: 文件是 UTF-16 编码（记事本里叫“Unicode”），不是 UTF-8。" in shown(
        report
    )
    assert main(["check", "--fix-encoding", str(source)]) == 0
    assert "原文件备份为 reports/r.md.utf16.bak" in capsys.readouterr().out
    assert (source / "reports/r.md").read_text(encoding="utf-8") == REPORT
    assert build(BuildOptions(source=source, output=tmp_path / "out")).ok


def test_editor_backups_are_ignored(make_site: SiteBuilder) -> None:
    report, out = make_site(
        {
            "profiles/2025/a.md": profile(),
            "profiles/2025/a.md~": "not even front matter",
            "profiles/2025/b.md.bak": "nor this",
            "static/old.css.bak": "x",
        }
    )
    assert report.ok and not report.diagnostics, report.diagnostics
    assert not [p for p in out.rglob("*") if p.name.endswith(("~", ".bak"))]


# ---------------------------------------------------------------------------------------------
# front matter: every case a clear error or warning with file and line, never a traceback

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)

CASES: list[tuple[str, str, str, tuple[str, int, str, str], str]] = [
    # (case, file, text, (code, line, field, severity), words in the message)
    (
        "only front matter (profile)",
        "profiles/2025/a.md",
        profile(body="").rstrip("\n"),
        ("empty-body", 6, "", "warning"),
        "只有信息块，没有正文。",
    ),
    (
        "only front matter (report)",
        "reports/r.md",
        REPORT.replace("正文\n", "\n\n"),
        ("empty-body", 5, "", "warning"),
        "只有信息块，没有正文。",
    ),
    (
        "front matter is a list",
        "profiles/2025/a.md",
        "---\n- name: 王进喜\n---\n正文\n",
        ("front-matter-not-mapping", 2, "", "error"),
        "信息块应是“字段: 值”的形式",
    ),
    (
        "a list where text is expected",
        "profiles/2025/a.md",
        profile(name="[王进喜, 王铁人]"),
        ("expected-text", 2, "name", "error"),
        "应为一段文字，实际是“['王进喜', '王铁人']”",
    ),
    (
        "a mapping where a date is expected",
        "reports/r.md",
        REPORT.replace("2025-03-01", "{year: 2025}"),
        ("expected-date", 4, "date", "error"),
        "应为日期（年-月-日）",
    ),
    (
        "year far in the future",
        "profiles/2025/a.md",
        profile(year=99999999999999999999),
        ("year-out-of-range", 4, "year", "error"),
        "年份 99999999999999999999 不在合理范围（1949–2100）内",
    ),
    (
        "negative year",
        "profiles/2025/a.md",
        profile(year=-2025),
        ("year-out-of-range", 4, "year", "error"),
        "年份 -2025 不在合理范围",
    ),
    (
        "year written as a float",
        "profiles/2025/a.md",
        profile(year="1.0e+400"),  # type: ignore[arg-type]
        ("expected-int", 4, "year", "error"),
        "应为整数，实际是“1.0e+400”",
    ),
    (
        "impossible date",
        "reports/r.md",
        REPORT.replace("2025-03-01", "2025-02-30"),
        ("impossible-date", 4, "date", "error"),
        "日期“2025-02-30”不存在",
    ),
    (
        "date in year 0",
        "reports/r.md",
        REPORT.replace("2025-03-01", "0000-01-01"),
        ("impossible-date", 4, "date", "error"),
        "日期“0000-01-01”不存在",
    ),
    (
        "duplicate key",
        "profiles/2025/a.md",
        profile(extra="year: 2024\n"),
        ("duplicate-key", 6, "year", "error"),
        "“year”写了两次",
    ),
    (
        "yaml syntax",
        "profiles/2025/a.md",
        profile(extra='position: "采油工\n'),
        ("yaml-unclosed-quote", 6, "", "error"),
        '这一行的引号 " 没有配对',
    ),
    (
        "tab indentation",
        "profiles/2025/a.md",
        profile(extra="tags:\n\t- 安全\n"),
        ("yaml-tab", 7, "", "error"),
        "这一行用 Tab 键缩进了",
    ),
    (
        "nesting too deep",
        "profiles/2025/a.md",
        profile(extra="tags: " + "[" * 30 + "]" * 30 + "\n"),
        ("yaml-too-deep", 6, "", "error"),
        "信息块的嵌套层次太深（超过20层）",
    ),
    (
        "nesting deeper than the YAML parser can go",
        "profiles/2025/a.md",
        profile(extra="tags: " + "[" * 100_000 + "]" * 100_000 + "\n"),
        ("yaml-too-deep", 6, "", "error"),
        "嵌套层次太深",
    ),
    (
        "alias bomb",
        "profiles/2025/a.md",
        "---\n" + BOMB + "name: *i\nunit: branch\nyear: 2025\nhonors: [劳动模范]\n---\n正文\n",
        ("yaml-alias", 3, "", "error"),
        "不支持 YAML 的引用写法",
    ),
    (
        "alias bomb in an unknown field",
        "profiles/2025/a.md",
        profile(extra="x:\n  " + BOMB.replace("\n", "\n  ").rstrip() + "\n"),
        ("yaml-alias", 8, "", "error"),
        "不支持 YAML 的引用写法",
    ),
    (
        "python object tag",
        "profiles/2025/a.md",
        profile(extra="position: !!python/object/apply:os.system [echo pwned]\n"),
        ("yaml-syntax", 6, "", "error"),
        "格式有误，信息块读不出来",
    ),
    (
        "no front matter",
        "profiles/2025/a.md",
        "王进喜同志的事迹\n",
        ("no-front-matter", 1, "", "error"),
        "缺少以 --- 包围的信息块",
    ),
    (
        "empty file",
        "pages/about.md",
        "\n\n",
        ("empty-file", 1, "", "error"),
        "文件是空的",
    ),
]


@pytest.mark.parametrize(
    ("case", "path", "text", "expected", "words"), CASES, ids=[c[0] for c in CASES]
)
def test_front_matter_case(
    make_site: SiteBuilder,
    case: str,
    path: str,
    text: str,
    expected: tuple[str, int, str, str],
    words: str,
) -> None:
    report, _out = make_site({path: text})
    code, line, field, severity = expected
    assert only(report, code) == (path, line, field, severity), case
    rendered = shown(report)
    kind = "错误" if severity == "error" else "警告"
    assert f"{path}:{line}: {kind}: " in rendered
    assert words in rendered
    assert "修改方法：" in rendered
    assert report.ok == (severity == "warning")


def test_a_pledge_needs_no_body(make_site: SiteBuilder) -> None:
    report, out = make_site({"pledges/2025/p.md": PLEDGE})
    assert report.ok and not report.diagnostics, report.diagnostics
    assert (out / "pledges/2025/branch/index.html").is_file()


def test_a_binary_file_renamed_to_md(
    make_site: SiteBuilder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "src/profiles/2025"
    folder.mkdir(parents=True)
    (folder / "photo.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    report, _out = make_site({})
    assert only(report, "binary-file") == ("profiles/2025/photo.md", 0, "", "error")
    monkeypatch.chdir(tmp_path)  # paths are shown relative to where the editor stands
    text = shown(report, tmp_path / "src")
    assert text.startswith(
        "src/profiles/2025/photo.md: 错误: 这不是文本文件（里面有图片、Word 文档等二进制内容），"
    )
    assert "\x00" not in text  # the binary line is not printed
    assert "恢复原来的扩展名" in text


def test_a_20_mb_markdown_file_fails_cleanly(make_site: SiteBuilder, tmp_path: Path) -> None:
    folder = tmp_path / "src/reports"
    folder.mkdir(parents=True)
    paragraph = "从 Word 粘贴的很长的材料，" * 100 + "\n\n"
    (folder / "huge.md").write_text(
        REPORT + paragraph * (20 * 1024 * 1024 // len(paragraph.encode())), encoding="utf-8"
    )
    report, out = make_site({"profiles/2025/a.md": profile()})
    assert only(report, "file-too-large") == ("reports/huge.md", 0, "", "error")
    assert "reports/huge.md: 错误: 文件太大（20.0 MB），超过了5 MB 的上限，没有读取。" in shown(
        report
    )
    assert not report.ok and not out.exists()


def test_a_large_but_allowed_markdown_file_builds(make_site: SiteBuilder) -> None:
    paragraph = "这是一段很长的正文，来自 Word 的粘贴。" * 40 + "\n\n"
    body = paragraph * (4 * 1024 * 1024 // len(paragraph.encode()))
    report, out = make_site({"profiles/2025/a.md": profile(body=body)})
    assert report.ok, report.diagnostics
    html = (out / "profiles/2025/wang-jin-xi/index.html").read_text(encoding="utf-8")
    assert html.count("来自 Word 的粘贴") >= body.count("来自 Word 的粘贴")


# ---------------------------------------------------------------------------------------------
# escaping: Jinja autoescape in HTML and XML alike

HOSTILE = '<script>alert("x")</script>'


def test_autoescape_is_on_for_every_template() -> None:
    dirs = theme.locate(Path("site_content"), "default")
    assert dirs is not None
    env = theme.environment(dirs, "zh-CN")
    assert env.autoescape is True  # a bool, not a choice by file extension: .xml included


def test_hostile_titles_are_escaped_in_pages_feed_and_sitemap(make_site: SiteBuilder) -> None:
    site_yaml = f"title: '{HOSTILE}'\nbase_url: 'https://x.example/\"><script>y</script>'\n"
    report, out = make_site(
        {
            "profiles/2025/a.md": profile(
                name=f"'{HOSTILE}'", extra=f"tags: ['{HOSTILE}']\nposition: '{HOSTILE}'\n"
            ),
            "reports/r.md": REPORT.replace("经验交流", f"'{HOSTILE}'"),
            "pages/about.md": f"---\ntitle: '{HOSTILE}'\n---\n关于\n",
        },
        site_yaml=site_yaml,
    )
    assert report.ok, report.diagnostics
    files = [p for p in out.rglob("*") if p.suffix in (".html", ".xml")]
    assert {"feed.xml", "sitemap.xml", "index.html"} <= {p.name for p in files}
    escaped = 0
    for page in files:
        text = page.read_text(encoding="utf-8")
        assert "<script>alert" not in text, page
        assert "<script>y" not in text, page
        escaped += "&lt;script&gt;alert" in text
    assert escaped > 5
    assert "&lt;script&gt;" in (out / "feed.xml").read_text(encoding="utf-8")
    assert "&lt;script&gt;y" in (out / "sitemap.xml").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# slugs and paths can never leave the output


@pytest.mark.parametrize(
    "path",
    [
        "../x",
        "../../etc/passwd",
        "/etc/passwd",
        "a/../../b",
        "..",
        "a\\b",
        "a\0b",
        "profiles/../../x",
    ],
)
def test_unsafe_paths_are_refused(path: str) -> None:
    assert not paths.is_safe(path)


@pytest.mark.parametrize("path", ["index.html", "profiles/2025/a/index.html", "a/../b", "x..y"])
def test_safe_paths_are_accepted(path: str) -> None:
    assert paths.is_safe(path)


@pytest.mark.parametrize(
    "slug",
    [
        "../x",
        "..",
        "a/b",
        "/abs",
        "a\\b",
        "%2e%2e",
        "A-B",
        "a--b",
        "-a",
        "a-",
        "",
        "a b",
        "wang.jin",
        "王",
    ],
)
def test_explicit_slugs_are_plain_ascii_words(slug: str) -> None:
    problems: list[Diagnostic] = []
    ctx = schema.Context("profiles/a.md", {"slug": 6}, problems)
    assert schema.slug(ctx, "slug", slug) is schema.INVALID or slug == ""
    assert all(p.code in ("bad-slug", "expected-text") for p in problems)


def test_hostile_slugs_tags_and_unit_ids_stay_inside_the_output(make_site: SiteBuilder) -> None:
    report, _out = make_site(
        {
            "profiles/2025/a.md": profile(extra="slug: ../../../tmp/x\n"),
            "pages/p.md": "---\ntitle: 页\nslug: /etc\n---\n正文\n",
        },
        units_yaml=UNITS_YAML + "- id: ../evil\n  name: 坏单位\n",
    )
    bad = sorted((d.path, d.line, d.field) for d in report.diagnostics if d.code == "bad-slug")
    assert bad == [
        ("pages/p.md", 3, "slug"),
        ("profiles/2025/a.md", 6, "slug"),
        ("units.yaml", 16, "5.id"),
    ]
    assert not report.ok
    # tags and titles are turned into slugs, never used as paths
    report, out = make_site(
        {
            "profiles/2025/a.md": profile(
                extra="tags: ['../../..', '/etc/passwd', '..\\\\x', '.']\n"
            ),
            "pages/p.md": "---\ntitle: ../../../x\n---\n正文\n",
        }
    )
    assert report.ok, report.diagnostics
    root = out.resolve()
    assert all(p.resolve().is_relative_to(root) for p in out.rglob("*"))
    assert not (out.parent / "x").exists() and not (out.parent / "etc").exists()


# ---------------------------------------------------------------------------------------------
# scale: outcomes only (no timings in unit tests)


def deep_units(depth: int) -> str:
    return "- id: u0\n  name: 第0级\n" + "".join(
        f"- id: u{i}\n  name: 第{i}级\n  parent: u{i - 1}\n" for i in range(1, depth)
    )


def many_units(count: int) -> str:
    plants = "".join(f"- id: p{i}\n  name: 厂{i}\n  parent: g\n" for i in range(50))
    branches = "".join(f"- id: b{i}\n  name: 支部{i}\n  parent: p{i % 50}\n" for i in range(count))
    return "- id: g\n  name: 集团\n" + plants + branches


def test_a_unit_tree_200_levels_deep_builds(make_site: SiteBuilder) -> None:
    report, out = make_site(
        {"profiles/2025/a.md": profile(unit="u199")}, units_yaml=deep_units(200)
    )
    assert report.ok, report.diagnostics
    # the profile is rolled up to every one of its 199 ancestors
    for level in (0, 100, 199):
        html = (out / f"units/u{level}/index.html").read_text(encoding="utf-8")
        assert "王进喜" in html


def test_a_cycle_at_the_end_of_a_deep_tree_is_found(make_site: SiteBuilder) -> None:
    units = deep_units(200).replace(
        "- id: u0\n  name: 第0级\n", "- id: u0\n  name: 第0级\n  parent: u199\n"
    )
    report, _out = make_site({}, units_yaml=units)
    cycles = [d for d in report.diagnostics if d.code == "unit-cycle"]
    assert len(cycles) == 200
    assert cycles[0].param_dict()["chain"].startswith("u0 → u199 → u198")


def test_fifty_thousand_units_are_modelled(tmp_path: Path) -> None:
    # the stages up to the URL plan (loading, validation, the tree, the plan); rendering 50,000
    # unit pages is left to the benchmarks. A thousand branches name an unknown parent.
    units = many_units(50_000).replace("parent: p1\n", "parent: nowhere\n")
    source = write_site(
        tmp_path / "src", {"profiles/2025/a.md": profile(unit="b49999")}, units_yaml=units
    )
    analysis = analyse(source)
    unknown = [d for d in analysis.diagnostics if d.code == "unknown-parent"]
    assert len(unknown) == len(analysis.diagnostics) == 1000
    assert unknown[0].line == 3 * 50 + 2 + 3 * 1 + 3  # the parent line of b1
    site = analysis.site
    assert len(site.units) == 50_051
    assert site.unit_by_id["b49999"].ancestors == ("g", "p49")
    assert site.unit_by_id["b1"].ancestors == ()  # shown as a root until its parent is fixed
    assert [i.key for i in site.by_unit["g"]] == ["profiles/2025/a.md"]
    assert len(set(analysis.plan.items.values())) == 1


def test_ten_thousand_tags_build(make_site: SiteBuilder) -> None:
    # half of them read the same in pinyin (标签 and 标签 with punctuation), and a thousand have
    # no letters at all: every one gets its own page
    tags = [f"标签{i}" for i in range(5000)] + [f"标签{i}！" for i in range(4000)]
    tags += ["！" * (i + 1) for i in range(1000)]
    files = {
        f"profiles/2025/p{n}.md": profile(
            name=f"王{n}", extra=f"tags: [{', '.join(repr(t) for t in tags[n::10])}]\n"
        )
        for n in range(10)
    }
    report, out = make_site(files)
    assert report.ok, report.diagnostics
    pages = list((out / "tags").glob("*/index.html"))
    assert len(pages) == 10_000
    assert (out / "tags/tag/index.html").is_file() and (out / "tags/tag-1000/index.html").is_file()
