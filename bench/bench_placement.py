"""What placing a connection costs: 2 worker processes behind the supervisor, which accepts
each connection and hands its socket to the least busy worker, against the way the server
used to listen (each worker its own ``SO_REUSEPORT`` listener, the kernel choosing), and
one process alone for reference.  Real servers on 127.0.0.1.

    python bench/bench_placement.py [--connections 200] [--burst 30] [--url URL]

The ways run side by side and are measured in turns, so the machine's noise falls on all
alike: ``--connections`` WebSocket connections one after another (open: connect to the
handshake's answer; ready: to the session's first message, ``ready``), as many new HTTP
connections (``GET /healthz``), then three bursts of ``--burst`` sessions at once, held
open to read how they split over the workers.  A client closed with 1013 "rebalance" reconnects
at once with ``?try=N``, as pages did for older servers, and the table counts it as
bounced.  ``--url`` adds a row for a server already running on 127.0.0.1: an older version,
say, started in its own checkout with ``BACKPROP_WORKERS=2 python -m app --port 8001``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, percentile, server  # noqa: E402

CONFIG = {"dataset": "circle", "hidden_layers": [4, 2], "grid": 20}
WARM_UP = 20
BURSTS = 3  # bursts per way, taken in turns


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stats(url: str) -> dict[str, Any]:
    return dict(json.loads(urllib.request.urlopen(url + "/api/stats", timeout=5).read()))


@contextlib.contextmanager
def supervised(workers: int) -> Iterator[tuple[str, list[str]]]:
    """``python -m app`` with ``workers`` processes, once all have registered."""
    with server(BACKPROP_WORKERS=str(workers), BACKPROP_MAX_SESSIONS="64") as url:
        for _ in range(1200):  # a minute: a busy machine starts processes slowly
            with contextlib.suppress(OSError):
                if len(_stats(url)["workers"]) == workers:
                    break
            time.sleep(0.05)
        yield url, [url]  # /api/stats there reads every worker's row


def reuseport_worker(port: int, private: int, ready: str) -> None:
    """One worker as before: the app on its own ``SO_REUSEPORT`` listener (and on a
    private port, so the bench can ask it how many sessions it holds)."""
    import uvicorn

    from app.main import create_app

    def bound(p: int, shared: bool) -> socket.socket:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if shared:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", p))
        sock.listen(2048)
        return sock

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            Path(ready).touch()

    config = uvicorn.Config(create_app(), log_level="warning")
    Server(config).run(sockets=[bound(port, True), bound(private, False)])


@contextlib.contextmanager
def reuseport(workers: int) -> Iterator[tuple[str, list[str]]]:
    port = _free_port()
    privates = [_free_port() for _ in range(workers)]
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "BACKPROP_DATA_DIR": data, "BACKPROP_MAX_SESSIONS": "64"}
        procs = []
        for k, private in enumerate(privates):
            args = ["--reuseport-worker", str(port), str(private), f"{data}/ready{k}"]
            procs.append(
                subprocess.Popen(
                    [sys.executable, __file__, *args],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        try:
            for _ in range(1200):
                if all(Path(f"{data}/ready{k}").exists() for k in range(workers)):
                    break
                time.sleep(0.05)
            yield f"http://127.0.0.1:{port}", [f"http://127.0.0.1:{p}" for p in privates]
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(10)


async def one_session(ws_url: str, bounced: list[int]) -> tuple[Any, float, float]:
    """A session to its first message; ``bounced[0]`` counts "rebalance" closes."""
    import websockets

    began = time.perf_counter()
    for tries in range(20):
        query = f"?try={tries}" if tries else ""
        ws = await websockets.connect(ws_url + "/ws/train" + query, open_timeout=30)
        opened = time.perf_counter()
        try:
            await ws.send(json.dumps({"type": "start", "paused": True, "config": CONFIG}))
            first = json.loads(await ws.recv())
        except websockets.ConnectionClosed as exc:
            await ws.close()
            if exc.rcvd is None or exc.rcvd.reason != "rebalance":
                raise
            bounced[0] += 1
            continue
        assert first["type"] == "ready", first
        return ws, (opened - began) * 1e3, (time.perf_counter() - began) * 1e3
    raise RuntimeError("sent on 20 times")


@dataclass
class Way:
    """One way of serving, running, and what was measured against it."""

    name: str
    url: str
    stats_urls: list[str]
    samples: dict[str, list[float]] = field(default_factory=dict)
    bounced: list[int] = field(default_factory=lambda: [0])
    splits: list[str] = field(default_factory=list)

    @property
    def ws(self) -> str:
        return self.url.replace("http", "ws")

    def add(self, key: str, ms: float) -> None:
        self.samples.setdefault(key, []).append(ms)


def http_ms(url: str) -> float:
    host, port = url.rsplit("/", 1)[1].split(":")
    began = time.perf_counter()
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", "/healthz")
    conn.getresponse().read()
    conn.close()
    return (time.perf_counter() - began) * 1e3


async def one_after_another(ways: list[Way], n: int) -> None:
    """Connection i of every way, then i + 1: the machine's noise falls on all alike."""
    for i in range(WARM_UP + n):
        for way in ways:
            ws, opened, ready = await one_session(way.ws, way.bounced)
            await ws.close()
            took = http_ms(way.url)
            if i >= WARM_UP:
                way.add("open", opened)
                way.add("ready", ready)
                way.add("http", took)


async def burst(way: Way, n: int) -> None:
    opened = await asyncio.gather(*(one_session(way.ws, way.bounced) for _ in range(n)))
    counts = sorted(w["sessions"] for u in way.stats_urls for w in _stats(u)["workers"])
    for ws, _, ready in opened:
        way.add("burst", ready)
        await ws.close()
    way.splits.append("/".join(map(str, counts)))
    await asyncio.sleep(0.5)  # the closed sessions leave the table


@contextlib.contextmanager
def running(url: str) -> Iterator[tuple[str, list[str]]]:
    yield url, [url]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--burst", type=int, default=30)
    parser.add_argument("--url", help="also measure a server running on 127.0.0.1")
    parser.add_argument("--reuseport-worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reuseport_worker:
        port, private, ready = args.reuseport_worker
        reuseport_worker(int(port), int(private), ready)
        return
    n, n_burst = min(args.connections, 1000), min(args.burst, 60)  # bounded
    starts: list[tuple[str, Any]] = [
        ("supervisor places (2 workers)", lambda: supervised(2)),
        ("SO_REUSEPORT, kernel (2 workers)", lambda: reuseport(2)),
        ("one process", lambda: supervised(1)),
    ]
    if args.url:
        if urllib.parse.urlsplit(args.url).hostname not in ("127.0.0.1", "localhost"):
            parser.error("--url: benchmarks send traffic to 127.0.0.1 only")
        starts.append((args.url.removeprefix("http://"), lambda: running(args.url.rstrip("/"))))
    print(f"Placing a connection: {n} connections one after another, then {n_burst} at once")
    with contextlib.ExitStack() as stack:
        ways = [Way(name, *stack.enter_context(start())) for name, start in starts]
        asyncio.run(one_after_another(ways, n))
        for _ in range(BURSTS):
            for way in ways:
                asyncio.run(burst(way, n_burst))
    head = (
        f"{'way':<34}{'open p50':>9}{'p99':>7}{'ready p50':>10}{'p99':>7}"
        f"{'http p50':>9}{'p99':>7}{'burst p50':>10}{'p99 ms':>8}{'bounced':>8}  split"
    )
    print(head)
    print("-" * len(head))
    for way in ways:
        cells = "".join(
            f"{percentile(way.samples[k], 50):>{w1}.2f}{percentile(way.samples[k], 99):>{w2}.2f}"
            for k, w1, w2 in [("open", 9, 7), ("ready", 10, 7), ("http", 9, 7), ("burst", 10, 8)]
        )
        print(f"{way.name:<34}{cells}{way.bounced[0]:>8}  {' '.join(way.splits)}")


if __name__ == "__main__":
    main()
