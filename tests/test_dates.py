"""Dates of files without a `date`: the first commit in git, else the file's time; the page
shows the last change from git history."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from generator.base.config import BuildOptions
from generator.build import build
from tests.conftest import profile, write_site


def git(cwd: Path, *args: str, when: str = "") -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "编辑",
        "GIT_AUTHOR_EMAIL": "e@example.org",
        "GIT_COMMITTER_NAME": "编辑",
        "GIT_COMMITTER_EMAIL": "e@example.org",
    }
    if when:
        env |= {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def test_git_history_gives_the_date_and_the_last_update(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    source = write_site(repo / "site_content", {"profiles/2025/a.md": profile()})
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "first", when="2025-03-08T10:00:00+08:00")
    (source / "profiles/2025/a.md").write_text(profile(body="补充事迹。"), encoding="utf-8")
    git(repo, "commit", "-qam", "second", when="2025-06-30T10:00:00+08:00")
    out = tmp_path / "out"
    assert build(BuildOptions(source=source, output=out)).ok
    html = (out / "profiles/2025/wang-jin-xi/index.html").read_text(encoding="utf-8")
    assert '<dt>发布日期</dt><dd><time datetime="2025-03-08">' in html
    assert '<dt>最后更新</dt><dd><time datetime="2025-06-30">' in html


def test_outside_git_the_file_time_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = write_site(tmp_path / "src", {"profiles/2025/a.md": profile()})
    stamp = 1_700_000_000  # 2023-11-14
    os.utime(source / "profiles/2025/a.md", (stamp, stamp))
    out = tmp_path / "out"
    assert build(BuildOptions(source=source, output=out)).ok
    html = (out / "profiles/2025/wang-jin-xi/index.html").read_text(encoding="utf-8")
    assert 'datetime="2023-11-14"' in html and "最后更新" not in html
    # SOURCE_DATE_EPOCH caps the file time, for reproducible builds
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1600000000")  # 2020-09-13
    assert build(BuildOptions(source=source, output=out)).ok
    html = (out / "profiles/2025/wang-jin-xi/index.html").read_text(encoding="utf-8")
    assert 'datetime="2020-09-13"' in html


def test_a_date_in_front_matter_wins(tmp_path: Path) -> None:
    source = write_site(
        tmp_path / "src", {"profiles/2025/a.md": profile(extra="date: 2025-01-02\n")}
    )
    out = tmp_path / "out"
    assert build(BuildOptions(source=source, output=out)).ok
    html = (out / "profiles/2025/wang-jin-xi/index.html").read_text(encoding="utf-8")
    assert 'datetime="2025-01-02"' in html
