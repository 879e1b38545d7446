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

import multiprocessing as mp
import os
import signal
import socket
import sys
import time
from typing import Any

from app.serving.table import WorkerTable, rss_kb


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
    from app.serving.server import run_server

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
                print(
                    f"backprop-lab: worker {slot} (pid {p.pid}) exited with {p.exitcode}; "
                    "starting a new one",
                    file=sys.stderr,
                )
                table.set(slot, 0, 0, 0)
                start(slot)
    deadline = time.monotonic() + 10
    for p in procs.values():
        p.join(max(0.1, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
