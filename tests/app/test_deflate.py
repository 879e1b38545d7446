"""permessage-deflate as a browser sees it: the configured level and window take effect, and
the frames inflate to exactly what an uncompressed connection gets.

The client here is a few lines over a plain socket, so nothing between the server's bytes and
the assertions decompresses or reframes them: it offers the extension as Chrome does
(``permessage-deflate; client_max_window_bits``), reads the handshake's answer, and inflates
each message itself with one zlib context for the whole connection (context takeover).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator

import numpy as np
import pytest

from app.serving.deflate import MEM_LEVEL
from app.wire import decode_frame
from tests.app.test_reliability import Server, start_server
from tests.app.wsutil import RawClient

START = {"type": "start", "config": {"grid": 100}, "paused": True}
TAIL = b"\x00\x00\xff\xff"  # what permessage-deflate strips from each message


def session(url: str, offer: str | None) -> tuple[dict[str, str], list[tuple[bool, int, bytes]]]:
    """A paused start: ready, frame, health and status, as they came off the socket."""
    client = RawClient(url, offer)
    try:
        client.send_text(json.dumps(START, separators=(",", ":")))
        return client.headers, [client.frame() for _ in range(4)]
    finally:
        client.close()


def inflate(messages: list[tuple[bool, int, bytes]], bits: int) -> list[bytes]:
    inflater = zlib.decompressobj(-bits)
    return [inflater.decompress(data + TAIL) if rsv1 else data for rsv1, _, data in messages]


def deflate(plain: list[bytes], level: int, bits: int) -> list[bytes]:
    """What the server must send for ``plain`` at these settings: one context for all."""
    deflater = zlib.compressobj(level, zlib.DEFLATED, -bits, MEM_LEVEL)
    return [(deflater.compress(m) + deflater.flush(zlib.Z_SYNC_FLUSH))[:-4] for m in plain]


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    tmp_path = tmp_path_factory.mktemp("deflate")
    started = {}
    settings = {
        "default": {},
        "level 9, window 10": {
            "BACKPROP_WS_DEFLATE_LEVEL": "9",
            "BACKPROP_WS_DEFLATE_WINDOW_BITS": "10",
        },
        "off": {"BACKPROP_WS_DEFLATE_LEVEL": "0"},
    }
    try:
        for name, env in settings.items():
            (tmp_path / name).mkdir()
            started[name] = start_server(tmp_path / name, **env)
        yield started
    finally:
        for s in started.values():
            s.proc.terminate()
            s.proc.wait(10)


def test_a_browser_offer_gets_the_configured_deflate_and_the_same_frames(
    servers: dict[str, Server],
) -> None:
    chrome = "permessage-deflate; client_max_window_bits"
    plain_headers, plain = session(servers["off"].url, chrome)
    assert "sec-websocket-extensions" not in plain_headers  # level 0: nothing negotiated
    assert not any(rsv1 for rsv1, _, _ in plain)
    reference = [data for _, _, data in plain]
    assert [op for _, op, _ in plain] == [1, 2, 1, 1]  # ready, frame, health, status
    header, blocks = decode_frame(reference[1])
    assert header["grid"] == 100 and blocks["output"].shape == (100, 100)

    for name, level, bits in (("default", 1, 15), ("level 9, window 10", 9, 10)):
        headers, messages = session(servers[name].url, chrome)
        assert headers["sec-websocket-extensions"] == (
            f"permessage-deflate; server_max_window_bits={bits}; client_max_window_bits=12"
        )
        assert all(rsv1 for rsv1, _, _ in messages)
        inflated = inflate(messages, bits)
        assert inflated == reference  # the frame and the events, byte for byte
        # each message is exactly what zlib makes at this level and window, continuing one
        # context from message to message: the settings took effect
        assert [data for _, _, data in messages] == deflate(reference, level, bits)
        got = decode_frame(inflated[1])[1]["output"]
        assert np.array_equal(got, blocks["output"])

    # the settings matter: level 9 with a 1 kB window is not what level 1 with 32 kB makes
    assert deflate(reference, 9, 10) != deflate(reference, 1, 15)


def test_a_client_that_offers_no_deflate_gets_plain_frames(servers: dict[str, Server]) -> None:
    headers, messages = session(servers["default"].url, None)
    assert "sec-websocket-extensions" not in headers
    assert not any(rsv1 for rsv1, _, _ in messages)
    assert decode_frame(messages[1][2])[0]["grid"] == 100
