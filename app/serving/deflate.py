"""permessage-deflate on the WebSockets, tuned for boundary frames (docs/performance.md).

Browsers offer permessage-deflate (RFC 7692) on every WebSocket, and uvicorn accepts it
with fixed settings: its sans-I/O protocol (the default since 0.50) asks zlib for level 6
with a 4 kB window (``server_max_window_bits=12``, ``memLevel=5``).  A 13.4 kB frame of the
default network then costs about 350 µs of server CPU to compress (bench/bench_frames.py),
and the window is too short to reach back to the previous frame, so parts of the boundary
that did not change cost as much as parts that did.

:func:`websocket_protocol` is the same uvicorn protocol with the extension built from
:class:`~app.config.Settings`: ``BACKPROP_WS_DEFLATE_LEVEL`` (1, the fastest level; 0 turns
compression off, so nothing is negotiated) and ``BACKPROP_WS_DEFLATE_WINDOW_BITS`` (15: the
window holds the previous frame, and context takeover, on as in uvicorn, lets each frame
refer to it).  The page needs nothing: the browser negotiates and inflates.  What the
client sends stays small, so clients are still asked for a 4 kB window, as uvicorn does.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.server import ServerProtocol

from app.config import Settings

#: The window clients compress their (small, JSON) messages with: uvicorn's choice.
CLIENT_WINDOW_BITS = 12
#: zlib's default memory level: a full hash table, fewer missed matches than uvicorn's 5
#: (256 kB of zlib state per connection with a 15-bit window).
MEM_LEVEL = 8


def deflate_factory(level: int, window_bits: int) -> ServerPerMessageDeflateFactory:
    """The server's permessage-deflate offer: zlib ``level`` with a ``window_bits`` window."""
    return ServerPerMessageDeflateFactory(
        server_max_window_bits=window_bits,
        client_max_window_bits=CLIENT_WINDOW_BITS,
        compress_settings={"level": level, "memLevel": MEM_LEVEL},
    )


def websocket_protocol(level: int, window_bits: int) -> type[asyncio.Protocol]:
    """uvicorn's sans-I/O WebSocket protocol, negotiating :func:`deflate_factory`'s offer."""
    factory = deflate_factory(level, window_bits)

    class TunedDeflateProtocol(WebSocketsSansIOProtocol):
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
                extensions=[factory],
                max_size=config.ws_max_size,
                logger=logging.getLogger("uvicorn.error"),
            )

        def connection_lost(self, exc: Exception | None) -> None:
            super().connection_lost(exc)
            # Nothing is sent once the socket is gone: free the compressor's 256 kB now.  The
            # connection's objects are freed by the garbage collector, in its own time (they
            # hold reference cycles), and a closed class of 200 would hold 50 MB until then.
            self.conn.extensions = []

    return TunedDeflateProtocol


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The ``uvicorn.Config`` keywords that apply ``settings``' WebSocket compression."""
    if settings.ws_deflate_level == 0:
        return {"ws_per_message_deflate": False}
    return {"ws": websocket_protocol(settings.ws_deflate_level, settings.ws_deflate_window_bits)}
