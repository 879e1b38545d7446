"""Bytes and server CPU per boundary frame on the wire, for each way of sending it.

    python bench/bench_frames.py [--frames 30] [--step 2] [--connections 1 30 150] [--steps 300]

Real messages made by the app: TensorFlow Playground's default network (x1, x2 -> [4, 2]
tanh -> sigmoid, circle, batch 10, a 100 x 100 boundary) trained by ``PlaygroundRun``.  Each
frame travels with its ``progress`` and ``health`` events, as the session sends them, and
every figure counts all three messages.  Bytes: at four stages of training, ``--frames``
consecutive frames ``--step`` epochs apart (2: about 60 epochs/s at 30 frames/s).  CPU: 30
more learners (other seeds, 10 frames from epoch 100, where frames change fastest), each on
its own connection, then on 30 and 150 connections taking turns as a busy server's learners
do, so that each connection's compressor is cold when its turn comes.

Each option sends through websockets' own sans-I/O protocol (what uvicorn's default
WebSocket implementation runs), permessage-deflate negotiated as for a browser's offer, and
counts the bytes it would write, WebSocket framing included.  The CPU is this thread's time
for ``send`` + ``data_to_send`` (and an option's own re-encoding), the median of
``--repeats`` passes, the options interleaved.  The machine is shared: the µs are noisy
(±15 % between runs), the bytes are exact.  Last, ``--steps`` real steps through the real
server at three settings show what uvicorn itself writes.
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
from common import counting_connection, server  # noqa: E402
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory  # noqa: E402
from websockets.protocol import Protocol, Side  # noqa: E402

from app.config import Settings  # noqa: E402
from app.playground.run import PlaygroundRun  # noqa: E402
from app.playground.schema import TrainConfig  # noqa: E402
from app.serving.deflate import MEM_LEVEL, deflate_factory  # noqa: E402
from app.wire import MAGIC, decode_frame, encode_frame, progress_event  # noqa: E402

STAGES = (0, 100, 300, 3000)  # epochs trained before each sequence starts
Message = bytes | str  # a binary frame, or a JSON event as the session sends it
Recode = Callable[[list[Message]], tuple[list[Message], float]]
BROWSER_OFFER = [("client_max_window_bits", None)]  # Chrome's: permessage-deflate; client_...


def sequence(start: int, frames: int, step: int, seed: int = 0) -> list[Message]:
    """``frames`` x (progress, frame, health) of the default network from epoch ``start``."""
    run = PlaygroundRun(TrainConfig(seed=seed))
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
class Deflate:
    """permessage-deflate as ``factory`` agrees to a browser's offer, for each new connection;
    ``state_kb``: the zlib compressor a connection keeps between messages, 2^(bits+2) +
    2^(mem+9) bytes with context takeover (none without: each message gets a new one)."""

    def __init__(
        self, factory: ServerPerMessageDeflateFactory, bits: int, mem: int, takeover: bool = True
    ) -> None:
        self.factory = factory
        self.state_kb = (2 ** (bits + 2) + 2 ** (mem + 9)) / 1024 if takeover else 0.0

    def __call__(self) -> Any:
        return self.factory.process_request_params(BROWSER_OFFER, [])[1]


def deflate(level: int, bits: int, mem: int = 8, takeover: bool = True, **zlib_kw: Any) -> Deflate:
    """permessage-deflate at zlib ``level``, a ``bits`` window and memLevel ``mem``."""
    factory = ServerPerMessageDeflateFactory(
        server_no_context_takeover=not takeover,
        server_max_window_bits=bits,
        client_max_window_bits=12,
        compress_settings={"level": level, "memLevel": mem, **zlib_kw},
    )
    return Deflate(factory, bits, mem, takeover)


def send_all(
    sequences: list[list[Message]], extension: Deflate | None, together: int = 1
) -> tuple[float, float]:
    """Bytes and CPU seconds per connection to send the ``sequences``: with ``together`` 1,
    each on its own connection, one after the other; else on ``together`` connections
    taking turns message by message (connection j sends sequence j mod n), as a server
    with that many learners does: each connection's compressor is cold when its turn comes."""
    if together == 1 and len(sequences) > 1:
        runs = [send_all([seq], extension) for seq in sequences]
        return statistics.mean(b for b, _ in runs), statistics.mean(c for _, c in runs)
    k = together
    conns = [Protocol(Side.SERVER) for _ in range(k)]
    for conn in conns:
        conn.extensions = [extension()] if extension is not None else []
    data = [[m if isinstance(m, bytes) else m.encode() for m in seq] for seq in sequences]
    total, cpu = 0, 0.0
    for i in range(len(data[0])):
        for j, conn in enumerate(conns):
            message = data[j % len(data)][i]
            t = time.thread_time()
            if message[:4] == MAGIC:
                conn.send_binary(message)
            else:
                conn.send_text(message)
            out = conn.data_to_send()
            cpu += time.thread_time() - t
            total += sum(map(len, out))
    return total / k, cpu / k


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
        Deflate(
            deflate_factory(APP.ws_deflate_level, APP.ws_deflate_window_bits),
            APP.ws_deflate_window_bits,
            MEM_LEVEL,
        ),
        None,
    ),
    ("a", "uvicorn 0.54: level 6, window 12, mem 5", deflate(-1, 12, 5), None),
    ("a", "level 6, window 12, no takeover", deflate(-1, 12, 5, takeover=False), None),
    ("a", "level 1, window 12, mem 5", deflate(1, 12, 5), None),
    ("a", "level 1, window 12, no takeover", deflate(1, 12, 5, takeover=False), None),
    ("a", "level 1, window 15, no takeover", deflate(1, 15, takeover=False), None),
    ("a", "level 1, window 14, mem 6", deflate(1, 14, 6), None),
    ("a", "level 1, window 15, mem 5", deflate(1, 15, 5), None),
    ("a", "level 1, window 15, mem 8", deflate(1, 15, 8), None),
    ("a", "level 2, window 15, mem 6", deflate(2, 15, 6), None),
    ("a", "level 6, window 15, mem 6", deflate(-1, 15, 6), None),
    ("a", "level 1, window 15, mem 6, Z_RLE", deflate(1, 15, 6, strategy=zlib.Z_RLE), None),
    ("b", "no deflate, today's frame", None, None),
    ("b", "no deflate, 4-bit grid + thumbnails", None, _recode(_four_bit)),
    ("b", "no deflate, 4-bit, 50 x 50 grid", None, _recode(_half_four_bit)),
    ("c", "grid only when changed, l1 w15 m6", deflate(1, 15, 6), _recode(_only_changed)),
    ("c", "64 shades, l1 w15 m6", deflate(1, 15, 6), _shades(64)),
    ("c", "32 shades, l1 w15 m6", deflate(1, 15, 6), _shades(32)),
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


async def _steps(url: str, steps: int) -> float:
    """Wire bytes per ``step`` (an epoch, then its progress, frame, health and status) of the
    default network from epoch 0 on, through a client that offers deflate."""
    import websockets

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
        wire = ws.wire
        for _ in range(steps):
            await ws.send('{"type":"step"}')
            await until_status()
        return int(ws.wire - wire) / steps


def served(steps: int) -> None:
    """The same through the real server: what its uvicorn writes at each setting.  (Its CPU
    per step, about 2.5 ms with the frame and the thread hops, varied by ±30 % from run to
    run on this shared machine: far more than the compression's part, so it is not shown.)"""
    print(f"\nThrough the server: {steps} steps (an epoch and its four messages each) from epoch 0")
    head = f"{'setting':<40}{'kB/step':>8}"
    print(head)
    print("-" * len(head))
    for name, env in SERVED.items():
        with server(**env) as url:
            print(f"{name:<40}{asyncio.run(_steps(url, steps)) / 1000:>8.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--step", type=int, default=2, help="epochs between two frames")
    parser.add_argument("--learners", type=int, default=30, help="distinct runs for the µs")
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 30, 150])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=300, help="through the server (0: skip)")
    args = parser.parse_args()
    stages = [sequence(s, args.frames, args.step) for s in STAGES]
    learners = [sequence(100, 10, args.step, seed) for seed in range(1, args.learners + 1)]
    raw = [len(m) if isinstance(m, bytes) else len(m.encode()) for m in stages[0]]
    print(f"The default network, {args.frames} consecutive frames {args.step} epochs apart; a "
          f"frame is {statistics.mean(raw[1::3]) / 1000:.1f} kB, its health event "
          f"{statistics.mean(raw[2::3]) / 1000:.2f} kB, its progress "
          f"{statistics.mean(raw[0::3]) / 1000:.2f} kB.")  # fmt: skip
    print("@epoch: kB per frame on the wire (the three messages, framing included) of a sequence")
    print("from that epoch on; Mbit/s: the largest at 30 frames/s.  µs: server CPU per frame for")
    print(f"{args.learners} learners (other seeds, from epoch 100), each on its own connection")
    print(f"(x1) or on {' or '.join(map(str, args.connections[1:]))} connections taking turns, "
          f"median of {args.repeats}; state: kB kept per connection\n")  # fmt: skip
    at = "".join(f"{'@' + str(s):>7}" for s in STAGES)
    us = "".join(f"{'µs x' + str(k):>9}" for k in args.connections)
    head = f"{'':2}{'option':<40}{at}{'Mbit/s':>7}{us}{'state':>6}"
    print(head)
    print("-" * len(head))
    costs: dict[tuple[str, int], list[float]] = {}
    for _ in range(args.repeats):  # options interleaved: the load on the machine drifts
        for _, name, ext, recode in OPTIONS:
            sent, extra = _recoded(learners, recode)
            for k in args.connections:
                _, spent = send_all(sent, ext, k)
                costs.setdefault((name, k), []).append((spent + extra) / 10)
    for group, name, ext, recode in OPTIONS:
        sizes = [send_all(_recoded([seq], recode)[0], ext)[0] / args.frames for seq in stages]
        kb = "".join(f"{x / 1000:>7.2f}" for x in sizes)
        mbit = max(sizes) * 8 * 30 / 1e6
        us = "".join(f"{statistics.median(costs[name, k]) * 1e6:>9.0f}" for k in args.connections)
        state = f"{ext.state_kb:>6.0f}" if ext is not None else f"{'-':>6}"
        print(f"{group:2}{name:<40}{kb}{mbit:>7.2f}{us}{state}", flush=True)
    if args.steps:
        served(args.steps)


def _recoded(
    sequences: list[list[Message]], recode: Recode | None
) -> tuple[list[list[Message]], float]:
    """The sequences as ``recode`` rebuilds them, and its CPU seconds per sequence."""
    if recode is None:
        return sequences, 0.0
    done = [recode(seq) for seq in sequences]
    return [seq for seq, _ in done], statistics.mean(cpu for _, cpu in done)


if __name__ == "__main__":
    main()
