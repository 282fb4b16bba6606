"""Archived yearly editions: ``showcase edition YEAR`` freezes one year of the example
site into ``site_content/editions/<year>/``; the live build copies it untouched and links it."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.base.config import BuildOptions
from generator.build import analyse, build
from generator.cli import main as cli
from generator.site import search
from tests.conftest import EXAMPLE, ROOT, profile, write_site
from tests.test_output import crawl

YEAR = 2025
EPOCH = "1767139200"  # 2025-12-31T00:00:00Z
BANNER = "2025年度创先争优先进典型展示（归档版）"


def digest_tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the example site with its 2025 edition frozen (SOURCE_DATE_EPOCH set)."""
    source = tmp_path_factory.mktemp("edition") / "site_content"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns(".*"))
    with open(source / "site.yaml", "a", encoding="utf-8") as fh:  # absolute feed links live
        fh.write("\nbase_url: https://intranet.example.com/showcase/\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        assert cli.main(["edition", str(YEAR), str(source)]) == 0
    yield source


@pytest.fixture
def source(frozen: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the frozen site, for tests that change it."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.chdir(tmp_path)
    copy = tmp_path / "site_content"
    shutil.copytree(frozen, copy)
    return copy


def edition_of(source: Path) -> Path:
    return source / "editions" / str(YEAR)


# ---------------------------------------------------------------------------------------------
# contents


def test_edition_holds_that_year_only(frozen: Path) -> None:
    edition = edition_of(frozen)
    site = analyse(frozen).site
    files = set(digest_tree(edition))
    for kind in ("profiles", "reports", "pledges"):
        lists = ("page", "names")  # the pages of its list, the list by surname
        years = {p.name for p in (edition / kind).iterdir() if p.is_dir() and p.name not in lists}
        assert years == {str(YEAR)}, kind
    assert {p.name for p in (edition / "years").iterdir() if p.is_dir()} == {str(YEAR)}
    _, manifest = search.parse_script((edition / search.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["years"] == [YEAR]  # type: ignore[index]
    assert not [f for f in files if re.search(r"(^|/|-)(2023|2024)(/|\.|$)", f)]
    # every item of this year has its page; no other year's worker is named anywhere (unless
    # this year's content names them too)
    plan = analyse(frozen, edition_year=YEAR).plan
    assert len(plan.items) > 10
    assert not [path for path in plan.items.values() if path not in files]
    texts = {
        rel: (edition / rel).read_text(encoding="utf-8")
        for rel in files
        if rel.endswith((".html", ".js", ".xml", ".json", ".csv"))
    }
    year_sources = "".join(i.body + repr(i.lines) + i.title for i in site.of_year(YEAR))
    others = [p for p in site.profiles if p.year != YEAR and p.name not in year_sources]
    assert others
    for other in others:
        found = [rel for rel, text in texts.items() if other.name in text]
        assert not found, (other.name, found[:3])
    # other years' photos are not carried along (kept next to the story or under static/);
    # this year's are
    photos = [p.photo.source for p in site.profiles if p.photo and p.year != YEAR]
    assert any(p.startswith("static/") for p in photos)
    assert not [p for p in photos if p in files]
    assert "profiles/2023/zeng-qinghua.jpg" not in files
    assert "profiles/2025/zha-haisheng.jpg" in files
    # the live site's editions list does not go into an edition
    assert not (edition / "editions").exists()


def test_every_page_of_an_edition_has_the_banner(frozen: Path) -> None:
    pages = sorted(edition_of(frozen).rglob("*.html"))
    assert len(pages) > 20
    missing = [p.name for p in pages if BANNER not in p.read_text(encoding="utf-8")]
    assert missing == []


def test_the_live_site_has_no_banner(frozen: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    assert build(BuildOptions(source=frozen, output=out)).ok
    assert "归档版）" not in (out / "index.html").read_text(encoding="utf-8")
    assert "https://intranet.example.com/showcase/" in (out / "feed.xml").read_text("utf-8")


def test_an_edition_is_self_contained_and_relocatable(frozen: Path, tmp_path: Path) -> None:
    edition = edition_of(frozen)
    assert crawl(edition) == ([], [])
    moved = tmp_path / "a" / "deep" / "share" / "showcase-2025"
    shutil.copytree(edition, moved)
    assert crawl(moved) == ([], [])
    # the live site's feed and sitemap use base_url; an edition's never point at the live site
    for name in ("feed.xml", "sitemap.xml"):
        assert "intranet.example.com" not in (edition / name).read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# manifest and verification


def test_manifest_records_version_date_and_every_file(frozen: Path) -> None:
    edition = edition_of(frozen)
    manifest = json.loads((edition / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["edition"] == YEAR
    assert manifest["generator"].startswith("showcase ")
    assert manifest["built"] == "2025-12-31T00:00:00Z"
    assert manifest["source_commit"] is None  # a copy outside git
    tree = digest_tree(edition)
    del tree["manifest.json"]
    assert manifest["files"] == tree
    assert not (edition / ".showcase-build").exists()


def test_manifest_records_the_source_commit(source: Path) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", str(source)], check=True)
    subprocess.run([*git, "-C", str(source), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(source), "commit", "-qm", "content"], check=True)
    head = subprocess.run(
        ["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert cli.main(["edition", str(YEAR), str(source), "--force"]) == 0
    manifest = json.loads((edition_of(source) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["source_commit"] == head


def test_verify_passes_then_catches_a_tampered_file(
    source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["edition", "--verify", str(YEAR), str(source)]) == 0
    assert "完好" in capsys.readouterr().out
    edition = edition_of(source)
    page = edition / "index.html"
    page.write_text(page.read_text(encoding="utf-8").replace("光荣榜", "光荣帮"), encoding="utf-8")
    (edition / "404.html").unlink()
    (edition / "extra.html").write_text("x", encoding="utf-8")
    assert cli.main(["edition", "--verify", str(YEAR), str(source)]) == 1
    err = capsys.readouterr().err
    assert f"已改动：{edition.as_posix()}/index.html" in err
    assert f"缺失：{edition.as_posix()}/404.html" in err
    assert f"多出：{edition.as_posix()}/extra.html" in err
    assert "1个文件被改动，1个文件缺失，1个文件是多出来的" in err
    assert "git checkout --" in err


def test_verify_of_a_missing_edition_says_how_to_make_it(
    source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["edition", "--verify", "2024", str(source)]) == 1
    err = capsys.readouterr().err
    assert "2024年度归档版不存在" in err and "showcase edition 2024" in err


def test_refuses_to_overwrite_without_force(
    source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edition = edition_of(source)
    before = digest_tree(edition)
    (source / "profiles/2025/deng-zhiyuan.md").write_text(
        (source / "profiles/2025/deng-zhiyuan.md").read_text(encoding="utf-8") + "\n补记。\n",
        encoding="utf-8",
    )
    assert cli.main(["edition", str(YEAR), str(source)]) == 1
    err = capsys.readouterr().err
    assert "2025年度归档版已经存在" in err and "--force" in err
    assert digest_tree(edition) == before
    assert cli.main(["edition", str(YEAR), str(source), "--force"]) == 0
    after = digest_tree(edition)
    assert after != before
    assert [p.name for p in edition.parent.iterdir()] == [str(YEAR)]  # no work folder left


def test_a_year_without_content_is_refused(
    source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["edition", "2019", str(source)]) == 1
    assert "2019年没有任何先进典型" in capsys.readouterr().err
    assert not (source / "editions" / "2019").exists()


def test_rebuilding_an_edition_is_byte_identical(source: Path, tmp_path: Path) -> None:
    edition = edition_of(source)
    first = digest_tree(edition)
    assert cli.main(["edition", str(YEAR), str(source), "--zip", "-o", "one.zip"]) == 0
    assert cli.main(["edition", str(YEAR), str(source), "--force"]) == 0
    assert digest_tree(edition) == first
    assert cli.main(["edition", str(YEAR), str(source), "--zip", "-o", "two.zip"]) == 0
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names) and "edition-2025/index.html" in names
    assert {i.date_time for i in infos} == {(2025, 12, 31, 0, 0, 0)}


# ---------------------------------------------------------------------------------------------
# the live site


def test_live_build_copies_the_edition_untouched_after_the_theme_changes(
    source: Path, tmp_path: Path
) -> None:
    edition = edition_of(source)
    frozen_files = digest_tree(edition)
    # next year's theme: a site override of the base template
    base = (ROOT / "themes/default/templates/base.html").read_text(encoding="utf-8")
    override = source / "theme/templates/base.html"
    override.parent.mkdir(parents=True)
    override.write_text(base.replace("<main", "<p>新主题</p><main"), encoding="utf-8")
    out = tmp_path / "public"
    cache = tmp_path / "cache"
    assert build(BuildOptions(source=source, output=out, cache_dir=cache)).ok
    assert "新主题" in (out / "index.html").read_text(encoding="utf-8")
    assert digest_tree(out / "editions" / str(YEAR)) == frozen_files
    # listed on the editions page and in every page's footer
    index = (out / "editions/index.html").read_text(encoding="utf-8")
    assert 'href="2025/index.html"' in index and BANNER in index
    assert 'href="editions/2025/index.html"' in (out / "index.html").read_text(encoding="utf-8")
    deep = (out / "profiles/2024/dai-hong-mei/index.html").read_text(encoding="utf-8")
    assert 'href="../../../editions/2025/index.html"' in deep
    broken, external = crawl(out)
    assert broken == []
    # 404.html's <base>: the path of base_url, so that it works at any depth
    assert [e for e in external if e != "404.html: /showcase/"] == []
    # the edition's folder deleted: gone from the output (incremental build), footer too
    shutil.rmtree(edition)
    assert build(BuildOptions(source=source, output=out, cache_dir=cache)).ok
    assert not (out / "editions").exists()
    assert "editions/" not in (out / "index.html").read_text(encoding="utf-8")


def test_nothing_in_editions_is_content_nor_checked(
    source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a Markdown file and a broken YAML file inside an edition are neither read nor reported
    # as content; the edition, no longer matching its manifest, is reported once
    (edition_of(source) / "profiles" / "x.md").write_text("---\nname: [\n---\n", encoding="utf-8")
    analysis = analyse(source)
    assert not [f for f in analysis.tree.files if f.startswith("editions/")]
    found = [(d.code, d.path) for d in analysis.diagnostics if d.path.startswith("editions")]
    assert found == [("edition-tampered", "editions/2025/manifest.json")]
    cli.main(["check", str(source), "--format", "json"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    shown = [(f["code"], f["file"]) for f in findings if f["file"].startswith("editions")]
    assert shown == [("edition-tampered", "editions/2025/manifest.json")]


@pytest.mark.parametrize("change", ["changed", "removed", "added", "manifest"])
def test_a_tampered_edition_is_not_published(source: Path, tmp_path: Path, change: str) -> None:
    folder = edition_of(source)
    if change == "changed":
        (folder / "index.html").write_text("<script>alert(1)</script>", encoding="utf-8")
    elif change == "removed":
        (folder / "index.html").unlink()
    elif change == "added":
        (folder / "evil.html").write_text("<script>alert(1)</script>", encoding="utf-8")
    else:
        (folder / "manifest.json").write_text("{", encoding="utf-8")
    out = tmp_path / "public"
    report = build(BuildOptions(source=source, output=out))
    assert not report.ok
    codes = {d.code for d in report.diagnostics}
    assert codes & {"edition-tampered", "edition-manifest-unreadable"}, codes
    assert not (out / "editions").exists()


# ---------------------------------------------------------------------------------------------
# in a real browser, unzipped from the zip and opened from file://


def test_unzipped_edition_searches_in_chinese_from_file_urls(source: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.conftest import ARGS, CHROMIUM
    from tests.test_experience import Visitor, results

    assert cli.main(["edition", str(YEAR), str(source), "--zip", "-o", "handout.zip"]) == 0
    usb = tmp_path / "U盘" / "归档"
    with zipfile.ZipFile(tmp_path / "handout.zip") as archive:
        archive.extractall(usb)
    root = usb / "edition-2025"
    assert Path(CHROMIUM).exists(), "Chromium is installed by .ci/run (apt-get install chromium)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            v = Visitor(browser)
            page = v.open((root / "index.html").as_uri())
            assert page.locator(".edition-banner").inner_text() == BANNER
            page.fill("#site-search-q", "邓志远")
            page.press("#site-search-q", "Enter")
            page.wait_for_url("**/search/index.html?q=*")
            assert results(page)[0] == "邓志远"
            page.locator("#search-results a").first.click()
            page.wait_for_load_state()
            assert page.locator("h1").first.inner_text().startswith("邓志远")
            assert page.url.startswith(root.as_uri())
            # a worker of 2024 is not in the 2025 edition
            page.goto((root / "search/index.html").as_uri() + "?q=戴红梅")
            assert results(page) == []
            v.close(root.as_uri())
        finally:
            browser.close()


def test_links_to_other_years_become_plain_text_in_an_edition(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    body = "向[王进喜](../2024/wang.md)学习，见[办法](../../pages/rules.md)。"
    source = write_site(
        tmp_path / "src",
        {
            "profiles/2024/wang.md": profile(year=2024),
            "profiles/2025/li.md": profile(name="李华", body=body),
            "pages/rules.md": "---\ntitle: 评选办法\n---\n正文。\n",
        },
    )
    out = tmp_path / "public"
    assert build(BuildOptions(source=source, output=out)).ok
    live = (out / "profiles/2025/li-hua/index.html").read_text(encoding="utf-8")
    assert 'href="../../2024/wang-jin-xi/index.html"' in live
    assert cli.main(["edition", "2025", str(source)]) == 0
    edition = source / "editions" / "2025"
    page = (edition / "profiles/2025/li-hua/index.html").read_text(encoding="utf-8")
    assert "<a>王进喜</a>" in page and "wang" not in page
    assert 'href="../../../pages/rules/index.html"' in page  # free pages kept
    assert crawl(edition) == ([], [])


def _commit_all(source: Path) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", str(source)], check=True)
    subprocess.run([*git, "-C", str(source), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(source), "commit", "-qm", "content"], check=True)


def test_an_edition_of_uncommitted_content_needs_allow_dirty(
    source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _commit_all(source)
    page = source / "profiles/2025/deng-zhiyuan.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n补记。\n", encoding="utf-8")
    (source / "pages/new.md").write_text("---\ntitle: 新页\n---\n正文\n", encoding="utf-8")
    before = digest_tree(edition_of(source))
    assert cli.main(["edition", str(YEAR), str(source), "--force"]) == 1
    err = capsys.readouterr().err
    assert "网站目录里有 2 处修改还没有提交到 git" in err
    assert "pages/new.md, profiles/2025/deng-zhiyuan.md" in err and "--allow-dirty" in err
    assert digest_tree(edition_of(source)) == before
    assert cli.main(["edition", str(YEAR), str(source), "--force", "--allow-dirty"]) == 0
    assert "2 个未提交到 git 的文件" in capsys.readouterr().err
    manifest = json.loads((edition_of(source) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["uncommitted"] == ["pages/new.md", "profiles/2025/deng-zhiyuan.md"]
    # a clean checkout records none
    _commit_all(source)
    assert cli.main(["edition", str(YEAR), str(source), "--force"]) == 0
    manifest = json.loads((edition_of(source) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["uncommitted"] == []


def test_generate_verify_and_zip_count_the_same_files(
    source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["edition", str(YEAR), str(source), "--force"]) == 0
    made = re.search(r"共(\d+)个文件（另有清单", capsys.readouterr().out)
    assert cli.main(["edition", "--verify", str(YEAR), str(source)]) == 0
    verified = re.search(r"完好：(\d+)个文件", capsys.readouterr().out)
    assert cli.main(["edition", str(YEAR), str(source), "--zip", "-o", "e.zip"]) == 0
    zipped = re.search(r"（(\d+)个文件和清单", capsys.readouterr().out)
    assert made and verified and zipped
    files = len(json.loads((edition_of(source) / "manifest.json").read_text("utf-8"))["files"])
    assert int(made[1]) == int(verified[1]) == int(zipped[1]) == files


def test_verify_takes_a_zip_or_an_unzipped_folder(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "e.zip"
    assert cli.main(["edition", str(YEAR), str(source), "--zip", "-o", str(archive)]) == 0
    unzipped = tmp_path / "unzipped"
    with zipfile.ZipFile(archive) as z:
        z.extractall(unzipped)
    for given in (archive, unzipped, unzipped / f"edition-{YEAR}"):
        capsys.readouterr()
        assert cli.main(["edition", "--verify", str(YEAR), str(given)]) == 0, given
        assert "2025年度归档版完好" in capsys.readouterr().out
    page = unzipped / f"edition-{YEAR}/index.html"
    page.write_bytes(page.read_bytes() + b"<!-- changed -->")
    assert cli.main(["edition", "--verify", str(YEAR), str(unzipped)]) == 1
    assert f"已改动：{unzipped.as_posix()}/edition-{YEAR}/index.html" in capsys.readouterr().err
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(archive) as z, zipfile.ZipFile(tampered, "w") as out:
        for info in z.infolist():
            data = z.read(info)
            out.writestr(info, data + b"x" if info.filename.endswith("404.html") else data)
        out.writestr(f"edition-{YEAR}/extra.js", "alert(1)")
    assert cli.main(["edition", "--verify", str(YEAR), str(tampered)]) == 1
    err = capsys.readouterr().err
    assert f"已改动：{tampered.as_posix()}:edition-{YEAR}/404.html" in err
    assert f"多出：{tampered.as_posix()}:edition-{YEAR}/extra.js" in err
    (tmp_path / "not.zip").write_bytes(b"PK no zip")
    assert cli.main(["edition", "--verify", str(YEAR), str(tmp_path / "not.zip")]) == 1
    assert "缺失或已损坏" in capsys.readouterr().err
