"""Every page kind and URL of the example site exists and shows what it should."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jinja2
import pytest
import yaml

from generator.output.theme import file_size
from generator.pages.base import Count, count_by_kind
from tests.conftest import EXAMPLE


def front(path: Path) -> dict[str, object]:
    text = path.read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---\n")[1])


def page(out: Path, rel: str) -> str:
    path = out / rel
    assert path.is_file(), f"missing page {rel}"
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "rel",
    [
        "index.html",
        "profiles/index.html",
        "reports/index.html",
        "pledges/index.html",
        "units/index.html",
        "years/index.html",
        "tags/index.html",
        "feed.xml",
        "sitemap.xml",
        "404.html",
        "pages/about/index.html",
        "pages/rules/index.html",
        "assets/css/site.css",
    ],
)
def test_fixed_pages_exist(example_build: Path, rel: str) -> None:
    assert (example_build / rel).is_file()


def roll_pages(out: Path, year: int) -> str:
    """Every page of a year's whole honour roll, as one text."""
    roll = out / f"years/{year}/honours"
    pages = [roll / "index.html", *roll.rglob("page/*/index.html")]
    return "".join(p.read_text(encoding="utf-8") for p in pages)


def test_every_profile_has_its_page_on_unit_year_and_the_honour_roll(example_build: Path) -> None:
    home = page(example_build, "index.html")
    current = yaml.safe_load((EXAMPLE / "site.yaml").read_text(encoding="utf-8"))["current_year"]
    assert f'href="years/{current}/honours/index.html"' in home  # the whole roll of the year
    for md in sorted((EXAMPLE / "profiles").rglob("*.md")):
        meta = front(md)
        if meta.get("draft"):
            continue
        name, year, unit = str(meta["name"]), int(meta["year"]), str(meta["unit"])  # type: ignore[call-overload]
        pages = list((example_build / "profiles" / str(year)).glob("*/index.html"))
        assert any(f"<h1>{name}" in p.read_text(encoding="utf-8") for p in pages), name
        assert name in page(example_build, f"units/{unit}/index.html")
        assert name in page(example_build, f"units/{unit}/{year}/index.html")
        assert name in roll_pages(example_build, year)


def test_drafts_are_left_out_of_a_build(example_build: Path) -> None:
    drafts = [front(md) for md in (EXAMPLE / "profiles").rglob("*.md") if front(md).get("draft")]
    assert drafts, "the example site should show a draft"
    everything = "".join(p.read_text(encoding="utf-8") for p in example_build.rglob("*.html"))
    for meta in drafts:
        assert str(meta["name"]) not in everything


def test_report_pages_link_speakers_and_attachments(example_build: Path) -> None:
    md = next(m for m in (EXAMPLE / "reports").rglob("*.md") if front(m).get("attachments"))
    meta = front(md)
    year = str(meta["date"])[:4]
    html = next(
        p.read_text(encoding="utf-8")
        for p in (example_build / "reports" / year).glob("*/index.html")
        if str(meta["title"]) in p.read_text(encoding="utf-8")
    )
    for attachment in meta["attachments"]:  # type: ignore[attr-defined]
        name = Path(attachment).name
        href = re.search(r'href="([^"]*' + re.escape(name) + ')"', html)
        assert href, f"attachment {name} not linked"
        assert re.search(re.escape(name) + r"</a> <small>[\d.]+ (KB|MB)</small>", html)
    facts = html[html.index('<dl class="facts">') : html.index("</dl>")]  # not "more from"
    linked = re.findall(r'<a href="\.\./\.\./\.\./profiles/\d{4}/[^"]+">([^<]+)</a>', facts)
    assert linked, "a speaker with a profile of that year should be linked"
    assert set(linked) <= set(meta["speakers"])  # type: ignore[arg-type]


def test_pledge_page_shows_items_progress_and_review(example_build: Path) -> None:
    md = next(m for m in sorted((EXAMPLE / "pledges").rglob("*.md")) if front(m).get("review"))
    meta = front(md)
    html = page(example_build, f"pledges/{meta['year']}/{meta['branch']}/index.html")
    items = meta["items"]
    assert isinstance(items, list)
    for item in items:
        assert str(item["text"]) in html
    done = sum(1 for i in items if i["status"] == "done")
    assert f"{round(100 * done / len(items))}%" in html
    assert str(meta["review"]["comment"]) in html  # type: ignore[index]


def test_lists_are_paginated(example_build: Path) -> None:
    profiles = [m for m in (EXAMPLE / "profiles").rglob("*.md") if not front(m).get("draft")]
    size = yaml.safe_load((EXAMPLE / "site.yaml").read_text(encoding="utf-8"))["page_size"]
    pages = -(-len(profiles) // size)
    assert pages >= 2, "the example should have more than one page of profiles"
    assert (example_build / f"profiles/page/{pages}/index.html").is_file()
    assert not (example_build / f"profiles/page/{pages + 1}").exists()
    first = page(example_build, "profiles/index.html")
    assert 'href="page/2/index.html"' in first
    last = page(example_build, f"profiles/page/{pages}/index.html")
    assert 'rel="prev"' in last and 'rel="next"' not in last


def test_units_index_shows_the_tree_with_counts(example_build: Path) -> None:
    units = yaml.safe_load((EXAMPLE / "units.yaml").read_text(encoding="utf-8"))
    html = page(example_build, "units/index.html")
    for unit in units:
        assert f"units/{unit['id']}/index.html" not in html or unit["name"] in html
        assert f'href="{unit["id"]}/index.html">{unit["name"]}</a>' in html


def test_tag_pages(example_build: Path) -> None:
    html = page(example_build, "tags/index.html")
    tags = re.findall(r'<a href="([a-z0-9-]+/index.html)">', html)
    assert tags
    for rel in tags:
        assert (example_build / "tags" / rel).is_file()


def test_feed_is_valid_atom_with_relative_links(example_build: Path) -> None:
    root = ET.fromstring((example_build / "feed.xml").read_bytes())
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", ns)
    assert entries
    for entry in entries:
        href = entry.find("a:link", ns).get("href")  # type: ignore[union-attr]
        assert href and not href.startswith(("http:", "https:", "/"))
        assert (example_build / href).is_file()


def test_sitemap_lists_pages(example_build: Path) -> None:
    root = ET.fromstring((example_build / "sitemap.xml").read_bytes())
    locs = [e.text for e in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert "index.html" in locs
    assert all(loc and (example_build / loc).is_file() for loc in locs)


def test_sizes_are_written_in_kb_and_mb() -> None:
    assert [file_size(n) for n in (0, 991, 10_957, 1024 * 1024 - 1, 5 * 1024 * 1024)] == [
        "0.0 KB",
        "1.0 KB",
        "10.7 KB",
        "1.0 MB",
        "5.0 MB",
    ]


def test_a_count_answers_length_as_the_list_it_replaces_did() -> None:
    """Pages that only count hold numbers; a site template written when they held lists of
    items (``counts.profile|length``) gives the same text."""
    counts = count_by_kind([])
    template = jinja2.Environment().from_string(
        "{{ counts.profile|length }} {{ '%d'|format(counts.report) }} {{ counts.pledge }}"
    )
    assert template.render(counts=counts) == "0 0 0"
    assert len(Count(3)) == 3 and Count(3) + 1 == 4 and repr(Count(3)) == "3"
