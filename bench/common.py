"""Shared bench helpers: a real server on 127.0.0.1, its processes' CPU, and WebSocket
training clients."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")


@contextmanager
def server(**env: str) -> Iterator[str]:
    """Run ``python -m app`` on a free loopback port; yield its base URL.  One worker
    process unless ``BACKPROP_WORKERS`` is given: most benchmarks measure one process."""
    env = {"BACKPROP_WORKERS": "1", **env}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as data:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, "BACKPROP_DATA_DIR": data, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    urllib.request.urlopen(url + "/healthz", timeout=1).read()
                    break
                except OSError:
                    time.sleep(0.05)
            yield url
        finally:
            proc.terminate()
            proc.wait(10)


async def train_session(url: str, config: dict[str, Any], seconds: float) -> dict[str, float]:
    """Train one playground session for ``seconds``; count epochs and frames."""
    import websockets

    epochs = frames = 0
    async with websockets.connect(url.replace("http", "ws") + "/ws/train", max_size=None) as ws:
        await ws.send(json.dumps({"type": "start", "config": config}))
        start = time.perf_counter()
        first_epoch = None
        while time.perf_counter() - start < seconds:
            msg = await ws.recv()
            if isinstance(msg, bytes):
                frames += 1
                continue
            event = json.loads(msg)
            if event["type"] == "progress":
                if first_epoch is None:
                    first_epoch = event["epochs"][0]
                epochs = event["epochs"][-1]
        elapsed = time.perf_counter() - start
    return {"epochs_per_s": epochs / elapsed, "frames_per_s": frames / elapsed}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def counting_connection() -> type:
    """websockets' client connection, counting the bytes its socket reads (``.wire``):
    the messages as they travelled, compressed and framed.  Pass it as ``create_connection``."""
    from websockets.asyncio.client import ClientConnection

    class Counting(ClientConnection):
        wire = 0

        def data_received(self, data: bytes) -> None:
            self.wire += len(data)
            super().data_received(data)

    return Counting


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def run_seconds(pid: int) -> float:
    """Seconds the threads of process ``pid`` have run on a CPU so far, to the nanosecond
    (the scheduler's own count; ``cpu_seconds`` counts in ticks of 10 ms)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError, ValueError, IndexError):  # a thread that ended
            total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine spent busy so far (all but idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / TICK


def server_pids(url: str) -> list[int]:
    """The server's worker processes (from ``/api/stats``) and their supervisor, if any."""
    with urllib.request.urlopen(url + "/api/stats", timeout=10) as r:
        workers = [w["pid"] for w in json.load(r)["workers"]]
    parent = int(Path(f"/proc/{workers[0]}/stat").read_text().rpartition(")")[2].split()[1])
    return [parent, *workers] if parent != os.getpid() else workers
