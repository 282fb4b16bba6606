"""A build hands the memory it let go back to the system, so that its peak counts each
stage's memory once."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

import generator.build as building
from generator.base import memory
from generator.base.config import BuildOptions
from generator.cli import main as cli
from generator.output import cache
from generator.pages.view import SiteView
from tests.conftest import profile, write_site


@pytest.mark.skipif(memory._libc_function("malloc_trim") is None, reason="glibc's malloc_trim")
def test_memory_let_go_goes_back_to_the_system() -> None:
    # blocks larger than Python's small-object pools come from the C heap; one in a hundred
    # stays, so the heap cannot shrink from its top alone
    blocks = [bytes(2000) + bytes([n % 256]) for n in range(100_000)]
    kept = blocks[::100]
    grown = memory.resident_bytes()
    del blocks
    assert memory.resident_bytes() > grown - 50 * 2**20  # freed, still held by the heap
    assert memory.give_back()
    assert memory.resident_bytes() < grown - 100 * 2**20
    assert len(kept) == 1000


# in a fresh process: 40 times, three blocks of 4 MiB, each written through, then freed
# together (the heap's top grows, then shrinks); how many pages the system had to map in for
# them (minor faults). Huge pages are turned off for the process (a block would be two
# faults, not a thousand, where the kernel gives them unasked).
_FAULTS = """
import ctypes, resource, sys
from generator.base import memory
ctypes.CDLL(None).prctl(41, 1, 0, 0, 0)  # PR_SET_THP_DISABLE
if sys.argv[1] == "keep":
    assert memory.keep_freed_pages()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for n in range(40):
    blocks = [bytes([n]) * (4 << 20) for _ in range(3)]
    del blocks
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(memory._libc_function("mallopt") is None, reason="glibc's mallopt")
def test_a_process_that_keeps_freed_pages_does_not_map_them_in_again() -> None:
    # glibc's own settings, not those of this machine's environment
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLIBC_"))}

    def faults(mode: str) -> int:
        done = subprocess.run(
            [sys.executable, "-c", _FAULTS, mode],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        return int(done.stdout)

    pages = 40 * 3 * (4 << 20) // resource.getpagesize()
    kept = faults("keep")
    assert kept < pages // 8  # the first three blocks' pages, used again
    # glibc's own adjustment keeps some freed blocks too, more or fewer with the layout of
    # the heap (the same interpreter may map 82,000 or 16,000 pages in anew here)
    assert faults("give") > 2 * kept


def _build_asks(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each time a build asks to keep the pages it frees (and is not let do it)."""
    asked: list[bool] = []
    monkeypatch.setattr(memory, "keep_freed_pages", lambda: asked.append(True) or True)
    return asked


def test_showcase_build_keeps_freed_pages_only_when_it_builds_in_a_one_off_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_site(tmp_path / "site", {"profiles/2025/a.md": profile(name="王")})
    asked = _build_asks(monkeypatch)
    command = ["build", str(source), "-o", str(tmp_path / "out"), "-q"]
    assert cli.main(command) == 0
    assert asked == []  # this process goes on after the command: it keeps nothing
    monkeypatch.setattr(memory, "_one_off", True)
    (source / "profiles" / "2025" / "a.md").write_text(profile(name="李"), encoding="utf-8")
    assert cli.main(command) == 0
    assert asked == [True]
    assert cli.main(command) == 0  # nothing changed: nothing is built
    assert asked == [True]


def test_the_showcase_command_is_a_one_off_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_one_off", False)
    monkeypatch.setattr(cli, "guarded", lambda: 0)  # no command: only what run does around it
    monkeypatch.setattr(cli.atexit, "_run_exitfuncs", lambda: None)
    monkeypatch.setattr(cli.os, "_exit", lambda code: None)
    cli.run()
    assert memory._one_off


def test_a_build_gives_back_memory_after_reading_and_after_the_search_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stories = {f"profiles/2025/p{n}.md": profile(name=name) for n, name in enumerate("王李张")}
    source = write_site(tmp_path / "site", stories)
    stages: list[str] = []
    forgotten: list[bool] = []
    real_forget = SiteView.forget_search_index

    def forget(view: SiteView) -> bool:
        forgotten.append(view._search is not None)  # the index its files were made from
        return real_forget(view)

    monkeypatch.setattr(building.memory, "give_back", lambda: stages.append("give back"))
    monkeypatch.setattr(SiteView, "forget_search_index", forget)
    report = building.build(BuildOptions(source=source, output=tmp_path / "out", cache_dir=None))
    assert report.ok
    assert stages == ["give back", "give back"]  # after the model, after the search index
    assert forgotten[0] and not any(forgotten[1:])  # let go of once, as soon as its files are
    assert (tmp_path / "out" / "search" / "index.js").is_file()
    # a long-lived process (the daemon, serve) hands memory back between builds instead:
    # a trim takes tens of milliseconds on a large fragmented heap, too long for an edit
    stages.clear()
    remembering = cache.Cache.open(tmp_path / "cache", remember=True)
    try:
        options = BuildOptions(
            source=source, output=tmp_path / "kept", cache_dir=tmp_path / "cache"
        )
        assert building.build(options, store=remembering).ok
    finally:
        remembering.close()
    assert stages == []
