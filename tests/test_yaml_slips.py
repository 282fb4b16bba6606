"""YAML slips are named in plain words at the line where they are made, without the
parser's English (kept for --verbose)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.base.errors import Diagnostic
from generator.cli import console
from generator.content import fields
from generator.content.frontmatter import split

HEAD = "---\ntitle: 经验交流\nunit: branch\n"
# (case, lines after HEAD, code, line of the slip in the file, words of the message)
CASES = [
    ("full-width colon", "name：单晓燕\nyear: 2025\n", "yaml-full-width-colon", 4, "中文冒号"),
    (
        "no space after colon",
        "name:单晓燕\nyear: 2025\n",
        "yaml-no-space-after-colon",
        4,
        "冒号后面没有空格",
    ),
    ("tab indentation", "tags:\n\t- 安全\nyear: 2025\n", "yaml-tab", 5, "Tab"),
    ("unclosed quote", 'summary: "扎根一线\nyear: 2025\n', "yaml-unclosed-quote", 4, "没有配对"),
    (
        "full-width quotes",
        "summary: “党建引领: 焕发新活力”\nyear: 2025\n",
        "yaml-full-width-quote",
        4,
        "中文引号",
    ),
    (
        "full-width quotes and #",
        "summary: “党建 #1 工程”\nyear: 2025\n",
        "yaml-full-width-quote",
        4,
        "中文引号",
    ),
    (
        "full-width comma",
        "tags: [党建，创新]\nyear: 2025\n",
        "yaml-full-width-comma",
        4,
        "中文逗号",
    ),
    (
        "list item out of line",
        "tags:\n  - 党建\n - 创新\nyear: 2025\n",
        "yaml-list-indent",
        6,
        "没有和上面的列表项对齐",
    ),
    (
        "list item read as text",
        "tags:\n- 党建\n  - 创新\nyear: 2025\n",
        "yaml-list-indent",
        6,
        "没有和上面的列表项对齐",
    ),
    (
        "field of an item out of line",
        "items:\n  - text: 建成示范岗\n   status: done\n",
        "yaml-item-field-indent",
        6,
        "没有和同一列表项的上一个字段对齐",
    ),
    ("only a full-width colon", "", "yaml-full-width-colon", 2, "中文冒号"),
    ("unclosed bracket", "tags: [党建, 创新\nyear: 2025\n", "yaml-unclosed-bracket", 4, "没有配对"),
    ("unpaired Chinese quote", "name: “邓志远\nyear: 2025\n", "yaml-unpaired-quote", 4, "没有配对"),
    ("unpaired closing quote", "name: 邓志远」\nyear: 2025\n", "yaml-unpaired-quote", 4, "」"),
]


@pytest.fixture
def verbose() -> Iterator[None]:
    console.configure(verbose=True, quiet=False)
    yield
    console.configure(verbose=False, quiet=False)


def document(case: str, lines: str) -> str:
    if case == "only a full-width colon":
        return "---\nname：单晓燕\n---\n正文\n"
    return HEAD + lines + "---\n正文\n"


@pytest.mark.parametrize(
    ("case", "lines", "code", "line", "words"), CASES, ids=[c[0] for c in CASES]
)
def test_each_slip_has_its_own_message_at_its_line(
    case: str, lines: str, code: str, line: int, words: str
) -> None:
    _front, problems = split(document(case, lines), "a.md")
    assert [(d.code, d.line) for d in problems] == [(code, line)], case
    shown = console.format_diagnostic(problems[0], "zh-CN", Path("/nonexistent"))
    assert words in shown and "修改方法：" in shown
    assert not re.search(r"[A-Za-z]{3,} [a-z]{3,} [a-z]{3,}", shown)  # no English sentence


def test_verbose_keeps_the_parser_s_words(verbose: None) -> None:
    _front, problems = split(document("", "name：单晓燕\nyear: 2025\n"), "a.md")
    shown = console.format_diagnostic(problems[0], "zh-CN", Path("/nonexistent"))
    assert "解析器原文：could not find expected ':'" in shown


def test_numbers_and_yes_stay_text_as_written() -> None:
    front, problems = split(HEAD + "position: 0123\nevent: 12:30\nsummary: yes\n---\n", "a.md")
    assert front is not None and not problems
    assert (front.meta["position"], front.meta["event"], front.meta["summary"]) == (
        "0123",
        "12:30",
        "yes",
    )


def test_true_where_text_was_meant() -> None:
    problems: list[Diagnostic] = []
    ctx = fields.Context("a.md", {"summary": 4}, problems)
    assert fields.text(ctx, "summary", True) is fields.INVALID
    assert [(d.code, d.line) for d in problems] == [("text-read-as-yes-no", 4)]


@pytest.mark.parametrize(
    "lines",
    [
        "summary: 学习“铁人精神”和「三老四严」\n",
        "summary: >\n  她常说：“油井就是我的家，\n  守好它是本分。”\n",
        "summary: 她常说：“油井就是我的家，\n  守好它是本分。”\n",
    ],
    ids=["paired", "block of text", "text over two lines"],
)
def test_paired_chinese_quotes_are_no_slip(lines: str) -> None:
    _front, problems = split(HEAD + lines + "year: 2025\n---\n正文\n", "a.md")
    assert problems == []


def test_a_list_in_brackets_over_two_lines_is_no_slip() -> None:
    text = HEAD + "tags: [党建,\n  创新]\nyear: 2025\n---\n正文\n"
    front, problems = split(text, "a.md")
    assert problems == [] and front is not None and front.meta["tags"] == ["党建", "创新"]
