"""The worker table: one row per worker process in shared memory, and how the supervisor
reads it to place a connection.

A leaf module: the supervisor creates the table and reads it, each worker writes its own
row, and the capacity check (:mod:`app.state`) reads them all.

A worker's load is its sessions plus the connections handed to it that are not settled
yet.  A handed connection is *settled* once the row shows what it became: a session
(counted in ``sessions`` by the same row write), a refusal, a plain HTTP request, or a
closed socket.  The supervisor counts what it handed to each worker; the row counts what
the worker settled; the difference is in flight.  Rows are written and read under the
table's lock, so a connection is never counted twice or not at all, and 30 clients that
connect at once split exactly 15/15.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: per worker: pid, sessions, rss kB, heartbeat (monotonic seconds), settled connections
FIELDS = 5
#: The key of a connection's :class:`Placed` record in its ASGI scope's ``state``.
PLACED = "backprop_lab.placed"


@dataclass(eq=False)
class Placed:
    """One connection the supervisor handed to this worker, until it is settled."""

    transport: Any = None  # the asyncio transport, once attached
    settled: bool = False


def placed_in(scope: Mapping[str, Any]) -> Placed | None:
    """The :class:`Placed` record of the connection an ASGI scope arrived on (none when
    this process accepts its own connections)."""
    placed = scope.get("state", {}).get(PLACED)
    return placed if isinstance(placed, Placed) else None


@dataclass
class WorkerTable:
    """The shared table: one row of :data:`FIELDS` integers per worker."""

    array: Any  # a multiprocessing RawArray of c_long
    slot: int = -1  # this process's row (-1: the parent)
    #: Held while a worker decides on a new session and writes its row, so two workers
    #: deciding at the same moment cannot both take the last place (one capacity), and
    #: while the supervisor reads the rows to place a connection.
    lock: Any = None

    @classmethod
    def create(cls, workers: int, ctx: Any = mp) -> WorkerTable:
        return cls(mp.RawArray(ctypes.c_long, workers * FIELDS), lock=ctx.Lock())

    @property
    def workers(self) -> int:
        return len(self.array) // FIELDS

    def row(self, k: int) -> list[int]:
        return list(self.array[k * FIELDS : (k + 1) * FIELDS])

    def set(self, k: int, pid: int, sessions: int, rss_kb: int, settled: int = 0) -> None:
        base = k * FIELDS
        now = int(time.monotonic())
        self.array[base : base + FIELDS] = [pid, sessions, rss_kb, now, settled]

    def live_rows(self) -> list[tuple[int, list[int]]]:
        """The rows of the workers that are serving (a worker writes its pid once it is
        ready for connections; the supervisor clears the row of one that died)."""
        return [(k, r) for k in range(self.workers) if (r := self.row(k))[0] > 0]

    def total_sessions(self) -> int:
        return sum(r[1] for _, r in self.live_rows())

    def loads(self, handed: Sequence[int]) -> dict[int, int]:
        """Each serving worker's sessions plus the connections in flight to it, ``handed``
        being how many the supervisor has handed to each since it started."""
        # A worker killed while holding the lock would stop every placement: after a
        # moment, read without it (a torn row only misjudges one connection).
        locked = self.lock is not None and self.lock.acquire(timeout=0.2)
        try:
            return {k: r[1] + handed[k] - r[4] for k, r in self.live_rows()}
        finally:
            if locked:
                self.lock.release()


def least_busy(loads: Mapping[int, int], last: int, workers: int) -> int | None:
    """The worker with the lowest load; ties go round-robin, to the first one after
    ``last`` (the previous choice).  None when no worker is serving."""
    if not loads:
        return None
    low = min(loads.values())
    return next(
        k for i in range(1, workers + 1) if loads.get(k := (last + i) % workers, low + 1) == low
    )


def rss_kb() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except (OSError, ValueError, IndexError):
        return 0
