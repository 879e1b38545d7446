"""Serving on every core: one process per core, each with its own ``SO_REUSEPORT``
listener on the same port, and a table in shared memory that every worker reads.

A WebSocket session is one TCP connection, so its run lives in the process that accepted
it.  The kernel spreads new connections over the listeners by a hash of their addresses:
even on average, uneven in small numbers.  Each worker therefore looks at the table before
it takes a session: if it already holds more than the least busy worker, it answers
close code 1013 with reason ``rebalance`` and the client reconnects at once; its new
source port hashes afresh, usually to another worker.  After a few tries the client says so
(``?try=N``) and is taken wherever it lands.  Capacity is the whole server's: a worker
refuses with ``busy`` when the table's total reaches ``max_sessions``.

The parent process only supervises: it starts the workers, restarts one that dies, and
passes SIGTERM on, so each worker's sessions get their last ``stopped`` status.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIELDS = 4  # per worker: pid, sessions, rss kB, heartbeat (monotonic seconds)
#: A client that has been sent elsewhere this many times is taken wherever it lands.
MAX_TRIES = 8


def default_workers() -> int:
    """The container's CPU quota (cgroup v2 ``cpu.max``) or the cores this process may use."""
    env = os.environ.get("BACKPROP_WORKERS")
    if env:
        return max(1, int(env))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            return max(1, min(cores or 1, round(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores or 1)


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


def listener(host: str, port: int) -> socket.socket:
    """A listening socket that shares its port with the other workers' (SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _worker(slot: int, array: Any, lock: Any, host: str, port: int) -> None:
    from app.cli import run_server

    table = WorkerTable(array, slot, lock)
    table.set(slot, os.getpid(), 0, rss_kb())
    run_server(host, port, table=table, sockets=[listener(host, port)])


def serve_workers(host: str, port: int, workers: int) -> None:
    """Start ``workers`` worker processes and supervise them until SIGTERM or SIGINT."""
    ctx = mp.get_context("spawn")
    table = WorkerTable.create(workers, ctx)
    # Bind once here first, so a port in use fails now, with a clear message.
    listener(host, port).close()
    procs: dict[int, Any] = {}
    stopping = False

    def start(slot: int) -> None:
        p = ctx.Process(
            target=_worker, args=(slot, table.array, table.lock, host, port), daemon=False
        )
        p.start()
        procs[slot] = p

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for p in procs.values():
            if p.is_alive() and p.pid:
                os.kill(p.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for slot in range(workers):
        start(slot)
    print(f"backprop-lab: {workers} workers on http://{host}:{port}", file=sys.stderr)
    while not stopping:
        time.sleep(0.5)
        for slot, p in list(procs.items()):
            if not p.is_alive() and not stopping:
                print(f"backprop-lab: worker {slot} (pid {p.pid}) exited with {p.exitcode}; "
                      "starting a new one", file=sys.stderr)
                table.set(slot, 0, 0, 0)
                start(slot)
    deadline = time.monotonic() + 10
    for p in procs.values():
        p.join(max(0.1, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
