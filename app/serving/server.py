"""One uvicorn server in this process: alone, or as one worker of the supervisor's."""

from __future__ import annotations

import asyncio
import functools
import logging
from types import FrameType
from typing import Any


def run_server(
    host: str, port: int, *, table: Any = None, sockets: list[Any] | None = None
) -> None:
    """One uvicorn server in this process; on SIGTERM/SIGINT, sessions first get a last
    status.  ``table`` and ``sockets``: a worker's shared table and its own listener."""
    import uvicorn

    from app.config import load_settings
    from app.main import create_app
    from app.serving.deflate import uvicorn_options

    settings = load_settings()
    app = create_app(settings)
    state = app.state.backprop
    state.table = table
    # Our own log lines (one per ended session), formatted like uvicorn's.
    ours = logging.getLogger("backprop_lab")
    if not ours.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        ours.addHandler(handler)
        ours.setLevel(logging.INFO)
        ours.propagate = False

    class Server(uvicorn.Server):
        draining = False

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if self.draining or state.sessions == 0 or state.loop is None:
                super().handle_exit(sig, frame)
                return
            self.draining = True
            state.begin_shutdown()
            finish = functools.partial(uvicorn.Server.handle_exit, self, sig, frame)
            state.loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self.drain(finish)))

        async def drain(self, finish: functools.partial[None]) -> None:
            for _ in range(30):  # up to 3 s for sessions to say goodbye and close
                if state.sessions == 0:
                    break
                await asyncio.sleep(0.1)
            finish()

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        ws_max_size=settings.max_message_bytes,
        log_level="info",
        timeout_graceful_shutdown=5,
        **uvicorn_options(settings),
    )
    Server(config).run(sockets=sockets)
