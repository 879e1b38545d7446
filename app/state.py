"""Process-wide state shared by the routes: settings, the capacity limiter, counters."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from dataclasses import dataclass, field

import anyio

from app.config import Settings
from app.digits.store import ModelStore
from app.serving.table import MAX_TRIES, WorkerTable, rss_kb
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
    #: Sessions in this process whose run is training right now (they share its cores).
    training: int = 0
    #: Trains every playground session of this process in stacks.
    engine: Engine | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def begin_shutdown(self) -> None:
        """Thread- and signal-safe: wake every session's shutdown watcher."""
        if self.loop is not None and self.stopping is not None:
            self.loop.call_soon_threadsafe(self.stopping.set)

    def total_sessions(self) -> int:
        return self.table.total_sessions() if self.table is not None else self.sessions

    def open_session(self, tries: int = 0) -> str:
        """``"ok"``, ``"busy"`` (the whole server is full) or ``"rebalance"`` (another
        worker has clearly fewer sessions: the client should reconnect)."""
        shared = self.table.lock if self.table is not None and self.table.lock else None
        with self._lock, shared or contextlib.nullcontext():
            if self.total_sessions() >= self.settings.max_sessions:
                return "busy"
            table = self.table
            if table is not None and tries < MAX_TRIES and table.should_pass_on(self.sessions):
                return "rebalance"
            self.sessions += 1
            self._publish()
            return "ok"

    def close_session(self) -> None:
        shared = self.table.lock if self.table is not None and self.table.lock else None
        with self._lock, shared or contextlib.nullcontext():
            self.sessions -= 1
            self._publish()

    def _publish(self) -> None:
        if self.table is not None:
            self.table.set(self.table.slot, os.getpid(), self.sessions, rss_kb())
