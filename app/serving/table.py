"""The worker table: one row per worker process in shared memory, read by every worker.

A leaf module: the supervisor creates the table, each worker writes its own row, and the
capacity check (:mod:`app.state`) reads them all.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import time
from dataclasses import dataclass
from typing import Any

FIELDS = 4  # per worker: pid, sessions, rss kB, heartbeat (monotonic seconds)
#: A client that has been sent elsewhere this many times is taken wherever it lands.
MAX_TRIES = 8


@dataclass
class WorkerTable:
    """The shared table: one row of :data:`FIELDS` integers per worker."""

    array: Any  # a multiprocessing RawArray of c_long
    slot: int = -1  # this process's row (-1: the parent)
    #: Held while a worker decides on a new session and writes its row, so two workers
    #: deciding at the same moment cannot both take one (an exact split, one capacity).
    lock: Any = None

    @classmethod
    def create(cls, workers: int, ctx: Any = mp) -> WorkerTable:
        return cls(mp.RawArray(ctypes.c_long, workers * FIELDS), lock=ctx.Lock())

    @property
    def workers(self) -> int:
        return len(self.array) // FIELDS

    def row(self, k: int) -> list[int]:
        return list(self.array[k * FIELDS : (k + 1) * FIELDS])

    def set(self, k: int, pid: int, sessions: int, rss_kb: int) -> None:
        base = k * FIELDS
        self.array[base : base + FIELDS] = [pid, sessions, rss_kb, int(time.monotonic())]

    def live_rows(self) -> list[tuple[int, list[int]]]:
        return [(k, r) for k in range(self.workers) if (r := self.row(k))[0] > 0]

    def total_sessions(self) -> int:
        return sum(r[1] for _, r in self.live_rows())

    def should_pass_on(self, mine: int) -> bool:
        """Whether another worker holds fewer sessions than this one (which holds ``mine``)."""
        others = [r[1] for k, r in self.live_rows() if k != self.slot]
        return bool(others) and mine > min(others)


def rss_kb() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except (OSError, ValueError, IndexError):
        return 0
