"""Pacing on the clock: the rates the session's tests leave to a benchmark. One session
alone (frames a second against max_fps), a session at a set speed (epochs a second),
a session whose client goes during a large chunk (seconds until it ends), and four
sessions sharing one process (their median budgets and epochs). In-process sessions
with a client that only counts: no sockets.

    python bench/bench_pacing.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import anyio

from app.config import Settings
from app.playground.run import PlaygroundRun
from app.playground.session import PlaygroundSession


class Client:
    """Counts what a session sends; goes away after ``linger`` seconds."""

    def __init__(self, config: dict[str, Any], linger: float) -> None:
        self.inbox = [json.dumps({"type": "start", "config": config})]
        self.linger = linger
        self.frames: list[float] = []
        self.epochs = 0
        self.gone_at = 0.0

    async def send_json(self, event: dict[str, Any]) -> None:
        if event["type"] == "progress":
            self.epochs += len(event["epochs"])

    async def send_bytes(self, data: bytes) -> None:
        self.frames.append(time.monotonic())

    async def receive(self) -> str | None:
        if self.inbox:
            return self.inbox.pop(0)
        await anyio.sleep(self.linger)
        self.gone_at = time.monotonic()
        return None


def serve(clients: list[Client], budgets: dict[int, list[float]] | None = None) -> float:
    """Serve the clients on one capacity limiter; seconds from the last client's leaving
    to the last session's end."""

    class Load:
        training = 0

    load = Load()

    def build(k: int) -> Any:
        def run(cfg: Any) -> PlaygroundRun:
            r = PlaygroundRun(cfg)
            chunk = r.chunk

            def noted(budget: float) -> Any:
                if budgets is not None:
                    budgets.setdefault(k, []).append(budget)
                return chunk(budget)

            r.chunk = noted  # type: ignore[method-assign]
            return r

        return run

    async def main() -> float:
        limiter = anyio.CapacityLimiter(1)
        async with anyio.create_task_group() as tg:
            for k, c in enumerate(clients):
                s = PlaygroundSession(
                    c.send_json, c.send_bytes, Settings(), limiter, build=build(k), load=load
                )
                tg.start_soon(s.serve, c.receive)
        return time.monotonic() - max(c.gone_at for c in clients)

    return float(anyio.run(main))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    t = args.seconds
    settings = Settings()
    rows: list[tuple[str, str, str]] = []

    alone = Client({}, t)
    serve([alone])
    span = alone.frames[-1] - alone.frames[0]
    rows.append(("frames/s, one session", f"{len(alone.frames) / span:.1f}", "30 (max_fps)"))
    rows.append(("epochs/s, one session", f"{alone.epochs / t:.0f}", "-"))

    paced = Client({"speed": 10}, t)
    serve([paced])
    rows.append(("epochs/s at speed 10", f"{paced.epochs / t:.1f}", "10"))

    big = Client({"hidden_layers": [64] * 8, "n_samples": 5000}, 0.3)
    ended = serve([big])
    rows.append(("s to end after the client goes (8x64)", f"{ended:.3f}", "< 1"))

    budgets: dict[int, list[float]] = {}
    four = [Client({}, t) for _ in range(4)]
    serve(four, budgets)
    typical = [statistics.median(b[3:-3]) * 1000 for b in budgets.values()]
    share = settings.cycle_seconds / 4 * 1000
    rows.append(
        ("median budget ms, 4 sessions", " ".join(f"{x:.1f}" for x in typical), f"<= {share:.0f}")
    )
    rows.append(("epochs, 4 sessions", " ".join(str(c.epochs) for c in four), "equal"))
    rows.append(("max/min median budget", f"{max(typical) / min(typical):.2f}", "about 1"))

    width = max(len(r[0]) for r in rows)
    print(f"{'':<{width}}  {'measured':>22}  {'aim':>12}")
    print("-" * (width + 38))
    for name, got, aim in rows:
        print(f"{name:<{width}}  {got:>22}  {aim:>12}")


if __name__ == "__main__":
    main()
