"""Serving on every core: one worker process per core, and a supervisor that owns the
listening socket and places each connection on the least busy worker.

A WebSocket session is one TCP connection, so its run lives in the process that serves
that connection.  Node's ``cluster`` module shows the way to split them evenly: the
supervisor (this, the parent process) accepts every connection itself and hands the
accepted socket to a worker over a Unix socketpair (``SCM_RIGHTS``, :func:`socket.send_fds`);
the worker attaches it to its uvicorn server (:mod:`app.serving.handoff`).  Every client
is placed on its first connection, a browser, a notebook or a script alike.

"Least busy" is read from a table in shared memory (:mod:`app.serving.table`): a worker's
sessions plus the connections handed to it that its row does not show yet; ties go
round-robin.  HTTP requests are placed the same way (they are short).  A worker is given
connections once it has written its row (it is ready); one that dies is skipped, its row
cleared, and a new one started.  One that stops answering (its heartbeat, written by its
event loop, older than ``BACKPROP_WORKER_TIMEOUT``: a hung loop, a SIGSTOP) is killed and
replaced the same way.  Capacity is the whole server's: a worker refuses a session with
``busy`` when the table's total reaches ``max_sessions``.

On SIGTERM the supervisor stops accepting and passes the signal on, so each worker's
sessions get their last ``stopped`` status; a worker whose supervisor has gone (its
channel ends) shuts down the same way.  The cost of the extra hop is measured by
``bench/bench_placement.py`` (docs/performance.md).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import selectors
import signal
import socket
import sys
import time
from typing import Any

from app.serving.table import PID, TableLock, WorkerTable, least_busy

#: Connections accepted per wake-up before the supervisor looks at its workers again.
ACCEPT_BATCH = 64


def listener(host: str, port: int) -> socket.socket:
    """The server's one listening socket, owned by the supervisor."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _worker(
    slot: int, array: Any, lock: TableLock, channel: socket.socket, host: str, port: int
) -> None:
    from app.serving.server import run_server

    run_server(host, port, table=WorkerTable(array, slot, lock), channel=channel)


class Workers:
    """The worker processes, their channels, and what was handed to each."""

    def __init__(self, count: int, host: str, port: int, timeout: float = 20.0) -> None:
        self.ctx = mp.get_context("spawn")
        self.table = WorkerTable.create(count, self.ctx)
        self.host, self.port = host, port
        self.timeout_ms = int(timeout * 1000)  # a heartbeat older than this: hung
        self.procs: dict[int, Any] = {}
        self.channels: dict[int, socket.socket] = {}
        self.handed = [0] * count
        self.last = count - 1  # the round-robin starts at worker 0

    def start(self, slot: int) -> None:
        # SOCK_SEQPACKET keeps each message (one byte and one socket) apart.
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.table.set(slot, 0, 0, 0)  # before it starts: the new worker writes it when ready
        self.handed[slot] = 0
        p = self.ctx.Process(
            target=_worker,
            args=(slot, self.table.array, self.table.lock, theirs, self.host, self.port),
            daemon=False,
        )
        p.start()
        theirs.close()  # the child has its copy: its exit must close the channel's far end
        ours.setblocking(False)
        self.procs[slot], self.channels[slot] = p, ours

    def drop(self, slot: int) -> None:
        """Forget a worker's channel and row: it gets no more connections."""
        self.table.set(slot, 0, 0, 0)
        if (channel := self.channels.pop(slot, None)) is not None:
            channel.close()

    def ready(self) -> bool:
        return any(r[0] > 0 and k in self.channels for k, r in self.table.live_rows())

    def place(self, conn: socket.socket) -> bool:
        """Hand an accepted connection to the least busy worker; False if none took it."""
        loads = {k: n for k, n in self.table.loads(self.handed).items() if k in self.channels}
        while (slot := least_busy(loads, self.last, len(self.handed))) is not None:
            del loads[slot]
            try:
                socket.send_fds(self.channels[slot], [b"c"], [conn.fileno()])
            except BlockingIOError:  # its queue is full (a stalled worker): try another
                continue
            except OSError:  # it has exited: no more connections until it is replaced
                self.drop(slot)
                continue
            self.handed[slot] += 1
            self.last = slot
            return True
        return False

    def replace_the_dead(self) -> None:
        for slot, p in list(self.procs.items()):
            if not p.is_alive():
                print(
                    f"backprop-lab: worker {slot} (pid {p.pid}) exited with {p.exitcode}; "
                    "starting a new one",
                    file=sys.stderr,
                )
                self.drop(slot)
                self.start(slot)

    def replace_the_hung(self) -> None:
        """Kill and replace each serving worker whose heartbeat is older than the timeout:
        its loop is not turning, so it serves nobody and may hold the table's lock."""
        for slot, p in list(self.procs.items()):
            if self.table.row(slot)[PID] <= 0 or slot not in self.channels:
                continue  # starting (it writes its row when ready) or already dropped
            silent = self.table.silent_ms(slot)
            if silent <= self.timeout_ms or not p.pid:
                continue
            print(
                f"backprop-lab: worker {slot} (pid {p.pid}) has not answered for "
                f"{silent / 1000:.1f} s; killing it and starting a new one",
                file=sys.stderr,
            )
            self.drop(slot)  # no more connections
            os.kill(p.pid, signal.SIGKILL)  # works on a stopped process too
            p.join(5)  # dead before its row is cleared: it cannot write it again
            self.drop(slot)
            self.start(slot)

    def terminate(self) -> None:
        for p in self.procs.values():
            if p.is_alive() and p.pid:
                os.kill(p.pid, signal.SIGTERM)

    def join(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        for p in self.procs.values():
            p.join(max(0.1, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
        for slot in list(self.channels):  # only now: a worker whose channel ends stops
            self.drop(slot)
        if self.table.lock is not None:
            self.table.lock.remove()


def serve_workers(host: str, port: int, workers: int) -> None:
    """Start ``workers`` worker processes and place every connection on one of them until
    SIGTERM or SIGINT."""
    from app.config import load_settings

    sock = listener(host, port)  # bound here first, so a port in use fails now, clearly
    pool = Workers(workers, host, port, load_settings().worker_timeout)
    stopping = False

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        pool.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for slot in range(workers):
        pool.start(slot)
    print(f"backprop-lab: {workers} workers on http://{host}:{port}", file=sys.stderr)
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ)
        supervised = time.monotonic()
        while not stopping:
            # Until a worker is ready, new connections wait in the listen queue.
            if not pool.ready():
                time.sleep(0.05)
            elif selector.select(timeout=0.25):
                accept(sock, pool)
            if time.monotonic() - supervised >= 0.5 and not stopping:
                pool.replace_the_dead()
                pool.replace_the_hung()
                supervised = time.monotonic()
    sock.close()  # stop accepting: the workers are draining their sessions
    pool.join(10)


def accept(sock: socket.socket, pool: Workers) -> None:
    for _ in range(ACCEPT_BATCH):
        try:
            conn, _ = sock.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # e.g. out of file descriptors: leave the rest queued
            return
        with conn:
            pool.place(conn)  # the worker has its own copy; ours closes here
