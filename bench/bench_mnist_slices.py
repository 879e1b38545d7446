"""MNIST training in slices: what an epoch costs for the digits page's setups, how long a
time-boxed slice really lasts, how long a neighbour waits while the widest network trains
at batch size 1, how soon a departed client's work stops, and what a prediction takes
while such runs train. The tests (tests/app/test_mnist_session.py) count events; the
seconds are measured here.

    python bench/bench_mnist_slices.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import anyio
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import percentile, server  # noqa: E402

from app.config import Settings  # noqa: E402
from app.digits.session import MnistSession  # noqa: E402
from app.digits.store import ModelStore  # noqa: E402
from app.digits.training import MnistConfig, build_trainer, load_digits  # noqa: E402

SETUPS = [
    ("784-256-128-10, batch 128 (shipped)", [256, 128], 128),
    ("784-256-128-10, batch 1", [256, 128], 1),
    ("4 x 1024, batch 1", [1024] * 4, 1),
    ("4 x 1024, batch 128", [1024] * 4, 128),
    ("4 x 1024, full batch (8,000)", [1024] * 4, 8000),
]
HUGE = {"hidden_layers": [1024] * 4, "batch_size": 1, "epochs": 1}
SMALL = {"hidden_layers": [10], "batch_size": 8000, "optimizer": "sgd", "learning_rate": 0.5}
STROKES = [
    [[90 + i, 70] for i in range(0, 160, 4)] + [[250 - i * 0.45, 70 + i] for i in range(0, 210, 4)]
]


def slices(seconds: float) -> list[tuple[str, ...]]:
    """Slices of a 30 ms budget for ``seconds``: their lengths and the epoch they add up to."""
    digits = load_digits("mnist")
    budget = Settings().chunk_seconds
    rows = []
    for name, hidden, batch in SETUPS:
        trainer = build_trainer(MnistConfig(hidden_layers=hidden, batch_size=batch), digits)
        lengths, batches, start = [], 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            before = trainer.epoch * trainer.epoch_progress[1] + trainer.epoch_progress[0]
            t = time.perf_counter()
            trainer.train_slice(budget)
            lengths.append(time.perf_counter() - t)
            batches += (
                trainer.epoch * trainer.epoch_progress[1] + trainer.epoch_progress[0] - before
            )
        epoch = sum(lengths) / max(1, batches) * trainer.epoch_progress[1]
        rows.append(
            (
                name,
                f"{epoch:.1f}",
                f"{1000 * percentile(lengths, 50):.0f}",
                f"{1000 * max(lengths):.0f}",
            )
        )
    return rows


class Client:
    """Counts a session's progress and the gaps between its messages; leaves on ``leave``."""

    def __init__(self, config: dict[str, Any], leave: anyio.Event) -> None:
        self.inbox = [json.dumps({"type": "start", "config": config})]
        self.leave, self.epochs, self.gaps, self.last = leave, 0, [], 0.0
        self.gone_at = 0.0

    async def send_json(self, event: dict[str, Any]) -> None:
        now = time.monotonic()
        if event["type"] == "progress":
            self.epochs += len(event["epochs"])
            if self.last:
                self.gaps.append(now - self.last)
            self.last = now

    async def send_bytes(self, data: bytes) -> None:
        pass

    async def receive(self) -> str | None:
        if self.inbox:
            return self.inbox.pop(0)
        await self.leave.wait()
        self.gone_at = time.monotonic()
        return None


def sessions(seconds: float) -> list[tuple[str, ...]]:
    """A huge batch-1 run beside a small neighbour, then a huge run whose client leaves."""
    store = ModelStore(Path("/tmp"))

    async def pair() -> tuple[Client, Client]:
        leave = anyio.Event()
        huge, small = Client(HUGE, leave), Client({**SMALL, "epochs": 100}, leave)
        limiter = anyio.CapacityLimiter(1)

        class Load:
            training = 0

        load = Load()
        async with anyio.create_task_group() as tg:
            for c in (huge, small):
                s = MnistSession(
                    c.send_json, c.send_bytes, Settings(), limiter, store=store, load=load
                )
                tg.start_soon(s.serve, c.receive)
            await anyio.sleep(seconds)
            leave.set()
        return huge, small

    huge, small = anyio.run(pair)
    rows = [
        ("neighbour's epochs (784-10-10 full batch)", f"{small.epochs}", f"in {seconds:g} s"),
        ("neighbour's longest wait between epochs, ms", f"{1000 * max(small.gaps):.0f}", "-"),
        (
            "neighbour's median wait between epochs, ms",
            f"{1000 * percentile(small.gaps, 50):.0f}",
            "-",
        ),
    ]

    async def leaving() -> float:
        leave = anyio.Event()
        c = Client(HUGE, leave)
        s = MnistSession(
            c.send_json, c.send_bytes, Settings(), anyio.CapacityLimiter(1), store=store
        )
        async with anyio.create_task_group() as tg:
            tg.start_soon(s.serve, c.receive)
            await anyio.sleep(1.5)
            leave.set()
        return time.monotonic() - c.gone_at

    rows.append(
        (
            "s from a client leaving to its session's end (4 x 1024, batch 1)",
            f"{anyio.run(leaving):.3f}",
            "-",
        )
    )
    return rows


def predictions(n: int) -> list[tuple[str, ...]]:
    """Prediction round trips on a real server, alone and while two huge runs train."""
    import websockets

    body = json.dumps({"strokes": STROKES, "width": 336, "height": 336, "saliency": True}).encode()

    def times(url: str) -> list[float]:
        out = []
        for _ in range(n):
            request = urllib.request.Request(
                url + "/api/predict", body, {"content-type": "application/json"}
            )
            t = time.perf_counter()
            urllib.request.urlopen(request, timeout=60).read()
            out.append(time.perf_counter() - t)
        return out

    async def with_runs(url: str) -> list[float]:
        async def learner() -> None:
            async with websockets.connect(
                url.replace("http", "ws") + "/ws/mnist", max_size=None
            ) as ws:
                await ws.send(json.dumps({"type": "start", "config": HUGE}))
                while True:
                    await ws.recv()

        tasks = [asyncio.create_task(learner()) for _ in range(2)]
        await asyncio.sleep(2)
        got = await asyncio.to_thread(times, url)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return got

    with server() as url:
        times(url)  # the model, the novelty check
        alone = times(url)
        busy = asyncio.run(with_runs(url))
    return [
        (
            f"prediction ms, alone (p50 / max of {n})",
            f"{1000 * percentile(alone, 50):.0f} / {1000 * max(alone):.0f}",
            "-",
        ),
        (
            "prediction ms, 2 huge runs training (p50 / max)",
            f"{1000 * percentile(busy, 50):.0f} / {1000 * max(busy):.0f}",
            "-",
        ),
    ]


def table(title: str, head: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    print(f"\n{title}")
    for r in [head, *rows]:
        print(
            "  ".join(
                str(c).ljust(w) if i == 0 else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--predictions", type=int, default=20)
    args = parser.parse_args()
    threadpool_limits(1, "blas")  # as the server does: one BLAS thread per run
    table(
        "Slices of 30 ms",
        ("setup", "s/epoch", "slice ms p50", "slice ms max"),
        slices(args.seconds),
    )
    table("Sessions on one limiter", ("", "measured", ""), sessions(args.seconds))
    table("Predictions", ("", "measured", ""), predictions(args.predictions))


if __name__ == "__main__":
    main()
