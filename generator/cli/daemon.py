"""``showcase daemon``: keep one site in memory and build it whenever ``showcase build`` of that
site asks (see ``handoff``). A build then reads again only the files whose size or time
changed, and redoes only the pages they reach, as serve does after an edit.

The daemon builds once when it starts (into the output of ``-o``, default ``public``), ends
after ``--idle`` minutes without a build, when its address file is removed (the cache folder
deleted), or on ``showcase daemon --stop``; a build asked by code other than its own ends it
too. When another process writes the cache, the daemon forgets what it holds in memory and
reads the cache again.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import queue
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.base import memory, messages, stopping
from generator.base.config import DEFAULT_LANGUAGE, BuildOptions, packaged_themes_dir
from generator.base.memory import resident_bytes
from generator.base.report import BuildReport
from generator.build import build, system_error
from generator.cli import build as build_cli
from generator.cli import console as reporting
from generator.cli import handoff, parsing
from generator.content import history
from generator.output import cache, freshness, writer
from generator.output.lookout import FolderLookout
from generator.output.sourcewatch import SourceWatch

CHECK_SECONDS = 2.0  # how often an idle daemon looks whether it should end
FULL_AFTER = 50  # builds between two full collections of garbage, when no pause comes
FULL_IDLE_SECONDS = 60.0  # a pause this long after a build: a full collection then
FULL_GROWTH = 1.25  # memory grown by this factor since the last full collection: one
READERS = 8  # connections read at once
SEND_SECONDS = 30.0  # the longest wait to send a report to the build that asked
IDLE_MINUTES = 60.0


def t(code: str, **params: Any) -> str:
    return messages.text(DEFAULT_LANGUAGE, code, **params)


def add_parser(sub: Any) -> None:
    d = sub.add_parser("daemon", help=t("cli-daemon"), description=t("cli-daemon-description"))
    d.add_argument(
        "source", nargs="?", default=None, metavar=t("cli-metavar-source"), help=t("cli-source")
    )
    d.add_argument("-o", "--output", default=None, help=t("cli-daemon-output"))
    d.add_argument("--drafts", action="store_true", help=t("cli-drafts"))
    d.add_argument("--cache-dir", default=None, help=t("cli-cache-dir"))
    d.add_argument("--idle", type=_minutes, default=IDLE_MINUTES, help=t("cli-daemon-idle"))
    d.add_argument("--stop", action="store_true", help=t("cli-daemon-stop"))
    d.set_defaults(func=cmd_daemon, no_cache=False)


def _minutes(given: str) -> float:
    """A number of minutes, 0 or more."""
    try:
        minutes = float(given)
    except ValueError:
        minutes = math.nan
    if not math.isfinite(minutes) or minutes < 0:
        raise argparse.ArgumentTypeError(t("cli-daemon-idle-invalid", given=given))
    return minutes


def cmd_daemon(args: argparse.Namespace) -> int:
    source = Path(args.source)
    if not source.is_dir():
        print(t("source-missing", path=source, command="daemon"), file=sys.stderr)
        return build_cli.EXIT_USAGE
    cache_dir = build_cli.cache_folder(args, source)
    assert cache_dir is not None  # a daemon always has a cache (there is no --no-cache)
    if args.stop:
        return stop(cache_dir)
    if not os.path.isfile(source / parsing.SITE_FILE):  # a wrong folder: nothing to keep
        print(t("daemon-not-a-site", source=source), file=sys.stderr)
        return build_cli.EXIT_USAGE
    output = Path(args.output or build_cli.default_output(source))
    problem = build_cli.cache_problem(cache_dir, source, output)
    if problem:
        return build_cli.refuse_cache(problem, cache_dir)
    first = handoff.absolute(BuildOptions(source, output, drafts=args.drafts, cache_dir=cache_dir))
    assert first.cache_dir is not None
    daemon = Daemon(first.source, first.cache_dir, quiet=args.quiet)
    code = build_cli.EXIT_OK
    try:
        with build_cli.interrupts_stop_the_build():
            report = daemon.build(first, whole=True)
            build_cli.print_report(report, source, quiet=False)
            if not report.ok:  # the daemon stays: the next build may find the content mended
                said = messages.text(report.language, "build-failed", output=output)
                print(said, file=sys.stderr)
            daemon.listen(args.idle * 60, output)
    except KeyboardInterrupt:
        daemon.ended = ""  # stopped by Ctrl-C or kill: said as such
    except AddressNotPrivate as exc:
        print(t("daemon-address-not-private", file=exc.args[0]), file=sys.stderr)
        code = build_cli.EXIT_USAGE
    except OSError as exc:  # the cache folder cannot be written, no port to listen on
        shown = reporting.format_diagnostic(system_error(exc), DEFAULT_LANGUAGE, source)
        print(shown, file=sys.stderr)
        code = build_cli.EXIT_USAGE
    finally:
        daemon.close()
    _log(t(f"daemon-ended-{daemon.ended}" if daemon.ended else "daemon-stopped"))
    return code


def stop(cache_dir: Path) -> int:
    """Ask the daemon of ``cache_dir`` to end, and wait until it has (a few seconds)."""
    address = handoff.read_address(cache_dir)
    if address is None or not handoff.running(address.pid):
        print(t("daemon-none", folder=cache_dir), file=sys.stderr)
        return build_cli.EXIT_OK  # nothing to stop: as asked

    def busy(_folder: str) -> None:  # the stop waits for the build the daemon is making
        print(t("daemon-stop-waits"), file=sys.stderr, flush=True)

    if handoff.exchange(address, {"stop": True}, locked=busy) is None:
        print(t("daemon-no-answer", pid=address.pid), file=sys.stderr)
        return build_cli.EXIT_CONTENT
    deadline = time.monotonic() + 5 * CHECK_SECONDS
    while _still_running(cache_dir, address.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    # not the daemon's own words: both are seen together when it runs in the same terminal
    late = _still_running(cache_dir, address.pid)
    print(t("daemon-stop-late" if late else "daemon-stop-done"), file=sys.stderr)
    return build_cli.EXIT_OK


def _still_running(cache_dir: Path, pid: int) -> bool:
    """Whether the daemon ``pid`` still runs: its address is still there (it removes it as it
    ends; a process ended but not yet collected by its parent would still look alive)."""
    address = handoff.read_address(cache_dir)
    return address is not None and address.pid == pid and handoff.running(pid)


@dataclass
class Daemon:
    """The site of ``source`` kept in memory (the cache of ``cache_dir`` opened to remember),
    and what a request must match to be built here."""

    source: Path
    cache_dir: Path
    code: str = field(default_factory=handoff.version)
    environment: dict[str, str] = field(default_factory=handoff.environment)
    store: cache.Cache | None = None
    version: int = 0  # the cache's data version after this daemon's last build
    address: handoff.Address | None = None
    head: str | None = None  # the commit checked out at the last build
    quiet: bool = False  # only failed builds are logged
    ended: str = ""  # why it ended: asked, other-code, idle, replaced, doorman
    lookout: FolderLookout = field(default_factory=FolderLookout)
    watch: SourceWatch | None = None  # the kernel's word on what changed in the source

    def build(
        self,
        options: BuildOptions,
        then: Callable[[BuildReport], None] | None = None,
        whole: bool = False,
        waiting: Callable[[Path], None] | None = None,
    ) -> BuildReport:
        """Build ``options`` (held by the locks a build holds), reading again only the source
        files whose size, time or content changed since the last build here; ``then`` is
        given the report as soon as the output is complete and its records saved, before
        what the cache keeps for the next build (the build that asked waits no longer than
        it must). With ``whole``, every stage runs, even when nothing changed, so that the
        whole site is in memory. ``waiting`` is told the folder when another build uses it
        (the build that asked is told so), after the daemon's log."""
        tell = _Once(then)

        def said(folder: Path) -> None:
            build_cli.say_waiting(folder)
            if waiting is not None:
                waiting(folder)

        with writer.exclusive(options.output, options.cache_dir, said):
            store = self._store()
            gc.disable()  # collected after the build (``Collector``)
            with contextlib.suppress(OSError):  # the build's own recovery reports it
                writer.recover(options.output)  # what a build killed half-way left, first
            looked = self._look(options.output, store)
            before = self._lines(options)
            state = freshness.source_state(options, store, self._watched())
            changed = changed_files(before, self._lines(options), options.source)
            head, self.head = self.head, history.head(options.source)
            if head != self.head:  # a commit moves the dates of files that did not change
                changed = None
            report = build(
                options,
                store=store,
                state=state,
                changed=changed,
                whole=whole,
                published=tell,
                looked=looked,
            )
            tell(report)  # unless told already: the build changed no file, or failed
            store.flush()
            self.version = store.data_version()
        return report

    def _look(
        self, output: Path, store: cache.Cache
    ) -> Callable[[], Mapping[str, int] | None] | None:
        """Have the helper process look at the output's folders while the source is walked;
        what it found, for the build (None: the build looks itself)."""
        stamps = freshness.kept_folders(output, store)
        if not stamps or min(stamps.values()) < 0:  # the output will be walked anyway
            return None
        self.lookout.look(output, stamps)
        return self.lookout.result

    def _watched(self) -> frozenset[str] | None:
        """The source files changed since the last build (relative POSIX paths), as the
        kernel notified them; None when not known (the source is then walked). The watch
        starts before the first build's walk, so that it misses nothing that walk did not
        see."""
        if self.watch is None:
            self.watch = SourceWatch(
                [str(self.source), str(packaged_themes_dir())], freshness.NOT_WALKED
            )
            self.watch.start()
            return None
        found = self.watch.changes()
        root = str(self.source).rstrip(os.sep) + os.sep
        if found is None or not all(path.startswith(root) for path in found):
            return None  # a shipped theme changed: walked, as every file outside the source
        return frozenset(path[len(root) :].replace(os.sep, "/") for path in found)

    def _store(self) -> cache.Cache:
        """The cache, opened again (and the memory dropped) when another process wrote it
        since this daemon's last build, or its file is another (the site folder removed and
        copied back), or it could not be used (committed to git: it may be out of git now)."""
        if self.store is not None and (
            not self.store.enabled
            or self.store.data_version() != self.version
            or self.store.replaced()
        ):
            self.store.close()
            self.store = None
        if self.store is None:
            self.store = cache.Cache.open(self.cache_dir, remember=True)
        return self.store

    def _lines(self, options: BuildOptions) -> dict[str, bytes] | None:
        kept = self.store.memory("state-lines") if self.store is not None else None
        lines = kept.get(str(options.source)) if kept else None
        return dict(lines) if lines is not None else None

    def answer(self, message: Mapping[str, Any], send: Callable[[dict[str, Any]], None]) -> bool:
        """``send`` the answer to a request (see ``handoff.request``): the report of its build,
        or why it is not built here (the caller then builds itself). False when the daemon
        is to end: asked to stop, or asked by newer code."""
        if message.get("stop"):
            send({"stopped": True})
            self.ended = "asked"
            return False
        refused = self._refusal(message)
        if refused:
            send({"refused": refused})
            if refused == "other-code":
                self.ended = refused
            return refused != "other-code"
        started = time.perf_counter()
        options = handoff.options_of(message["options"])
        try:
            report = self.build(
                options,
                lambda report: send({"report": handoff.report_json(report)}),
                waiting=lambda folder: send({"waiting": str(folder)}),
            )
        except Exception as exc:  # a fault of the tool: said; the caller builds itself
            _log(reporting.internal_error(exc))
            send({"refused": "internal-error"})
            self.ended = "internal-error"  # what it keeps in memory may be half changed
            return False
        if not (self.quiet and report.ok):
            _log(done_line(report, time.perf_counter() - started))
        return True

    def _refusal(self, message: Mapping[str, Any]) -> str:
        """Why a request is not built here ('' when it is)."""
        if message.get("code") != self.code:
            return "other-code"
        if message.get("environment") != self.environment:
            return "other-environment"
        try:
            options = handoff.options_of(message["options"])
        except (KeyError, TypeError, ValueError):
            return "bad-request"
        if options.source != self.source or options.cache_dir != self.cache_dir:
            return "other-site"
        return ""

    def listen(self, idle_seconds: float, output: Path) -> None:
        """Answer requests one at a time until told to stop, idle for ``idle_seconds`` (no
        request of this user), or the address file is gone or another daemon's; the line
        saying it is ready names the ``output`` of its first build. A thread of
        its own takes the connections (``Doorman``): it answers at once that a request was
        received, so that a build waits for the daemon while it builds for another, and
        gives up on a daemon that is stopped. The garbage of builds is collected after each
        (``Collector``)."""
        collector = Collector()
        collector.collect(full=True)  # the first build's garbage, before any request can come
        with socket.create_server((handoff.HOST, 0)) as server:
            port = server.getsockname()[1]
            self.address = handoff.Address(port, secrets.token_hex(16), os.getpid())
            if not handoff.write_address(self.cache_dir, self.address):
                raise AddressNotPrivate(handoff.address_file(self.cache_dir))
            doorman = Doorman(server, self.address.token, str(self.source))
            try:  # a signal may come as soon as the address is written
                doorman.start()
                ready = "daemon-ready" if idle_seconds else "daemon-ready-no-idle"
                if not self.quiet:
                    minutes = f"{idle_seconds / 60:g}"
                    _log(t(ready, source=self.source, output=output, minutes=minutes), sys.stdout)
                self._serve(doorman, idle_seconds, collector)
            finally:
                doorman.stop()

    def _serve(self, doorman: Doorman, idle_seconds: float, collector: Collector) -> None:
        last = time.monotonic()
        self.ended = "replaced"  # unless the loop ends otherwise
        while handoff.read_address(self.cache_dir, own=True) == self.address:
            stopping.check()  # a Ctrl-C whose exception was dropped (in a collection) ends it
            idle = time.monotonic() - last
            if (idle_seconds and idle > idle_seconds) or not doorman.is_alive():
                self.ended = "idle" if doorman.is_alive() else "doorman"
                return
            try:
                conn, message = doorman.requests.get(timeout=CHECK_SECONDS)
            except queue.Empty:
                collector.idle(idle)
                continue
            doorman.busy.set()
            try:
                with conn:
                    going_on = self.answer(message, _sender(conn)) if _still_asked(conn) else True
            finally:
                doorman.busy.clear()
            if not going_on:
                return
            last = time.monotonic()
            collector.built()

    def close(self) -> None:
        gc.enable()  # the builds turned it off
        self.lookout.close()
        if self.watch is not None:
            self.watch.close()
        if self.address is not None:
            handoff.remove_address(self.cache_dir, self.address)
        if self.store is not None:
            self.store.close()
            self.store = None


class AddressNotPrivate(Exception):
    """The address file cannot be kept from other users here (a file system without owners
    and modes): builds would not trust it."""


class Doorman(threading.Thread):
    """Takes the connections to the daemon: reads each request (a little, for a little
    while, several connections at a time, so that one slow sender holds up no other),
    keeps those that prove they come from a build of this user (``handoff.proof``), tells
    each at once that it was received, with a proof of its own (and, when the daemon is
    busy with another build, that this one waits for it: ``busy``, the site's folder), and
    queues them for the daemon; anything else is closed unanswered."""

    def __init__(self, server: socket.socket, token: str, site: str = "") -> None:
        super().__init__(daemon=True)
        self.server, self.token, self.site = server, token, site
        self.busy = threading.Event()  # set while the daemon answers a request
        self.requests: queue.Queue[tuple[socket.socket, dict[str, Any]]] = queue.Queue()
        self.stopping = threading.Event()
        self.readers = threading.BoundedSemaphore(READERS)

    def run(self) -> None:
        with contextlib.suppress(OSError):  # closed already: the daemon is ending (below)
            self.server.settimeout(CHECK_SECONDS)
        while not self.stopping.is_set():
            try:
                conn, _peer = self.server.accept()
            except TimeoutError:
                continue
            except OSError:  # too many open files, a connection aborted: tried again
                if self.server.fileno() == -1:  # closed: the daemon is ending
                    return
                if not self.stopping.is_set():
                    time.sleep(0.1)
                continue
            if self.readers.acquire(blocking=False):
                threading.Thread(target=self._receive, args=(conn,), daemon=True).start()
            else:  # too many connections at once: this build builds itself
                conn.close()

    def _receive(self, conn: socket.socket) -> None:
        try:
            message = self._received(conn)
            if message is None or self.stopping.is_set():
                conn.close()
            else:
                self.requests.put((conn, message))
        finally:
            self.readers.release()

    def _received(self, conn: socket.socket) -> dict[str, Any] | None:
        """The request read from ``conn`` and acknowledged, if it is one of this user's."""
        try:
            message = json.loads(handoff.read_line(conn, CHECK_SECONDS)[0])
            if not isinstance(message, dict) or not isinstance(message.get("nonce"), str):
                return None
            signed = handoff.signed_text(message)
            if not handoff.proven(self.token, signed, message.get("proof")):
                return None
            ack: dict[str, Any] = {"ack": handoff.proof(self.token, "daemon:" + message["nonce"])}
            if self.busy.is_set() or not self.requests.empty():
                ack["busy"] = self.site
            handoff.send_line(conn, ack)
        except (OSError, ValueError, RecursionError, UnicodeError):
            return None
        found: dict[str, Any] = message
        return found

    def stop(self) -> None:
        self.stopping.set()
        with contextlib.suppress(OSError):  # wakes the thread waiting for a connection
            self.server.shutdown(socket.SHUT_RDWR)
        self.join(timeout=2 * CHECK_SECONDS)
        while not self.requests.empty():  # builds that asked too late build themselves
            self.requests.get_nowait()[0].close()


def _still_asked(conn: socket.socket) -> bool:
    """Whether the build that sent a request on ``conn`` still waits for it (it gives up
    when the daemon is slow to say it received it, and then builds itself)."""
    try:
        conn.setblocking(False)
        try:
            return conn.recv(1, socket.MSG_PEEK) != b""
        except BlockingIOError:  # nothing more sent, and not closed
            return True
        finally:
            conn.setblocking(True)
    except OSError:
        return False


def _sender(conn: socket.socket) -> Callable[[dict[str, Any]], None]:
    def send(reply: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):  # the build that asked is gone: it is made
            conn.settimeout(SEND_SECONDS)  # nor does a build that stopped reading stop this
            handoff.send_line(conn, reply)

    return send


class _Once:
    """Passes the first report it is given to ``then``, and no other."""

    def __init__(self, then: Callable[[BuildReport], None] | None) -> None:
        self.then = then

    def __call__(self, report: BuildReport) -> None:
        then, self.then = self.then, None
        if then is not None:
            then(report)


def _log(text: str, stream: Any = None) -> None:
    """Print a line of the daemon's log; a log nobody reads any more (its pipe closed) does
    not stop the daemon."""
    with contextlib.suppress(OSError):
        print(text, file=stream or sys.stderr, flush=True)


class Collector:
    """Collects the garbage the builds leave (the collector is off while they run): right
    after each build, then freezing what survives, so that the next collection looks only
    at what later builds made (a few milliseconds, where a look at the whole site in memory
    takes 0.25 s at 10,000 documents, and a build asked meanwhile would wait for it). A
    full collection, which also frees what frozen objects were left in cycles by later
    builds (a site dropped when the cache is opened again, say), comes after a pause of
    ``FULL_IDLE_SECONDS``, after ``FULL_AFTER`` builds, and once the process's memory grew
    by ``FULL_GROWTH`` since the last one (the number of frozen objects would say it
    better, but Python counts them one by one: 0.13 s at 30,000 documents). A build that
    forked workers unfroze everything (``pool``): its collection looks at everything."""

    def __init__(self) -> None:
        self.since_full = 0  # builds since the last full collection
        self.resident = 0  # the memory in use after the last full collection, in bytes

    def built(self) -> None:
        """A build just ended."""
        self.since_full += 1
        grown = resident_bytes() > FULL_GROWTH * self.resident
        self.collect(full=self.since_full >= FULL_AFTER or grown)

    def idle(self, seconds: float) -> None:
        """No build was asked for ``seconds``."""
        if self.since_full and seconds > FULL_IDLE_SECONDS:
            self.collect(full=True)

    def collect(self, full: bool = False) -> None:
        gc.enable()
        if full:
            gc.unfreeze()
        gc.collect()
        gc.freeze()
        if full:  # what the builds let go, to the system (tens of milliseconds on a big heap)
            memory.give_back()
            self.since_full, self.resident = 0, resident_bytes()


def changed_files(
    before: Mapping[str, bytes] | None, after: Mapping[str, bytes] | None, source: Path
) -> frozenset[str] | None:
    """The source files (relative POSIX paths) whose line of the state differs between
    ``before`` and ``after`` (see ``freshness.source_state``), leaving out those no build
    reads. None when not known, when a file outside the source (a shipped theme) changed,
    or when a file was added or removed (or a folder replaced by a link): the whole source
    is then walked and read again."""
    if before is None or after is None:
        return None
    root = str(source).rstrip(os.sep) + os.sep
    differ = {path for path, _line in before.items() ^ after.items()}
    if not all(path.startswith(root) for path in differ):
        return None
    relative = {path: path[len(root) :].replace(os.sep, "/") for path in differ}
    read = [path for path in differ if not _never_read(relative[path])]
    if any(path not in before or path not in after for path in read):
        return None
    return frozenset(relative[path] for path in read)


def _never_read(rel: str) -> bool:
    """Whether a build never reads the file ``rel`` of the source: hidden (an editor's swap
    file, a folder such as .git) or an editor's backup (``name~``). Its change is no reason
    to read the whole source again."""
    parts = rel.split("/")
    return any(part.startswith(".") for part in parts) or parts[-1].endswith("~")


def done_line(report: BuildReport, seconds: float) -> str:
    key = "daemon-built" if report.ok else "daemon-build-failed"
    return messages.text(report.language, key, pages=report.html, seconds=f"{seconds:.2f}")
