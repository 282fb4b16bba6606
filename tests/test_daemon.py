"""``showcase daemon``: builds handed to it equal clean builds, whatever changed in between (an
edit, a build by another process, a file deleted from the output by hand); builds it cannot
make are made by ``showcase build`` itself."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.base.config import BuildOptions
from generator.base.errors import Diagnostic
from generator.base.report import BuildReport
from generator.build import build
from generator.cli import daemon, handoff
from generator.output import cache, freshness, writer
from tests.conftest import EXAMPLE, ROOT, profile, write_site
from tests.test_dates import git
from tests.test_incremental import NAMES, apply, fixed_times, step, tree

START_SECONDS = 120


def _site(base: Path) -> tuple[Path, BuildOptions]:
    # enough pages that a small change is moved into the output in place
    many = {
        f"profiles/2024/q{n}.md": profile(name=f"{NAMES[n % 7]}{n}", year=2024) for n in range(12)
    }
    src = write_site(
        base / "src",
        {
            "profiles/2025/p0.md": profile(),
            "profiles/2025/p1.md": profile(name="李华", body="第二位。"),
            "pages/about.md": "---\ntitle: 关于\nslug: about\n---\n关于本站\n",
            **many,
        },
    )
    fixed_times(src)
    options = handoff.absolute(BuildOptions(src, base / "out", cache_dir=base / "cache"))
    return src, options


def _clean(options: BuildOptions, where: Path) -> dict[str, str]:
    shutil.rmtree(where, ignore_errors=True)
    report = build(BuildOptions(options.source, where))
    assert report.ok, report.diagnostics
    return tree(where)


def _daemon(options: BuildOptions) -> daemon.Daemon:
    assert options.cache_dir is not None
    kept = daemon.Daemon(options.source, options.cache_dir)
    assert kept.build(options, whole=True).ok
    return kept


@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(step, min_size=1, max_size=5))
def test_builds_of_the_daemon_equal_clean_builds(
    tmp_path_factory: Any, steps: list[tuple[object, ...]]
) -> None:
    base: Path = tmp_path_factory.mktemp("daemon")
    src, options = _site(base)
    kept = _daemon(options)
    try:
        for change in steps:
            apply(src, change)
            fixed_times(src)
            report = kept.build(options)
            clean = build(BuildOptions(src, base / "clean"))
            assert report.ok == clean.ok, (change, report.diagnostics, clean.diagnostics)
            if clean.ok:
                assert tree(options.output) == tree(base / "clean"), change
            shutil.rmtree(base / "clean", ignore_errors=True)
    finally:
        kept.close()


def test_a_build_by_another_process_makes_the_daemon_read_the_cache_again(
    tmp_path: Path,
) -> None:
    src, options = _site(tmp_path)
    page = src / "pages/about.md"
    first = page.read_text(encoding="utf-8")
    kept = _daemon(options)
    try:
        page.write_text(first.replace("关于本站", "本站简介"), encoding="utf-8")
        assert build(options).ok  # not through the daemon: the daemon's memory is stale
        page.write_text(first, encoding="utf-8")
        assert kept.build(options).ok
        assert tree(options.output) == _clean(options, tmp_path / "clean")
    finally:
        kept.close()


def test_a_file_deleted_from_the_output_by_hand_is_made_again(tmp_path: Path) -> None:
    src, options = _site(tmp_path)
    kept = _daemon(options)
    try:
        expected = tree(options.output)
        victim = options.output / "pages/about/index.html"
        victim.unlink()
        edited = src / "profiles/2025/p1.md"
        edited.write_text(edited.read_text(encoding="utf-8") + "又一句。\n", encoding="utf-8")
        assert kept.build(options).ok
        now = tree(options.output)
        rel = victim.relative_to(options.output).as_posix()
        assert now[rel] == expected[rel]
        assert now == _clean(options, tmp_path / "clean")
    finally:
        kept.close()


def test_changed_files_are_those_whose_state_line_differs() -> None:
    root = Path("/site")
    before = {"/site/a.md": b"1", "/site/b.md": b"2", "/site/d/e.md": b"3"}
    after = {"/site/a.md": b"1", "/site/b.md": b"9", "/site/d/e.md": b"4"}
    assert daemon.changed_files(before, after, root) == {"b.md", "d/e.md"}
    assert daemon.changed_files(before, dict(before), root) == frozenset()
    assert daemon.changed_files(None, after, root) is None
    # a file added or removed (a folder replaced by a link loses its files): walked again
    assert daemon.changed_files(before, {**after, "/site/f.md": b"5"}, root) is None
    assert daemon.changed_files(before, {"/site/a.md": b"1", "/site/b.md": b"2"}, root) is None
    theme = {**after, "/themes/default/base.html": b"5"}  # outside the source: not known
    assert daemon.changed_files(after, theme, root) is None
    # what no build reads: an editor's swap file and backup, a hidden folder
    unread = {**after, "/site/d/.e.md.swp": b"6", "/site/d/e.md~": b"7", "/site/.git/x": b"8"}
    assert daemon.changed_files(after, unread, root) == frozenset()
    assert daemon.changed_files(unread, after, root) == frozenset()


def test_idle_minutes_must_be_a_number_of_minutes(tmp_path: Path) -> None:
    for minutes in ("nan", "-1", "soon"):
        done = _run("daemon", str(tmp_path), "--idle", minutes)
        assert done.returncode == 2 and "不是分钟数" in done.stderr, done.stderr


def test_a_fault_of_the_daemon_refuses_the_build_and_ends_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A build that fails by a fault of the tool is handed back (the caller builds itself),
    said in words with its traceback kept in a file, and the daemon ends (what it keeps in
    memory may be half changed)."""
    _src, options = _site(tmp_path)
    kept = _daemon(options)
    sent: list[dict[str, Any]] = []

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a fault of the tool")

    monkeypatch.setattr(kept, "build", broken)
    try:
        assert kept.answer(handoff.request(options), sent.append) is False
    finally:
        kept.close()
    assert sent == [{"refused": "internal-error"}] and kept.ended == "internal-error"
    said = capsys.readouterr()
    logged = said.err + said.out
    assert "程序内部出错" in logged and "RuntimeError: a fault of the tool" in logged
    assert "Traceback" not in logged
    report = Path(logged.split("详细信息已保存到 ")[1].split("，")[0])
    assert "Traceback" in report.read_text(encoding="utf-8")
    report.unlink()


def test_requests_the_daemon_cannot_build_are_refused(tmp_path: Path) -> None:
    _src, options = _site(tmp_path)
    kept = _daemon(options)
    sent: list[dict[str, Any]] = []
    asked = handoff.request(options)
    try:
        assert kept.answer({**asked, "code": "older"}, sent.append) is False
        other_env = {**asked, "environment": {"SOURCE_DATE_EPOCH": "1"}}
        assert kept.answer(other_env, sent.append) is True
        elsewhere = {**asked, "options": {**asked["options"], "source": str(tmp_path)}}
        assert kept.answer(elsewhere, sent.append) is True
        assert kept.answer({**asked, "options": {}}, sent.append) is True
        assert [reply.get("refused") for reply in sent] == [
            "other-code",
            "other-environment",
            "other-site",
            "bad-request",
        ]
        assert kept.answer({"stop": True}, sent.append) is False
        assert sent[-1] == {"stopped": True}
    finally:
        kept.close()


def test_only_requests_proving_the_token_are_received_and_garbage_stops_nothing() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        doorman = daemon.Doorman(server, "secret")
        doorman.start()
        try:
            for junk in (
                b"[" * 30_000 + b"\n",  # nested too deep for the parser
                json.dumps({"nonce": "n", "proof": "\u00e9"}).encode() + b"\n",
                json.dumps({"nonce": "n", "proof": handoff.proof("guess", "build:n")}).encode()
                + b"\n",
                b"x" * (handoff.REQUEST_LIMIT + 10),  # too long, and no end of line
            ):
                with socket.create_connection(("127.0.0.1", port)) as conn:
                    conn.sendall(junk)
                    conn.settimeout(10)
                    try:
                        answer = conn.recv(100)
                    except ConnectionResetError:  # closed with what was sent unread
                        answer = b""
                    assert answer == b""  # closed unanswered
            good = handoff.Address(port, "secret", os.getpid())
            answered: list[dict[str, Any] | None] = []
            asking = threading.Thread(
                target=lambda: answered.append(handoff.exchange(good, {"stop": True}))
            )
            asking.start()
            conn, message = doorman.requests.get(timeout=10)  # received and acknowledged
            with conn:
                assert message["stop"] is True and doorman.is_alive()
                handoff.send_line(conn, {"stopped": True})
            asking.join(timeout=10)
            assert answered == [{"stopped": True}]
            assert doorman.requests.empty()
        finally:
            doorman.stop()


def test_a_report_crosses_to_the_build_whole() -> None:
    report = BuildReport(
        True,
        (Diagnostic.warning("profiles/a.md", 3, "unknown-field", "rank", field_name="rank"),),
        pages=4,
        files=5,
        removed=6,
        seconds=0.5,
        language="en",
        counts={"profiles": 2},
        stages={"render": 0.25},
    )
    assert handoff.report_of(handoff.report_json(report)) == report
    assert handoff.report_of({"ok": True}) is None


def test_a_build_finds_no_daemon_at_a_stale_address_and_builds_itself(tmp_path: Path) -> None:
    _src, options = _site(tmp_path)
    assert options.cache_dir is not None
    options.cache_dir.mkdir(parents=True)
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed when the block ends: nothing listens there
    handoff.write_address(options.cache_dir, handoff.Address(port, "x", 1))
    assert (options.cache_dir / handoff.ADDRESS_FILE).stat().st_mode & 0o077 == 0
    assert handoff.ask(options) is None
    done = _run("build", str(options.source), "-o", str(options.output), "-q")
    assert done.returncode == 0, done.stderr
    assert tree(options.output) == _clean(options, tmp_path / "clean")


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=START_SECONDS,
    )


def _loaded_by_build(src: Path, out: Path) -> list[str]:
    """The modules that ``showcase build`` imported, of those a build made in its own process
    needs (the cache, the check of what changed, the rendering stack)."""
    heavy = ("sqlite3", "generator.output.cache", "generator.output.freshness", "jinja2")
    script = (
        "import sys\nfrom generator.cli.main import main\n"
        f"code = main(['build', {str(src)!r}, '-o', {str(out)!r}, '-q'])\n"
        f"print(code, [m for m in {heavy!r} if m in sys.modules])\n"
    )
    done = _python(script)
    assert done.returncode == 0, done.stderr
    code, loaded = done.stdout.strip().splitlines()[-1].split(" ", 1)
    assert code == "0", done.stderr
    found: list[str] = json.loads(loaded.replace("'", '"'))
    return found


def _python(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=START_SECONDS,
    )


def _built(log: Path, expected: int, wait: float = 10) -> int:
    """The builds the daemon logged, once it logged ``expected`` (it logs a build after the
    build that asked has its answer) or ``wait`` seconds passed."""
    deadline = time.monotonic() + wait
    while True:
        found = log.read_text(encoding="utf-8").count("已生成")
        if found >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _started(src: Path, out: Path, log: Path) -> subprocess.Popen[bytes]:
    """``showcase daemon`` of ``src`` running, once its address is written."""
    with open(log, "wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "generator", "daemon", str(src), "-o", str(out), "--idle", "5"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    deadline = time.monotonic() + START_SECONDS
    while handoff.read_address(src / ".showcase-cache") is None:
        assert process.poll() is None, log.read_text(encoding="utf-8")
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return process


def test_showcase_build_hands_its_build_to_a_running_daemon(tmp_path: Path) -> None:
    src = tmp_path / "site"
    shutil.copytree(EXAMPLE, src, ignore=shutil.ignore_patterns(".showcase-cache"))
    out, log = tmp_path / "out", tmp_path / "daemon.log"
    process = _started(src, out, log)
    try:
        page = sorted((src / "profiles").rglob("*.md"))[0]
        page.write_text(page.read_text(encoding="utf-8") + "\n又添一句。\n", encoding="utf-8")
        done = _run("build", str(src), "-o", str(out))
        assert done.returncode == 0, done.stderr
        assert _built(log, 1) == 1  # the build was the daemon's
        assert _loaded_by_build(src, out) == []  # not even the cache is opened
        # a build in another environment is not the daemon's, and is made all the same
        other = _run("build", str(src), "-o", str(out), env={"SOURCE_DATE_EPOCH": "1700000000"})
        assert other.returncode == 0, other.stderr
        assert _built(log, 3, wait=2) == 2
        stopped = _run("daemon", str(src), "--stop")
        assert stopped.returncode == 0, stopped.stderr
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert not (src / ".showcase-cache" / handoff.ADDRESS_FILE).exists()
    said = log.read_text(encoding="utf-8")
    assert "常驻生成已退出" in said
    # what --stop says is not the daemon's words again (one terminal often shows both)
    assert stopped.stderr.strip() == "已让常驻生成退出。"
    clean = tmp_path / "clean"
    epoch = {"SOURCE_DATE_EPOCH": "1700000000"}  # as the last build
    rebuilt = _run("build", str(src), "-o", str(clean), "--no-cache", "-q", env=epoch)
    assert rebuilt.returncode == 0
    assert tree(out) == tree(clean)


def test_stop_without_a_daemon_says_so(tmp_path: Path) -> None:
    _src, options = _site(tmp_path)
    done = _run("daemon", str(options.source), "--stop")
    assert done.returncode == 0  # nothing to stop: as asked
    assert "没有找到" in done.stderr


def test_a_build_stopped_while_the_daemon_builds_says_the_daemon_goes_on(tmp_path: Path) -> None:
    _src, options = _site(tmp_path)
    assert options.cache_dir is not None
    options.cache_dir.mkdir(parents=True)
    with socket.create_server(("127.0.0.1", 0)) as silent:  # a daemon that never answers
        handoff.write_address(options.cache_dir, handoff.Address(silent.getsockname()[1], "t", 1))
        client = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "generator",
                "build",
                str(options.source),
                "-o",
                "out",
                "--cache-dir",
                str(options.cache_dir),
            ],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        silent.settimeout(START_SECONDS)
        conn, _peer = silent.accept()  # the build asked, is told it was received, and waits
        with conn:
            nonce = json.loads(conn.makefile("rb").readline())["nonce"]
            handoff.send_line(conn, {"ack": handoff.proof("t", "daemon:" + nonce)})
            time.sleep(0.5)
            client.send_signal(signal.SIGINT)
            _out, err = client.communicate(timeout=60)
    assert client.returncode == 130
    assert "不再等待" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()  # this process built nothing


def test_a_commit_between_builds_gives_the_dates_of_a_clean_build(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    src = write_site(repo / "site", {"profiles/2025/a.md": profile()})
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "first", when="2025-03-08T10:00:00+08:00")
    options = handoff.absolute(BuildOptions(src, tmp_path / "out", cache_dir=tmp_path / "cache"))
    kept = _daemon(options)
    try:
        page = src / "profiles/2025/a.md"
        page.write_text(profile(body="补充事迹。"), encoding="utf-8")
        assert kept.build(options).ok  # the edit, not committed yet
        git(repo, "commit", "-qam", "second", when="2025-06-30T10:00:00+08:00")
        assert kept.build(options).ok  # no file changed, but the last update did
        html = (options.output / "profiles/2025/wang-jin-xi/index.html").read_text("utf-8")
        assert '<dt>最后更新</dt><dd><time datetime="2025-06-30">' in html
        assert tree(options.output) == _clean(options, tmp_path / "clean")
    finally:
        kept.close()


def test_a_daemon_that_cannot_leave_its_address_says_so_and_ends(tmp_path: Path) -> None:
    _src, options = _site(tmp_path)
    assert options.cache_dir is not None
    (options.cache_dir / handoff.ADDRESS_FILE).mkdir(parents=True)  # in the way of the file
    done = _run(
        "daemon", str(options.source), "-o", str(options.output),
        "--cache-dir", str(options.cache_dir),
    )  # fmt: skip
    assert done.returncode == 2
    assert "daemon.json" in done.stderr and "Traceback" not in done.stderr
    assert "常驻生成已退出" in done.stderr


def test_a_document_replaced_by_a_link_outside_the_source_is_refused(tmp_path: Path) -> None:
    src, options = _site(tmp_path)
    secret = tmp_path / "secret.md"
    secret.write_text("---\ntitle: 机密\nslug: about\n---\n不可外传的内容\n", encoding="utf-8")
    kept = _daemon(options)
    try:
        about = src / "pages/about.md"
        about.unlink()
        about.symlink_to(secret)
        report = kept.build(options)
        assert not report.ok
        assert [d.code for d in report.diagnostics if d.is_error] == ["link-outside-source"]
        assert "不可外传" not in (options.output / "pages/about/index.html").read_text("utf-8")
    finally:
        kept.close()


def test_a_slow_sender_holds_up_no_other_request_and_stop_closes_what_waits() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        doorman = daemon.Doorman(server, "secret")
        doorman.start()
        good = handoff.Address(port, "secret", os.getpid())
        try:
            with socket.create_connection(("127.0.0.1", port)) as slow:
                slow.sendall(b'{"nonce": ')  # and nothing more for now
                started = time.monotonic()
                answered: list[dict[str, Any] | None] = []
                asking = threading.Thread(
                    target=lambda: answered.append(handoff.exchange(good, {"stop": True}))
                )
                asking.start()
                conn, _message = doorman.requests.get(timeout=10)
                assert time.monotonic() - started < daemon.CHECK_SECONDS  # not held up
                doorman.requests.put((conn, _message))  # left waiting when the daemon stops
        finally:
            doorman.stop()
        asking.join(timeout=10)
        assert answered == [None]  # closed unanswered: that build builds itself


def test_a_build_that_gave_up_waiting_is_not_built_by_the_daemon() -> None:
    ours, theirs = socket.socketpair()
    with ours:
        assert daemon._still_asked(ours)
        theirs.close()
        assert not daemon._still_asked(ours)


def test_a_request_changed_on_the_way_is_not_received() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        doorman = daemon.Doorman(server, "secret")
        doorman.start()
        try:
            message = {"stop": False, "nonce": "n1"}
            message["proof"] = handoff.proof("secret", handoff.signed_text(message))
            message["stop"] = True  # changed after it was signed
            with socket.create_connection(server.getsockname()) as conn:
                handoff.send_line(conn, message)
                conn.settimeout(10)
                assert conn.recv(100) == b""
            assert doorman.requests.empty()
        finally:
            doorman.stop()


def test_a_listener_that_does_not_prove_it_is_the_daemon_gets_no_build(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(handoff, "ACK_SECONDS", 1.0)
    for ack in (None, {"ack": "forged"}):
        with socket.create_server(("127.0.0.1", 0)) as impostor:
            address = handoff.Address(impostor.getsockname()[1], "secret", 1)
            found: list[dict[str, Any] | None] = []
            asking = threading.Thread(target=_asks, args=(address, found))
            asking.start()
            conn, _peer = impostor.accept()
            with conn:
                conn.makefile("rb").readline()
                if ack is not None:
                    handoff.send_line(conn, ack)
                    handoff.send_line(conn, {"report": {"ok": True}})
                asking.join(timeout=10)
            assert found == [None]


def test_an_address_file_others_may_read_is_not_trusted(tmp_path: Path) -> None:
    address = handoff.Address(1234, "secret", 1)
    handoff.write_address(tmp_path, address)
    assert handoff.read_address(tmp_path) == address
    handoff.address_file(tmp_path).chmod(0o644)
    assert handoff.read_address(tmp_path) is None
    assert handoff.read_address(tmp_path, own=True) == address  # the daemon's own look
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == [handoff.ADDRESS_LOCK, handoff.ADDRESS_FILE]  # no part left


def _asks(address: handoff.Address, found: list[dict[str, Any] | None]) -> None:
    found.append(handoff.exchange(address, {}))


def test_an_endless_daemon_names_its_output_and_says_it_runs_until_stopped(tmp_path: Path) -> None:
    src = write_site(tmp_path / "site", {"profiles/2025/a.md": profile()})
    out = tmp_path / "out"
    with subprocess.Popen(
        [sys.executable, "-m", "generator", "daemon", str(src), "-o", str(out), "--idle", "0"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            ready = process.stdout.readline()
            assert "一直运行" in ready and f"生成到 {out}/" in ready  # where it built
            assert _run("daemon", str(src), "--stop").returncode == 0
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()


def test_a_build_says_it_waits_for_a_silent_daemon_then_builds_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handoff, "NOTICE_SECONDS", 0.2)
    monkeypatch.setattr(handoff, "ACK_SECONDS", 1.0)
    _src, options = _site(tmp_path)
    assert options.cache_dir is not None
    options.cache_dir.mkdir(parents=True)
    told: list[bool] = []
    with socket.create_server(("127.0.0.1", 0)) as silent:  # a paused daemon: never answers
        handoff.write_address(options.cache_dir, handoff.Address(silent.getsockname()[1], "t", 1))
        assert handoff.ask(options, waiting=lambda: told.append(True)) is None
    assert told == [True]


def test_an_address_left_by_a_process_that_ended_is_not_even_tried(tmp_path: Path) -> None:
    _src, options = _site(tmp_path)
    assert options.cache_dir is not None
    options.cache_dir.mkdir(parents=True)
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    with socket.create_server(("127.0.0.1", 0)) as listening:
        listening.settimeout(0.5)
        address = handoff.Address(listening.getsockname()[1], "t", int(ended.stdout))
        handoff.write_address(options.cache_dir, address)
        assert handoff.ask(options) is None
        with pytest.raises(TimeoutError):
            listening.accept()  # nothing connected


def test_a_log_nobody_reads_does_not_stop_the_daemon(tmp_path: Path) -> None:
    read, write = os.pipe()
    os.close(read)
    closed_pipe = open(write, "w", encoding="utf-8")  # noqa: SIM115
    try:
        daemon._log("已生成", closed_pipe)  # the pipe is broken: nothing raised
    finally:
        with contextlib.suppress(BrokenPipeError):
            closed_pipe.close()


def test_a_daemon_idle_too_long_says_why_it_ended(tmp_path: Path) -> None:
    src = write_site(tmp_path / "site", {"profiles/2025/a.md": profile()})
    done = _run("daemon", str(src), "--idle", "0.02")  # 1.2 s
    assert done.returncode == 0, done.stderr
    assert "闲置时间到了" in done.stderr


def test_a_daemon_is_not_started_for_a_folder_that_holds_no_site(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    done = _run("daemon", str(empty), "-o", str(tmp_path / "out"), "--idle", "0.05")
    assert done.returncode == 2, done
    assert "不是网站目录" in done.stderr and "site.yaml" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(empty.iterdir()) == []  # nothing built, not even a cache


def test_a_daemon_that_ends_leaves_the_address_a_newer_one_just_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two daemons of one cache at the same instant: the older, ending, has just read its own
    address when the newer writes its own. The newer address must stay."""
    older, newer = handoff.Address(1, "a", 1), handoff.Address(2, "b", 2)
    assert handoff.write_address(tmp_path, older)
    real_read = handoff.read_address
    reading = threading.Event()

    def slow_read(cache_dir: Path, own: bool = False) -> handoff.Address | None:
        found = real_read(cache_dir, own)
        reading.set()
        time.sleep(0.3)  # the newer daemon writes meanwhile, unless it must wait
        return found

    monkeypatch.setattr(handoff, "read_address", slow_read)
    ending = threading.Thread(target=handoff.remove_address, args=(tmp_path, older))
    ending.start()
    assert reading.wait(5)
    monkeypatch.setattr(handoff, "read_address", real_read)
    assert handoff.write_address(tmp_path, newer)
    ending.join()
    assert handoff.read_address(tmp_path) == newer


def test_a_build_is_told_when_the_daemon_waits_for_another_build(tmp_path: Path) -> None:
    src = tmp_path / "site"
    shutil.copytree(EXAMPLE, src, ignore=shutil.ignore_patterns(".showcase-cache"))
    out, log = tmp_path / "out", tmp_path / "daemon.log"
    process = _started(src, out, log)
    try:
        # another build holds the output: the daemon waits for it, and says so to the build
        with writer.exclusive(out, src / ".showcase-cache", lambda folder: None):
            asking = subprocess.Popen(
                [sys.executable, "-m", "generator", "build", str(src), "-o", str(out)],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            deadline = time.monotonic() + 30
            while "正在使用" not in log.read_text(encoding="utf-8"):
                assert time.monotonic() < deadline and asking.poll() is None
                time.sleep(0.05)
            # a build asked meanwhile waits behind the first, and is told so while it waits
            said = tmp_path / "queued.err"
            with open(said, "wb") as err:
                queued = subprocess.Popen(
                    [sys.executable, "-m", "generator", "build", str(src), "-o", str(out)],
                    cwd=ROOT,
                    env={**os.environ, "PYTHONPATH": str(ROOT)},
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                )
            while f"另一个生成正在使用 {src}" not in said.read_text(encoding="utf-8"):
                assert time.monotonic() < deadline and queued.poll() is None
                time.sleep(0.05)
            # asked to stop meanwhile, the daemon says it ends once its builds are done
            stopping = subprocess.Popen(
                [sys.executable, "-m", "generator", "daemon", str(src), "--stop"],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            time.sleep(1.0)  # the stop waits behind the builds
            assert stopping.poll() is None
        _stdout, stderr = asking.communicate(timeout=60)
        assert asking.returncode == 0, stderr
        assert "另一个生成正在使用" in stderr and ".showcase-cache" in stderr
        assert queued.wait(timeout=60) == 0, said.read_text(encoding="utf-8")
        assert _built(log, 2) == 2  # and the builds were the daemon's
        _stdout, stopped = stopping.communicate(timeout=60)
        assert stopping.returncode == 0, stopped
        assert "做完正在进行和已经排队的生成就退出" in stopped and "已让常驻生成退出" in stopped
    finally:
        process.kill()
        process.wait()


def test_the_daemon_builds_with_what_its_helper_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The output's folders are looked at by the helper process, not again by the build:
    after an edit, and when nothing changed."""
    src, options = _site(tmp_path)
    kept = _daemon(options)
    given: list[bool] = []
    real = freshness.folders_intact

    def spy(output: Path, stamps: Any, found: Any = None) -> bool:
        given.append(found is not None)
        return real(output, stamps, found)

    monkeypatch.setattr(freshness, "folders_intact", spy)
    try:
        edited = src / "profiles/2025/p1.md"
        edited.write_text(edited.read_text(encoding="utf-8") + "又一句。\n", encoding="utf-8")
        assert kept.build(options).ok
        assert kept.build(options).ok  # nothing changed
        assert given == [True, True]
        assert kept.lookout._failures == 0
        assert tree(options.output) == _clean(options, tmp_path / "clean")
    finally:
        kept.close()


def test_what_a_killed_build_left_half_done_is_finished_before_the_daemon_looks(
    tmp_path: Path,
) -> None:
    """A build killed between its journal and its moves: the daemon's next build finishes
    that journal first, then sees the output as it is (here, a page the journal deletes)."""
    _src, options = _site(tmp_path)
    kept = _daemon(options)
    try:
        root = options.output.parent / f".{options.output.name}.building-1-x"
        root.mkdir()
        plan = {"root": str(root), "changed": [], "removed": ["pages/about/index.html"]}
        journal = options.output.parent / f".{options.output.name}.journal.json"
        journal.write_text(json.dumps(plan), encoding="utf-8")
        assert kept.build(options).ok
        assert not journal.exists()
        assert tree(options.output) == _clean(options, tmp_path / "clean")
    finally:
        kept.close()


def test_an_address_lock_held_by_another_holds_up_a_daemon_a_few_seconds_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fcntl

    monkeypatch.setattr(handoff, "LOCK_SECONDS", 0.3)
    with open(tmp_path / handoff.ADDRESS_LOCK, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # someone holds it and never lets go
        started = time.monotonic()
        address = handoff.Address(1, "t", os.getpid())
        assert handoff.write_address(tmp_path, address)
        handoff.remove_address(tmp_path, address)
        assert time.monotonic() - started < 5
    assert handoff.read_address(tmp_path) is None


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_a_collection_after_a_build_looks_only_at_what_is_new_a_full_one_at_all() -> None:
    collector = daemon.Collector()
    try:
        collector.collect(full=True)
        old = _Cycle()
        kept = weakref.ref(old)
        garbage = weakref.ref(_Cycle())  # a cycle no one holds: the next collection frees it
        collector.built()
        assert garbage() is None and kept() is not None
        assert gc.get_freeze_count() > 0  # what survived is frozen
        del old  # garbage now, but frozen: a collection after a build does not look at it
        collector.built()
        assert kept() is not None
        collector.idle(daemon.FULL_IDLE_SECONDS + 1)  # a long pause: a full collection
        assert kept() is None
    finally:
        gc.unfreeze()


def test_full_collections_come_after_a_pause_many_builds_or_much_growth(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fulls: list[bool] = []
    collector = daemon.Collector()
    monkeypatch.setattr(collector, "collect", lambda full=False: fulls.append(full))
    collector.resident = daemon.resident_bytes() * 10  # no growth
    for _ in range(daemon.FULL_AFTER - 1):
        collector.built()
    assert not any(fulls)
    collector.idle(daemon.FULL_IDLE_SECONDS - 1)  # a short pause: nothing
    assert len(fulls) == daemon.FULL_AFTER - 1
    collector.built()
    assert fulls[-1] is True  # the FULL_AFTER-th build
    assert 10**6 < daemon.resident_bytes() < 10**11  # this process's memory, in bytes
    collector.since_full, collector.resident = 1, 100  # the memory grew tenfold
    monkeypatch.setattr(daemon, "resident_bytes", lambda: 1000)
    collector.built()
    assert fulls[-1] is True


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_daemon_stopped_by_a_signal_says_so(tmp_path: Path, signum: int) -> None:
    src = tmp_path / "site"
    shutil.copytree(EXAMPLE, src, ignore=shutil.ignore_patterns(".showcase-cache"))
    log = tmp_path / "daemon.log"
    process = _started(src, tmp_path / "out", log)
    try:
        process.send_signal(signum)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    said = log.read_text(encoding="utf-8")
    assert "常驻生成已退出" in said and "地址文件" not in said, said
    assert "Traceback" not in said
    assert not handoff.address_file(src / ".showcase-cache").exists()


def test_a_doorman_whose_socket_closed_before_it_ran_ends_quietly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A signal right after the address is written ends the daemon and closes its socket
    before the thread that takes connections has run: that thread ends, with no traceback
    in the log and no loop on the closed socket."""
    raised: list[Any] = []
    monkeypatch.setattr(threading, "excepthook", raised.append)
    server = socket.create_server((handoff.HOST, 0))
    server.close()
    doorman = daemon.Doorman(server, "token")
    doorman.start()
    doorman.join(5)
    assert not doorman.is_alive() and not raised


def test_a_daemon_whose_first_build_fails_says_so_and_stays(tmp_path: Path) -> None:
    src = write_site(tmp_path / "site", {"profiles/2025/a.md": profile(unit="nowhere")})
    done = _run("daemon", str(src), "-o", str(tmp_path / "out"), "--idle", "0.02")
    assert done.returncode == 0, done.stderr
    assert "profiles/2025/a.md:3: 错误" in done.stderr
    assert "生成失败" in done.stderr
    assert "闲置时间到了" in done.stderr  # it waited for the mended content all the same


def test_a_cache_taken_out_of_git_is_used_again_by_the_daemon(tmp_path: Path) -> None:
    from tests.test_dates import git

    src, options = _site(tmp_path)
    options = dataclasses.replace(options, cache_dir=src / ".cache")
    kept = _daemon(options)
    try:
        git(src, "init", "-q")
        git(src, "add", "-A")
        git(src, "commit", "-q", "-m", "站点和缓存")
        (src / ".cache" / cache.FILE).unlink()  # as a checkout replaces the committed file
        git(src, "checkout", "-q", "--", ".cache")
        edited = src / "profiles/2025/p1.md"
        edited.write_text(edited.read_text(encoding="utf-8") + "又一句。\n", encoding="utf-8")
        warned = kept.build(options)
        assert [d.code for d in warned.diagnostics] == ["cache-tracked"]
        git(src, "rm", "-r", "-q", "--cached", ".cache")  # what the warning says to do
        edited.write_text(edited.read_text(encoding="utf-8") + "再一句。\n", encoding="utf-8")
        assert kept.build(options).diagnostics == ()  # the cache is used again
        edited.write_text(edited.read_text(encoding="utf-8") + "第三句。\n", encoding="utf-8")
        report = kept.build(options)
        assert report.diagnostics == ()
        assert report.pages < warned.pages  # only what the edit touched, not every page
        assert tree(options.output) == _clean(options, tmp_path / "clean")
    finally:
        kept.close()
