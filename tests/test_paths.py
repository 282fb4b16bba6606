"""The one rule for paths written in content files (content/paths.py): relative to the file,
else to static/; from the source folder when it starts with '/', else static/."""

from __future__ import annotations

import pytest

from generator.content import paths
from generator.output import markup

FILES = {
    "profiles/2025/wang.md",
    "profiles/2025/wang.jpg",
    "profiles/2024/li.md",
    "static/images/site.jpg",
    "static/wang.jpg",
    "static/logo.png",
    "pages/rules.md",
    "reports/2024/case.pdf",
}
HERE = "profiles/2025/wang.md"


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("wang.jpg", "profiles/2025/wang.jpg"),  # beside the file comes before static/
        ("./wang.jpg", "profiles/2025/wang.jpg"),
        ("../2024/li.md", "profiles/2024/li.md"),
        ("../../pages/rules.md", "pages/rules.md"),
        ("images/site.jpg", "static/images/site.jpg"),  # else relative to static/
        ("logo.png", "static/logo.png"),
        ("/pages/rules.md", "pages/rules.md"),  # from the source folder
        ("/static/images/site.jpg", "static/images/site.jpg"),
        ("/logo.png", "static/logo.png"),  # else static/
        ("  wang.jpg ", "profiles/2025/wang.jpg"),  # spaces around it do not count
        ("..\\..\\reports\\2024\\case.pdf", "reports/2024/case.pdf"),  # backslashes are slashes
        ("images//site.jpg", "static/images/site.jpg"),
    ],
)
def test_a_path_names_the_file_the_rule_finds(ref: str, expected: str) -> None:
    assert paths.resolve(ref, HERE, FILES) == expected


@pytest.mark.parametrize(
    "ref",
    ["", "   ", "missing.jpg", "images", "../../../static/logo.png", "/../../static/logo.png", "."],
)
def test_a_path_that_names_no_file_resolves_to_none(ref: str) -> None:
    assert paths.resolve(ref, HERE, FILES) is None


def test_paths_that_leave_the_source_folder_are_never_tried() -> None:
    assert paths.candidates("../../../etc/passwd", HERE) == []
    assert paths.candidates("../../x.jpg", HERE) == ["x.jpg"]  # static/../../x.jpg leaves
    assert paths.candidates("/../../x", HERE) == []
    # static/.. is the source folder: still inside
    assert paths.candidates("../site.yaml", HERE) == ["profiles/site.yaml", "site.yaml"]


def test_candidates_are_tried_in_order_without_repeats() -> None:
    assert paths.candidates("a.jpg", "profiles/2025/wang.md") == [
        "profiles/2025/a.jpg",
        "static/a.jpg",
    ]
    assert paths.candidates("/a.jpg", HERE) == ["a.jpg", "static/a.jpg"]
    assert paths.candidates("/static/a.jpg", HERE) == ["static/a.jpg", "static/static/a.jpg"]
    assert paths.candidates("a.jpg", "static/page.md") == ["static/a.jpg"]
    assert paths.candidates("a.jpg", "site.yaml") == ["a.jpg", "static/a.jpg"]


def test_any_container_of_source_paths_will_do() -> None:
    published = {"profiles/2025/wang.md": "profiles/2025/wang-jin-xi/index.html"}
    assert paths.resolve("wang.md", "profiles/2025/li.md", published) == "profiles/2025/wang.md"
    assert paths.resolve("wang.jpg", HERE, frozenset()) is None


def test_markdown_links_follow_the_same_rule() -> None:
    targets = {
        "profiles/2025/wang.md": "profiles/2025/wang-jin-xi/index.html",
        "static/images/site.jpg": "images/site.jpg",
        "pages/rules.md": "rules/index.html",
    }
    body = "[章程](/pages/rules.md#2) ![现场](/images/site.jpg) ![现场](images/site.jpg) [缺](x.md)"
    html = markup.Converter(targets, 120).convert(body, HERE, targets[HERE]).html
    assert 'href="../../../rules/index.html#2"' in html
    assert html.count('src="../../../images/site.jpg"') == 2
    assert 'href="x.md"' in html
