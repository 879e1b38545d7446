"""Process-wide state shared by the routes: settings, the capacity limiter, counters."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

import anyio

from app.config import Settings
from app.models import ModelStore


@dataclass
class AppState:
    settings: Settings
    limiter: anyio.CapacityLimiter
    models: ModelStore
    sessions: int = 0
    #: Set when the server begins to shut down: sessions send a last status and close.
    stopping: asyncio.Event | None = None
    loop: asyncio.AbstractEventLoop | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def begin_shutdown(self) -> None:
        """Thread- and signal-safe: wake every session's shutdown watcher."""
        if self.loop is not None and self.stopping is not None:
            self.loop.call_soon_threadsafe(self.stopping.set)

    def open_session(self) -> bool:
        with self._lock:
            if self.sessions >= self.settings.max_sessions:
                return False
            self.sessions += 1
            return True

    def close_session(self) -> None:
        with self._lock:
            self.sessions -= 1
