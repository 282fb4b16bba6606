"""Handing a build to ``showcase daemon``: the daemon keeps a site in memory and builds it on
request, so that ``showcase build`` of that site redoes only what changed without reading
and modelling the whole site again in a new process.

The daemon listens on the loopback interface only. Its address and a secret token are in
``daemon.json`` in the cache folder, readable by its owner alone: a request that does not
prove it knows the token is not answered, and the daemon proves it too. Light on purpose:
``showcase build`` asks the daemon before anything of the rendering stack is imported.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import hmac
import importlib.util
import json
import os
import secrets
import socket
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.base.code import code_digest
from generator.base.config import BuildOptions
from generator.base.errors import Diagnostic
from generator.base.report import BuildReport

ADDRESS_FILE = "daemon.json"  # in the cache folder
ADDRESS_LOCK = ".daemon.lock"  # held while a daemon writes or removes its address
LOCK_SECONDS = 5.0  # how long a daemon waits for that lock before it goes on without
HOST = "127.0.0.1"
# what a build reads from the environment: a daemon started with other values does not build
ENVIRONMENT = ("SOURCE_DATE_EPOCH", "SHOWCASE_WORKERS")
# how long a build waits for the daemon to say it received the request (it says so at once,
# even while it builds for another), before it builds itself
ACK_SECONDS = 10.0
NOTICE_SECONDS = 1.0  # how long it waits before it says it waits
LINE_LIMIT = 64 * 1024 * 1024  # the longest report read
REQUEST_LIMIT = 64 * 1024  # the longest request (or acknowledgement) read


@dataclass(frozen=True, slots=True)
class Address:
    """Where a daemon listens, the token it asks for, and its process."""

    port: int
    token: str
    pid: int


def address_file(cache_dir: Path) -> Path:
    return cache_dir / ADDRESS_FILE


def read_address(cache_dir: Path, own: bool = False) -> Address | None:
    """The address the daemon of ``cache_dir`` left, or None: none started, unreadable, a
    link, or (where files have owners, unless it is the daemon's ``own`` look) a file of
    another user or one others may read."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(address_file(cache_dir), flags)
        with os.fdopen(fd, "rb") as found:
            owner = os.fstat(found.fileno())
            foreign = hasattr(os, "getuid") and owner.st_uid != os.getuid()
            if not own and (foreign or owner.st_mode & 0o077):
                return None
            data = json.loads(found.read(REQUEST_LIMIT))
        return Address(int(data["port"]), str(data["token"]), int(data["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextlib.contextmanager
def _address_locked(cache_dir: Path) -> Iterator[None]:
    """The address file is this block's alone among daemons: one that ends does not remove
    the address a newer one has just written. Where the lock cannot be had (no such lock on
    this system or disk, or held for ``LOCK_SECONDS`` by another), the block runs all the
    same."""
    try:
        import fcntl

        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(cache_dir / ADDRESS_LOCK, flags, 0o600)
    except (ImportError, OSError):
        yield
        return
    try:
        deadline = time.monotonic() + LOCK_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            except OSError:  # a disk without such locks
                break
        yield
    finally:
        os.close(fd)


def write_address(cache_dir: Path, address: Address) -> bool:
    """Leave ``address`` in the cache folder, readable by this user only (written whole under
    a new name, then moved into place, so that a build never reads half of it). Whether a
    build will trust it: False where the disk cannot keep it from other users."""
    with _address_locked(cache_dir):
        _write_address(cache_dir, address)
        return read_address(cache_dir) == address


def _write_address(cache_dir: Path, address: Address) -> None:
    target = address_file(cache_dir)
    part = target.with_name(f".{ADDRESS_FILE}.{secrets.token_hex(8)}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(part, flags, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"port": address.port, "token": address.token, "pid": address.pid}, out)
        os.replace(part, target)
    except OSError:
        with contextlib.suppress(OSError):
            part.unlink()
        raise


def remove_address(cache_dir: Path, address: Address) -> None:
    """Remove the address file if it is still ``address`` (a newer daemon's is left alone)."""
    with contextlib.suppress(OSError), _address_locked(cache_dir):
        if read_address(cache_dir, own=True) == address:
            address_file(cache_dir).unlink()


def proof(token: str, text: str) -> str:
    """What shows the knowledge of ``token`` without sending it: its HMAC of ``text``."""
    return hmac.new(token.encode(), text.encode(), hashlib.sha256).hexdigest()


def proven(token: str, text: str, given: object) -> bool:
    """Whether ``given`` is ``proof(token, text)`` (compared in constant time)."""
    return isinstance(given, str) and hmac.compare_digest(
        given.encode(), proof(token, text).encode()
    )


# the libraries whose code shapes the output (their import names)
LIBRARIES = ("jinja2", "markupsafe", "markdown", "nh3", "PIL", "pypinyin", "yaml", "strokes")


@functools.cache
def version() -> str:
    """The code a build runs: the generator's (the digest of its files), the interpreter, and
    where each library that shapes the output is, with the time of that file (another
    version installed is another file). A daemon that loaded other code does not build."""
    parts = [code_digest(), sys.version, sys.prefix]
    for name in LIBRARIES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        origin = spec.origin if spec is not None and spec.origin else ""
        try:
            stamp = os.stat(origin).st_mtime_ns if origin else 0
        except OSError:
            stamp = 0
        parts.append(f"{name}:{origin}:{stamp}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def environment() -> dict[str, str]:
    return {name: os.environ.get(name, "").strip() for name in ENVIRONMENT}


def absolute(options: BuildOptions) -> BuildOptions:
    """``options`` with absolute paths: the daemon does not stand where the build does."""
    cache_dir = Path(os.path.abspath(options.cache_dir)) if options.cache_dir else None
    return dataclasses.replace(
        options,
        source=Path(os.path.abspath(options.source)),
        output=Path(os.path.abspath(options.output)),
        cache_dir=cache_dir,
    )


def request(options: BuildOptions) -> dict[str, Any]:
    """What a build asks of the daemon: its options, the version of the code and the
    environment it would build with."""
    asked = absolute(options)
    return {
        "options": {
            "source": str(asked.source),
            "output": str(asked.output),
            "cache_dir": str(asked.cache_dir) if asked.cache_dir else None,
            "drafts": asked.drafts,
            "strict": asked.strict,
            "workers": asked.workers,
            "force": asked.force,
        },
        "code": version(),
        "environment": environment(),
    }


def options_of(asked: Mapping[str, Any]) -> BuildOptions:
    """The build options of a request (see ``request``)."""
    cache_dir = asked["cache_dir"]
    return BuildOptions(
        source=Path(str(asked["source"])),
        output=Path(str(asked["output"])),
        drafts=bool(asked["drafts"]),
        strict=bool(asked["strict"]),
        cache_dir=Path(str(cache_dir)) if cache_dir else None,
        workers=int(asked["workers"]),
        force=bool(asked["force"]),
    )


def ask(
    options: BuildOptions,
    waiting: Callable[[], None] | None = None,
    locked: Callable[[str], None] | None = None,
) -> BuildReport | None:
    """The report of the build of ``options`` made by the daemon of its cache folder; None
    when no daemon there can make it (none runs, or it runs other code, in another
    environment, for another site): the caller then builds itself. ``waiting`` is called
    once when the daemon is slow to say it received the request, ``locked`` with the folder
    when the daemon waits for another build that uses it."""
    if options.cache_dir is None or options.edition_year is not None:
        return None
    address = read_address(options.cache_dir)
    if address is None or not running(address.pid):
        return None
    answer = exchange(address, request(options), waiting, locked)
    found = answer.get("report") if answer is not None else None
    return report_of(found) if isinstance(found, dict) else None


def running(pid: int) -> bool:
    """Whether the process ``pid`` still runs (where that can be asked; else True)."""
    if not hasattr(os, "getuid"):
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's: not ours, the address is stale
        return False
    return True


def exchange(
    address: Address,
    message: Mapping[str, Any],
    waiting: Callable[[], None] | None = None,
    locked: Callable[[str], None] | None = None,
) -> dict[str, Any] | None:
    """Send ``message`` to the daemon at ``address``, proving that this user sent it (and
    sent it as it is), and wait for its answer (as long as a build takes) once the daemon
    proved it is the one that wrote the address; None without that proof within
    ``ACK_SECONDS`` (nothing listens there, or something else, or a daemon that is
    stopped: the daemon then leaves the request alone) or without an answer. ``waiting``
    is called once if the proof takes more than ``NOTICE_SECONDS``; ``locked`` with each
    folder the daemon says it waits for (``{"waiting": folder}`` lines before the answer),
    and with the site's folder when the daemon is busy with another build (``busy`` in its
    acknowledgement)."""
    signed = {**message, "nonce": secrets.token_hex(16)}
    signed["proof"] = proof(address.token, signed_text(signed))
    try:
        with socket.create_connection((HOST, address.port), timeout=ACK_SECONDS) as conn:
            send_line(conn, signed)
            ack, rest = _first_reply(conn, waiting)
            if not proven(address.token, "daemon:" + signed["nonce"], ack.get("ack")):
                return None
            conn.settimeout(None)  # a build takes as long as it takes
            if isinstance(ack.get("busy"), str) and locked is not None:
                with contextlib.suppress(OSError):  # the daemon builds for another first
                    locked(ack["busy"])
            answer = None
            for line in _lines_after(conn, rest):
                answer = json.loads(line or b"null")
                if not (isinstance(answer, dict) and isinstance(answer.get("waiting"), str)):
                    break
                if locked is not None:
                    with contextlib.suppress(OSError):  # a closed stderr: the build waits on
                        locked(answer["waiting"])
    except (OSError, ValueError, RecursionError, AttributeError):
        return None
    return answer if isinstance(answer, dict) else None


def _lines_after(conn: socket.socket, rest: bytes) -> Iterator[bytes]:
    """The lines received on ``conn`` (each of at most ``LINE_LIMIT`` bytes), ``rest`` being
    what was read after the acknowledgement."""
    with conn.makefile("rb") as replies:
        while True:
            if b"\n" not in rest:
                more = replies.readline(LINE_LIMIT)
                if not more:
                    return
                if len(rest) + len(more) > LINE_LIMIT:
                    raise ValueError("an answer too long")
                rest += more
            line, _, rest = rest.partition(b"\n")
            yield line


def _first_reply(
    conn: socket.socket, waiting: Callable[[], None] | None
) -> tuple[dict[str, Any], bytes]:
    """The daemon's acknowledgement (within ``ACK_SECONDS``; ``waiting`` called once after
    ``NOTICE_SECONDS``), and what was read after it. Raises OSError or ValueError."""
    line, rest = read_line(conn, ACK_SECONDS, waiting)
    ack = json.loads(line)
    if not isinstance(ack, dict):
        raise ValueError("not an acknowledgement")
    return ack, rest


def read_line(
    conn: socket.socket, seconds: float, waiting: Callable[[], None] | None = None
) -> tuple[bytes, bytes]:
    """The first line received on ``conn`` (at most ``REQUEST_LIMIT`` bytes, all within
    ``seconds``), and what came after it; ``waiting`` is called once after
    ``NOTICE_SECONDS``. Raises TimeoutError, or ConnectionError when ``conn`` closes."""
    started = time.monotonic()
    data = b""
    while b"\n" not in data:
        now = time.monotonic() - started
        if now >= seconds or len(data) > REQUEST_LIMIT:
            raise TimeoutError("no line")
        if waiting is not None and now >= NOTICE_SECONDS:
            waiting()
            waiting = None
        until = NOTICE_SECONDS if waiting is not None else seconds
        conn.settimeout(max(until - now, 0.01))
        try:
            chunk = conn.recv(REQUEST_LIMIT)
        except TimeoutError:
            continue
        if not chunk:
            raise ConnectionError("closed before the end of the line")
        data += chunk
    line, _newline, rest = data.partition(b"\n")
    return line, rest


def signed_text(message: Mapping[str, Any]) -> str:
    """What the proof of a request covers: the whole request but the proof, as canonical
    JSON (its nonce makes each one new)."""
    unsigned = {key: value for key, value in message.items() if key != "proof"}
    return "build:" + json.dumps(unsigned, sort_keys=True)


def send_line(conn: socket.socket, message: Mapping[str, Any]) -> None:
    conn.sendall(json.dumps(message, ensure_ascii=False).encode() + b"\n")


def report_json(report: BuildReport) -> dict[str, Any]:
    """``report`` as JSON values (``report_of`` makes it again)."""
    return {
        "ok": report.ok,
        "diagnostics": [[d.path, *d.as_row()] for d in report.diagnostics],
        "pages": report.pages,
        "html": report.html,
        "files": report.files,
        "removed": report.removed,
        "seconds": report.seconds,
        "language": report.language,
        "counts": report.counts,
        "stages": report.stages,
    }


def report_of(data: Mapping[str, Any]) -> BuildReport | None:
    """The report ``report_json`` gave ``data``; None if it is not one."""
    try:
        rows = data["diagnostics"]
        diagnostics = tuple(Diagnostic.from_row(str(row[0]), row[1:]) for row in rows)
        return BuildReport(
            bool(data["ok"]),
            diagnostics,
            pages=int(data["pages"]),
            html=int(data.get("html", 0)),
            files=int(data["files"]),
            removed=int(data.get("removed", 0)),
            seconds=float(data["seconds"]),
            language=str(data["language"]),
            counts={str(k): int(v) for k, v in data["counts"].items()},
            stages={str(k): float(v) for k, v in data["stages"].items()},
        )
    except (KeyError, TypeError, ValueError, AssertionError, AttributeError):
        return None
