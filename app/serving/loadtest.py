"""``backprop-lab loadtest URL --learners 30 --seconds 20``: a class, simulated.

Each learner is a real WebSocket session training TensorFlow Playground's default network
(features x1, x2 -> [4, 2] -> 1, tanh, batch 10, a 100 x 100 boundary), as the page does;
a trickle of digit predictions runs beside them.  The report gives the slowest, median and
total epochs/s and frames/s, the learners the server turned away ("busy"), and prediction
latency.  A teacher runs it before class to size a server; the benchmarks and the scale
tests use it too.  It sends traffic only to the URL it is given and stops by itself.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import statistics
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, TextIO

TF_DEFAULT: dict[str, Any] = {
    "dataset": "circle",
    "features": ["x1", "x2"],
    "hidden_layers": [4, 2],
    "activation": "tanh",
    "batch_size": 10,
    "n_samples": 500,
    "train_ratio": 0.5,
    "grid": 100,
}
SEVEN = [[[90, 70], [250, 70], [200, 160], [150, 280]]]
#: What the digits page posts while a learner draws (a seven), saliency map included.
DIGITS_PAGE_PREDICT: dict[str, Any] = {
    "strokes": SEVEN,
    "width": 336,
    "height": 336,
    "saliency": True,
}


@dataclass
class Learner:
    epochs: int = 0
    frames: int = 0
    busy: bool = False
    error: str = ""
    seconds: float = 0.0

    @property
    def epochs_per_s(self) -> float:
        return self.epochs / self.seconds if self.seconds else 0.0

    @property
    def frames_per_s(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0


@dataclass
class Report:
    learners: list[Learner] = field(default_factory=list)
    predict_ms: list[float] = field(default_factory=list)
    predict_errors: int = 0

    def training(self) -> list[Learner]:
        return [x for x in self.learners if not x.busy and not x.error]

    def summary(self) -> dict[str, float]:
        ok = self.training()
        eps = sorted(x.epochs_per_s for x in ok) or [0.0]
        fps = sorted(x.frames_per_s for x in ok) or [0.0]
        ms = sorted(self.predict_ms) or [0.0]
        return {
            "learners": len(self.learners),
            "training": len(ok),
            "busy": sum(x.busy for x in self.learners),
            "errors": sum(bool(x.error) for x in self.learners),
            "epochs_min": eps[0],
            "epochs_median": statistics.median(eps),
            "epochs_total": sum(eps),
            "frames_min": fps[0],
            "frames_median": statistics.median(fps),
            "predict_p50": ms[len(ms) // 2],
            "predict_p99": ms[min(len(ms) - 1, int(0.99 * len(ms)))],
            "predictions": len(self.predict_ms),
        }


def _ws_url(url: str) -> str:
    base = url.rstrip("/")
    if base.startswith("https://"):
        return "wss://" + base[len("https://") :] + "/ws/train"
    return "ws://" + base.removeprefix("http://") + "/ws/train"


async def learner(
    url: str, seconds: float, start_at: float, me: Learner, config: dict[str, Any]
) -> None:
    import websockets

    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    began = time.monotonic()
    try:
        # One connection, as any plain client: the server places it on a worker.
        await _session(websockets, _ws_url(url), seconds, began, me, config)
    except Exception as exc:  # a refused or broken connection is part of the result
        if not me.busy:
            me.error = f"{type(exc).__name__}: {exc}"[:120]


async def _session(
    websockets: Any,
    target: str,
    seconds: float,
    began: float,
    me: Learner,
    config: dict[str, Any],
) -> None:
    async with websockets.connect(target, max_size=None, open_timeout=30) as ws:
        await ws.send(json.dumps({"type": "start", "config": config}))
        end = began + seconds
        first = None
        while (left := end - time.monotonic()) > 0:
            try:
                msg = await asyncio.wait_for(ws.recv(), timeout=left)
            except TimeoutError:
                break
            if isinstance(msg, bytes):
                if first is not None:
                    me.frames += 1
                continue
            event = json.loads(msg)
            if event["type"] == "progress":
                if first is None:
                    first = time.monotonic()
                me.epochs = event["epochs"][-1]
            elif event["type"] == "status" and event.get("state") == "busy":
                me.busy = True
                return
        me.seconds = time.monotonic() - (first or began)


class _Poster:
    """One kept-alive HTTP connection that POSTs JSON (the standard library's ``http.client``:
    the load test needs nothing the server's own dependencies do not bring)."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urllib.parse.urlsplit(url)
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        self.conn = cls(parts.netloc, timeout=timeout)
        self.prefix = parts.path.rstrip("/")

    def post(self, path: str, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        headers = {"content-type": "application/json"}
        try:
            self.conn.request("POST", self.prefix + path, data, headers)
            response = self.conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # the next request opens a new connection
            raise
        if response.status >= 400:
            raise http.client.HTTPException(f"{response.status} {response.reason}")

    def close(self) -> None:
        self.conn.close()


async def predictions(
    url: str,
    seconds: float,
    report: Report,
    every: float = 0.25,
    body: dict[str, Any] | None = None,
) -> None:
    """A prediction every ``every`` seconds for ``seconds``, each one's latency recorded."""
    body = body or {"strokes": SEVEN, "width": 336, "height": 336}
    poster = _Poster(url, timeout=30)
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            t = time.perf_counter()
            try:
                # a blocking request on a thread, so the learners keep streaming meanwhile
                await asyncio.to_thread(poster.post, "/api/predict", body)
                report.predict_ms.append((time.perf_counter() - t) * 1000)
            except Exception:
                report.predict_errors += 1
            await asyncio.sleep(every)
    finally:
        poster.close()


async def run(
    url: str,
    learners: int,
    seconds: float,
    *,
    ramp: float = 2.0,
    config: dict[str, Any] | None = None,
    progress: Any = None,
) -> Report:
    """``learners`` sessions join over ``ramp`` seconds and each trains ``seconds``."""
    report = Report([Learner() for _ in range(learners)])
    t0 = time.monotonic()
    cfg = config or TF_DEFAULT
    tasks = [
        learner(url, seconds, t0 + ramp * k / max(1, learners), me, cfg)
        for k, me in enumerate(report.learners)
    ]
    tasks.append(predictions(url, seconds + ramp, report))

    async def tick() -> None:
        while progress is not None:
            progress(min(1.0, (time.monotonic() - t0) / (seconds + ramp)))
            await asyncio.sleep(0.25)

    ticker = asyncio.create_task(tick())
    try:
        await asyncio.gather(*tasks)
    finally:
        ticker.cancel()
    return report


def print_report(report: Report, stream: TextIO, title: str = "") -> None:
    from rich.console import Console
    from rich.table import Table

    s = report.summary()
    table = Table(title=title or f"{int(s['learners'])} learners")
    for col in ("measure", "slowest", "median", "total"):
        table.add_column(col, justify="right" if col != "measure" else "left")
    table.add_row(
        "epochs/s",
        f"{s['epochs_min']:.0f}",
        f"{s['epochs_median']:.0f}",
        f"{s['epochs_total']:.0f}",
    )
    table.add_row("frames/s", f"{s['frames_min']:.1f}", f"{s['frames_median']:.1f}", "")
    table.add_row(
        "training / busy / errors",
        "",
        "",
        f"{int(s['training'])} / {int(s['busy'])} / {int(s['errors'])}",
    )
    table.add_row("predict p50 / p99 ms", "", f"{s['predict_p50']:.1f}", f"{s['predict_p99']:.1f}")
    Console(file=stream, highlight=False).print(table)


def main(url: str, learners: int, seconds: float, stream: TextIO) -> Report:
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn(f"{learners} learners"), BarColumn(), TimeRemainingColumn(), transient=True
    ) as bar:
        task = bar.add_task("load", total=1.0)
        report = asyncio.run(
            run(url, learners, seconds, progress=lambda f: bar.update(task, completed=f))
        )
    print_report(report, stream)
    return report
