"""``showcase import``: Word documents and honour rosters made in the test itself (python-docx,
openpyxl, a GBK CSV), imported into a copy of the example site, then checked and built."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest
import yaml
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.shared import Inches
from PIL import Image

from generator import build
from generator.base import messages
from generator.cli.main import main
from generator.content.frontmatter import split
from generator.importing import infer
from generator.importing.units import Matcher
from generator.importing.word import Converted
from generator.site.model import Unit
from tests.conftest import EXAMPLE, ROOT

W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
V_NS = 'xmlns:v="urn:schemas-microsoft-com:vml"'
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A copy of the example site."""
    return Path(shutil.copytree(EXAMPLE, tmp_path / "site"))


def run(*argv: str | Path) -> int:
    return main([str(a) for a in argv])


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def picture(width: int, height: int, colour: str) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def front(path: Path) -> dict[str, object]:
    """The front matter of a written file, as YAML reads it (it is valid for the site too)."""
    text = path.read_text("utf-8")
    doc, problems = split(text, path.name)
    assert doc is not None and not problems, problems
    data = yaml.safe_load(text.split("\n---\n", 1)[0].removeprefix("---\n"))
    assert isinstance(data, dict)
    return data


def add_footnote(path: Path, paragraph_text: str, note: str) -> None:
    """Give the paragraph holding ``paragraph_text`` a footnote (python-docx makes none): the
    footnotes part, its relationship and content type, and the reference."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    footnotes = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes {W_NS}>'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p>'
        '</w:footnote><w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r>'
        "<w:continuationSeparator/></w:r></w:p></w:footnote>"
        f'<w:footnote w:id="1"><w:p><w:r><w:t>{note}</w:t></w:r></w:p></w:footnote>'
        "</w:footnotes>"
    )
    parts["word/footnotes.xml"] = footnotes.encode("utf-8")
    rels = parts["word/_rels/document.xml.rels"].decode("utf-8")
    rels = rels.replace(
        "</Relationships>",
        '<Relationship Id="rIdFoot" Type="http://schemas'
        '.openxmlformats.org/officeDocument/2006/relationships/footnotes" '
        'Target="footnotes.xml"/></Relationships>',
    )
    parts["word/_rels/document.xml.rels"] = rels.encode("utf-8")
    types = parts["[Content_Types].xml"].decode("utf-8")
    types = types.replace(
        "</Types>",
        '<Override PartName="/word/footnotes.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.wordprocessingml.'
        'footnotes+xml"/></Types>',
    )
    parts["[Content_Types].xml"] = types.encode("utf-8")
    document = parts["word/document.xml"].decode("utf-8")
    reference = '<w:r><w:footnoteReference w:id="1"/></w:r>'
    at = document.index(paragraph_text)
    end = document.index("</w:p>", at)
    parts["word/document.xml"] = (document[:end] + reference + document[end:]).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def profile_docx(path: Path, name: str = "张秀兰") -> Path:
    """A 先进事迹材料 as units send it: title, subtitle, headings, bold and italics, lists, a
    table, a landscape picture then a portrait, a comment, a tracked change, a text box and
    a footnote."""
    d = docx.Document()
    d.add_heading(f"{name}同志2025年度先进事迹材料", 0)
    d.add_paragraph(f"——记第一采油厂采油一队{name}")
    d.add_heading("一、扎根一线二十年", 1)
    p = d.add_paragraph("她是")
    p.add_run("采油能手").bold = True
    p.add_run("，也是")
    p.add_run("技术骨干").italic = True
    p.add_run("。")
    d.add_picture(picture(400, 200, "blue"), width=Inches(3))
    d.add_paragraph("创新“五步法”", style="List Bullet")
    d.add_paragraph("带出十名徒弟", style="List Bullet")
    d.add_paragraph("第一步巡井", style="List Number")
    table = d.add_table(rows=2, cols=2)
    for (row, col), text in {
        (0, 0): "年份",
        (0, 1): "产量",
        (1, 0): "2024",
        (1, 1): "12万吨",
    }.items():
        table.cell(row, col).text = text
    d.add_picture(picture(300, 400, "red"), width=Inches(2))
    d.add_heading("二、攻坚克难", 1)
    commented = d.add_paragraph("她带领班组攻克了结蜡难题。")
    d.add_comment(commented.runs, text="请核实年份", author="审稿人")
    changed = d.add_paragraph("单井日产提高了")
    changed._p.append(
        parse_xml(
            f'<w:ins {nsdecls("w")} w:id="9" w:author="审稿人" w:date="2025-01-01T00:00:00Z">'
            "<w:r><w:t>百分之十二</w:t></w:r></w:ins>"
        )
    )
    changed._p.append(
        parse_xml(
            f'<w:del {nsdecls("w")} w:id="10" w:author="审稿人" w:date="2025-01-01T00:00:00Z">'
            "<w:r><w:delText>百分之八</w:delText></w:r></w:del>"
        )
    )
    embedded = d.add_paragraph("各年产量见下表：")
    embedded._p.append(
        parse_xml(
            f'<w:r {W_NS} {V_NS}><w:object><v:shape style="width:200pt;height:80pt"/></w:object>'
            "</w:r>"
        )
    )
    boxed = d.add_paragraph("见右侧说明")
    boxed._p.append(
        parse_xml(
            f'<w:r {W_NS} {V_NS}><w:pict><v:shape style="width:100pt;height:40pt"><v:textbox>'
            "<w:txbxContent><w:p><w:r><w:t>文本框中的数字</w:t></w:r></w:p></w:txbxContent>"
            "</v:textbox></v:shape></w:pict></w:r>"
        )
    )
    d.add_paragraph("她的经验在全厂推广。")
    d.save(path)
    add_footnote(path, "她的经验在全厂推广。", "2024年厂发文件。")
    return path


def report_docx(path: Path) -> Path:
    """An 经验交流材料 without heading styles: a bold first line, the speakers and the date
    under it, sections numbered 一、 and （一）."""
    d = docx.Document()
    d.add_paragraph().add_run("第一采油厂采油二队党支部：党建引领数字化转型").bold = True
    d.add_paragraph("交流人：王海峰（党支部书记）、李明")
    d.add_paragraph("2025年7月15日")
    d.add_paragraph("一、主要做法")
    d.add_paragraph("（一）建强支部堡垒")
    d.add_paragraph("支部把数字化转型作为“一号工程”。")
    d.add_paragraph("二、取得成效")
    d.add_paragraph("油井时率提高三个百分点。")
    d.save(path)
    return path


def test_word_documents_become_a_profile_and_a_report_that_check_and_build(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    story = profile_docx(tmp_path / "张秀兰事迹.docx")
    talk = report_docx(tmp_path / "交流材料.docx")
    assert run("import", "word", story, talk, "--source", site, "--honor", "全国劳动模范") == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err

    profile = site / "profiles/2025/zhang-xiu-lan.md"
    meta = front(profile)
    assert meta["name"] == "张秀兰"
    assert meta["unit"] == "caiyou-1-zhibu-1"
    assert meta["year"] == 2025
    assert meta["honors"] == ["全国劳动模范"]
    assert meta["photo"] == "zhang-xiu-lan.png"
    assert meta["draft"] is True
    with Image.open(site / "profiles/2025/zhang-xiu-lan.png") as photo:
        assert photo.size == (300, 400)
    with Image.open(site / "profiles/2025/zhang-xiu-lan-img1.png") as other:
        assert other.size == (400, 200)
    text = profile.read_text("utf-8")
    body = text.split("\n---\n", 1)[1]
    assert "张秀兰同志2025年度先进事迹材料" not in body  # the title is the name, not body
    assert "——记" not in body
    for expected in (
        "## 一、扎根一线二十年",
        "**采油能手**",
        "*技术骨干*",
        "- 创新“五步法”",
        "1. 第一步巡井",
        "| 年份 | 产量 |",
        "| 2024 | 12万吨 |",
        "![](zhang-xiu-lan-img1.png)",
        "单井日产提高了百分之十二",
        "[^1]",
    ):
        assert expected in body, expected
    assert "zhang-xiu-lan.png" not in body  # the photo is shown by the template
    assert re.search(r"第 \d+ 段（“她带领班组攻克了结蜡难题。”）有批注", err)
    assert re.search(r"第 \d+ 段（“单井日产提高了百分之十二”）有修订痕迹", err)
    assert re.search(r"第 \d+ 段（“见右侧说明.*”）有文本框", err)
    assert re.search(r"第 \d+ 段（“她的经验在全厂推广。”）有脚注", err)
    assert re.search(r"第 \d+ 段（“各年产量见下表：”）有嵌入的对象", err)
    assert "百分之八" not in body  # deleted by a tracked change

    (report,) = (site / "reports/2025").glob("di-yi-cai-you*.md")
    meta = front(report)
    assert meta["title"] == "第一采油厂采油二队党支部：党建引领数字化转型"
    assert meta["unit"] == "caiyou-1-zhibu-2"
    assert str(meta["date"]) == "2025-07-15"
    assert meta["speakers"] == ["王海峰", "李明"]
    body = report.read_text("utf-8").split("\n---\n", 1)[1]
    assert "## 一、主要做法" in body and "### （一）建强支部堡垒" in body
    assert "交流人" not in body and "2025年7月15日" not in body

    assert run("check", site) == 0
    output = tmp_path / "public"
    assert run("build", site, "-o", output, "--drafts") == 0
    page = (output / "profiles/2025/zhang-xiu-lan/index.html").read_text("utf-8")
    assert "<strong>采油能手</strong>" in page and "<table>" in page
    assert "结蜡难题" in page and "zhang-xiu-lan-img1.png" in page
    assert (output / "profiles/2025/zhang-xiu-lan-img1.png").is_file()
    pages = [p.read_text("utf-8") for p in (output / "reports/2025").rglob("index.html")]
    assert any("油井时率提高三个百分点" in p and "王海峰" in p for p in pages)


def test_an_import_never_overwrites_and_says_so(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    talk = report_docx(tmp_path / "交流材料.docx")
    assert run("import", "word", talk, "--source", site) == 0
    before = files_of(site)
    capsys.readouterr()
    assert run("import", "word", talk, "--source", site) == 1
    err = capsys.readouterr().err
    assert re.search(r"错误: 文件 .*reports/2025/di-yi-cai-you.*\.md 已经存在，没有覆盖它", err)
    assert files_of(site) == before


def bad_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """Files that are no usable Word document, and the words of their message."""
    good = report_docx(folder / "good.docx").read_bytes()
    made = {
        "旧版.doc": (
            OLE + b"\0" * 64 + "WordDocument".encode("utf-16-le") + b"\0" * 512,
            "旧版 Word 格式",
        ),
        "加密.docx": (
            OLE + b"\0" * 64 + "EncryptedPackage".encode("utf-16-le") + b"\0" * 512,
            "密码",
        ),
        "损坏.docx": (good[: len(good) // 2], "损坏"),
        "文字.docx": ("这只是一个改了扩展名的文本文件。".encode(), "不是 Word 文档"),
    }
    book = io.BytesIO()
    openpyxl.Workbook().save(book)
    made["表格.docx"] = (book.getvalue(), "Excel")
    paths = {}
    for name, (data, words) in made.items():
        (folder / name).write_bytes(data)
        paths[name] = (folder / name, words)
    return paths


def test_bad_word_files_get_a_chinese_message_and_nothing_is_written(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = files_of(site)
    good = profile_docx(tmp_path / "事迹.docx")
    for name, (path, words) in bad_files(tmp_path).items():
        assert run("import", "word", good, path, "--source", site) == 1, name
        out, err = capsys.readouterr()
        assert words in err, (name, err)
        assert "修改方法" in err and name in err
        assert "Traceback" not in out + err
        assert "没有写入" in out
        assert files_of(site) == before, name


def test_kind_unit_and_name_not_found_leave_placeholders_for_check(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = docx.Document()
    d.add_paragraph("个人工作总结")
    d.add_paragraph("这一年我认真工作。")
    d.save(tmp_path / "总结.docx")
    assert run("import", "word", tmp_path / "总结.docx", "--source", site) == 1
    assert "--kind profile" in capsys.readouterr().err
    assert (
        run(
            "import",
            "word",
            tmp_path / "总结.docx",
            "--source",
            site,
            "--kind",
            "profile",
            "--year",
            "2024",
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "没有找到 units.yaml 中的单位名称" in err and "姓名" in err
    created = site / "profiles/2024" / "zong-jie.md"
    meta = front(created)
    assert "请填写" in str(meta["name"]) and "请填写" in str(meta["unit"])
    assert run("check", site) == 0  # a draft's errors are warnings while drafts are left out
    listed = capsys.readouterr().out
    assert re.search(r"profiles/2024/zong-jie\.md:\d+: 警告: .*unit", listed), listed
    assert run("check", site, "--drafts") == 1
    listed = capsys.readouterr().out
    assert re.search(r"profiles/2024/zong-jie\.md:\d+: 错误: .*unit", listed), listed


def clean_roster_xlsx(path: Path) -> Path:
    """A roster without problems: a merged title row, then the header and two people."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["2025年度先进个人表彰名单"])
    sheet.merge_cells("A1:C1")
    sheet.append(["姓名", "单位", "荣誉称号"])
    sheet.append(["孙立新", "第二采油厂维修队党支部", "技术标兵"])
    sheet.append(["周文", "炼化公司质量检验中心党支部", "青年岗位能手"])
    book.save(path)
    return path


def roster_xlsx(path: Path) -> Path:
    """A 表彰名单 with a merged title row above the header and a unit merged over two rows."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["华油集团2025年度先进个人表彰名单"])
    sheet.merge_cells("A1:G1")
    sheet.append(["序号", "姓名", "所在单位", "荣誉称号", "职务/岗位", "性别", "政治面貌"])
    rows = [
        (1, "张秀兰", "第一采油厂采油一队党支部", "劳动模范", "采油工", "女", "中共党员"),
        (2, "王海峰", "第一采油厂采油二队", "优秀共产党员", "党支部书记", "男", "中共党员"),
        (3, "刘强", None, "先进工作者", "修井工", "男", "群众"),
        (4, "赵一鸣", "采油一队党支部", "岗位能手", "", "男", ""),
        (5, "钱多多", "第九采油厂", "岗位能手", "", "女", ""),
        (6, "张秀兰", "第一采油厂采油一队党支部", "三八红旗手", "", "女", ""),
        (7, "邓志远", "北区作业区注水队党支部", "优秀党务工作者", "", "男", ""),
    ]
    for row in rows:
        sheet.append(list(row))
    sheet.merge_cells("C4:C5")  # 王海峰 and 刘强 share the unit cell
    book.save(path)
    return path


def test_roster_from_excel_dry_run_then_write_then_check_and_build(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = roster_xlsx(tmp_path / "表彰名单.xlsx")
    before = files_of(site)
    assert run("import", "roster", roster, "--source", site) == 1  # rows with problems
    out, err = capsys.readouterr()
    assert files_of(site) == before  # a dry run writes nothing
    assert "将创建" in out and "--write" in out
    assert re.search(
        r"第 6 行：单位“采油一队党支部”有多个候选：.*caiyou-1-zhibu-1.*"
        r"caiyou-2-zhibu-1",
        err,
    )
    assert re.search(r"第 7 行：单位“第九采油厂”不在 units.yaml 中", err)
    assert re.search(r"第 8 行和第 3 行都是“张秀兰”", err)
    assert re.search(r"第 9 行：“邓志远”的2025年事迹已经在 .*deng-zhiyuan.md", err)

    assert run("import", "roster", roster, "--source", site, "--write") == 1
    out = capsys.readouterr().out
    created = site / "profiles/2025/zhang-xiu-lan.md"
    meta = front(created)
    assert meta["unit"] == "caiyou-1-zhibu-1"
    assert meta["honors"] == ["劳动模范", "三八红旗手"]
    assert meta["position"] == "采油工" and meta["party_member"] is True
    assert "性别 女" in created.read_text("utf-8")
    liu = front(site / "profiles/2025/liu-qiang.md")
    assert liu["unit"] == "caiyou-1-zhibu-2" and liu["party_member"] is False
    assert front(site / "profiles/2025/wang-hai-feng.md")["unit"] == "caiyou-1-zhibu-2"
    assert not list((site / "profiles/2025").glob("zhao-yi-ming*"))
    assert "deng-zhiyuan-2" not in out

    again = files_of(site)
    assert run("import", "roster", roster, "--source", site, "--write") == 1
    assert files_of(site) == again  # a second run finds them all and adds nothing
    assert "已经在" in capsys.readouterr().err

    assert run("check", site) == 0
    output = tmp_path / "public"
    assert run("build", site, "-o", output, "--drafts") == 0
    assert "刘强" in (output / "profiles/2025/liu-qiang/index.html").read_text("utf-8")


def test_roster_from_a_gbk_csv_in_english_headers(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "Name,Unit,Honour,Year\r\n"
        "孙立新,第二采油厂维修队党支部,技术标兵,2024\r\n"
        "周文,炼化公司质量检验中心党支部,青年岗位能手,2024\r\n"
    )
    csv_file = tmp_path / "名单.csv"
    csv_file.write_bytes(text.encode("gbk"))
    assert run("import", "roster", csv_file, "--source", site, "--write") == 0
    assert "Traceback" not in capsys.readouterr().err
    meta = front(site / "profiles/2024/sun-li-xin.md")
    assert meta["unit"] == "caiyou-2-zhibu-3" and meta["year"] == 2024
    assert meta["honors"] == ["技术标兵"]
    assert front(site / "profiles/2024/zhou-wen.md")["unit"] == "lianhua-zhibu-3"
    utf8 = tmp_path / "utf8.csv"
    utf8.write_text("姓名,单位\n吴明,钻井公司固井队党支部\n", encoding="utf-8-sig")
    assert (
        run("import", "roster", utf8, "--source", site, "--year", "2023", "--honor", "先进工作者")
        == 0
    )
    assert "将创建" in capsys.readouterr().out


def test_rosters_that_cannot_be_read_say_why(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = {
        "旧版.xls": (OLE + b"\0" * 100, "旧版 Excel"),
        "坏的.xlsx": (b"PK\x03\x04broken", "损坏"),
        "无表头.csv": ("第一列,第二列\n1,2\n".encode(), "表头"),
        "名单.pdf": (b"%PDF-1.4", "不是表格文件"),
    }
    before = files_of(site)
    for name, (data, words) in cases.items():
        (tmp_path / name).write_bytes(data)
        assert run("import", "roster", tmp_path / name, "--source", site, "--write") == 1
        out, err = capsys.readouterr()
        assert words in err and name in err, (name, err)
        assert "Traceback" not in out + err
    assert files_of(site) == before


def test_every_message_of_the_import_is_in_both_catalogs() -> None:
    codes: set[str] = set()
    sources = [
        *(ROOT / "generator/importing").glob("*.py"),
        *(ROOT / "generator/cli").glob("import*.py"),
    ]
    for path in sources:
        codes.update(
            re.findall(r'"((?:import|cli-import|cli-metavar)-[a-z-]+)"', path.read_text("utf-8"))
        )
    codes.update(f"new-placeholder-{field}" for field in ("name", "unit", "title", "date"))
    codes.update(f"import-roster-column-{column}" for column in ("gender", "ethnicity"))
    assert len(codes) > 40
    for language in ("zh-CN", "en"):
        missing = codes - set(messages.catalog(language))
        assert not missing, (language, sorted(missing))


def units_of(site: Path) -> dict[str, Unit]:
    return dict(build.model_site(site, drafts=True).site.unit_by_id)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("第一采油厂采油一队党支部", ("caiyou-1-zhibu-1",)),
        ("caiyou-2-zhibu-3", ("caiyou-2-zhibu-3",)),
        ("第二采油厂维修队", ("caiyou-2-zhibu-3",)),
        ("维修队党支部", ("caiyou-2-zhibu-3",)),
        ("采油一队", ("caiyou-1-zhibu-1", "caiyou-2-zhibu-1")),
        ("华油集团第一采油厂采油二队", ("caiyou-1-zhibu-2",)),
        ("第九采油厂", ()),
    ],
)
def test_units_are_matched_by_full_or_short_name(text: str, expected: tuple[str, ...]) -> None:
    assert Matcher.of(units_of(EXAMPLE)).match(text) == expected


@pytest.mark.parametrize(
    ("title", "lines", "name"),
    [
        ("张秀兰同志先进事迹材料", (), "张秀兰"),
        ("扎根油田二十年", ("——记第一采油厂采油一队班长欧阳明远",), "欧阳明远"),
        ("先进事迹材料", ("姓名：李婷婷",), "李婷婷"),
        ("先进事迹材料", ("王强，男，汉族，1980年生。",), "王强"),
        ("先进事迹材料", ("他扎根一线二十年。",), ""),
    ],
)
def test_the_name_is_read_from_the_title_or_the_first_lines(
    title: str, lines: tuple[str, ...], name: str
) -> None:
    doc = Converted("x.docx", title, lines, "正文\n", (), ())
    assert infer.person(doc, Matcher.of(units_of(EXAMPLE))) == name


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("第一采油厂张秀兰同志先进事迹", "张秀兰"),
        ("张秀兰先进事迹材料", "张秀兰"),
        ("先进事迹材料", ""),
        ("扎根一线——记第一采油厂采油一队采油工王强同志", "王强"),
    ],
)
def test_the_name_is_read_beside_the_unit_in_the_title(title: str, name: str) -> None:
    doc = Converted("x.docx", title, (), "正文\n", (), ())
    assert infer.person(doc, Matcher.of(units_of(EXAMPLE))) == name


def test_a_title_written_as_the_first_heading_and_sections_one_level_lower(
    site: Path, tmp_path: Path
) -> None:
    d = docx.Document()
    d.add_paragraph("附件2")
    d.add_heading("钻井公司固井队周建华同志先进事迹", 1)
    d.add_heading("一、技术攻关", 2)
    d.add_paragraph("他带队完成了深井固井。")
    d.add_heading("（一）难题", 3)
    d.save(tmp_path / "周建华.docx")
    assert run("import", "word", tmp_path / "周建华.docx", "--source", site, "--year", "2025") == 0
    created = site / "profiles/2025/zhou-jian-hua.md"
    meta = front(created)
    assert meta["name"] == "周建华" and meta["unit"] == "zuanjing-zhibu-2"
    body = created.read_text("utf-8").split("\n---\n", 1)[1]
    assert "## 一、技术攻关" in body and "### （一）难题" in body
    assert "附件" not in body and "周建华同志先进事迹" not in body


BIO = "王小红，女，汉族，1978年3月出生，中共党员，采油工。2025年被评为集团公司劳动模范。"


@pytest.mark.parametrize(
    ("title", "lines", "expected"),
    [
        ("扎根油田二十年", (BIO,), infer.Year(2025, skipped=(1978,))),
        ("张秀兰同志2025年度先进事迹材料", ("她2019年荣获全国劳动模范。",), infer.Year(2025)),
        (
            "先进事迹材料",
            ("出生于1978年，2018年荣获标兵，2023年被评为劳模。",),
            infer.Year(2023, skipped=(1978,)),
        ),
        ("先进事迹材料", ("她荣获了2024年度集团公司劳动模范称号。",), infer.Year(2024)),
        (
            "先进事迹材料",
            ("王强，男，1980年生，1998年7月参加工作，2001年入党。",),
            infer.Year(None, skipped=(1980, 1998, 2001)),
        ),
        (
            "先进事迹材料",
            ("他1990年参加工作，2008年调到采油一队，2015年担任班长。",),
            infer.Year(2015, guessed=True, skipped=(1990,)),
        ),
        ("先进事迹材料", ("2024年生产原油12万吨。",), infer.Year(2024, guessed=True)),
        ("先进事迹材料", ("力争2030年产量翻番。",), infer.Year(None)),
    ],
)
def test_the_year_is_that_of_the_honour_never_of_a_birth_or_of_joining(
    title: str, lines: tuple[str, ...], expected: infer.Year
) -> None:
    doc = Converted("x.docx", title, lines, "正文\n", (), ())
    assert infer.year(doc, None, 2026) == expected


def test_a_birth_year_is_not_the_year_of_the_imported_profile(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = docx.Document()
    d.add_heading("扎根油田二十年——记第一采油厂采油一队王小红", 0)
    d.add_paragraph(BIO)
    d.save(tmp_path / "王小红.docx")
    born = docx.Document()
    born.add_heading("第一采油厂李大山同志先进事迹", 0)
    born.add_paragraph("李大山，男，1975年生，1995年参加工作。")
    born.save(tmp_path / "李大山.docx")
    files = (tmp_path / "王小红.docx", tmp_path / "李大山.docx")
    assert run("import", "word", *files, "--source", site, "--kind", "profile") == 0
    err = capsys.readouterr().err
    meta = front(site / "profiles/2025/wang-xiao-hong.md")
    assert meta["year"] == 2025 and meta["name"] == "王小红"
    assert not list(site.glob("profiles/1978/*"))
    assert "王小红.docx" not in err  # the year is certain: nothing to check
    assert "（1975、1995）是出生、参加工作或入党的年份" in err
    assert front(site / "profiles/2025/li-da-shan.md")["year"] == 2025  # current_year


@pytest.mark.parametrize(
    ("title", "lines", "kind"),
    [
        ("扎根油田二十年——记第一采油厂王小明", (), "profile"),
        ("扎根油田二十年—记第一采油厂采油一队班长王小明同志", (), "profile"),
        ("扎根油田二十年--记第一采油厂王小明", (), "profile"),
        ("扎根油田二十年──记第一采油厂王小明", (), "profile"),
        ("扎根油田二十年", ("—— 记第一采油厂采油一队王小明",), "profile"),
        ("扎根油田二十年", ("--记第一采油厂（女）王小明",), "profile"),
        ("党建引领谱新篇——记第一采油厂采油一队党支部", (), ""),
        ("扎根油田二十年", ("——记者 李明",), ""),
        ("数字化转型——记采油二队经验交流", (), "report"),
    ],
)
def test_a_title_or_subtitle_about_a_person_is_a_profile(
    title: str, lines: tuple[str, ...], kind: str
) -> None:
    doc = Converted("x.docx", title, lines, "正文\n", (), ())
    assert infer.guess_kind(doc) == kind


def test_a_story_titled_about_a_person_imports_as_a_profile_without_kind(
    site: Path, tmp_path: Path
) -> None:
    d = docx.Document()
    d.add_heading("扎根油田二十年", 0)
    d.add_paragraph("--记第一采油厂采油一队王小红")
    d.add_paragraph(BIO)
    d.save(tmp_path / "王小红.docx")
    assert run("import", "word", tmp_path / "王小红.docx", "--source", site) == 0
    created = site / "profiles/2025/wang-xiao-hong.md"
    meta = front(created)
    assert meta["name"] == "王小红" and meta["unit"] == "caiyou-1-zhibu-1"
    assert "记第一采油厂" not in created.read_text("utf-8").split("\n---\n", 1)[1]


def test_bracketed_words_after_a_name_in_a_roster_are_not_the_name(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "单位", "荣誉称号", "性别"])
    sheet.append(["李四（女）", "第二采油厂维修队党支部", "技术标兵", "女"])
    sheet.append(["王五(已退休)", "第二采油厂维修队党支部", "技术标兵", ""])
    sheet.append(["马六（回族）（女）", "炼化公司质量检验中心党支部", "青年岗位能手", ""])
    book.save(tmp_path / "名单.xlsx")
    assert run("import", "roster", tmp_path / "名单.xlsx", "--source", site, "--write") == 0
    err = capsys.readouterr().err
    li = site / "profiles/2025/li-si.md"
    assert front(li)["name"] == "李四" and "性别 女" in li.read_text("utf-8")
    assert front(site / "profiles/2025/wang-wu.md")["name"] == "王五"
    assert front(site / "profiles/2025/ma-liu.md")["name"] == "马六"
    assert not list(site.glob("profiles/2025/li-si-*"))
    assert "第 2 行：姓名“李四（女）”中的“（女）”不是姓名的一部分，按“李四”导入" in err
    assert "第 4 行：姓名“马六（回族）（女）”中的“（回族）（女）”" in err


def test_a_dry_run_tells_each_row_once_and_creates_nothing_it_says_it_created(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """邓志远 has a 2025 profile in another unit (a namesake, whose slug the new file cannot
    have); 邓志原 reads as the same slug (another person)."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "单位", "荣誉称号"])
    sheet.append(["邓志远", "第二采油厂维修队党支部", "技术标兵"])
    sheet.append(["邓志原", "第二采油厂维修队党支部", "技术标兵"])
    book.save(tmp_path / "名单.xlsx")
    before = files_of(site)
    assert run("import", "roster", tmp_path / "名单.xlsx", "--source", site) == 0
    out, err = capsys.readouterr()
    assert files_of(site) == before
    assert "deng-zhi-yuan-2-2.md：邓志原" in out
    told = [line for line in err.splitlines() if line.startswith("警告:")]
    assert len([line for line in told if "第 2 行" in line]) == 1, told
    assert re.search(
        r"第 2 行：.*deng-zhiyuan\.md 中已有2025年另一个单位的“邓志远”，加上 --write", err
    )
    assert re.search(
        r"第 3 行：网址名“deng-zhi-yuan”已被 .*“邓志原”的新文件将改用“deng-zhi-yuan-2-2”", err
    )
    for claim in ("刚创建", "生成了新文件", "删除新", "已经有2025年"):
        assert claim not in err, claim

    assert run("import", "roster", tmp_path / "名单.xlsx", "--source", site, "--write") == 0
    err = capsys.readouterr().err
    assert "仍为本行生成了新文件" in err and "“邓志原”的新文件改用" in err
    assert len([line for line in err.splitlines() if "第 2 行" in line]) == 1
