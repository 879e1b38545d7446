"""The protocols a connection is served with: uvicorn's own, with bounds on clients that
stall, and our permessage-deflate offer (:mod:`app.serving.deflate`).

- **Headers.** A client has ``BACKPROP_HEADER_SECONDS`` from its connection (or from the
  first byte of its next request on a kept-alive one) to send a request's headers; one that
  dribbles them, or sends nothing, is cut then.  uvicorn bounds only the quiet time between
  two requests (``timeout_keep_alive``), so one slow client per connection could hold
  sockets for ever.
- **Unread output.** The transport asks its protocol to pause writing when a WebSocket's
  write buffer passes its high-water mark, once the kernel's buffers for that socket are
  full.  A client that reads again drains it within moments (uvicorn resumes the send); one
  whose buffer stays above the mark for ``BACKPROP_UNREAD_SECONDS`` is not reading: its
  connection is aborted, the session's pending send fails as if the client had left, and
  its place is free.  The kernel's send buffer of a WebSocket is capped at
  :data:`SEND_BUFFER` (Linux grows it to 4 MB on its own), so the wait starts within a
  second of the client's last read, and 64 stalled clients cannot park 180 MB there.  The
  same abort ends a connection whose keepalive ping went unanswered, where uvicorn's own
  ``close()`` would wait for ever to flush what the client never reads.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.server import ServerProtocol

from app.config import Settings
from app.serving.deflate import deflate_factory

log = logging.getLogger("backprop_lab.serving")
#: SO_SNDBUF of a WebSocket (the kernel doubles it): 256 kB hold about 5 s of a learner's
#: frames (0.4 Mbit/s), and keep 20 Mbit/s flowing over a 100 ms round trip.
SEND_BUFFER = 128 * 1024


def http_protocol(header_seconds: float) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol, cutting a client that takes longer than
    ``header_seconds`` to send a request's headers."""

    class BoundedHeaders(HttpToolsProtocol):
        header_timer: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            if self.header_timer is None:
                self.header_timer = self.loop.call_later(header_seconds, self._too_slow)

        def _disarm(self) -> None:
            if self.header_timer is not None:
                self.header_timer.cancel()
                self.header_timer = None

        def _too_slow(self) -> None:
            self.header_timer = None
            if not self.transport.is_closing():
                self.transport.abort()  # nothing was answered: nothing to flush

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def handle_websocket_upgrade(self) -> None:
            self._disarm()
            super().handle_websocket_upgrade()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return BoundedHeaders


def websocket_protocol(
    level: int, window_bits: int, unread_seconds: float
) -> type[asyncio.Protocol]:
    """uvicorn's sans-I/O WebSocket protocol, negotiating :func:`deflate_factory`'s offer
    (none at level 0) and aborting a connection whose output stays unread for
    ``unread_seconds``."""
    extensions = [deflate_factory(level, window_bits)] if level else []

    class BoundedWebSocket(WebSocketsSansIOProtocol):
        unread_timer: asyncio.TimerHandle | None = None

        def __init__(
            self,
            config: Config,
            server_state: ServerState,
            app_state: dict[str, Any],
            _loop: asyncio.AbstractEventLoop | None = None,
        ) -> None:
            super().__init__(config, server_state, app_state, _loop)
            # The handshake has not begun: swap in a connection with our extension.
            self.conn = ServerProtocol(
                extensions=extensions,
                max_size=config.ws_max_size,
                logger=logging.getLogger("uvicorn.error"),
            )

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)

        def pause_writing(self) -> None:
            super().pause_writing()
            if self.unread_timer is None:
                self.unread_timer = self.loop.call_later(unread_seconds, self._unread)

        def resume_writing(self) -> None:
            super().resume_writing()
            if self.unread_timer is not None:
                self.unread_timer.cancel()
                self.unread_timer = None

        def _unread(self) -> None:
            self.unread_timer = None
            log.info(
                "a client read nothing for %g s (%d bytes waiting): its connection is closed",
                unread_seconds,
                self.transport.get_write_buffer_size(),
            )
            self.transport.abort()

        def keepalive_timeout(self) -> None:
            super().keepalive_timeout()
            self.transport.abort()  # no answer to a ping: what is buffered will never go

        def connection_lost(self, exc: Exception | None) -> None:
            if self.unread_timer is not None:
                self.unread_timer.cancel()
                self.unread_timer = None
            super().connection_lost(exc)
            # Nothing is sent once the socket is gone: free the compressor's 160 kB now.  The
            # connection's objects are freed by the garbage collector, in its own time (they
            # hold reference cycles), and a class of 200 that left would hold 32 MB until then.
            self.conn.extensions = []

    return BoundedWebSocket


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The ``uvicorn.Config`` keywords for our protocols, built from ``settings``."""
    return {
        "http": http_protocol(settings.header_seconds),
        "ws": websocket_protocol(
            settings.ws_deflate_level, settings.ws_deflate_window_bits, settings.unread_seconds
        ),
    }
