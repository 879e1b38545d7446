"""A worker's memory goes back down after its MNIST sessions close (real server, its own
resident set read from /proc)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import websockets

from tests.app.test_reliability import Server, start_server, until

#: Each of these runs holds about 100 MB: a float32 copy of the training set, the weights,
#: their gradients and Adam's two moments. At batch size 1 its first chunk (and the
#: ``pace`` after it) comes long before its first epoch ends.
WIDE = {"hidden_layers": [1024] * 4, "batch_size": 1, "epochs": 5}
#: Megabytes the worker may keep above its resident set after the first session.
TOLERANCE_MB = 40
#: Seconds to wait for the memory to go back (a guard, not a measurement).
WAIT = 20


def rss_mb(server: Server) -> float:
    pages = int(Path(f"/proc/{server.proc.pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


async def train_and_leave(url: str) -> None:
    async with websockets.connect(url + "/ws/mnist", max_size=None) as ws:
        await ws.send(json.dumps({"type": "start", "config": WIDE}))
        await asyncio.wait_for(until(ws, "pace"), WAIT)


def sessions_close(server: Server) -> None:
    deadline = time.monotonic() + WAIT
    while server.get("/api/stats")["sessions"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.get("/api/stats")["sessions"] == 0


def test_memory_of_closed_mnist_sessions_goes_back_to_the_system(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        asyncio.run(train_and_leave(server.ws))  # the data set, the threads, the imports
        sessions_close(server)
        base = rss_mb(server)

        async def class_of_three() -> None:
            await asyncio.gather(*(train_and_leave(server.ws) for _ in range(3)))

        asyncio.run(class_of_three())
        sessions_close(server)
        deadline = time.monotonic() + WAIT
        while rss_mb(server) > base + TOLERANCE_MB and time.monotonic() < deadline:
            time.sleep(0.1)
        assert rss_mb(server) <= base + TOLERANCE_MB, f"{base:.0f} -> {rss_mb(server):.0f} MB"
    finally:
        server.proc.terminate()
        server.proc.wait(10)
