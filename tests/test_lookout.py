"""The helper process that looks at an output's folders for the daemon: it finds what
``writer.folder_stamps`` finds, follows a changed list of folders, and a helper that fails
leaves the caller to look itself."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator.output import lookout, writer


@pytest.fixture
def helper() -> Iterator[lookout.FolderLookout]:
    kept = lookout.FolderLookout()
    yield kept
    kept.close()


def _output(tmp_path: Path) -> tuple[Path, list[str]]:
    out = tmp_path / "out"
    files = ["index.html", "a/index.html", "a/b/index.html", "c/index.html"]
    for rel in files:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(rel, encoding="utf-8")
    return out, sorted(writer.folders_of(files))


def test_the_helper_finds_what_a_look_here_finds(
    tmp_path: Path, helper: lookout.FolderLookout
) -> None:
    out, folders = _output(tmp_path)
    helper.look(out, folders)
    assert helper.result() == writer.folder_stamps(out, folders)
    (out / "a/b/index.html").unlink()  # a file deleted by hand changes its folder's time
    (out / "c/index.html").unlink()
    (out / "c").rmdir()  # a folder gone is -1
    helper.look(out, folders)
    found = helper.result()
    assert found == writer.folder_stamps(out, folders)
    assert found is not None and found["c"] == -1


def test_a_changed_list_of_folders_is_sent_again(
    tmp_path: Path, helper: lookout.FolderLookout
) -> None:
    out, folders = _output(tmp_path)
    helper.look(out, folders)
    helper.look(out, folders[:2])  # the first answer, never asked for, is not read as this one
    assert helper.result() == writer.folder_stamps(out, folders[:2])
    (out / "d").mkdir()
    helper.look(out, [*folders, "d"])
    assert helper.result() == writer.folder_stamps(out, [*folders, "d"])
    helper.look(tmp_path / "missing", folders)  # an output that cannot be opened: all gone
    assert helper.result() == dict.fromkeys(folders, -1)


def test_an_output_given_by_a_relative_path_is_found_by_the_helper(
    tmp_path: Path, helper: lookout.FolderLookout, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The helper runs in another folder than its caller."""
    out, folders = _output(tmp_path)
    monkeypatch.chdir(tmp_path)
    helper.look(Path(out.name), folders)
    found = helper.result()
    assert found == writer.folder_stamps(out, folders)
    assert found is not None and -1 not in found.values()


def test_a_helper_that_died_or_hangs_leaves_the_look_to_the_caller(
    tmp_path: Path, helper: lookout.FolderLookout, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, folders = _output(tmp_path)
    assert helper.result() is None  # nothing was asked
    helper.look(out, folders)
    assert helper.result() is not None
    child = helper._children[-1]
    child.kill()
    child.wait()
    helper.look(out, folders)  # the dead helper is replaced when asked to look
    assert helper.result() == writer.folder_stamps(out, folders)
    assert child not in helper._children and len(helper._children) == lookout.HELPERS
    hung = helper._children[0]
    monkeypatch.setattr(lookout, "LOOK_SECONDS", 0.2)
    os.kill(hung.pid, signal.SIGSTOP)  # asked, it does not answer: the caller looks itself
    helper.look(out, folders)
    assert helper.result() is None
    assert hung.poll() is not None and not helper._children  # and the hung helper is gone


def test_a_helper_that_cannot_start_is_given_up_after_a_few_tries(
    tmp_path: Path, helper: lookout.FolderLookout, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, folders = _output(tmp_path)
    started: list[list[str]] = []
    real = subprocess.Popen

    def popen(args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        started.append(args)
        return real(["false"], **kwargs)  # ends at once, answers nothing

    monkeypatch.setattr(lookout.subprocess, "Popen", popen)
    for _ in range(lookout.FAILURES + 3):
        helper.look(out, folders)
        assert helper.result() is None  # the caller looks itself
    assert len(started) == lookout.FAILURES * lookout.HELPERS


def test_nothing_in_the_folder_the_daemon_started_from_runs_in_the_helper(
    tmp_path: Path, helper: lookout.FolderLookout, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, folders = _output(tmp_path)
    planted = tmp_path / "site"
    planted.mkdir()
    marker = tmp_path / "ran"
    for name in ("json", "array", "select", "os"):
        (planted / f"{name}.py").write_text(
            f"open({str(marker)!r}, 'a').write({name!r})\n", encoding="utf-8"
        )
    monkeypatch.chdir(planted)
    helper.look(out, folders)
    assert helper.result() == writer.folder_stamps(out, folders)
    assert not marker.exists()


def test_a_helper_that_stops_reading_holds_up_no_look(
    tmp_path: Path, helper: lookout.FolderLookout, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, folders = _output(tmp_path)
    helper.look(out, folders)
    assert helper.result() is not None
    monkeypatch.setattr(lookout, "LOOK_SECONDS", 0.3)
    os.kill(helper._children[0].pid, signal.SIGSTOP)
    many = [f"folder-{n:07d}" for n in range(200_000)]  # far more than a pipe holds
    started = time.monotonic()
    helper.look(out, many)
    assert helper.result() is None  # the caller looks itself
    assert time.monotonic() - started < 5


def test_folders_with_the_times_expected_give_back_the_very_times_expected(
    tmp_path: Path, helper: lookout.FolderLookout
) -> None:
    """Asked with the time each folder is expected to have, the helpers' answer is compared
    as numbers: all as expected gives that very mapping; one changed gives what was found."""
    out, folders = _output(tmp_path)
    expected = writer.folder_stamps(out, folders)
    assert expected is not None
    helper.look(out, expected)
    assert helper.result() is expected
    (out / "a/b/index.html").unlink()
    helper.look(out, expected)
    found = helper.result()
    assert found is not expected and found == writer.folder_stamps(out, folders) != expected
    helper.look(out, folders)  # no times expected: what was found, in a mapping of its own
    assert helper.result() == found
