"""The page when the server is full and when the connection drops, in real Chromium."""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from tests.app.test_reliability import start_server

pytestmark = pytest.mark.browser


def test_a_full_server_says_so_and_the_page_gets_in_by_itself(page: Any, tmp_path: Path) -> None:
    server = start_server(tmp_path, BACKPROP_WORKERS="1", BACKPROP_MAX_SESSIONS="1")
    try:
        status = page.locator("#connection")
        with connect(server.ws + "/ws/train") as other:
            other.send('{"type": "start", "paused": true, "config": {"grid": 20}}')
            other.recv()
            page.goto(server.url + "/#dataset=xor&seed=4")
            page.wait_for_function(
                "() => document.getElementById('connection').textContent.includes('full')"
            )
            assert re.match(
                r"The server is full: 1 learner is training\. Retrying in \d+ s…",
                status.inner_text(),
            )
        page.wait_for_function(
            "() => document.getElementById('boundary').data?.[0]?.z?.length > 1", timeout=20000
        )
        assert status.inner_text() == ""
        page.get_by_role("button", name="Play").click()
        page.wait_for_function("() => Number(document.getElementById('epoch').textContent) > 3")
    finally:
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(15)


def test_a_dropped_connection_comes_back_with_the_same_setup(page: Any, tmp_path: Path) -> None:
    server = start_server(tmp_path, BACKPROP_WORKERS="1")
    port = int(server.url.rsplit(":", 1)[1])
    try:
        page.goto(server.url + "/#dataset=xor&seed=4&learning_rate=0.1")
        page.wait_for_function("() => document.getElementById('boundary').data?.[0]?.z?.length > 1")
        page.get_by_role("button", name="Play").click()
        page.wait_for_function("() => Number(document.getElementById('epoch').textContent) > 20")
        link = page.url
        server.proc.kill()  # a replica restarts, a deploy, flaky Wi-Fi
        server.proc.wait(10)
        page.wait_for_function(
            "() => document.getElementById('connection').textContent.includes('dropped')"
        )
        time.sleep(0.5)
        server = start_server(tmp_path, port=port, BACKPROP_WORKERS="1")
        page.wait_for_function(
            "() => document.getElementById('connection').textContent.startsWith('Reconnected')",
            timeout=20000,
        )
        assert "same seed" in page.locator("#connection").inner_text()
        assert page.locator("#epoch").inner_text() == "0"
        page.wait_for_function(f"() => location.href === {link!r}")
        page.get_by_role("button", name="Play").click()
        page.wait_for_function("() => Number(document.getElementById('epoch').textContent) > 5")
    finally:
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(15)
