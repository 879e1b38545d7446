"""A learner with TensorFlow Playground's default network, and what its neighbour on the
same server process costs it: nobody, the largest network the page allows, or a flood of
``trace`` requests on that network.

    python bench/bench_neighbour.py [--seconds 8]

The neighbour's network is 8 x 64 hidden, all 7 features, 5,000 points, batch 1.  Per row:
the default learner's epochs/s and frames/s, the longest wait between two of its frames,
and what the neighbour got (epochs/s, or traces answered a second and the largest answer).
One worker process on 127.0.0.1; run it before and after a change back to back (the
machine may be shared).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import server  # noqa: E402

DEFAULT: dict[str, Any] = {"dataset": "circle", "hidden_layers": [4, 2], "seed": 1}
HUGE: dict[str, Any] = {
    "hidden_layers": [64] * 8,
    "features": ["x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2"],
    "n_samples": 5000,
    "batch_size": 1,
}


async def learner(url: str, seconds: float) -> dict[str, float]:
    """The default learner: epochs, frames and the longest gap between frames."""
    import websockets

    async with websockets.connect(url + "/ws/train", max_size=None) as ws:
        await ws.send(json.dumps({"type": "start", "config": DEFAULT}))
        first = last = None
        epochs, frames, gap = 0, 0, 0.0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            msg = await asyncio.wait_for(ws.recv(), 60)
            now = time.perf_counter()
            if isinstance(msg, bytes):
                frames += 1
                if last is not None:
                    gap = max(gap, now - last)
                last = now
            elif msg.startswith('{"type":"progress"'):
                event = json.loads(msg)
                first = event["epochs"][0] if first is None else first
                epochs = event["epochs"][-1]
        elapsed = time.perf_counter() - start
    return {"epochs": (epochs - (first or 1) + 1) / elapsed, "frames": frames / elapsed, "gap": gap}


async def neighbour(url: str, mode: str, stop: asyncio.Event) -> dict[str, float]:
    """The big network: playing, or paused and sending traces as fast as they come back
    (four in flight)."""
    import websockets

    async with websockets.connect(url + "/ws/train", max_size=None) as ws:
        paused = mode == "traces"
        await ws.send(json.dumps({"type": "start", "config": HUGE, "paused": paused}))
        epochs, traces, biggest, start = 0, 0, 0, time.perf_counter()
        trace = json.dumps({"type": "trace", "split": "train", "index": 0})
        if paused:
            for _ in range(4):
                await ws.send(trace)
        while not stop.is_set():
            try:
                msg = await asyncio.wait_for(ws.recv(), 0.2)
            except TimeoutError:
                continue
            if isinstance(msg, bytes):
                continue
            if msg.startswith('{"type":"progress"'):
                epochs = json.loads(msg)["epochs"][-1]
            elif '"type":"trace"' in msg[:40] or msg.startswith('{"type":"error"'):
                traces += 1
                biggest = max(biggest, len(msg))
                await ws.send(trace)
        elapsed = time.perf_counter() - start
    return {"epochs": epochs / elapsed, "traces": traces / elapsed, "bytes": biggest}


async def row(url: str, mode: str, seconds: float) -> dict[str, Any]:
    stop = asyncio.Event()
    other = None
    if mode != "alone":
        other = asyncio.create_task(neighbour(url, mode, stop))
        await asyncio.sleep(1.0)  # the big one is under way
    mine = await learner(url, seconds)
    stop.set()
    theirs = await other if other is not None else {}
    return {"mode": mode, **mine, **{f"n_{k}": v for k, v in theirs.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    with server() as url:
        ws_url = url.replace("http", "ws")
        rows = [asyncio.run(row(ws_url, m, args.seconds)) for m in ("alone", "huge", "traces")]
    print(
        f"{'neighbour':<10} {'epochs/s':>9} {'frames/s':>9} {'longest gap s':>14} "
        f"{'its epochs/s':>13} {'traces/s':>9} {'largest trace':>14}"
    )
    for r in rows:
        print(
            f"{r['mode']:<10} {r['epochs']:>9.0f} {r['frames']:>9.1f} {r['gap']:>14.2f} "
            f"{r.get('n_epochs', 0):>13.2f} {r.get('n_traces', 0):>9.1f} "
            f"{r.get('n_bytes', 0):>14,}"
        )


if __name__ == "__main__":
    main()
