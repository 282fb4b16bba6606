"""The writer's single-file helpers (output/writer.py): a file is replaced in one step, a failed
write leaves the old file and no litter, and a folder is swapped in whole."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.base.config import BuildOptions
from generator.build import build
from generator.output import writer
from tests.conftest import profile, write_site


def test_write_atomic_creates_folders_and_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "file.bin"
    writer.write_atomic(target, b"first")
    assert target.read_bytes() == b"first"
    writer.write_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.bin"]


def test_write_atomic_gives_the_permissions_of_a_plain_write(tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"x")
    atomic = tmp_path / "atomic.txt"
    writer.write_atomic(atomic, b"x")
    assert atomic.stat().st_mode == plain.stat().st_mode


def test_write_new_writes_every_byte_makes_folders_and_refuses_a_file_there(
    tmp_path: Path,
) -> None:
    data = os.urandom(3 << 20)  # larger than one write may take
    writer.write_new(tmp_path, "a/b/page.html", data)
    writer.write_new(tmp_path, "a/empty.js", b"")
    assert (tmp_path / "a/b/page.html").read_bytes() == data
    assert (tmp_path / "a/empty.js").read_bytes() == b""
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"x")
    assert (tmp_path / "a/b/page.html").stat().st_mode == plain.stat().st_mode
    with pytest.raises(FileExistsError):
        writer.write_new(tmp_path, "a/b/page.html", b"again")
    assert (tmp_path / "a/b/page.html").read_bytes() == data


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "doc.html"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), writer.atomic_path(target) as temp:
        temp.write_text("half of the new", encoding="utf-8")
        assert temp.parent == target.parent and temp.name.startswith(".doc.html.")
        raise RuntimeError("disk full")
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.html"]


def test_atomic_path_moves_whatever_the_block_wrote_into_place(tmp_path: Path) -> None:
    target = tmp_path / "out.zip"
    with writer.atomic_path(target) as temp:
        assert not target.exists()
        with open(temp, "wb") as fh:  # as a library writing to a path would
            fh.write(b"PK")
    assert target.read_bytes() == b"PK"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.zip"]


def test_swap_folder_replaces_the_whole_folder(tmp_path: Path) -> None:
    target = tmp_path / "site"
    (target / "gone").mkdir(parents=True)
    (target / "gone" / "old.html").write_text("old", encoding="utf-8")
    new = tmp_path / ".site.building"
    new.mkdir()
    (new / "index.html").write_text("new", encoding="utf-8")
    writer.swap_folder(new, target)
    assert sorted(os.listdir(target)) == ["index.html"]
    assert sorted(os.listdir(tmp_path)) == ["site"]
    # into a place where there was nothing yet
    other = tmp_path / ".other"
    other.mkdir()
    writer.swap_folder(other, tmp_path / "fresh")
    assert (tmp_path / "fresh").is_dir() and not other.exists()


def test_a_built_output_has_the_permissions_of_a_plain_folder(tmp_path: Path) -> None:
    """A web server run as another user must be able to read the output: the folder swapped
    in takes the permissions any new folder gets, not a temporary folder's owner-only ones."""
    plain = tmp_path / "plain"
    plain.mkdir()
    source = write_site(tmp_path / "src", {"profiles/2025/a.md": profile()})
    out = tmp_path / "out"
    assert build(BuildOptions(source=source, output=out, cache_dir=None)).ok
    assert out.stat().st_mode == plain.stat().st_mode
    folder = writer.new_folder(tmp_path, ".x-")
    assert folder.name.startswith(".x-") and folder.stat().st_mode == plain.stat().st_mode
