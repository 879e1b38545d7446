"""Helpers to read a training WebSocket in tests."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
from typing import Any
from urllib.parse import urlsplit

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


class RawClient:
    """One WebSocket over a plain socket: handshake, one masked text message out, frames in."""

    def __init__(
        self, url: str, offer: str | None = None, rcvbuf: int = 0, path: str = "/ws/train"
    ) -> None:
        """``rcvbuf``: a receive buffer this small (bytes), as a client that reads slowly."""
        parts = urlsplit(url)
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(30)
        self.sock.connect((parts.hostname, parts.port))
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {parts.netloc}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        if offer:
            lines.append(f"Sec-WebSocket-Extensions: {offer}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        status, *rest = head.decode().split("\r\n")
        assert status.split()[1] == "101", status
        self.headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in rest if h)}
        self.buffer = b""

    def send_text(self, text: str) -> None:
        data, mask = text.encode(), os.urandom(4)
        assert len(data) < 126
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(bytes([0x81, 0x80 | len(data)]) + mask + masked)

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            assert chunk, "the server closed the connection"
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def frame(self) -> tuple[bool, int, bytes]:
        """One whole message (the server does not fragment): (RSV1 set, opcode, payload)."""
        b0, b1 = self._read(2)
        assert b0 & 0x80, "a fragmented message"
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack(">H", self._read(2))
        elif n == 127:
            (n,) = struct.unpack(">Q", self._read(8))
        return bool(b0 & 0x40), b0 & 0x0F, self._read(n)

    def close(self) -> None:
        self.sock.close()
