"""Giving a closed MNIST session's memory back to the system.

An MNIST run holds tens to hundreds of megabytes (a float32 copy of the training set,
the weights, their gradients and the optimizer's moments). Two things keep them after
its session ended:

- the run is still reachable from a reference cycle: the traceback of the cancellation
  or disconnect that ended the session holds the frames that held the run, and only the
  cycle collector frees that (at its own pace, which may be never for a quiet worker);
- glibc's ``malloc`` keeps freed memory in its heaps for the next allocation, so the
  worker's resident memory stays at its peak. ``malloc_trim(0)`` hands the free pages
  of every heap back.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or ``None`` on a C library without one (musl, macOS)."""
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_freed_memory() -> bool:
    """Free what only cycles still hold, then return the heaps' free pages to the system;
    ``False`` where the C library cannot (the cycles are freed all the same)."""
    gc.collect()
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
