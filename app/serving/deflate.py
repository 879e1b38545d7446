"""permessage-deflate on the WebSockets, tuned for boundary frames (docs/performance.md).

Browsers offer permessage-deflate (RFC 7692) on every WebSocket, and uvicorn accepts it
with fixed settings: its sans-I/O protocol (the default since 0.50) asks zlib for level 6
with a 4 kB window (``server_max_window_bits=12``, ``memLevel=5``).  A 13.4 kB frame of the
default network then costs 340–390 µs of server CPU to compress (bench/bench_frames.py),
and the window is too short to reach back to the previous frame, so parts of the boundary
that did not change cost as much as parts that did.

:func:`deflate_factory` builds the offer our WebSocket protocol (:mod:`app.serving.protocols`)
negotiates instead, from :class:`~app.config.Settings`: ``BACKPROP_WS_DEFLATE_LEVEL`` (1, the
fastest level; 0 turns compression off, so nothing is negotiated) and
``BACKPROP_WS_DEFLATE_WINDOW_BITS`` (15: the window holds the previous frame, and context
takeover, on as in uvicorn, lets each frame refer to it).  The page needs nothing: the
browser negotiates and inflates.  What the client sends stays small, so clients are still
asked for a 4 kB window, as uvicorn does.
"""

from __future__ import annotations

from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

#: The window clients compress their (small, JSON) messages with: uvicorn's choice.
CLIENT_WINDOW_BITS = 12
#: zlib's hash table: 2^(6+7) entries.  With a class on one process every connection's
#: compressor is cold when its turn comes, and a smaller table misses the cache less: 6 was
#: cheaper than zlib's default 8 with 30 or 150 connections, and as small on the wire (5 cost
#: more CPU).  A connection keeps 2^(window+2) + 2^(6+9) bytes: 160 kB with a 15-bit window.
MEM_LEVEL = 6


def deflate_factory(level: int, window_bits: int) -> ServerPerMessageDeflateFactory:
    """The server's permessage-deflate offer: zlib ``level`` with a ``window_bits`` window."""
    return ServerPerMessageDeflateFactory(
        server_max_window_bits=window_bits,
        client_max_window_bits=CLIENT_WINDOW_BITS,
        compress_settings={"level": level, "memLevel": MEM_LEVEL},
    )
