"""``/ws/train``: the playground's live training session (protocol: docs/protocol.md)."""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from app.runner import Session
from app.state import AppState

router = APIRouter()


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


@router.websocket("/ws/train")
async def train_socket(websocket: WebSocket) -> None:
    """One playground training session per connection."""
    await serve_session(websocket)


async def serve_session(websocket: WebSocket, **session_options: Any) -> None:
    """Check the origin and the session cap, then run a :class:`Session` until disconnect."""
    state: AppState = websocket.app.state.backprop
    if not origin_allowed(websocket, state.settings.allowed_origins):
        await websocket.close(code=1008, reason="origin not allowed")
        return
    await websocket.accept()
    if not state.open_session():
        await websocket.send_json(
            {
                "type": "status",
                "state": "busy",
                "message": f"server busy: {state.settings.max_sessions} sessions are training; "
                "try again in a minute",
            }
        )
        await websocket.close(code=1013)
        return

    async def receive() -> str | bytes | None:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return None
        text = message.get("text")
        return text if text is not None else message.get("bytes") or b""

    async def close(code: int) -> None:
        await websocket.close(code=code)

    session = Session(
        websocket.send_json,
        websocket.send_bytes,
        state.settings,
        state.limiter,
        stopping=state.stopping,
        close=close,
        **session_options,
    )
    try:
        await session.serve(receive)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client went away mid-send
    finally:
        state.close_session()
        if (
            websocket.application_state == WebSocketState.CONNECTED
            and websocket.client_state == WebSocketState.CONNECTED
        ):
            with contextlib.suppress(RuntimeError, OSError):
                await websocket.close()
