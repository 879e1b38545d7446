"""Process-wide state shared by the routes: settings, the capacity limiter, counters."""

from __future__ import annotations

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
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def open_session(self) -> bool:
        with self._lock:
            if self.sessions >= self.settings.max_sessions:
                return False
            self.sessions += 1
            return True

    def close_session(self) -> None:
        with self._lock:
            self.sessions -= 1
