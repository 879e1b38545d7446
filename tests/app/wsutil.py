"""Helpers to read a training WebSocket in tests."""

from __future__ import annotations

import json
from typing import Any

from app.wire import decode_frame


def next_json(ws: Any, kind: str | None = None, limit: int = 2000) -> dict[str, Any]:
    """The next JSON message (of type ``kind`` if given), skipping frames and others."""
    for _ in range(limit):
        msg = ws.receive()
        if msg.get("text") is None:
            continue
        data = json.loads(msg["text"])
        if kind is None or data["type"] == kind:
            return data
    raise AssertionError(f"no {kind} message")


def next_frame(ws: Any, limit: int = 2000) -> tuple[dict[str, Any], dict[str, Any]]:
    for _ in range(limit):
        msg = ws.receive()
        if msg.get("bytes") is not None:
            return decode_frame(msg["bytes"])
    raise AssertionError("no frame")


def collect(ws: Any, until: str, limit: int = 5000) -> list[dict[str, Any]]:
    """JSON messages up to and including the first whose type or state is ``until``."""
    out = []
    for _ in range(limit):
        msg = ws.receive()
        if msg.get("text") is None:
            continue
        data = json.loads(msg["text"])
        out.append(data)
        if data["type"] == until or data.get("state") == until:
            return out
    raise AssertionError(f"never saw {until}")
