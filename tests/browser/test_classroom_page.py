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
        page.wait_for_selector("#offline", state="visible")
        before = int(page.locator("#epoch").inner_text())
        server = start_server(tmp_path, port=port, BACKPROP_WORKERS="1")
        page.wait_for_selector("#online-note", state="visible", timeout=20000)
        assert "Your run goes on from epoch" in page.locator("#online-note").inner_text()
        page.wait_for_function(f"() => location.href === {link!r}")
        page.wait_for_function(
            f"() => Number(document.getElementById('epoch').textContent) > {before + 5}"
        )
    finally:
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(15)


def test_the_page_trains_in_a_class_of_30_plain_clients_as_if_alone(
    page: Any, tmp_path: Path
) -> None:
    """30 plain WebSocket clients (no retries) train the page's own network on 2 workers;
    the page joins their stacks and plays, pauses and steps as it does alone."""
    import json
    import threading

    server = start_server(tmp_path, BACKPROP_WORKERS="2")
    stop = threading.Event()
    epochs = [0] * 30

    def learner(i: int) -> None:
        with connect(server.ws + "/ws/train", max_size=None) as ws:
            config = {"dataset": "circle", "hidden_layers": [4, 2], "seed": i}
            ws.send(json.dumps({"type": "start", "config": config}))
            while not stop.is_set():
                msg = ws.recv(timeout=30)
                if isinstance(msg, str) and '"progress"' in msg[:30]:
                    epochs[i] = json.loads(msg)["epochs"][-1]

    threads = [threading.Thread(target=learner, args=(i,), daemon=True) for i in range(30)]
    try:
        for t in threads:
            t.start()
        page.goto(server.url + "/#dataset=circle&seed=3")
        page.wait_for_function(
            "() => document.getElementById('boundary').data?.[0]?.z?.length > 1", timeout=30000
        )
        epoch = page.locator("#epoch")
        page.get_by_role("button", name="Play").click()
        page.wait_for_function(
            "() => Number(document.getElementById('epoch').textContent) > 100", timeout=30000
        )
        page.get_by_role("button", name="Pause").click()
        page.wait_for_function(
            "() => document.querySelector('#play').getAttribute('aria-label') === 'Play'"
        )
        # the server says where it paused (under load, a few ticks after the click)
        page.wait_for_selector("#epoch[data-state=paused]", timeout=15000)
        paused_at = int(epoch.inner_text())
        class_at = list(epochs)
        time.sleep(1.0)
        assert int(epoch.inner_text()) == paused_at  # paused inside a stack: not one epoch
        page.get_by_role("button", name="Step", exact=True).click()
        page.wait_for_function(
            f"() => Number(document.getElementById('epoch').textContent) === {paused_at + 1}"
        )
        # and the class trains on while the page is paused, every one of them (each as
        # fast as its own client reads: 30 clients in this one test process, under load)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(
            now > then for now, then in zip(epochs, class_at, strict=True)
        ):
            time.sleep(0.2)
        assert all(now > then for now, then in zip(epochs, class_at, strict=True)), (
            class_at,
            epochs,
        )
    finally:
        stop.set()
        for t in threads:
            t.join(10)
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(15)
