"""Helper processes that look at the change times of an output's folders while their caller
does other work: the daemon walks the source meanwhile. Python threads would take turns at
every system call (each look at a folder is one); processes of their own look in parallel,
each at its share of the folders.

The caller sends each helper one JSON line per look (the output, and its folders when they
are not the ones of the last look); the helper answers with the number of folders and the
change time of each, in order (-1: gone or not a folder), as ``writer.folder_stamps`` gives
them: 8 bytes each, in the machine's byte order (both processes run on one machine)."""

from __future__ import annotations

import array
import contextlib
import json
import os
import select
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any, BinaryIO

from generator.base.code import helper_process
from generator.output import writer

LOOK_SECONDS = 60.0  # a helper that answers no sooner is taken as stuck (the caller looks)
FAILURES = 3  # helpers that failed so often are not started again (the caller looks)
# helper processes, each looking at a share of the folders: each look at a folder is a system
# call, and two processes make them in parallel (a large site has tens of thousands)
HELPERS = 2


class FolderLookout:
    """The helper processes, ``HELPERS`` of them, each looking at its share of the folders;
    started at the first look and again after one failed (up to ``FAILURES`` times)."""

    def __init__(self) -> None:
        self._children: list[subprocess.Popen[bytes]] = []
        self._failures = 0
        self._sent: list[list[str]] | None = None  # the folders each helper holds
        self._asked: list[list[str]] | None = None  # those of the look not yet answered
        self._expected: Mapping[str, int] | None = None  # their times expected, if given

    def look(self, output: Path, folders: Iterable[str]) -> None:
        """Start looking at ``folders`` of ``output``; ``result`` gives what was found. When
        ``folders`` maps each folder to the time it is expected to have, and every one has
        it, ``result`` gives that very mapping (made into no other)."""
        self._collect()  # the answer to a look nobody asked for is not left in the pipe
        if self._failures >= FAILURES:
            return
        self._expected = folders if isinstance(folders, Mapping) else None
        wanted = list(folders)
        shares = [wanted[n::HELPERS] for n in range(HELPERS)]
        try:
            children = self._started()  # a new helper holds no folders yet
            for number, (child, share) in enumerate(zip(children, shares, strict=True)):
                # the helper runs in another folder: the output's path must not be relative
                message: dict[str, Any] = {"output": str(output.absolute())}
                if self._sent is None or share != self._sent[number]:
                    message["folders"] = share
                assert child.stdin is not None
                _write(child.stdin, json.dumps(message).encode() + b"\n")
        except OSError:
            self._failed()
            return
        self._sent = self._asked = shares

    def result(self) -> Mapping[str, int] | None:
        """The change time of each folder of the last look (see ``writer.folder_stamps``);
        None when there was no look or a helper failed (the caller then looks itself)."""
        asked, self._asked = self._asked, None
        if asked is None or not self._children:
            return None
        expected, self._expected = self._expected, None
        answers: list[array.array[int]] = []
        try:
            for child, share in zip(self._children, asked, strict=True):
                assert child.stdout is not None
                times = array.array("q", _read(child.stdout, 8))
                if times.pop() != len(share):
                    raise ValueError("another number of folders")
                times.frombytes(_read(child.stdout, 8 * len(share)))
                answers.append(times)
        except (OSError, ValueError, EOFError):
            self._failed()
            return None
        if expected is not None and all(
            times == array.array("q", map(expected.__getitem__, share))
            for times, share in zip(answers, asked, strict=True)
        ):
            return expected  # compared as arrays of numbers, not as mappings of folders
        found: dict[str, int] = {}
        for times, share in zip(answers, asked, strict=True):
            found.update(zip(share, times, strict=True))
        return found

    def _failed(self) -> None:
        self._failures += 1
        self.close()

    def _collect(self) -> None:
        if self._asked is not None:
            self.result()

    def _started(self) -> list[subprocess.Popen[bytes]]:
        if any(child.poll() is not None for child in self._children):
            self._failed()  # one ended: its pipes are closed, new ones are started
        if self._failures >= FAILURES:
            raise OSError("the helper failed too often")
        if not self._children:
            command, env, root = helper_process(__name__)
            for _ in range(HELPERS):
                child = subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,  # a failure shows as no answer
                    bufsize=0,
                    env=env,
                    cwd=root,
                )
                self._children.append(child)
                assert child.stdin is not None
                os.set_blocking(child.stdin.fileno(), False)  # writes keep their deadline
        return self._children

    def close(self) -> None:
        """Stop the helpers (a later look starts them again)."""
        children, self._children, self._sent, self._asked = self._children, [], None, None
        for child in children:
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
