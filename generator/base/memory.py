"""The memory of this process: how much it holds, and handing back to the system what it
freed.

Python frees a build's temporary objects into the C library's heap, which keeps the pages
for later allocations: the process's resident memory stays at its high-water mark. A large
build frees much at a few points (the source files' front matter once the site is modelled,
the postings of the search index once its files are written), and what it allocates next
lands in the holes first. ``give_back`` asks the C library to return its free pages to the
system there (glibc's ``malloc_trim``: a few milliseconds at 10,000 documents), so that the
next stage's memory is counted only once in the process's peak.
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
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, found among the process's own symbols; None without it
    (musl, macOS, Windows)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes  # imported when first needed: a Python may be built without it

        found: Callable[[int], int] | None = getattr(ctypes.CDLL(None), "malloc_trim", None)
    except (ImportError, OSError):
        return None
    return found
