"""The pages as the server sends them: under a Content Security Policy, and told apart
from an outage when the server refuses their origin."""

from __future__ import annotations

import contextlib
import socket
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_the_pages_work_under_their_content_security_policy(page: Any, live_server: str) -> None:
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    headers = urllib.request.urlopen(live_server + "/", timeout=10).headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    page.goto(live_server + "/")  # the playground trains: the socket, plotly, the frames
    page.wait_for_function("() => document.getElementById('boundary').data?.[0]?.z?.length > 1")
    page.goto(live_server + "/digits")  # its inline recipe table runs (by its nonce)
    page.wait_for_function("() => document.getElementById('architecture').options.length > 0")
    page.goto(live_server + "/docs")  # Swagger UI starts itself inline
    page.get_by_text("/api/predict").first.wait_for(timeout=15000)
    assert not refused, refused


class OriginRewritingProxy:
    """A proxy that forwards every byte to the server, but says the page came from
    another site (``Origin``): as a page served under a name the server does not know."""

    ELSEWHERE = b"http://elsewhere.example"

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.removeprefix("http://")
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.origin = b"Origin: " + self.url.encode()
        self.websockets = 0
        self.handlers: list[threading.Thread] = []
        self.accepting = threading.Thread(target=self._accept, daemon=True)
        self.accepting.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed
                return
            handler = threading.Thread(target=self._serve, args=(client,), daemon=True)
            handler.start()
            self.handlers.append(handler)

    def _serve(self, client: socket.socket) -> None:
        host, port = self.upstream.split(":")
        with client, socket.create_connection((host, int(port)), timeout=30) as server:
            up = threading.Thread(target=self._pipe, args=(client, server, True), daemon=True)
            up.start()
            self._pipe(server, client, False)
            up.join(30)

    def _pipe(self, src: socket.socket, dst: socket.socket, rewrite: bool) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                if rewrite:
                    self.websockets += data.lower().count(b"\r\nupgrade: websocket")
                    data = data.replace(self.origin, b"Origin: " + self.ELSEWHERE)
                dst.sendall(data)
        for s in (src, dst):  # one side ended: end the other
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.accepting.join(10)
        for handler in self.handlers:
            handler.join(10)


@pytest.fixture()
def proxy(live_server: str) -> Iterator[OriginRewritingProxy]:
    p = OriginRewritingProxy(live_server)
    yield p
    p.close()


def test_a_refused_origin_says_so_and_is_not_retried(
    page: Any, proxy: OriginRewritingProxy
) -> None:
    """The server closes a refused origin's socket with 1008 (not an HTTP 403, which a
    browser reports as 1006, an outage): the page names the problem and does not retry."""
    page.goto(proxy.url + "/")
    alert = page.locator("#alert")
    alert.filter(has_text="origin refused").wait_for(timeout=15000)
    page.wait_for_timeout(3000)  # a page that took it for an outage retries after 0.5, 1, 2 s
    assert proxy.websockets == 1
    assert "origin refused" in alert.inner_text()
