"""A classroom on one real server: disconnect storms, load, shutdown, hostile files."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import websockets

ROOT = Path(__file__).resolve().parents[2]
SMALL = {"dataset": "circle", "hidden_layers": [4, 2], "n_samples": 200}
#: Seconds of the 32-session load test (the long run: LOAD_SECONDS=60, `make load-long`).
LOAD_SECONDS = float(os.environ.get("LOAD_SECONDS", "5"))


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[bytes]
    data: Path

    def get(self, path: str) -> Any:
        return json.loads(urllib.request.urlopen(self.url + path, timeout=5).read())

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    @property
    def ws(self) -> str:
        return self.url.replace("http", "ws")


def start_server(data: Path, port: int = 0, **env: str) -> Server:
    if not port:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    log = open(data / "server.log", "wb")  # noqa: SIM115 - owned by the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "--port", str(port)],
        cwd=ROOT,
        # one process unless asked: these tests read the server's own CPU time and memory
        env={**os.environ, "BACKPROP_DATA_DIR": str(data), "BACKPROP_WORKERS": "1", **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    server = Server(f"http://127.0.0.1:{port}", proc, data)
    # Up to a minute: on a busy machine (parallel test workers, other builds) a server with
    # two worker processes can take well over ten seconds to import and listen.
    for _ in range(1200):
        try:
            server.get("/healthz")
            return server
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    proc.kill()
    proc.wait(10)
    raise RuntimeError("the server never answered:\n" + (data / "server.log").read_text())


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[Server]:
    s = start_server(tmp_path, BACKPROP_MAX_SESSIONS="32")
    yield s
    s.proc.terminate()
    s.proc.wait(10)


async def until(
    ws: Any, kind: str, state: str | None = None, limit: int = 10_000
) -> dict[str, Any]:
    for _ in range(limit):
        msg = await ws.recv()
        if isinstance(msg, str):
            event = json.loads(msg)
            if event["type"] == kind and (state is None or event.get("state") == state):
                return event
    raise AssertionError(f"no {kind}")


async def train_then_vanish(url: str) -> None:
    ws = await websockets.connect(url + "/ws/train")
    await ws.send(json.dumps({"type": "start", "config": SMALL}))
    await until(ws, "progress")
    ws.transport.abort()  # no close frame: a laptop lid closing


def test_disconnect_storm_leaves_nothing_behind(server: Server) -> None:
    async def warm_up() -> None:  # the worker pool, and a class-sized stack's buffers once
        await asyncio.gather(*(train_then_vanish(server.ws) for _ in range(25)))

    asyncio.run(warm_up())
    for _ in range(100):  # until the server has seen that client go
        base = server.get("/api/stats")
        if base["sessions"] == 0:
            break
        time.sleep(0.05)
    assert base["sessions"] == 0

    async def storm() -> None:
        for _ in range(8):  # 200 clients, 25 at a time
            await asyncio.gather(*(train_then_vanish(server.ws) for _ in range(25)))

    asyncio.run(storm())
    deadline = time.time() + 5
    while server.get("/api/stats")["sessions"] and time.time() < deadline:
        time.sleep(0.1)
    after = server.get("/api/stats")
    assert after["sessions"] == 0
    assert after["threads"] <= base["threads"] + 2
    growth = after["rss_mb"] - base["rss_mb"]
    threads = f"{base['threads']} -> {after['threads']}"
    print(f"disconnect storm: rss growth {growth:.1f} MB, threads {threads}")
    assert growth < 20
    time.sleep(1.0)  # every run stopped: the CPU goes back to idle
    cpu = server.cpu_seconds()
    time.sleep(1.0)
    assert server.cpu_seconds() - cpu < 0.15


def test_32_sessions_and_predictions_all_progress_and_one_more_is_busy(server: Server) -> None:
    async def session(results: list[int]) -> None:
        async with websockets.connect(server.ws + "/ws/train") as ws:
            await ws.send(json.dumps({"type": "start", "config": SMALL}))
            await until(ws, "ready")
            end = time.perf_counter() + LOAD_SECONDS
            last = 0
            while time.perf_counter() < end:
                msg = await ws.recv()
                if isinstance(msg, str):
                    event = json.loads(msg)
                    assert event["type"] != "error", event
                    if event["type"] == "progress":
                        last = event["epochs"][-1]
            results.append(last)

    async def predictions(latencies: list[float]) -> None:
        body = json.dumps(
            {"strokes": [[[40, 40], [240, 40], [120, 280]]], "width": 300, "height": 300}
        ).encode()
        end = time.perf_counter() + LOAD_SECONDS
        while time.perf_counter() < end:
            req = urllib.request.Request(
                server.url + "/api/predict", body, {"content-type": "application/json"}
            )
            t = time.perf_counter()
            reply = await asyncio.to_thread(
                lambda r=req: json.loads(urllib.request.urlopen(r).read())
            )
            latencies.append(time.perf_counter() - t)
            assert reply["label"] == 7

    async def one_too_many() -> dict[str, Any]:
        await asyncio.sleep(1.0)
        async with websockets.connect(server.ws + "/ws/train") as ws:
            await ws.send(json.dumps({"type": "start", "config": SMALL}))
            return json.loads(await ws.recv())

    async def main() -> tuple[list[int], list[float], dict[str, Any]]:
        results: list[int] = []
        latencies: list[float] = []
        busy = await asyncio.gather(
            *(session(results) for _ in range(32)), predictions(latencies), one_too_many()
        )
        return results, latencies, busy[-1]

    results, latencies, busy = asyncio.run(main())
    assert len(results) == 32 and min(results) > 0  # every session progressed
    assert busy["type"] == "status" and busy["state"] == "busy"
    assert len(latencies) > 5
    print(
        f"32 sessions: epochs per session min {min(results)} median {int(np.median(results))}; "
        f"prediction p99 {1000 * np.percentile(latencies, 99):.0f} ms"
    )


def test_sigterm_gives_running_sessions_a_last_status(tmp_path: Path) -> None:
    s = start_server(tmp_path)

    async def main() -> tuple[dict[str, Any], int | None]:
        async with websockets.connect(s.ws + "/ws/train") as ws:
            await ws.send(json.dumps({"type": "start", "config": SMALL}))
            await until(ws, "progress")
            s.proc.send_signal(signal.SIGTERM)
            last = await until(ws, "status", "stopped")
            try:
                await asyncio.wait_for(ws.recv(), 5)
            except websockets.ConnectionClosed as exc:
                return last, exc.rcvd.code if exc.rcvd else None
            raise AssertionError("socket stayed open")

    last, code = asyncio.run(main())
    assert "shutting down" in last["message"] and code == 1001
    s.proc.wait(10)  # and the process exits


def test_hostile_model_files_and_names(server: Server) -> None:
    models = server.data / "models"
    models.mkdir(exist_ok=True)
    np.savez(models / "pickled.npz", header=np.array([{"evil": 1}], dtype=object))
    (models / "truncated.npz").write_bytes(b"PK\x03\x04 truncated")
    listed = [m["name"] for m in server.get("/api/models")["models"]]
    assert "pickled" not in listed and "truncated" not in listed and "mnist-mlp" in listed
    for name in ("pickled", "truncated"):
        req = urllib.request.Request(
            server.url + "/api/predict",
            json.dumps({"pixels": [0.0] * 784, "model": name}).encode(),
            {"content-type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req)
        assert err.value.code == 422
        assert json.loads(err.value.read())["detail"]["field"] == "model"

    async def save(name: str) -> dict[str, Any]:
        async with websockets.connect(server.ws + "/ws/mnist") as ws:
            await ws.send(
                json.dumps(
                    {
                        "type": "start",
                        "config": {"hidden_layers": [8], "epochs": 1, "batch_size": 1000},
                    }
                )
            )
            await until(ws, "status", "done")
            await ws.send(json.dumps({"type": "save", "name": name, "owner": "t" * 32}))
            while True:
                event = json.loads(await ws.recv())
                if event["type"] in ("saved", "error"):
                    return event

    before = sorted(p.name for p in server.data.rglob("*"))
    for bad in ("../escape", "/etc/passwd", "a/b", "..", "x" * 41, ""):
        event = asyncio.run(save(bad))
        assert event["type"] == "error" and event["field"] == "name"
    assert sorted(p.name for p in server.data.rglob("*")) == before
    assert not (server.data.parent / "escape.npz").exists()
    assert asyncio.run(save("mnist-mlp"))["type"] == "error"  # the shipped model is not replaced
    assert asyncio.run(save("mine"))["type"] == "saved"
    assert (models / "mine.npz").exists()


def wait_for(condition: Any, seconds: float, step: float = 0.1) -> Any:
    """Poll ``condition()`` until it is truthy (its value) or ``seconds`` have passed (None)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(step)
    return None
