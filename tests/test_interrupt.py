"""A build killed half-way (a real signal to a real ``showcase build`` process) leaves the
previous output byte-identical and no temporary folders behind."""

from __future__ import annotations

import ctypes
import gc
import hashlib
import os
import queue
import shutil
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest
import yaml

from generator import build as build_module
from generator.base import stopping
from generator.base.config import BuildOptions
from generator.build import build
from generator.cli import build as build_cli
from generator.cli import daemon, handoff
from generator.output import pool, writer
from tests.conftest import EXAMPLE, ROOT, profile

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "建国秀兰志强海生春梅晓文立新红梅长江明远婷婷振华"
PARAGRAPH = "扎根一线二十年，带领班组攻克稠油热采难题，年增油三千余吨，带出徒弟三十余名。"


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
    """A site of 1,500 profiles on the example's units: a build long enough to interrupt."""
    source = tmp_path_factory.mktemp("corpus") / "src"
    shutil.copytree(
        EXAMPLE, source, ignore=shutil.ignore_patterns("profiles", "reports", "pledges", "pages")
    )
    site_yaml = source / "site.yaml"  # the test adds its own subtitle
    kept = [x for x in site_yaml.read_text("utf-8").splitlines() if not x.startswith("subtitle:")]
    site_yaml.write_text("\n".join(kept) + "\n", encoding="utf-8")
    units = [u["id"] for u in yaml.safe_load((EXAMPLE / "units.yaml").read_text("utf-8"))]
    for n in range(1500):
        name = SURNAMES[n % 20] + GIVEN[(n // 20) % 20] + GIVEN[(n // 400) % 20]
        year = 2023 + n % 3
        body = "\n\n".join(f"## 第{k}节\n\n{PARAGRAPH * 6}" for k in range(1, 5))
        path = source / f"profiles/{year}/p{n}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            profile(name, unit=units[n % len(units)], year=year, body=body), encoding="utf-8"
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


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="ascii")
    except OSError:
        return []
    return [int(n) for n in text.split()]


def _alive(pid: int) -> bool:
    try:  # a zombie (ended, not yet reaped by its new parent) counts as ended
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="Linux only: /proc")
def test_the_workers_of_a_build_killed_outright_end_with_it_silently(
    corpus: Path, tmp_path: Path
) -> None:
    out = tmp_path / "public"
    build = showcase(str(corpus), "-o", str(out), "-q", "-j", "2", "--no-cache")
    deadline = time.monotonic() + 300
    workers: list[int] = []
    # wait until the workers render into the temporary folder
    while build.poll() is None and time.monotonic() < deadline:
        if any(".building-" in n for n in litter(tmp_path)):
            workers = _children(build.pid)
            if len(workers) >= 2:
                break
        time.sleep(0.01)
    assert len(workers) >= 2, ("no workers seen", build.communicate())
    build.kill()
    _stdout, stderr = build.communicate(timeout=60)
    ended = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < ended:
        time.sleep(0.05)
    assert not any(_alive(w) for w in workers)
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only: prctl")
def test_a_worker_asks_to_be_killed_when_its_build_ends() -> None:
    parent = os.getpid()
    child = os.fork()
    if child == 0:  # the worker: what it asked the kernel, as its exit status
        try:
            pool._worker_start(parent)
            asked = ctypes.c_int(0)
            ctypes.CDLL(None).prctl(2, ctypes.byref(asked), 0, 0, 0)  # PR_GET_PDEATHSIG
            os._exit(asked.value)
        finally:
            os._exit(99)
    _pid, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == signal.SIGKILL


class _SignalledWhileCollected:
    """An object whose finalizer receives the signal: Python drops the exception the handler
    raises there, as it does in any finalizer or callback."""

    def __init__(self, signum: int) -> None:
        self.signum = signum

    def __del__(self) -> None:
        os.kill(os.getpid(), self.signum)
        for _ in range(1000):  # the handler runs between two of these steps
            pass


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_whose_exception_was_dropped_still_stops_the_publishing(
    tmp_path: Path, signum: int, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "public"
    out.mkdir()
    (out / "index.html").write_text("old", encoding="utf-8")
    staged = writer.StagedOutput(out)
    (staged.root / "index.html").write_text("new", encoding="utf-8")
    with build_cli.interrupts_stop_the_build():
        dropped = _SignalledWhileCollected(signum)
        del dropped  # the handler's KeyboardInterrupt is lost in the finalizer
        with pytest.raises(KeyboardInterrupt):
            staged.commit()
        with pytest.raises(KeyboardInterrupt):
            staged.commit_changes(["index.html"], [], None)
    staged.abort()
    assert (out / "index.html").read_text(encoding="utf-8") == "old"
    assert "Traceback" not in capsys.readouterr().err
    later = writer.StagedOutput(out)  # a later build in the same process is not refused
    (later.root / "index.html").write_text("later", encoding="utf-8")
    later.commit()
    assert (out / "index.html").read_text(encoding="utf-8") == "later"


def test_a_dropped_interrupt_stops_the_build_at_the_end_of_a_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    shutil.copytree(EXAMPLE, src, ignore=shutil.ignore_patterns(".showcase-cache"))
    out = tmp_path / "public"
    options = BuildOptions(src, out)
    assert build(options).ok
    before = snapshot(out)
    real = build_module.analyse

    def analysed(*args: object, **kwargs: object) -> object:
        found = real(*args, **kwargs)  # type: ignore[arg-type]
        stopping.ask()  # as the handler does when its exception is dropped
        return found

    monkeypatch.setattr(build_module, "analyse", analysed)
    (src / "site.yaml").write_text(
        (src / "site.yaml").read_text("utf-8") + "subtitle: 第二版\n", encoding="utf-8"
    )
    try:
        with pytest.raises(KeyboardInterrupt):
            build(options)
    finally:
        stopping.forget()
    assert snapshot(out) == before


def test_a_dropped_interrupt_ends_the_daemon_s_loop(tmp_path: Path) -> None:
    kept = daemon.Daemon(tmp_path, tmp_path)
    kept.address = handoff.Address(1, "t", os.getpid())
    assert handoff.write_address(tmp_path, kept.address)
    lives = iter([True, True])  # then the doorman ends, and the loop with it
    idle = types.SimpleNamespace(is_alive=lambda: next(lives, False), requests=queue.Queue())
    stopping.ask()
    try:
        with pytest.raises(KeyboardInterrupt):
            kept._serve(idle, 0, daemon.Collector())  # type: ignore[arg-type]
    finally:
        stopping.forget()
        gc.unfreeze()  # what the daemon's loop froze in this process
