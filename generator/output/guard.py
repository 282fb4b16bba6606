"""Limits on one page rendered by a site's own templates.

A site's templates are content. Jinja's sandbox refuses what would reach outside them, and
``theme.SafeEnvironment`` bounds ``*`` and ``**``; but a template can still loop for ever
(loops nested in loops) or fill the memory (``"x".ljust(…)``, a text doubled in a loop),
in ways no check of single operations sees ahead of time. So such pages render in worker
processes (``pool``), each limited here:

- the memory it may write (``RLIMIT_DATA``: not its stack, which a deep recursion grows),
  to what it held when it started plus ``PAGE_MEMORY``: an allocation beyond fails with
  ``MemoryError``, which ends that page alone;
- the processor time of each page, to ``PAGE_SECONDS``: the page is interrupted with
  ``TooSlow`` (a timer of the process's own processor time, so a busy machine does not
  make a page late).

Both are reported as the page's template fault, with the template's line it had reached.
A page stuck inside one operation of the C library, where Python cannot interrupt it, is
ended by the system after ``BACKSTOP`` times its seconds (``RLIMIT_CPU``), worker and all.
Where processes cannot be forked (not Linux, nor any Unix), pages render unlimited in the
build's process.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
from collections.abc import Iterator
from types import FrameType

PAGE_SECONDS = 10  # processor seconds one page's templates may take
PAGE_MEMORY = 512 * 1024 * 1024  # bytes a worker may allocate beyond what it held at start

# what this process limits each page to ("seconds"), once it is a limited worker
_limits: dict[str, float] = {}


class TooSlow(BaseException):
    """A page's templates took longer than ``PAGE_SECONDS`` of processor time. Not an
    ``Exception``: what a template calls (a Jinja test, a filter) may catch those, and the
    page would go on."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"over {seconds:g} s")
        self.seconds = seconds


def limit_worker() -> None:
    """Limit this process (a worker that renders a site's own templates): the memory it may
    write to what it holds now plus ``PAGE_MEMORY`` bytes, and each ``page`` to ``PAGE_SECONDS`` of
    processor time. Where the system has no such limits, nothing is limited."""
    try:
        import resource
    except ImportError:  # not a Unix
        return
    if not hasattr(signal, "setitimer"):
        return
    held = _data_bytes()
    if held:
        _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        wanted = held + PAGE_MEMORY
        if hard == resource.RLIM_INFINITY or wanted < hard:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_DATA, (wanted, hard))
    signal.signal(signal.SIGPROF, _too_slow)
    # Ended at once when the build stops its workers, even inside a long operation of the C
    # library (Python's handlers run between two steps of Python only); Ctrl+C is the
    # build's to handle, which then stops them so.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(ValueError, OSError):  # no core file of a worker ended so
        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    _limits["seconds"] = PAGE_SECONDS


def _data_bytes() -> int:
    """The memory this process may write that it maps now (its data and stack: what
    ``RLIMIT_DATA`` counts, and a little more), in bytes; 0 where the system does not say."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[5]) * os.sysconf("SC_PAGE_SIZE")
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
    _end_by(BACKSTOP * seconds)
    # again every second after the first: once more if something caught it all the same
    signal.setitimer(signal.ITIMER_PROF, seconds, 1.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)


BACKSTOP = 3  # times ``PAGE_SECONDS`` after which the system ends a page's worker


def _end_by(seconds: float) -> None:
    """Have the system end this process once it has used ``seconds`` more processor time
    (``RLIMIT_CPU``): a page inside one long operation of the C library (comparing huge
    texts) never returns to Python, where ``TooSlow`` is raised. The build then stops with
    ``pool.WorkerLost``."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    wanted = math.ceil(usage.ru_utime + usage.ru_stime + seconds)
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard == resource.RLIM_INFINITY or wanted < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_CPU, (wanted, hard))
