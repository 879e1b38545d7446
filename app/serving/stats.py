"""``/api/stats``: the whole server at a glance, for a teacher sizing a class."""

from __future__ import annotations

import os
import threading
from typing import Any

from fastapi import APIRouter, Request

from app.serving.table import rss_kb
from app.state import AppState

router = APIRouter()


def _mb(kb: int) -> float:
    return round(kb * 1024 / 1e6, 1)


@router.get("/api/stats")
async def stats(request: Request) -> dict[str, Any]:
    """The whole server: its live training sessions and capacity, and each worker
    process's pid, sessions and resident memory (this process's threads too)."""
    state: AppState = request.app.state.backprop
    if state.table is not None:
        workers = [
            {"pid": r[0], "sessions": r[1], "rss_mb": _mb(r[2])} for _, r in state.table.live_rows()
        ]
    else:
        workers = [{"pid": os.getpid(), "sessions": state.sessions, "rss_mb": _mb(rss_kb())}]
    return {
        "sessions": sum(w["sessions"] for w in workers),
        "max_sessions": state.settings.max_sessions,
        "workers": workers,
        "threads": threading.active_count(),
        "rss_mb": round(sum(w["rss_mb"] for w in workers), 1),
    }
