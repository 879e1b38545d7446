"""One uvicorn server in this process: alone, or as one worker of the supervisor's."""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
import socket
from types import FrameType
from typing import Any


def run_server(
    host: str, port: int, *, table: Any = None, channel: socket.socket | None = None
) -> None:
    """One uvicorn server in this process; on SIGTERM/SIGINT, sessions first get a last
    status.  ``table`` and ``channel``: a worker's shared table and its end of the
    supervisor's socketpair, on which its connections arrive (it has no listener)."""
    import uvicorn

    from app.config import load_settings
    from app.main import create_app
    from app.serving.handoff import Handoff, SettleRequests
    from app.serving.protocols import uvicorn_options
    from app.serving.table import PLACED, Placed

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
        handoff: Handoff | None = None

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            if channel is None:
                await super().startup(sockets)
                return
            # An empty list of sockets, as a gunicorn worker passes its own: no listener.
            await super().startup([])
            self.handoff = Handoff(channel, self.create_protocol, state, self.supervisor_gone)
            self.handoff.start(asyncio.get_running_loop())
            state.publish()  # ready: from now on the supervisor places connections here

        def create_protocol(self, placed: Placed) -> asyncio.Protocol:
            """What uvicorn's ``Server.startup`` hands ``create_server`` (its local
            ``create_protocol``), with the connection's record in the state its scopes copy."""
            return self.config.http_protocol_class(  # type: ignore[call-arg]
                config=self.config,
                server_state=self.server_state,
                app_state={**self.lifespan.state, PLACED: placed},
            )

        def supervisor_gone(self) -> None:
            if not self.draining and not self.should_exit:
                self.handle_exit(signal.SIGTERM, None)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            if self.handoff is not None:
                self.handoff.close()  # where uvicorn closes its listeners: no new connections
            await super().shutdown(sockets)

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
        SettleRequests(app, state) if channel is not None else app,
        host=host,
        port=port,
        ws_max_size=settings.max_message_bytes,
        log_level="info",
        timeout_graceful_shutdown=5,
        **uvicorn_options(settings),
    )
    Server(config).run()
