"""The site view records what a page reads through it, and only while a page renders."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.build import analyse
from generator.pages.view import Queries, Read, SiteView
from tests.conftest import profile, write_site


def view_of(tmp_path: Path) -> SiteView:
    src = write_site(
        tmp_path / "src",
        {
            "profiles/2025/a.md": profile(),
            "profiles/2024/b.md": profile(name="李华", unit="other-branch", year=2024),
        },
    )
    analysis = analyse(src)
    assert not analysis.diagnostics, analysis.diagnostics
    return SiteView(analysis.site, analysis.plan, {})


def test_reads_are_recorded_while_a_page_renders(tmp_path: Path) -> None:
    view = view_of(tmp_path)
    with view.recording() as reads:
        years = view.years
        counts = view.unit_counts("branch")
        view.config.title  # noqa: B018 - reading the key is what is recorded
        a_profile = view.items()[0]
        view.related(a_profile)
    assert years == (2025, 2024)
    assert counts["profile"] == 1
    assert reads == {
        Read("years"),
        Read("unit_counts", ("branch",)),
        Read("config", ("title",)),
        Read("items"),
        Read("related", (a_profile.key,)),
    }


def test_nothing_is_recorded_outside_a_page_nor_by_pure_helpers(tmp_path: Path) -> None:
    view = view_of(tmp_path)
    items = view.items()  # no page renders: nothing to record into
    with view.recording() as reads:
        view.counts(items)
        view.pledge_progress(())
        view.fulfilment(())
    assert reads == set()
    with view.recording() as again:
        view.unit("branch")
    assert again == {Read("unit", ("branch",))}


def test_a_read_survives_the_cache_as_text() -> None:
    for read in (Read("years"), Read("unit_fulfilment", ("branch", None)), Read("x", (2025,))):
        assert Read.decode(read.encode()) == read
    assert Read.decode(Read("x", (("a", 1),)).encode()) == Read("x", (("a", 1),))


def test_every_recorded_read_has_an_answer_to_check_later(tmp_path: Path) -> None:
    """A recorded read is checked on the next build by asking it again: every query a page
    can record, configuration keys included, must have an answer."""
    src = write_site(tmp_path / "src", {"profiles/2025/a.md": profile()})
    analysis = analyse(src)
    view = SiteView(analysis.site, analysis.plan, {})
    queries = Queries(analysis.site, analysis.plan)
    with view.recording() as reads:
        view.config.title  # noqa: B018 - reading the key is what is recorded
        view.unit_counts("branch")
        view.years  # noqa: B018
    assert queries.evaluate(Read("config", ("title",))) == "测试站点"
    for read in reads:
        queries.evaluate(read)
    with pytest.raises(ValueError, match="no query"):
        queries.evaluate(Read("no-such-query"))


def test_the_photos_a_page_shows_are_recorded_reads(tmp_path: Path) -> None:
    analysis = analyse(write_site(tmp_path / "src", {"profiles/2025/a.md": profile()}))
    sizes = ("photos/k-240.jpg", 240, 320)
    queries = Queries(analysis.site, analysis.plan, {"profiles/2025/a.jpg": (sizes,)})
    view = SiteView(analysis.site, analysis.plan, {}, queries)
    photos = view.photo_variants
    with view.recording() as reads:
        assert photos.get("profiles/2025/a.jpg") == (sizes,)
        assert "profiles/2025/gone.jpg" not in photos
        assert photos.get("profiles/2025/gone.jpg", ()) == ()
    assert reads == {
        Read("photo", ("profiles/2025/a.jpg",)),
        Read("photo", ("profiles/2025/gone.jpg",)),
    }
    with view.recording() as listed:
        assert list(photos) == ["profiles/2025/a.jpg"] and len(photos) == 1
    assert listed == {Read("photos")}
    # a photo replaced under its name changes the answer a later build compares
    replaced = Queries(analysis.site, analysis.plan, {"profiles/2025/a.jpg": (("x", 1, 1),)})
    read = Read("photo", ("profiles/2025/a.jpg",))
    assert replaced.evaluate(read) != queries.evaluate(read)


def test_templates_reach_the_plan_and_bodies_only_through_recorded_methods(
    tmp_path: Path,
) -> None:
    view = view_of(tmp_path)
    assert not hasattr(view, "plan")
    assert not hasattr(view, "bodies")
