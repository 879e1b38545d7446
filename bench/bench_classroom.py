"""A classroom on this machine: N learners training TensorFlow Playground's default network
at once against a real server, measured the way the targets are stated.

    python bench/bench_classroom.py [--seconds 15] [--learners 1 30 100 150 300] [--no-mixed]
                                    [--env BACKPROP_WS_DEFLATE_LEVEL=0 ...]

Each learner is a plain ``websockets`` client that offers permessage-deflate, as a browser
does, and trains x1, x2 -> [4, 2] tanh -> sigmoid on the circle (batch 10, rate 0.03, a
100 x 100 boundary).  The learners join over a few seconds; once all are in, one window of
``--seconds`` is measured for everyone at once.  Per learner: epochs/s (from ``progress``
events), frames/s (binary messages), the bytes of every message (raw, as the page gets them)
and on the wire (what the socket read: compressed, with the WebSocket framing).  Per row:
the slowest and median learner, those the server bounced (1013 ``rebalance``, reconnected),
turned away (``busy``) or lost, the CPU of the server's processes, of this client process
and of everything else on the machine (% of one core; the machine has 2), and the latency of
the digits page's ``POST /api/predict`` every 250 ms during the window.  ``--mixed`` adds a
row of 30 learners in 5 different setups, ``--own-in 100`` one learner with a network of
its own (a stack of one) among 100 others.  Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    counting_connection,
    cpu_seconds,
    machine_busy_seconds,
    percentile,
    server,
    server_pids,
)

from app.serving.loadtest import DIGITS_PAGE_PREDICT, TF_DEFAULT, Report, predictions  # noqa: E402

#: The mixed row: 5 setups a class might try (widths, activations, rates, data sets).
MIXED: dict[str, dict[str, Any]] = {
    "default": TF_DEFAULT,
    "xor [8] relu 0.1": {
        **TF_DEFAULT,
        "dataset": "xor",
        "hidden_layers": [8],
        "activation": "relu",
        "learning_rate": 0.1,
    },
    "spiral sin [8,8,6] adam": {
        **TF_DEFAULT,
        "dataset": "spiral",
        "hidden_layers": [8, 8, 6],
        "features": ["x1", "x2", "sin_x1", "sin_x2"],
        "optimizer": "adam",
        "learning_rate": 0.01,
    },
    "gaussian [3] sigmoid 1.0": {
        **TF_DEFAULT,
        "dataset": "gaussian",
        "hidden_layers": [3],
        "activation": "sigmoid",
        "learning_rate": 1.0,
    },
    "moons [6,4] leaky 0.01": {
        **TF_DEFAULT,
        "dataset": "moons",
        "hidden_layers": [6, 4],
        "activation": "leaky_relu",
        "learning_rate": 0.01,
        "noise": 0.1,
    },
}


@dataclass
class Learner:
    setup: str
    config: dict[str, Any]
    epoch: int = 0
    frames: int = 0
    messages: int = 0
    raw: int = 0  # bytes of every message as the page gets them (decompressed)
    wire: int = 0  # bytes the socket read, framing and compression included
    bounced: int = 0
    busy: bool = False
    lost: str = ""
    started: bool = False
    ws: Any = None
    marks: list[tuple[int, ...]] = field(default_factory=list)

    def mark(self) -> None:
        wire = self.wire + (self.ws.wire if self.ws is not None else 0)
        self.marks.append((self.epoch, self.frames, self.messages, self.raw, wire))

    def rates(self, seconds: float) -> dict[str, float]:
        a, b = self.marks
        epochs, frames, messages, raw, wire = (y - x for x, y in zip(a, b, strict=True))
        return {
            "epochs": epochs / seconds,
            "frames": frames / seconds,
            "raw_kb_frame": raw / max(1, frames) / 1000,
            "wire_kb_frame": wire / max(1, frames) / 1000,
            "wire_mbit": wire * 8 / seconds / 1e6,
            "raw_mbit": raw * 8 / seconds / 1e6,
        }


async def learn(url: str, me: Learner, stop: asyncio.Event) -> None:
    """Train until ``stop``; reconnect at once when a worker bounces us, as the page does."""
    import websockets

    counting = counting_connection()
    base = url.replace("http://", "ws://") + "/ws/train"
    while not stop.is_set():
        target = base + (f"?try={me.bounced}" if me.bounced else "")
        try:
            async with websockets.connect(
                target,
                max_size=None,
                open_timeout=60,
                ping_interval=None,
                create_connection=counting,
            ) as ws:
                me.ws = ws
                await ws.send(json.dumps({"type": "start", "config": me.config}))
                await _read(ws, me, stop)
                return
        except websockets.ConnectionClosed as exc:
            if exc.rcvd is not None and exc.rcvd.reason == "rebalance" and not me.started:
                me.bounced += 1
                continue
            if exc.rcvd is not None and exc.rcvd.reason == "busy":
                me.busy = True
            else:
                me.lost = f"closed {exc.rcvd.code if exc.rcvd else 'without a close frame'}"
            return
        except Exception as exc:  # a refused or broken connection is part of the result
            me.lost = f"{type(exc).__name__}: {exc}"[:80]
            return
        finally:
            if me.ws is not None:
                me.wire += me.ws.wire
                me.ws = None


async def _read(ws: Any, me: Learner, stop: asyncio.Event) -> None:
    waiter = asyncio.ensure_future(stop.wait())
    try:
        while True:
            receiving = asyncio.ensure_future(ws.recv())
            await asyncio.wait([receiving, waiter], return_when=asyncio.FIRST_COMPLETED)
            if not receiving.done():
                receiving.cancel()
                return
            msg = receiving.result()
            me.messages += 1
            if isinstance(msg, bytes):
                me.frames += 1
                me.raw += len(msg)
                continue
            me.raw += len(msg.encode())
            if msg.startswith('{"type":"health"'):
                continue  # the biggest JSON: the page reads it, a load client need not
            event = json.loads(msg)
            if event["type"] == "progress":
                me.epoch = event["epochs"][-1]
                me.started = True
            elif event["type"] == "status" and event.get("state") == "busy":
                me.busy = True
    finally:
        waiter.cancel()


def _stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url + "/api/stats", timeout=10) as r:
        stats: dict[str, Any] = json.load(r)
        return stats


# ------------------------------------------------------------- one row
async def measure(url: str, setups: list[tuple[str, dict[str, Any]]], seconds: float) -> dict:
    learners = [Learner(name, cfg) for name, cfg in setups]
    stop = asyncio.Event()
    ramp = min(5.0, len(learners) / 30)
    tasks = []
    for k, me in enumerate(learners):
        tasks.append(asyncio.create_task(learn(url, me, stop)))
        await asyncio.sleep(ramp / len(learners) if k < len(learners) - 1 else 0)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(x.started or x.busy or x.lost for x in learners):
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # everyone in: let the server settle into its rhythm
    pids = await asyncio.to_thread(server_pids, url)
    report = Report()

    def snapshot() -> tuple[float, ...]:
        for me in learners:
            me.mark()
        return (
            time.monotonic(),
            time.process_time(),
            sum(map(cpu_seconds, pids)),
            machine_busy_seconds(),
        )

    a = snapshot()
    await predictions(url, seconds, report, body=DIGITS_PAGE_PREDICT)
    b = snapshot()
    rss = (await asyncio.to_thread(_stats, url))["rss_mb"]  # every worker's, with everyone in
    stop.set()
    await asyncio.gather(*tasks)
    wall = b[0] - a[0]
    ok = [x for x in learners if len(x.marks) == 2 and x.started and not x.lost and not x.busy]
    rates = [x.rates(wall) for x in ok]
    client, srv = (b[1] - a[1]) / wall * 100, (b[2] - a[2]) / wall * 100
    epochs = sum(r["epochs"] for r in rates) * wall
    return {
        "learners": len(learners),
        "rates": rates,
        "setups": {
            x.setup: [r for y, r in zip(ok, rates, strict=True) if y.setup == x.setup]
            for x in learners
        },
        "bounced": sum(x.bounced for x in learners),
        "busy": sum(x.busy for x in learners),
        "lost": sum(bool(x.lost) or not x.started for x in learners),
        "server_cpu": srv,
        "client_cpu": client,
        "other_cpu": (b[3] - a[3]) / wall * 100 - srv - client,
        "server_us_epoch": (b[2] - a[2]) / max(1.0, epochs) * 1e6,
        "rss_mb": rss,
        "predict": report.predict_ms,
        "predict_errors": report.predict_errors,
    }


def _settle(url: str) -> None:
    """Wait (up to 20 s) until the last row's sessions have ended on the server."""
    for _ in range(200):
        if _stats(url)["sessions"] == 0:
            return
        time.sleep(0.1)


# ------------------------------------------------------------- tables
def _col(rates: list[dict[str, float]], key: str) -> list[float]:
    return sorted(r[key] for r in rates) or [0.0]


def print_rates(rows: list[tuple[str, dict]]) -> None:
    head = (
        f"{'row':>9}{'epochs/s min':>13}{'median':>7}{'frames/s min':>13}{'median':>7}"
        f"{'bounced':>8}{'busy':>5}{'lost':>5}{'server':>7}{'client':>7}{'other':>6}"
        f"{'µs/epoch':>9}{'predict p50':>12}{'p99 ms':>7}"
    )
    print(head)
    print("-" * len(head))
    for name, s in rows:
        e, f, p = _col(s["rates"], "epochs"), _col(s["rates"], "frames"), s["predict"] or [0.0]
        print(
            f"{name:>9}{e[0]:>13.0f}{statistics.median(e):>7.0f}{f[0]:>13.1f}"
            f"{statistics.median(f):>7.1f}{s['bounced']:>8}{s['busy']:>5}{s['lost']:>5}"
            f"{s['server_cpu']:>6.0f}%{s['client_cpu']:>6.0f}%{s['other_cpu']:>5.0f}%"
            f"{s['server_us_epoch']:>9.0f}{percentile(p, 50):>12.1f}"
            f"{percentile(p, 99):>7.1f}"
        )


def print_wire(rows: list[tuple[str, dict]]) -> None:
    head = (
        f"{'row':>9}{'raw kB/frame':>13}{'wire kB/frame':>14}{'wire Mbit/s median':>19}"
        f"{'max':>6}{'raw Mbit/s median':>18}{'at 30 fps':>10}{'server RSS MB':>14}"
    )
    print(head)
    print("-" * len(head))
    for name, s in rows:
        raw, wire = _col(s["rates"], "raw_kb_frame"), _col(s["rates"], "wire_kb_frame")
        mbit, raw_mbit = _col(s["rates"], "wire_mbit"), _col(s["rates"], "raw_mbit")
        at30 = statistics.median(wire) * 1000 * 8 * 30 / 1e6
        print(
            f"{name:>9}{statistics.median(raw):>13.1f}{statistics.median(wire):>14.1f}"
            f"{statistics.median(mbit):>19.2f}{mbit[-1]:>6.2f}"
            f"{statistics.median(raw_mbit):>18.2f}{at30:>10.2f}{s['rss_mb']:>14.0f}"
        )


def print_mixed(s: dict) -> None:
    print(f"\nThe mixed row by setup ({s['learners']} learners)")
    head = (
        f"{'setup':<26}{'learners':>9}{'epochs/s min':>13}{'median':>7}{'frames/s min':>13}"
        f"{'wire kB/frame':>14}{'Mbit/s':>7}"
    )
    print(head)
    print("-" * len(head))
    for name, rates in s["setups"].items():
        e, f = _col(rates, "epochs"), _col(rates, "frames")
        kb, mbit = _col(rates, "wire_kb_frame"), _col(rates, "wire_mbit")
        print(
            f"{name:<26}{len(rates):>9}{e[0]:>13.0f}{statistics.median(e):>7.0f}{f[0]:>13.1f}"
            f"{statistics.median(kb):>14.1f}{statistics.median(mbit):>7.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--learners", type=int, nargs="*", default=[1, 30, 100, 150, 300])
    parser.add_argument("--mixed", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--own-in", type=int, default=100, help="a row: one learner with a network of its own "
        "(a stack of one) among this many default learners (0: no such row)"
    )  # fmt: skip
    parser.add_argument(
        "--env", nargs="*", default=[], help="server settings, e.g. BACKPROP_WS_DEFLATE_LEVEL=0"
    )
    args = parser.parse_args()
    plan = [(str(n), [("default", TF_DEFAULT)] * n) for n in args.learners]
    if args.mixed:
        plan.append(("mixed 30", [s for s in MIXED.items() for _ in range(6)]))
    if args.own_in:
        own = (
            "own [8,8] relu, alone",
            {**TF_DEFAULT, "hidden_layers": [8, 8], "activation": "relu"},
        )
        plan.append((f"own in {args.own_in}", [("default", TF_DEFAULT)] * args.own_in + [own]))
    env = {"BACKPROP_WORKERS": str(args.workers), "BACKPROP_MAX_SESSIONS": "400"}
    env.update(kv.split("=", 1) for kv in args.env)
    rows = []
    print(
        f"{args.workers} worker processes, {os.cpu_count()} cores, "
        f"{args.seconds:.0f} s measured per row (all learners in)",
        flush=True,
    )
    with server(**env) as url:
        for name, setups in plan:
            rows.append((name, asyncio.run(measure(url, setups, args.seconds))))
            print(f"  {name}: done", file=sys.stderr, flush=True)
            _settle(url)
    print("\nRates per learner (CPU: % of one core; µs/epoch: the server's CPU per learner-epoch)")
    print_rates(rows)
    print("\nBytes per learner (all messages; wire: compressed, as the socket read them;")
    print("at 30 fps: the median wire kB/frame at 30 frames/s; server RSS: all processes)")
    print_wire(rows)
    for name, s in rows:
        if name.startswith(("mixed", "own")):
            print_mixed(s)


if __name__ == "__main__":
    main()
