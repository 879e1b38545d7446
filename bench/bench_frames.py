"""Bytes and server CPU per boundary frame on the wire, for each way of sending it.

    python bench/bench_frames.py [--frames 30] [--step 2] [--repeats 5]

Real messages made by the app: TensorFlow Playground's default network (x1, x2 -> [4, 2]
tanh -> sigmoid, circle, batch 10, a 100 x 100 boundary) trained by ``PlaygroundRun``, and at
four stages of training a sequence of ``--frames`` consecutive frames ``--step`` epochs apart
(2: about 60 epochs/s at 30 frames/s).  Each frame travels with its ``progress`` and
``health`` events, as the session sends them, and every figure counts all three messages.

Each option sends the sequence through websockets' own sans-I/O protocol (what uvicorn's
default WebSocket implementation runs), permessage-deflate extension included, and counts
the bytes it would write, WebSocket framing included.  The CPU is this thread's time for
``send`` + ``data_to_send`` (and an option's own re-encoding), per frame, the median of
``--repeats`` passes.  The machine is shared: the µs are noisy, the bytes are exact.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import counting_connection, run_seconds, server, server_pids  # noqa: E402
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory  # noqa: E402
from websockets.protocol import Protocol, Side  # noqa: E402

from app.config import Settings  # noqa: E402
from app.playground.run import PlaygroundRun  # noqa: E402
from app.playground.schema import TrainConfig  # noqa: E402
from app.serving.deflate import deflate_factory  # noqa: E402
from app.wire import decode_frame, encode_frame, progress_event  # noqa: E402

STAGES = (0, 100, 300, 3000)  # epochs trained before each sequence starts
Message = bytes | str  # a binary frame, or a JSON event as the session sends it
Recode = Callable[[list[Message]], tuple[list[Message], float]]
BROWSER_OFFER = [("client_max_window_bits", None)]  # Chrome's: permessage-deflate; client_...


def sequence(start: int, frames: int, step: int) -> list[Message]:
    """``frames`` x (progress, frame, health) of the default network from epoch ``start``."""
    run = PlaygroundRun(TrainConfig())
    run.trainer.state = "running"
    if start:
        run.trainer.train_for(1e9, start)
    out: list[Message] = []
    for _ in range(frames):
        out.append(_json(progress_event(run.trainer.train_for(1e9, step))))
        frame, health = run.frame()
        assert isinstance(frame, bytes) and isinstance(health, dict)
        out += [frame, _json(health)]
    return out


def _json(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)  # as starlette does


# ------------------------------------------------------------- how a message is sent
def negotiated(factory: ServerPerMessageDeflateFactory) -> Callable[[], Any]:
    """A new connection's extension, as ``factory`` agrees to a browser's offer."""
    return lambda: factory.process_request_params(BROWSER_OFFER, [])[1]


def deflate(level: int, bits: int, mem: int = 8, takeover: bool = True, **zlib_kw: Any) -> Any:
    """permessage-deflate at zlib ``level``, a ``bits`` window and memLevel ``mem``."""
    return negotiated(
        ServerPerMessageDeflateFactory(
            server_no_context_takeover=not takeover,
            server_max_window_bits=bits,
            client_max_window_bits=12,
            compress_settings={"level": level, "memLevel": mem, **zlib_kw},
        )
    )


def send_all(messages: list[Message], extension: Any) -> tuple[int, float]:
    """Bytes written and CPU seconds spent sending ``messages`` on one connection."""
    conn = Protocol(Side.SERVER)
    if extension is not None:
        conn.extensions = [extension()]
    total, cpu = 0, 0.0
    for m in messages:
        t = time.thread_time()
        if isinstance(m, bytes):
            conn.send_binary(m)
        else:
            conn.send_text(m.encode())
        out = conn.data_to_send()
        cpu += time.thread_time() - t
        total += sum(map(len, out))
    return total, cpu


# ------------------------------------------------------------- other frame encodings
def _range(block: dict[str, Any]) -> dict[str, Any]:
    return {k: block[k] for k in ("lo", "hi") if k in block}


def _recode(change: Callable[[dict[str, np.ndarray], dict[str, Any]], None]) -> Recode:
    """Rebuild every frame with ``change`` applied to its blocks; time only ``change``."""

    def recode(messages: list[Message]) -> tuple[list[Message], float]:
        out: list[Message] = []
        cpu, state = 0.0, {}
        for m in messages:
            if not isinstance(m, bytes):
                out.append(m)
                continue
            header, arrays = decode_frame(m)
            arrays = {k: v.copy() for k, v in arrays.items()}
            t = time.thread_time()
            change(arrays, state)
            cpu += time.thread_time() - t
            extras = {b["name"]: _range(b) for b in header["blocks"]}
            blocks = [(k, v, extras.get(k, {})) for k, v in arrays.items()]
            head = {k: v for k, v in header.items() if k != "blocks"}
            out.append(encode_frame(head, blocks))
        return out, cpu

    return recode


def _shades(n: int) -> Recode:
    """The grid and thumbnails in ``n`` shades, still as 0..255 (the page reads them as today)."""

    def change(a: dict[str, np.ndarray], _: dict[str, Any]) -> None:
        for k in ("output", "neurons"):
            step = 255 / (n - 1)
            a[k] = (np.rint(np.rint(a[k] / step) * step)).astype(np.uint8)

    return _recode(change)


def _four_bit(a: dict[str, np.ndarray], _: dict[str, Any]) -> None:
    """Two pixels a byte (16 shades): the page would have to unpack them."""
    for k in ("output", "neurons"):
        q = (a[k] >> 4).ravel()
        a[k] = (q[0::2] << 4 | q[1::2]).astype(np.uint8)


def _half_grid(a: dict[str, np.ndarray], _: dict[str, Any]) -> None:
    a["output"] = np.ascontiguousarray(a["output"][::2, ::2])  # a 50 x 50 boundary


def _half_four_bit(a: dict[str, np.ndarray], state: dict[str, Any]) -> None:
    _half_grid(a, state)
    _four_bit(a, state)


def _only_changed(a: dict[str, np.ndarray], state: dict[str, Any]) -> None:
    """Leave out the grid and thumbnails when their bytes equal the last frame's."""
    for k in ("output", "neurons"):
        raw = a[k].tobytes()
        if state.get(k) == raw:
            del a[k]
        state[k] = raw


APP = Settings()
OPTIONS: list[tuple[str, str, Any, Recode | None]] = [
    (
        "",
        f"the app's: level {APP.ws_deflate_level}, window {APP.ws_deflate_window_bits}",
        negotiated(deflate_factory(APP.ws_deflate_level, APP.ws_deflate_window_bits)),
        None,
    ),
    ("a", "uvicorn 0.54: level 6, window 12, mem 5", deflate(-1, 12, 5), None),
    ("a", "level 6, window 12, no takeover", deflate(-1, 12, 5, takeover=False), None),
    ("a", "level 1, window 12, mem 5", deflate(1, 12, 5), None),
    ("a", "level 1, window 12, no takeover", deflate(1, 12, 5, takeover=False), None),
    ("a", "level 1, window 14, mem 8", deflate(1, 14), None),
    ("a", "level 1, window 15, mem 5", deflate(1, 15, 5), None),
    ("a", "level 1, window 15, mem 8", deflate(1, 15), None),
    ("a", "level 2, window 15, mem 8", deflate(2, 15), None),
    ("a", "level 6, window 15, mem 8", deflate(-1, 15), None),
    ("a", "level 1, window 15, Z_RLE", deflate(1, 15, strategy=zlib.Z_RLE), None),
    ("b", "no deflate, today's frame", None, None),
    ("b", "no deflate, 4-bit grid + thumbnails", None, _recode(_four_bit)),
    ("b", "no deflate, 4-bit, 50 x 50 grid", None, _recode(_half_four_bit)),
    ("c", "grid only when changed, l1 w15", deflate(1, 15), _recode(_only_changed)),
    ("c", "64 shades, l1 w15", deflate(1, 15), _shades(64)),
    ("c", "32 shades, l1 w15", deflate(1, 15), _shades(32)),
]


# ------------------------------------------------------------- through the real server
SERVED = {
    "off (BACKPROP_WS_DEFLATE_LEVEL=0)": {"BACKPROP_WS_DEFLATE_LEVEL": "0"},
    "the app's: level 1, window 15": {},
    "level 6, window 12 (uvicorn's)": {
        "BACKPROP_WS_DEFLATE_LEVEL": "6",
        "BACKPROP_WS_DEFLATE_WINDOW_BITS": "12",
    },
}


async def _steps(url: str, steps: int) -> tuple[float, float]:
    """Server CPU seconds and wire bytes per ``step`` (an epoch, then its progress, frame,
    health and status) of the default network, from epoch 0 on."""
    import websockets

    pids = server_pids(url)
    async with websockets.connect(
        url.replace("http", "ws") + "/ws/train",
        create_connection=counting_connection(),
        max_size=None,
        ping_interval=None,
    ) as ws:

        async def until_status() -> None:
            while True:
                m = await ws.recv()
                if isinstance(m, str) and m.startswith('{"type":"status"'):
                    return

        await ws.send(json.dumps({"type": "start", "config": {}, "paused": True}))
        await until_status()
        cpu, wire = sum(map(run_seconds, pids)), ws.wire
        for _ in range(steps):
            await ws.send('{"type":"step"}')
            await until_status()
        return (sum(map(run_seconds, pids)) - cpu) / steps, (ws.wire - wire) / steps


def served(steps: int, rounds: int) -> None:
    print(f"\nThrough the server: {steps} steps (an epoch and its messages each) from epoch 0,")
    print("one connection offering deflate; server CPU per step, median of the rounds")
    head = f"{'setting':<40}{'kB/step':>8}{'CPU µs/step':>12}{'vs off':>8}"
    print(head)
    print("-" * len(head))
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in SERVED}
    for _ in range(rounds):  # interleaved: the machine's load changes from minute to minute
        for name, env in SERVED.items():
            with server(**env) as url:
                results[name].append(asyncio.run(_steps(url, steps)))
    off = statistics.median(c for c, _ in results[next(iter(SERVED))])
    for name, runs in results.items():
        cpu, wire = statistics.median(c for c, _ in runs), statistics.median(w for _, w in runs)
        print(f"{name:<40}{wire / 1000:>8.2f}{cpu * 1e6:>12.0f}{(cpu - off) * 1e6:>+8.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--step", type=int, default=2, help="epochs between two frames")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=300, help="through the server (0: skip)")
    args = parser.parse_args()
    stages = {s: sequence(s, args.frames, args.step) for s in STAGES}
    n = args.frames
    first = stages[STAGES[0]]
    raw = [len(m) if isinstance(m, bytes) else len(m.encode()) for m in first]
    print(f"default network, {n} consecutive frames {args.step} epochs apart per stage; per "
          f"frame: frame {statistics.mean(raw[1::3]) / 1000:.1f} kB, health "
          f"{statistics.mean(raw[2::3]) / 1000:.2f} kB, progress "
          f"{statistics.mean(raw[0::3]) / 1000:.2f} kB (raw)")  # fmt: skip
    print("kB per frame on the wire (frame + health + progress, framing included) by the epoch")
    print("each sequence starts at; Mbit/s at 30 frames/s for the largest; server CPU µs/frame\n")
    cols = "".join(f"{'@' + str(s):>8}" for s in STAGES)
    head = f"{'':2}{'option':<40}{cols}{'Mbit/s':>8}{'µs med':>8}{'µs max':>8}"
    print(head)
    print("-" * len(head))
    for group, name, ext, recode in OPTIONS:
        sizes, costs = [], []
        for messages in stages.values():
            cpu = []
            for _ in range(args.repeats):
                sent, extra = recode(messages) if recode else (messages, 0.0)
                size, spent = send_all(sent, ext)
                cpu.append(spent + extra)
            sizes.append(size / n)
            costs.append(statistics.median(cpu) / n * 1e6)
        kb = "".join(f"{s / 1000:>8.2f}" for s in sizes)
        mbit = max(sizes) * 8 * 30 / 1e6
        print(f"{group:2}{name:<40}{kb}{mbit:>8.2f}{statistics.median(costs):>8.0f}"
              f"{max(costs):>8.0f}", flush=True)  # fmt: skip

    if args.steps:
        served(args.steps, rounds=3)


if __name__ == "__main__":
    main()
