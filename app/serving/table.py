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

The lock is an ``flock(2)`` on a file (:class:`TableLock`), not a semaphore: the kernel
drops it when its holder's process ends, however it ends, so a worker killed inside it
(SIGKILL, the OOM killer) cannot stop the others.  A worker that stops *inside* it (a
SIGSTOP, a hung process) is waited for only a bounded time (:data:`LOCK_SECONDS`) and is
soon killed by the supervisor's watchdog: each worker writes a heartbeat into its row from
its event loop (:data:`HEARTBEAT_SECONDS`), and the supervisor replaces one whose heartbeat
is older than ``BACKPROP_WORKER_TIMEOUT``.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import multiprocessing as mp
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: per worker: pid, sessions, rss kB, heartbeat (monotonic milliseconds), settled connections
FIELDS = 5
PID, SESSIONS, RSS, HEARTBEAT, SETTLED = range(FIELDS)
#: How often a worker's event loop writes its heartbeat (and its memory) into its row.
HEARTBEAT_SECONDS = 0.5
#: The longest a worker waits for the table's lock before it decides without it (a new
#: session is then refused as busy: never two workers in the last place).
LOCK_SECONDS = 1.0
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


def now_ms() -> int:
    """The heartbeat clock: CLOCK_MONOTONIC is one clock for every process of the machine."""
    return int(time.monotonic() * 1000)


class TableLock:
    """An exclusive ``flock(2)`` on the file at ``path``, shared by the processes that open it.

    Each process opens the file itself (flock excludes *open files*; a descriptor inherited
    or passed along would share the holder's), so only the path travels to a new worker.
    The kernel releases the lock when the holding process dies.  Within a process, a thread
    lock must serialise the callers (:class:`app.state.AppState` keeps one).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = -1
        self._pid = 0

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path, self._fd, self._pid = state["path"], -1, 0

    def _file(self) -> int:
        if self._pid != os.getpid():  # first use in this process
            self._fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)
            self._pid = os.getpid()
        return self._fd

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        """Take the lock: at once if ``block`` is false, else within ``timeout`` seconds
        (None: however long it takes).  Polled, so a wait is never longer than asked."""
        fd = self._file()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if not block or (deadline is not None and time.monotonic() >= deadline):
                    return False
                time.sleep(0.001)

    def release(self) -> None:
        fcntl.flock(self._file(), fcntl.LOCK_UN)

    def __enter__(self) -> TableLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def remove(self) -> None:
        """Delete the file (the supervisor, when it stops)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


@dataclass
class WorkerTable:
    """The shared table: one row of :data:`FIELDS` integers per worker."""

    array: Any  # a multiprocessing RawArray of c_long
    slot: int = -1  # this process's row (-1: the parent)
    #: Held while a worker decides on a new session and writes its row, so two workers
    #: deciding at the same moment cannot both take the last place (one capacity), and
    #: while the supervisor reads the rows to place a connection.
    lock: TableLock | None = None
    #: The supervisor's last try at the lock failed: a holder is stuck (until the watchdog
    #: kills it), so placements try once instead of waiting each time.
    missed: bool = False

    @classmethod
    def create(cls, workers: int, ctx: Any = mp) -> WorkerTable:
        fd, path = tempfile.mkstemp(prefix=f"backprop-lab-{os.getpid()}-", suffix=".lock")
        os.close(fd)
        return cls(ctx.RawArray(ctypes.c_long, workers * FIELDS), lock=TableLock(path))

    @property
    def workers(self) -> int:
        return len(self.array) // FIELDS

    def row(self, k: int) -> list[int]:
        return list(self.array[k * FIELDS : (k + 1) * FIELDS])

    def set(self, k: int, pid: int, sessions: int, rss_kb: int, settled: int = 0) -> None:
        base = k * FIELDS
        self.array[base : base + FIELDS] = [pid, sessions, rss_kb, now_ms(), settled]

    def beat(self, k: int, rss_kb: int) -> None:
        """A worker's heartbeat and current memory: its own row's two words, no lock (the
        row's other fields do not depend on them)."""
        self.array[k * FIELDS + RSS] = rss_kb
        self.array[k * FIELDS + HEARTBEAT] = now_ms()

    def silent_ms(self, k: int) -> int:
        """Milliseconds since worker ``k`` last wrote its row."""
        return now_ms() - self.array[k * FIELDS + HEARTBEAT]

    def live_rows(self) -> list[tuple[int, list[int]]]:
        """The rows of the workers that are serving (a worker writes its pid once it is
        ready for connections; the supervisor clears the row of one that died)."""
        return [(k, r) for k in range(self.workers) if (r := self.row(k))[PID] > 0]

    def total_sessions(self) -> int:
        return sum(r[SESSIONS] for _, r in self.live_rows())

    def loads(self, handed: Sequence[int]) -> dict[int, int]:
        """Each serving worker's sessions plus the connections in flight to it, ``handed``
        being how many the supervisor has handed to each since it started."""
        # A worker stopped while holding the lock would hold up every placement: after a
        # moment, read without it (a torn row only misjudges one connection).
        locked = self.lock is not None and self.lock.acquire(timeout=0 if self.missed else 0.2)
        self.missed = self.lock is not None and not locked
        try:
            return {k: r[SESSIONS] + handed[k] - r[SETTLED] for k, r in self.live_rows()}
        finally:
            if locked and self.lock is not None:
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
