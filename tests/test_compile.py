"""`showcase compile YEAR`: the yearly compilation as print-ready HTML and as a PDF (WeasyPrint),
read back with pypdf: sections, table of contents, names in the site's order."""

from __future__ import annotations

import http.server
import re
import struct
import threading
import zlib
from pathlib import Path
from typing import ClassVar

import pypdf
import pytest

from generator.cli import main as cli
from generator.cli.compile import compile_year, inside
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


def test_the_site_folder_may_follow_the_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As README writes it: the year, the options, then the site's folder; a second
    leftover argument is refused as before."""
    source = make_source(tmp_path, "pinyin")
    target = tmp_path / "book.html"
    assert cli.main(["compile", "2025", "--format", "html", "-o", str(target), str(source)]) == 0
    assert "@page" in target.read_text(encoding="utf-8")
    with pytest.raises(SystemExit) as refused:
        cli.main(["compile", "2025", "--format", "html", str(source), "more"])
    assert refused.value.code == 2 and "more" in capsys.readouterr().err
    # a command that takes the folder as an option alone does not take a leftover for it
    with pytest.raises(SystemExit) as refused:
        cli.main(["import", "word", "a.docx", "--unit", "x", "b.docx"])
    assert refused.value.code == 2 and "b.docx" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# the compilation never reaches the network nor files outside the site


class _Counting(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(tiny_png())

    def log_message(self, format: str, *args: object) -> None:
        del format, args


def test_compile_fetches_nothing_and_links_stories_inside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    secret = tmp_path / "secret.png"
    secret.write_bytes(tiny_png())
    port = server.server_address[1]
    body = (
        f"![远程](http://127.0.0.1:{port}/x.png) ![本机]({secret}) "
        f"![本机2](file://{secret}) 见[艾青](ai.md)，[张三](zhang.md)，[李四](../2024/li.md)。"
    )
    files = {**FILES, "profiles/2025/ding.md": profile("丁一", "other-branch", body=body)}
    source = write_site(tmp_path / "src", files)
    (source / "profiles/2025/wang.png").write_bytes(tiny_png())
    try:
        target = tmp_path / "book.pdf"
        assert cli.main(["compile", "2025", str(source), "-o", str(target)]) == 0
        result = compile_year(source, 2025)
    finally:
        server.shutdown()
        server.server_close()
    assert _Counting.hits == []
    assert "PDF 中没有放入 http://127.0.0.1" in capsys.readouterr().err
    html = result.html
    assert re.search(r'href="#story-\d"[^>]*>艾青', html)
    assert "file:" not in html and str(tmp_path / "src") not in html
    assert "李四" in html and "2024/li" not in html  # another year: plain text
    pdf = target.read_bytes()
    assert b"file:" not in pdf and str(tmp_path).encode() not in pdf


def test_site_fetcher_serves_only_the_site(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    inside_file = tmp_path / "site/a.png"
    inside_file.write_bytes(b"x")
    (tmp_path / "b.png").write_bytes(b"x")
    root = tmp_path / "site"
    assert inside("data:image/png;base64,AAAA", root)
    assert inside(inside_file.as_uri(), root)
    assert not inside((tmp_path / "b.png").as_uri(), root)
    assert not inside(inside_file.as_uri().replace("/site/a", "/site/../b"), root)
    assert not inside("http://127.0.0.1:8799/x.png", root)
    assert not inside("file://otherhost/etc/passwd", root)


def test_links_to_other_pages_use_the_site_address(tmp_path: Path) -> None:
    body = "见[李四](../2024/li.md)。"
    files = {**FILES, "profiles/2025/ding.md": profile("丁一", "other-branch", body=body)}
    site_yaml = SITE_YAML + "base_url: https://cxzy.example.com/s/\n"
    source = write_site(tmp_path / "src", files, site_yaml=site_yaml)
    (source / "profiles/2025/wang.png").write_bytes(tiny_png())
    html = compile_year(source, 2025).html
    assert 'href="https://cxzy.example.com/s/profiles/2024/li-si/index.html"' in html
