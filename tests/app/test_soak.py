"""A soak: waves of learners, digits runs, idle sockets and requests on two workers, with
memory and descriptors bounded (the long run: SOAK_SECONDS=300, `make soak-long`)."""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import websockets

from tests.app.test_reliability import SMALL, Server, until, wait_for

#: Seconds of the soak (the long run: SOAK_SECONDS=300, `make soak-long`).
SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "8"))


def process_figures(pids: list[int]) -> dict[int, tuple[float, int]]:
    """Each process's resident memory (MB) and open file descriptors, from /proc."""
    out = {}
    for pid in pids:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        out[pid] = (pages * os.sysconf("SC_PAGE_SIZE") / 1e6, len(os.listdir(f"/proc/{pid}/fd")))
    return out


async def digits_run(server: Server) -> int:
    async with websockets.connect(server.ws + "/ws/mnist") as ws:
        config = {"hidden_layers": [16], "epochs": 1, "batch_size": 500}
        await ws.send(json.dumps({"type": "start", "config": config}))
        await until(ws, "status", "done")
    return 1


async def soak_wave(server: Server, rng: Any, digit_runs: int = 1) -> int:
    """One class coming and going at once: learners who train a moment and leave (some
    without a goodbye), a digits run, idle sockets, plain requests.  Sessions opened."""

    async def learner(i: int) -> int:
        async with websockets.connect(server.ws + "/ws/train") as ws:
            config = {**SMALL, "grid": 50, "seed": int(rng.integers(1000))}
            await ws.send(json.dumps({"type": "start", "config": config}))
            await until(ws, "ready")
            await until(ws, "progress")
            await asyncio.sleep(rng.random())
            if i % 2:
                ws.transport.abort()
        return 1

    async def digits() -> int:
        return await digits_run(server)

    async def idle() -> int:
        async with websockets.connect(server.ws + "/ws/mnist"):
            await asyncio.sleep(1.0)
        return 0

    async def requests() -> int:
        for path in ("/healthz", "/api/stats", "/api/options"):
            await asyncio.to_thread(server.get, path)
        await asyncio.to_thread(lambda: urllib.request.urlopen(server.url + "/").read())
        return 0

    waves = [learner(i) for i in range(10)] + [digits() for _ in range(digit_runs)]
    waves += [idle(), idle(), requests()]
    return sum(await asyncio.gather(*waves))


def test_a_soak_keeps_memory_and_descriptors_bounded(tmp_path: Path) -> None:
    """Waves of learners for SOAK_SECONDS on two workers: after the last one left, every
    worker's descriptors are back where they were and its memory has grown by little."""
    from tests.app.test_workers import sessions_per_worker, worker_pids, workers_server

    server = workers_server(tmp_path, BACKPROP_MAX_SESSIONS="64")
    rng = np.random.default_rng(3)
    try:
        pids = worker_pids(server)
        assert len(pids) == 2

        def quiet() -> bool:
            return server.get("/api/stats")["sessions"] == 0

        async def digits_on_both() -> None:
            """A digits run on each worker: the first holds its place (a session) until the
            second has started, which the supervisor therefore puts on the other worker."""
            async with websockets.connect(server.ws + "/ws/mnist") as first:
                config = {"hidden_layers": [16], "epochs": 1, "batch_size": 500}
                await first.send(json.dumps({"type": "start", "config": config}))
                await until(first, "ready")
                assert sorted(sessions_per_worker(server)) == [0, 1]
                await digits_run(server)
                await until(first, "status", "done")

        for _ in range(2):  # warm up: imports, a class-sized stack, the MNIST data on both
            asyncio.run(soak_wave(server, rng))
            assert wait_for(quiet, 15)
            asyncio.run(digits_on_both())
        assert wait_for(quiet, 15)
        time.sleep(1.0)
        before = process_figures([server.proc.pid, *pids])
        began, sessions, waves, peak = time.monotonic(), 0, 0, 0.0
        while time.monotonic() - began < SOAK_SECONDS:
            sessions += asyncio.run(soak_wave(server, rng))
            waves += 1
            peak = max(peak, *(rss for rss, _ in process_figures(pids).values()))
        assert wait_for(quiet, 15)
        time.sleep(1.0)
        after = process_figures([server.proc.pid, *pids])
        assert worker_pids(server) == pids, (tmp_path / "server.log").read_text()[-2000:]
    finally:
        server.proc.terminate()
        server.proc.wait(15)
    growth = {pid: after[pid][0] - before[pid][0] for pid in before}
    fds = {pid: (before[pid][1], after[pid][1]) for pid in before}
    print(
        f"soak: {SOAK_SECONDS:.0f} s, {waves} waves, {sessions} sessions; memory growth (MB) "
        + ", ".join(f"{g:+.1f}" for g in growth.values())
        + f", peak worker {peak:.0f} MB; descriptors "
        + ", ".join(f"{a}->{b}" for a, b in fds.values())
    )
    assert all(b <= a + 2 for a, b in fds.values()), fds
    assert all(g < 40 for g in growth.values()), growth
