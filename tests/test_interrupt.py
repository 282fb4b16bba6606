"""A build killed half-way (a real signal to a real ``showcase build`` process) leaves the
previous output byte-identical and no temporary folders behind."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

# the corpus generator lives beside the repository (MAKE_CORPUS names another copy)
MAKE_CORPUS = Path(os.environ.get("MAKE_CORPUS", ROOT.parent / "shared" / "make_corpus.py"))


def snapshot(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def litter(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".building-" in p.name or ".old-" in p.name)


def showcase(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "generator", "build", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert MAKE_CORPUS.is_file(), MAKE_CORPUS
    source = tmp_path_factory.mktemp("corpus") / "src"
    subprocess.run(
        [sys.executable, str(MAKE_CORPUS), str(source), "--pages", "1500", "--seed", "1",
         "--format", "native"],
        check=True,
        capture_output=True,
    )
    return source


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_killed_build_leaves_the_previous_output(
    corpus: Path, tmp_path: Path, signum: signal.Signals
) -> None:
    out = tmp_path / "public"
    first = showcase(str(corpus), "-o", str(out), "-q")
    first_out = first.communicate(timeout=600)
    assert first.returncode == 0, first_out
    before = snapshot(out)
    assert len(before) > 1500
    # the next build has something to do: a new title changes every page
    site_yaml = corpus / "site.yaml"
    original = site_yaml.read_text(encoding="utf-8")
    site_yaml.write_text(original + "subtitle: 第二版\n", encoding="utf-8")
    try:
        second = showcase(str(corpus), "-o", str(out))
        deadline = time.monotonic() + 300
        staging: list[str] = []
        # wait until the build is writing into its temporary folder, then kill it
        while not staging and second.poll() is None and time.monotonic() < deadline:
            staging = [n for n in litter(tmp_path) if ".building-" in n]
            time.sleep(0.005)
        assert staging, ("the build ended before it could be interrupted", second.communicate())
        second.send_signal(signum)
        stdout, stderr = second.communicate(timeout=120)
    finally:
        site_yaml.write_text(original, encoding="utf-8")
    assert second.returncode == 130, (stdout, stderr)
    assert "生成被中断" in stderr and "保持上次生成的内容不变" in stderr
    assert "Traceback" not in stderr, stderr
    assert snapshot(out) == before, "the previous output must stay byte-identical"
    assert litter(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["public"]
