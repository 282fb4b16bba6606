"""A helper process that looks at the change times of an output's folders while its caller
does other work: the daemon walks the source meanwhile. Python threads would take turns at
every system call (each look at a folder is one); a process of its own looks in parallel.

The caller sends one JSON line per look (the output, and the folders when they are not the
ones of the last look); the helper answers with the number of folders and the change time of
each, in order (-1: gone or not a folder), as ``writer.folder_stamps`` gives them: 8 bytes
each, in the machine's byte order (both processes run on one machine)."""

from __future__ import annotations

import array
import contextlib
import json
import os
import select
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any, BinaryIO

from generator.base.code import helper_process
from generator.output import writer

LOOK_SECONDS = 60.0  # a helper that answers no sooner is taken as stuck (the caller looks)
FAILURES = 3  # a helper that failed so often is not started again (the caller looks)


class FolderLookout:
    """The helper process, started at the first look and again after it failed (up to
    ``FAILURES`` times)."""

    def __init__(self) -> None:
        self._child: subprocess.Popen[bytes] | None = None
        self._failures = 0
        self._sent: list[str] | None = None  # the folders the helper holds
        self._asked: list[str] | None = None  # those of the look not yet answered

    def look(self, output: Path, folders: Iterable[str]) -> None:
        """Start looking at ``folders`` of ``output``; ``result`` gives what was found."""
        self._collect()  # the answer to a look nobody asked for is not left in the pipe
        if self._failures >= FAILURES:
            return
        wanted = list(folders)
        try:
            child = self._started()  # a new helper holds no folders yet
            # the helper runs in another folder: the output's path must not be relative
            message: dict[str, Any] = {"output": str(output.absolute())}
            if wanted != self._sent:
                message["folders"] = wanted
            assert child.stdin is not None
            _write(child.stdin, json.dumps(message).encode() + b"\n")
        except OSError:
            self._failed()
            return
        self._sent = self._asked = wanted

    def result(self) -> dict[str, int] | None:
        """The change time of each folder of the last look (see ``writer.folder_stamps``);
        None when there was no look or the helper failed (the caller then looks itself)."""
        asked, self._asked = self._asked, None
        if asked is None or self._child is None:
            return None
        assert self._child.stdout is not None
        try:
            times = array.array("q", _read(self._child.stdout, 8))
            if times.pop() != len(asked):
                raise ValueError("another number of folders")
            times.frombytes(_read(self._child.stdout, 8 * len(asked)))
        except (OSError, ValueError, EOFError):
            self._failed()
            return None
        return dict(zip(asked, times, strict=True))

    def _failed(self) -> None:
        self._failures += 1
        self.close()

    def _collect(self) -> None:
        if self._asked is not None:
            self.result()

    def _started(self) -> subprocess.Popen[bytes]:
        if self._child is not None and self._child.poll() is not None:
            self._failed()  # it ended: its pipes are closed, a new one is started
        if self._failures >= FAILURES:
            raise OSError("the helper failed too often")
        if self._child is None:
            command, env, root = helper_process(__name__)
            self._child = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,  # a failure shows as no answer
                bufsize=0,
                env=env,
                cwd=root,
            )
            assert self._child.stdin is not None
            os.set_blocking(self._child.stdin.fileno(), False)  # writes keep their deadline
        return self._child

    def close(self) -> None:
        """Stop the helper (a later look starts it again)."""
        child, self._child, self._sent, self._asked = self._child, None, None, None
        if child is not None:
            child.kill()
            child.wait()
            for pipe in (child.stdin, child.stdout):
                if pipe is not None:
                    pipe.close()


def _write(pipe: IO[bytes], data: bytes) -> None:
    """All of ``data`` to ``pipe``, each part within ``LOOK_SECONDS``."""
    view = memoryview(data)
    while view:
        _, ready, _ = select.select([], [pipe], [], LOOK_SECONDS)
        if not ready:
            raise TimeoutError("the helper does not read")
        with contextlib.suppress(BlockingIOError):  # the pipe filled up meanwhile
            view = view[os.write(pipe.fileno(), view) :]


def _read(pipe: IO[bytes], size: int) -> bytes:
    """Exactly ``size`` bytes of ``pipe``, each part within ``LOOK_SECONDS``."""
    parts: list[bytes] = []
    while size:
        ready, _, _ = select.select([pipe], [], [], LOOK_SECONDS)
        if not ready:
            raise TimeoutError("the helper did not answer")
        part = os.read(pipe.fileno(), min(size, 1 << 20))
        if not part:
            raise EOFError("the helper ended")
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def serve(requests: BinaryIO, answers: BinaryIO) -> None:
    """The helper's side: answer each look until the caller closes the pipe."""
    folders: list[str] = []
    for line in requests:
        message = json.loads(line)
        folders = message.get("folders", folders)
        found = writer.folder_stamps(Path(message["output"]), folders)
        times = array.array("q", [len(folders)])
        times.extend(found.get(rel, -1) if found else -1 for rel in folders)
        answers.write(times.tobytes())
        answers.flush()


if __name__ == "__main__":  # pragma: no cover - run as the helper process
    serve(sys.stdin.buffer, sys.stdout.buffer)
