"""Process-wide state shared by the routes: settings, the capacity limiter, counters."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import anyio

from app.config import Settings
from app.digits.store import ModelStore
from app.serving.table import Placed, WorkerTable, rss_kb
from app.session.engine import Engine


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
        with self._locked() as rss:
            self._settle(placed)
            if self.total_sessions() >= self.settings.max_sessions:
                self._publish(rss)
                return "busy"
            self.sessions += 1
            self._publish(rss)
            return "ok"

    def close_session(self) -> None:
        with self._locked() as rss:
            self.sessions -= 1
            self._publish(rss)

    def settle(self, placed: Placed) -> None:
        """A handed connection turned out not to be a session (an HTTP request, a refused
        or closed socket): the supervisor stops counting it as in flight here."""
        if placed.settled:  # most often, by its session: nothing to write
            return
        with self._locked() as rss:
            if self._settle(placed):
                self._publish(rss)

    def publish(self) -> None:
        """Write this worker's row: a worker does so first when it is ready to serve."""
        with self._locked() as rss:
            self._publish(rss)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[int]:
        """Both locks, and this process's memory for its row: read first, since a file read
        inside the shared lock would hold up the other workers and the supervisor's
        placing whenever this process is preempted there."""
        rss = rss_kb() if self.table is not None else 0
        shared = self.table.lock if self.table is not None and self.table.lock else None
        with self._lock, shared or contextlib.nullcontext():
            yield rss

    def _settle(self, placed: Placed | None) -> bool:
        if placed is None or placed.settled:
            return False
        placed.settled = True
        placed.transport = None  # nothing to watch any more
        self.settled += 1
        return True

    def _publish(self, rss: int) -> None:
        if self.table is not None:
            self.table.set(self.table.slot, os.getpid(), self.sessions, rss, self.settled)
