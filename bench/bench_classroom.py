"""A classroom on this machine: N learners training TensorFlow Playground's default network
(100 x 100 boundary) at once, through `backprop-lab loadtest`, against a real server.

    python bench/bench_classroom.py [--seconds 20] [--learners 1 30 60] [--workers 1 2]

The first table is the sizing table (every learner's slowest and median epochs/s and
frames/s, refusals, prediction latency) for the default number of workers; the second is
aggregate throughput against the number of worker processes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import server  # noqa: E402

from app.serving.loadtest import run  # noqa: E402


def row(url: str, learners: int, seconds: float) -> dict[str, float]:
    return asyncio.run(run(url, learners, seconds, ramp=min(3.0, learners / 10))).summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--learners", type=int, nargs="+", default=[1, 30, 60])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--throughput-learners", type=int, default=8)
    args = parser.parse_args()
    head = (
        f"{'learners':>8}{'epochs/s min':>14}{'median':>8}{'total':>8}{'frames/s min':>14}"
        f"{'median':>8}{'busy':>6}{'predict p50':>13}{'p99 ms':>8}"
    )
    print(f"Sizing: default workers ({max(args.workers)}), {args.seconds:.0f} s per row")
    print(head)
    print("-" * len(head))
    with server(BACKPROP_WORKERS=str(max(args.workers)), BACKPROP_MAX_SESSIONS="64") as url:
        for n in args.learners:
            s = row(url, n, args.seconds)
            print(
                f"{n:>8}{s['epochs_min']:>14.0f}{s['epochs_median']:>8.0f}"
                f"{s['epochs_total']:>8.0f}{s['frames_min']:>14.1f}{s['frames_median']:>8.1f}"
                f"{s['busy']:>6.0f}{s['predict_p50']:>13.1f}{s['predict_p99']:>8.1f}"
            )
    n = args.throughput_learners
    print(f"\nThroughput: {n} learners against the number of worker processes")
    print(f"{'workers':>8}{'epochs/s total':>16}{'slowest':>9}{'median':>8}{'frames/s min':>14}")
    for w in args.workers:
        with server(BACKPROP_WORKERS=str(w), BACKPROP_MAX_SESSIONS="64") as url:
            s = row(url, n, args.seconds)
        print(
            f"{w:>8}{s['epochs_total']:>16.0f}{s['epochs_min']:>9.0f}"
            f"{s['epochs_median']:>8.0f}{s['frames_min']:>14.1f}"
        )


if __name__ == "__main__":
    main()
