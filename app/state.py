"""Process-wide state shared by the routes: settings, the capacity limiter, counters."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import anyio

from app.config import Settings
from app.digits.store import ModelStore
from app.serving.table import LOCK_SECONDS, Placed, WorkerTable, rss_kb
from app.session.engine import Engine

log = logging.getLogger("backprop_lab.serving")


@dataclass
class AppState:
    settings: Settings
    limiter: anyio.CapacityLimiter
    models: ModelStore
    sessions: int = 0
    #: Set when the server begins to shut down: sessions send a last status and close.
    stopping: asyncio.Event | None = None
    loop: asyncio.AbstractEventLoop | None = None
    #: With several worker processes: the shared table of every worker's sessions.
    table: WorkerTable | None = None
    #: Connections the supervisor handed to this worker that are settled (see
    #: :mod:`app.serving.table`): published with the sessions, in the same row.
    settled: int = 0
    #: This process's resident memory as last read (by the heartbeat), for its row.
    memory_kb: int = 0
    #: Sessions in this process whose run is training right now (they share its cores).
    training: int = 0
    #: The threads that classify drawings (``settings.predict_threads``), none of them
    #: shared with training.
    predict_limiter: anyio.CapacityLimiter | None = None
    #: Trains every playground session of this process in stacks.
    engine: Engine | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def begin_shutdown(self) -> None:
        """Thread- and signal-safe: wake every session's shutdown watcher."""
        if self.loop is not None and self.stopping is not None:
            self.loop.call_soon_threadsafe(self.stopping.set)

    def total_sessions(self) -> int:
        return self.table.total_sessions() if self.table is not None else self.sessions

    def open_session(self, placed: Placed | None = None) -> str:
        """``"ok"``, or ``"busy"`` when the whole server is full.  ``placed``: the
        connection the session came on, settled in the same row write as its verdict."""
        with self._locked() as held:
            self._settle(placed)
            if not held or self.total_sessions() >= self.settings.max_sessions:
                self._publish()
                return "busy"
            self.sessions += 1
            self._publish()
            return "ok"

    def close_session(self) -> None:
        with self._locked():
            self.sessions -= 1
            self._publish()

    def settle(self, placed: Placed) -> None:
        """A handed connection turned out not to be a session (an HTTP request, a refused
        or closed socket): the supervisor stops counting it as in flight here."""
        if placed.settled:  # most often, by its session: nothing to write
            return
        with self._locked():
            if self._settle(placed):
                self._publish()

    def publish(self) -> None:
        """Write this worker's row: a worker does so first when it is ready to serve."""
        self.memory_kb = rss_kb()
        with self._locked():
            self._publish()

    def beat(self) -> None:
        """The heartbeat, from the event loop: this worker's row shows it is alive and
        how much memory it holds now."""
        if self.table is not None:
            self.memory_kb = rss_kb()
            self.table.beat(self.table.slot, self.memory_kb)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[bool]:
        """This process's lock, and the table's for up to :data:`LOCK_SECONDS`; yields
        whether the table's is held.  Without it a worker still writes its own row (a
        closed session, a settled connection: the others then see too much load, never
        too little) but takes no new session."""
        shared = self.table.lock if self.table is not None else None
        with self._lock:
            held = shared is None or shared.acquire(timeout=LOCK_SECONDS)
            if not held:
                log.warning("the worker table's lock is held by a stalled worker")
            try:
                yield held
            finally:
                if held and shared is not None:
                    shared.release()

    def _settle(self, placed: Placed | None) -> bool:
        if placed is None or placed.settled:
            return False
        placed.settled = True
        placed.transport = None  # nothing to watch any more
        self.settled += 1
        return True

    def _publish(self) -> None:
        if self.table is not None:
            row = (os.getpid(), self.sessions, self.memory_kb, self.settled)
            self.table.set(self.table.slot, *row)
