"""Limits on one page rendered by a site's own templates.

A site's templates are content. Jinja's sandbox refuses what would reach outside them, and
``theme.SafeEnvironment`` bounds ``*`` and ``**``; but a template can still loop for ever
(loops nested in loops) or fill the memory (``"x".ljust(…)``, a text doubled in a loop),
in ways no check of single operations sees ahead of time. So such pages render in worker
processes (``pool``), each limited here:

- its address space, to what it held when it started plus ``PAGE_MEMORY``: an allocation
  beyond fails with ``MemoryError``, which ends that page alone;
- the processor time of each page, to ``PAGE_SECONDS``: the page is interrupted with
  ``TooSlow`` (a timer of the process's own processor time, so a busy machine does not
  make a page late).

Both are reported as the page's template fault, with the template's line it had reached.
Where processes cannot be forked (not Linux, nor any Unix), pages render unlimited in the
build's process.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from types import FrameType

PAGE_SECONDS = 10  # processor seconds one page's templates may take
PAGE_MEMORY = 512 * 1024 * 1024  # bytes a worker may allocate beyond what it held at start

# what this process limits each page to ("seconds"), once it is a limited worker
_limits: dict[str, float] = {}


class TooSlow(Exception):
    """A page's templates took longer than ``PAGE_SECONDS`` of processor time."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"over {seconds:g} s")
        self.seconds = seconds


def limit_worker() -> None:
    """Limit this process (a worker that renders a site's own templates): its address space
    to what it maps now plus ``PAGE_MEMORY`` bytes, and each ``page`` to ``PAGE_SECONDS`` of
    processor time. Where the system has no such limits, nothing is limited."""
    try:
        import resource
        import signal
    except ImportError:  # not a Unix
        return
    if not hasattr(signal, "setitimer"):
        return
    mapped = _mapped_bytes()
    if mapped:
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        wanted = mapped + PAGE_MEMORY
        if hard == resource.RLIM_INFINITY or wanted < hard:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    signal.signal(signal.SIGPROF, _too_slow)
    _limits["seconds"] = PAGE_SECONDS


def _mapped_bytes() -> int:
    """The address space this process maps now, in bytes; 0 where the system does not say."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return 0


def _too_slow(_signum: int, _frame: FrameType | None) -> None:
    raise TooSlow(_limits["seconds"])


@contextlib.contextmanager
def page() -> Iterator[None]:
    """Rendering one page: interrupted with ``TooSlow`` after ``PAGE_SECONDS`` of processor
    time in a limited worker (``limit_worker``); unlimited elsewhere."""
    seconds = _limits.get("seconds")
    if seconds is None:
        yield
        return
    import signal

    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
