"""The memory of this process: how much it holds, and handing back to the system what it
freed.

Python frees a build's temporary objects into the C library's heap, which keeps the pages
for later allocations: the process's resident memory stays at its high-water mark. A large
build frees much at a few points (the source files' front matter once the site is modelled,
the postings of the search index once its files are written), and what it allocates next
lands in the holes first. ``give_back`` asks the C library to return its free pages to the
system there (glibc's ``malloc_trim``: a few milliseconds at 10,000 documents), so that the
next stage's memory is counted only once in the process's peak.

A one-off build does the opposite between those points: it allocates and frees arrays and
buffers of a few megabytes again and again. glibc maps the first of a size from the system
and unmaps it when freed; the next ones come from the heap, whose free top it gives back as
soon as it passes a threshold, and the pages are faulted in anew each time (about 220,000
page faults in a cold build of 10,000 documents, half a second of system time).
``keep_freed_pages`` sets both thresholds at once where glibc's own adjustment would raise
them at most, so that such a process keeps those pages for its next allocations;
``give_back`` still returns them where it is called. Only a process that ends after its
command asks for it: ``showcase`` itself says so (``mark_one_off``); a process that runs
commands in turn (the tests) does not.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable


def resident_bytes() -> int:
    """The memory this process uses now (its resident set), in bytes; its peak where the
    system does not say (not Linux); 0 where neither is known (Windows)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    try:
        import resource  # not on Windows
    except ImportError:
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) * (1 if sys.platform == "darwin" else 1024)


def give_back() -> bool:
    """Return the C library's free heap pages to the system; whether that could be asked
    (glibc alone can: elsewhere nothing is done)."""
    trim = _libc_function("malloc_trim")
    if trim is None:
        return False
    trim(0)
    return True


# glibc's mallopt parameters, and what a one-off build sets them to: the most its own
# adjustment reaches on a 64-bit system (a worker forked from the build, limited by
# RLIMIT_DATA, may thus hold no more than it could without them)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_KEPT = (
    (_M_MMAP_THRESHOLD, 32 << 20),  # blocks below 32 MiB come from the heap
    (_M_TRIM_THRESHOLD, 64 << 20),  # the heap's free top is kept up to 64 MiB
)
_one_off = False  # whether this process ends after its command (``mark_one_off``)


def mark_one_off() -> None:
    """Say that this process ends after its command (the ``showcase`` command does), so
    that a build it makes keeps the pages it frees (``keep_freed_pages_if_one_off``)."""
    global _one_off
    _one_off = True


def keep_freed_pages_if_one_off() -> bool:
    """``keep_freed_pages`` in a process marked by ``mark_one_off``; whether it was done."""
    return _one_off and keep_freed_pages()


def keep_freed_pages() -> bool:
    """Have the C library keep the pages this process frees, for its next allocations, rather
    than give each back to the system at once (glibc alone: elsewhere nothing is done);
    whether it could be asked. For a process that ends after one build: a long-lived one
    would keep its largest heap for ever."""
    mallopt = _libc_function("mallopt")
    if mallopt is None:
        return False
    done = [mallopt(parameter, value) == 1 for parameter, value in _KEPT]  # each is tried
    return all(done)


@functools.cache
def _libc_function(name: str) -> Callable[..., int] | None:
    """A function of glibc (``malloc_trim``, ``mallopt``), found among the process's own
    symbols; None without it (musl, macOS, Windows)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes  # imported when first needed: a Python may be built without it

        found: Callable[..., int] | None = getattr(ctypes.CDLL(None), name, None)
    except (ImportError, OSError):
        return None
    return found
