"""Concurrency on one server: 16 and 32 training sessions at once on loopback, plus a
stream of predictions; per-session epochs/s and prediction latency.

    python bench/bench_concurrency.py [--seconds 15] [--sessions 16 32]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_playground import DEFAULT  # noqa: E402
from common import percentile, server, train_session  # noqa: E402

STROKES = [[[90, 70], [250, 70], [200, 160], [150, 280]]]


async def predictions(url: str, seconds: float) -> list[float]:
    times = []
    body = {"strokes": STROKES, "width": 336, "height": 336}
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            t = time.perf_counter()
            r = await client.post("/api/predict", json=body)
            r.raise_for_status()
            times.append((time.perf_counter() - t) * 1000)
            await asyncio.sleep(0.05)  # a person drawing: about 20 requests a second
    return times


async def run(
    url: str, sessions: int, seconds: float
) -> tuple[list[dict[str, float]], list[float]]:
    results = await asyncio.gather(
        *(train_session(url, DEFAULT, seconds) for _ in range(sessions)),
        predictions(url, seconds),
    )
    return list(results[:-1]), list(results[-1])  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 16, 32])
    parser.add_argument(
        "--env", nargs="*", default=[], help="server settings, e.g. BACKPROP_TRAIN_THREADS=1"
    )
    args = parser.parse_args()
    header = f"{'sessions':>8}{'epochs/s min':>14}{'median':>9}{'all':>8}{'frames/s':>10}"
    print(header + f"{'predict p50':>13}{'p99 ms':>9}")
    print("-" * (len(header) + 22))
    with server(BACKPROP_MAX_SESSIONS="64", **dict(a.split("=") for a in args.env)) as url:
        for n in args.sessions:
            sess, pred = asyncio.run(run(url, n, args.seconds))
            eps = [s["epochs_per_s"] for s in sess]
            fps = statistics.median(s["frames_per_s"] for s in sess)
            print(
                f"{n:>8}{min(eps):>14.0f}{statistics.median(eps):>9.0f}{sum(eps):>8.0f}"
                f"{fps:>10.1f}{percentile(pred, 50):>13.1f}{percentile(pred, 99):>9.1f}"
            )
    print("\nEvery session is TensorFlow Playground's default network (see bench_playground.py).")


if __name__ == "__main__":
    main()
