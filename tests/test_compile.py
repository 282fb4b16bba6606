"""`showcase compile YEAR`: the yearly compilation as print-ready HTML and as a PDF (WeasyPrint),
read back with pypdf: sections, table of contents, names in the site's order."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import pypdf
import pytest

from generator.cli import main as cli
from generator.cli.compile import compile_year
from tests.conftest import SITE_YAML, profile, write_site


def tiny_png() -> bytes:
    """A 2x2 red PNG, written by hand so the test needs no image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xc0\x10\x10" * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# pinyin: 艾青 (ai) < 王进喜 (wang) < 张三 (zhang); strokes: 王 4 < 艾 5 < 张 7
FILES = {
    "profiles/2025/wang.md": profile("王进喜", "branch", 2025, "[劳动模范]", "photo: wang.png\n"),
    "profiles/2025/ai.md": profile("艾青", "branch", 2025, "[技术标兵]", body="艾青的先进事迹。"),
    "profiles/2025/zhang.md": profile("张三", "branch", 2025, "[劳动模范]"),
    "profiles/2025/ding.md": profile("丁一", "other-branch", 2025, "[先进工作者]"),
    "profiles/2024/li.md": profile("李四", "branch", 2024),
}


def make_source(tmp_path: Path, name_order: str) -> Path:
    source = write_site(
        tmp_path / "src", FILES, site_yaml=SITE_YAML + f"name_order: {name_order}\n"
    )
    (source / "profiles/2025/wang.png").write_bytes(tiny_png())
    return source


def test_html_has_cover_contents_and_one_section_per_story(tmp_path: Path) -> None:
    source = make_source(tmp_path, "pinyin")
    result = compile_year(source, 2025)
    assert result.ok, result.diagnostics
    assert [(s.unit, [p.name for p in s.profiles]) for s in result.sections] == [
        ("第一采油厂", ["艾青", "王进喜", "张三"]),
        ("炼化公司", ["丁一"]),
    ]
    html = result.html
    assert html.count('<article class="story"') == 4
    assert html.count('<section class="unit"') == 2
    assert "2025年度先进事迹汇编" in html and "目录" in html
    assert "李四" not in html  # another year
    assert 'src="data:image/png;base64,' in html  # the photo travels inside the file
    assert "艾青的先进事迹。" in html


def test_unknown_year_is_an_error_for_the_editor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = make_source(tmp_path, "pinyin")
    code = cli.main(["compile", "2019", str(source), "--format", "html", "-o", str(tmp_path / "x")])
    assert code == 1
    err = capsys.readouterr().err
    assert "2019年没有先进典型事迹" in err and "2025、2024" in err
    assert not (tmp_path / "x").exists()


def toc_names(pdf: pypdf.PdfReader, names: list[str]) -> list[str]:
    text = pdf.pages[1].extract_text()  # page 1 is the cover, page 2 the contents
    return sorted(names, key=text.index)


@pytest.mark.parametrize(
    ("order", "expected"),
    [("pinyin", ["艾青", "王进喜", "张三"]), ("strokes", ["王进喜", "艾青", "张三"])],
)
def test_pdf_has_sections_page_numbers_and_names_in_order(
    tmp_path: Path, order: str, expected: list[str]
) -> None:
    source = make_source(tmp_path, order)
    target = tmp_path / "book.pdf"
    assert cli.main(["compile", "2025", str(source), "-o", str(target)]) == 0
    assert target.read_bytes().startswith(b"%PDF")
    pdf = pypdf.PdfReader(str(target))
    # outline: one entry per unit, one child per story
    outline = pdf.outline
    units = [o for o in outline if not isinstance(o, list)]
    stories = [s.title for o in outline if isinstance(o, list) for s in o]
    assert [u.title for u in units] == ["第一采油厂", "炼化公司"]
    assert stories == [*expected, "丁一"]
    assert len(pdf.pages) == 2 + 4  # cover, contents, one page per story
    assert toc_names(pdf, [*expected, "丁一"]) == [*expected, "丁一"]
    # the contents give each story's page number, and pages are numbered in the footer
    contents = pdf.pages[1].extract_text()
    assert re.search(r"丁一.*?6\s*$", contents, re.M)
    assert pdf.pages[5].extract_text().strip().endswith("6")
    body = "".join(p.extract_text() for p in pdf.pages[2:])
    assert "艾青的先进事迹。" in body


def test_html_format_writes_a_standalone_file(tmp_path: Path) -> None:
    source = make_source(tmp_path, "pinyin")
    target = tmp_path / "book.html"
    assert cli.main(["compile", "2025", str(source), "--format", "html", "-o", str(target)]) == 0
    html = target.read_text(encoding="utf-8")
    assert "@page" in html and "target-counter" in html
    assert not list(tmp_path.glob(".*.partial"))
