"""An honour roster (表彰名单) as rows of people: an Excel workbook (.xlsx, read with
openpyxl) or a CSV file (UTF-8 or GBK).

The header is the first row among the first ``HEADER_ROWS`` that names a person column and
at least one other known column, in Chinese or English; the title rows above it (often one
merged cell) are skipped, and a cell merged over several rows of the table (a unit written
once for its people) counts for each of them.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl

from generator.importing.docxfile import OLE_MAGIC
from generator.importing.problems import Refused

HEADER_ROWS = 10
# the columns a roster may have: the field -> the header texts it is known by (compared
# without spaces, brackets or case)
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "人员姓名", "name", "fullname"),
    "unit": (
        "单位",
        "所在单位",
        "工作单位",
        "单位名称",
        "所在支部",
        "单位及职务",
        "工作单位及职务",
        "单位职务",
        "unit",
        "organization",
        "organisation",
        "department",
    ),
    "honor": (
        "荣誉",
        "荣誉称号",
        "称号",
        "奖项",
        "表彰类别",
        "honor",
        "honour",
        "honors",
        "honours",
        "award",
    ),
    "position": ("职务", "岗位", "职务岗位", "职务/岗位", "职称", "position", "job", "post"),
    "year": ("年度", "年份", "表彰年度", "year"),
    "gender": ("性别", "gender", "sex"),
    "ethnicity": ("民族", "ethnicity", "nationality"),
    "party": ("党员", "是否党员", "政治面貌", "partymember", "party"),
}
_IGNORED = re.compile(r"[\s()（）/_\-·:：]+")
ENCODINGS = ("utf-8-sig", "gb18030")


def _key(text: str) -> str:
    return _IGNORED.sub("", text).lower()


_HEADER_OF = {_key(word): column for column, words in COLUMNS.items() for word in words}


@dataclass(frozen=True, slots=True)
class Row:
    """One person's row: its number as the spreadsheet shows it, and the known columns."""

    number: int
    values: dict[str, str]


@dataclass(frozen=True, slots=True)
class Table:
    """The rows under the header, the text of the title rows above it, and the header's row
    number and unknown columns."""

    file: str
    title: str
    header_row: int
    rows: tuple[Row, ...]
    unknown: tuple[str, ...]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _header(cells: Sequence[str]) -> dict[int, str]:
    """The known columns of a row (position -> field), first of each field."""
    found: dict[int, str] = {}
    for position, cell in enumerate(cells):
        column = _HEADER_OF.get(_key(cell))
        if column and column not in found.values():
            found[position] = column
    return found


def _note_row(values: dict[str, str]) -> bool:
    """A remark under the table ("注：排名不分先后"), one cell merged across the columns."""
    filled = [value for value in values.values() if value]
    return len(filled) > 1 and len(set(filled)) == 1


def table(grid: Sequence[Sequence[str]], name: str) -> Table:
    """The roster in ``grid`` (rows of cell texts, row 1 first); ``Refused`` without a
    header."""
    found = [
        (index, columns)
        for index, columns in enumerate(_header(cells) for cells in grid[:HEADER_ROWS])
        if "name" in columns.values() and len(columns) >= 2
    ]
    if not found:
        raise Refused("import-roster-no-header", file=name, rows=HEADER_ROWS)
    index, columns = found[0]
    cells = grid[index]
    # title rows: a cell merged across the columns reads once
    title = " ".join(dict.fromkeys(cell for cells in grid[:index] for cell in cells if cell))
    unknown = tuple(c for p, c in enumerate(cells) if c and p not in columns)
    rows = []
    for number, row in enumerate(grid[index + 1 :], start=index + 2):
        values = {field: row[p] if p < len(row) else "" for p, field in columns.items()}
        if any(values.values()) and not _note_row(values):
            rows.append(Row(number, values))
    return Table(name, title, index + 1, tuple(rows), unknown)


def _sheet_grid(sheet: Any) -> list[list[str]]:
    """The cell texts of a worksheet, a merged cell's value in every cell it covers."""
    grid = [[_text(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]
    for merged in sheet.merged_cells.ranges:
        value = grid[merged.min_row - 1][merged.min_col - 1]
        for row in range(merged.min_row, merged.max_row + 1):
            for col in range(merged.min_col, merged.max_col + 1):
                if row - 1 < len(grid) and col - 1 < len(grid[row - 1]):
                    grid[row - 1][col - 1] = value
    return grid


def read_xlsx(data: bytes, name: str) -> list[list[str]]:
    """The first worksheet of a workbook as rows of texts."""
    if data.startswith(OLE_MAGIC):
        raise Refused("import-roster-old-xls", file=name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns of styles it does not know
            book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise Refused("import-roster-damaged", file=name) from None
    try:
        return _sheet_grid(book.worksheets[0])
    finally:
        book.close()


def read_csv(data: bytes, name: str) -> list[list[str]]:
    """A CSV file saved as UTF-8 (with or without BOM) or GBK, comma or tab separated."""
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise Refused("import-roster-encoding", file=name)
    dialect = "excel-tab" if text.count("\t") > text.count(",") else "excel"
    return [[_text(cell) for cell in row] for row in csv.reader(io.StringIO(text), dialect)]


def read(path: Path) -> Table:
    """The roster of an .xlsx or .csv file; ``Refused`` for anything else."""
    name = path.as_posix()
    try:
        data = path.read_bytes()
    except OSError:
        raise Refused("import-file-unreadable", file=name) from None
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise Refused("import-roster-old-xls", file=name)
    if suffix in (".xlsx", ".xlsm"):
        return table(read_xlsx(data, name), name)
    if suffix in (".csv", ".txt"):
        return table(read_csv(data, name), name)
    raise Refused("import-roster-not-table", file=name)
