"""The socket host: checks a WebSocket's origin and the server's capacity, then runs one
session on it until the client goes (protocol: docs/protocol.md)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from fastapi import WebSocket
from starlette.websockets import WebSocketState

from app.serving.table import placed_in
from app.session.session import GONE, Session
from app.state import AppState
from app.wire import busy_event

log = logging.getLogger("backprop_lab.session")


def origin_allowed(websocket: WebSocket, allowed: tuple[str, ...]) -> bool:
    """Browsers send ``Origin``: it must be this host (or on the allow-list).
    Clients without one (scripts, notebooks, tests) are not browsers and may connect."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    origin = origin.rstrip("/")
    if origin in allowed:
        return True
    host = websocket.headers.get("host", "")
    return urlsplit(origin).netloc == host


async def serve_session(
    websocket: WebSocket, kind: Callable[..., Session[Any]], **session_options: Any
) -> None:
    """Check the origin, then run a ``kind`` session until disconnect; the session takes
    its place in the capacity with the client's first message."""
    state: AppState = websocket.app.state.backprop
    await websocket.accept()
    if not origin_allowed(websocket, state.settings.allowed_origins):
        # A close code, not an HTTP 403 before the handshake: a page can only tell a
        # refusal from an outage by its code, and must not retry this one.
        await websocket.close(code=1008, reason="origin not allowed")
        return
    # (Older pages add ``?try=N`` after a "rebalance" close; it is ignored: the supervisor
    # places every connection on the least busy worker, so none is sent on.)
    admitted = False

    async def receive() -> str | bytes | None:
        nonlocal admitted
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return None
        if not admitted:
            # A socket that never speaks (a digits page before Train, an idle script)
            # holds no place: the capacity counts sessions from their first message.
            if state.open_session(placed_in(websocket.scope)) == "busy":
                await websocket.send_json(busy_event(state.settings.max_sessions))
                await websocket.close(code=1013, reason="busy")
                return None
            admitted = True
        text = message.get("text")
        return text if text is not None else message.get("bytes") or b""

    async def close(code: int) -> None:
        await websocket.close(code=code)

    async def send_json(event: dict[str, Any] | str) -> None:
        if isinstance(event, str):  # encoded on a worker thread already
            await websocket.send_text(event)
        else:
            await websocket.send_json(event)

    session = kind(
        send_json,
        websocket.send_bytes,
        state.settings,
        state.limiter,
        stopping=state.stopping,
        close=close,
        load=state,
        **session_options,
    )
    try:
        await session.serve(receive)
    except* (*GONE, RuntimeError):
        # A learner closing a tab is normal: never a traceback. (The task group wraps what
        # the listener and the trainer raise in an ExceptionGroup.)
        pass
    finally:
        if admitted:
            log.info("session ended (%d open in this process)", state.sessions - 1)
            state.close_session()
        if (
            websocket.application_state == WebSocketState.CONNECTED
            and websocket.client_state == WebSocketState.CONNECTED
        ):
            with contextlib.suppress(*GONE, RuntimeError):
                await websocket.close()
