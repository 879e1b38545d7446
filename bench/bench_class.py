"""A class of learners with and without joining: does publishing tiles slow training?

    python bench/bench_class.py [--learners 100] [--seconds 10] [--rounds 2] [--workers 1]

One real server on 127.0.0.1 (one worker process unless ``--workers``), ``--learners``
plain ``websockets`` clients training TensorFlow Playground's default network at full
speed, and a teacher's socket watching a class (it reads every tile a few times a second).
Each round measures the same learners twice, alternating: none joined, then all joined to
the teacher's class (their sessions write a tile a few times a second).  Per row: epochs/s
per learner (median and slowest) and frames/s.  The target: joined is within 10 % of not
joined.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import server  # noqa: E402

from app.serving.loadtest import TF_DEFAULT  # noqa: E402


class Learner:
    def __init__(self) -> None:
        self.epoch = 0
        self.frames = 0
        self.ws: Any = None

    async def run(self, url: str, ready: asyncio.Event) -> None:
        import websockets

        self.ws = await websockets.connect(
            url.replace("http", "ws") + "/ws/train", max_size=None, open_timeout=60
        )
        await self.ws.send(json.dumps({"type": "start", "config": TF_DEFAULT}))
        ready.set()
        try:
            async for msg in self.ws:
                if isinstance(msg, bytes):
                    self.frames += 1
                elif msg.startswith('{"type":"progress"'):
                    self.epoch = json.loads(msg)["epochs"][-1]
        except websockets.ConnectionClosed:
            pass


async def window(learners: list[Learner], seconds: float) -> dict[str, float]:
    before = [(x.epoch, x.frames) for x in learners]
    start = time.perf_counter()
    await asyncio.sleep(seconds)
    spent = time.perf_counter() - start
    rates = [(x.epoch - e) / spent for x, (e, _) in zip(learners, before, strict=True)]
    frames = [(x.frames - f) / spent for x, (_, f) in zip(learners, before, strict=True)]
    return {
        "median": statistics.median(rates),
        "slowest": min(rates),
        "frames": statistics.median(frames),
    }


async def bench(url: str, n: int, seconds: float, rounds: int) -> list[tuple[str, dict]]:
    import websockets

    for _ in range(600):  # a busy machine may take a while to start the server
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2).read()
            break
        except OSError:
            await asyncio.sleep(0.2)
    teacher = await websockets.connect(url.replace("http", "ws") + "/ws/class", open_timeout=60)
    await teacher.send(json.dumps({"type": "open"}))
    code = json.loads(await teacher.recv())["code"]
    tiles: list[int] = []

    async def watch() -> None:
        async for msg in teacher:
            event = json.loads(msg)
            if event["type"] == "tiles":
                tiles.append(len(event["learners"]))

    watcher = asyncio.create_task(watch())
    learners = [Learner() for _ in range(n)]
    tasks = []
    for me in learners:
        ready = asyncio.Event()
        tasks.append(asyncio.create_task(me.run(url, ready)))
        await ready.wait()
    await asyncio.sleep(3)  # every run started and stacked
    rows = []
    for _ in range(rounds):
        rows.append(("0 joined", await window(learners, seconds)))
        for k, me in enumerate(learners):
            await me.ws.send(json.dumps({"type": "join", "code": code, "name": f"L{k}"}))
        deadline = time.monotonic() + 30
        while (not tiles or tiles[-1] < n) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        rows.append((f"{tiles[-1] if tiles else 0} joined", await window(learners, seconds)))
        for me in learners:
            await me.ws.send(json.dumps({"type": "leave"}))
        await asyncio.sleep(2)
    for me in learners:
        await me.ws.close()
    await teacher.close()
    watcher.cancel()
    for t in tasks:
        t.cancel()
    return rows


def publish_cost(n: int, period: float) -> float:
    """In this process: the CPU seconds one publisher round costs for ``n`` joined learners
    whose runs train (each round writes every tile), as a share of one core."""
    from app.classroom.learners import Member, Publisher
    from app.classroom.store import ClassStore
    from app.config import Settings
    from app.playground.run import PlaygroundRun
    from app.playground.schema import TrainConfig

    with tempfile.TemporaryDirectory() as classes:
        settings = Settings(class_dir=Path(classes))
        store = ClassStore(settings)
        code, _ = store.open_class()
        run = PlaygroundRun(TrainConfig(**TF_DEFAULT))
        run.trainer.train_for(0.0, 1)
        frame, health = run.frame()
        members = [Member(code, f"L{k}", lambda: run, lambda e: None) for k in range(n)]
        publisher = Publisher(store, period)
        rounds = 30
        start = time.process_time()
        for _ in range(rounds):
            run.trainer.epoch += 1  # every tile changed: the dearest case
            for m in members:
                m.frame, m.health = frame, health
            publisher.publish(members)
        return (time.process_time() - start) / rounds / period


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--learners", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    with (
        tempfile.TemporaryDirectory() as classes,
        server(
            BACKPROP_WORKERS=str(args.workers),
            BACKPROP_CLASS_DIR=classes,
            BACKPROP_MAX_SESSIONS=str(args.learners + 10),
        ) as url,
    ):
        rows = asyncio.run(bench(url, args.learners, args.seconds, args.rounds))
    print(f"{args.learners} learners, TF default network, {args.workers} worker(s)")
    print(f"{'row':<12} {'epochs/s median':>16} {'slowest':>8} {'frames/s':>9}")
    for name, r in rows:
        print(f"{name:<12} {r['median']:>16.1f} {r['slowest']:>8.1f} {r['frames']:>9.1f}")
    off = statistics.mean(r["median"] for name, r in rows if name.startswith("0 "))
    on = statistics.mean(r["median"] for name, r in rows if not name.startswith("0 "))
    print(f"joined / not joined: {on / off:.1%} of the epochs/s (target: at least 90 %)")
    cost = publish_cost(args.learners, 0.3)
    print(f"publishing {args.learners} tiles every 0.3 s costs {cost:.1%} of one core")


if __name__ == "__main__":
    main()
