"""The engine on a real server: a learner's run is the same alone or in a class of 30, bit
for bit, and what a learner does to its run touches no one else's."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
import pytest
import websockets

from app.playground.run import PlaygroundRun
from app.playground.schema import TrainConfig
from app.wire import decode_frame, jsonable
from tests.app.test_reliability import Server, start_server

MINE = {"dataset": "circle", "hidden_layers": [4, 2], "learning_rate": 0.03, "seed": 7}
EPOCHS = 60


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    s = start_server(tmp_path_factory.mktemp("engine"), BACKPROP_MAX_SESSIONS="64")
    yield s
    s.proc.terminate()
    s.proc.wait(10)


async def open_run(server: Server, config: dict[str, Any], paused: bool = False) -> Any:
    ws = await websockets.connect(server.ws + "/ws/train", max_size=None, open_timeout=60)
    await ws.send(json.dumps({"type": "start", "paused": paused, "config": config}))
    return ws


async def losses_and_frames(ws: Any, epochs: int) -> tuple[list[float], list[bytes]]:
    """Every epoch's training loss up to ``epochs``, and the binary frames on the way."""
    losses: list[float] = []
    frames: list[bytes] = []
    framed = False  # the frame that follows the last progress has come
    while len(losses) < epochs or not framed:
        msg = await asyncio.wait_for(ws.recv(), 60)
        if isinstance(msg, bytes):
            frames.append(msg)
            framed = True
            continue
        event = json.loads(msg)
        if event["type"] == "progress":
            losses += event["train_loss"]
            framed = False
    return losses[:epochs], frames


async def drain(ws: Any) -> None:
    try:
        async for _ in ws:
            pass
    except websockets.ConnectionClosed:
        pass


async def close(ws: Any) -> None:
    """Close and read on meanwhile: a client that stopped reading holds the server's close
    frame behind the messages it has not read (its library stops reading when its queue
    is full), and would wait out its close timeout."""
    await asyncio.gather(ws.close(), drain(ws))


def test_the_same_seed_gives_the_same_curve_alone_and_in_a_class_of_30(server: Server) -> None:
    async def alone() -> list[float]:
        ws = await open_run(server, MINE)
        losses, _ = await losses_and_frames(ws, EPOCHS)
        await close(ws)
        return losses

    async def in_class() -> tuple[list[float], list[bytes]]:
        others = [
            await open_run(server, {**MINE, "seed": s, "learning_rate": 0.01 + 0.002 * s})
            for s in range(30)
        ]
        readers = [asyncio.create_task(drain(ws)) for ws in others]
        await asyncio.sleep(0.5)  # the class is training: mine joins a stack of 30
        ws = await open_run(server, MINE)
        result = await losses_and_frames(ws, EPOCHS)
        await close(ws)
        for other in others:
            await other.close()
        await asyncio.gather(*readers)
        return result

    solo = asyncio.run(alone())
    shared, frames = asyncio.run(in_class())
    assert shared == solo  # every epoch's loss as the page gets it
    assert_reference(frames[-1], MINE)  # and the weights, bit for bit


def assert_reference(frame: bytes, config: dict[str, Any]) -> None:
    """A frame from the server equals the one this config's run makes alone, in this
    process, at that epoch: weights, boundary, gradients and updates, bit for bit."""
    header, blocks = decode_frame(frame)
    run = PlaygroundRun(TrainConfig(**config))
    light = header["grid"] != run.cfg.grid
    run.trainer.fit(header["epoch"])
    ref_header, ref_blocks = decode_frame(run.frame(light=light)[0])
    assert header["epoch"] == ref_header["epoch"] > 0
    for name in ("output", "weights", "biases", "grad_weights", "update_weights"):
        assert np.array_equal(blocks[name], ref_blocks[name]), name


def test_a_learner_pausing_changing_and_resetting_does_not_disturb_the_others(
    server: Server,
) -> None:
    async def main() -> tuple[list[float], list[float]]:
        calm = await open_run(server, MINE)
        busy = await open_run(server, {**MINE, "seed": 3})
        calm_losses = asyncio.create_task(losses_and_frames(calm, EPOCHS))
        for message in (
            {"type": "pause"},
            {"type": "set", "learning_rate": 0.3},
            {"type": "resume"},
            {"type": "set", "batch_size": 25},  # another stack
            {"type": "reset"},
            {"type": "resume"},
        ):
            await busy.send(json.dumps(message))
            await asyncio.sleep(0.05)
        got, frames = await calm_losses
        await close(busy)
        await close(calm)
        ws = await open_run(server, MINE)
        want, _ = await losses_and_frames(ws, EPOCHS)
        await close(ws)
        return got, want, frames[-1]

    got, want, last = asyncio.run(main())
    assert got == want
    assert_reference(last, MINE)


def test_a_class_of_stacks_each_trains_at_its_own_settings(server: Server) -> None:
    setups = [
        {"hidden_layers": [4, 2]},
        {"hidden_layers": [8], "activation": "relu"},
        {"hidden_layers": [3, 3], "batch_size": 5},
        {"hidden_layers": [4, 2], "optimizer": "adam", "learning_rate": 0.01},
        {"dataset": "xor", "hidden_layers": [4], "features": ["x1", "x2", "x1_x2"]},
    ]

    async def main() -> list[tuple[list[float], list[bytes]]]:
        sockets = [await open_run(server, {**MINE, **setup}) for setup in setups]
        got = await asyncio.gather(*(losses_and_frames(ws, 20) for ws in sockets))
        for ws in sockets:
            await close(ws)
        return list(got)

    for setup, (curve, frames) in zip(setups, asyncio.run(main()), strict=True):
        run = PlaygroundRun(TrainConfig(**{**MINE, **setup}))
        assert curve == jsonable([r.train_loss for r in run.trainer.fit(20)]), setup
        assert_reference(frames[-1], {**MINE, **setup})


def test_a_learner_who_leaves_while_its_tick_runs_is_not_waited_for() -> None:
    from app.config import Settings
    from app.session.engine import Engine

    async def main() -> None:
        engine = Engine(Settings())
        run = PlaygroundRun(TrainConfig(**MINE))
        got: list[list[Any]] = []
        staying = engine.join(lambda: run, got.append)
        leaving = engine.join(lambda: PlaygroundRun(TrainConfig(**MINE)), got.append)
        out = engine.tick(1 / 30)  # both trained and framed
        assert [m for m, _ in out] == [staying, leaving]
        engine.leave(leaving)  # its socket closed before the tick's messages went out
        engine.deliver(out)
        assert len(got) == 1 and engine._unsent == {staying}
        engine.sent(staying)
        assert engine._sent.is_set() and staying.ready  # the next tick need not wait
        engine.leave(staying)

    asyncio.run(main())


#: The largest network the playground allows: 8 x 64 hidden, all 7 features, 5,000 points,
#: batch 1 (an epoch is 2,500 steps: about half a second here).
HUGE = {
    "hidden_layers": [64] * 8,
    "features": ["x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2"],
    "n_samples": 5000,
    "batch_size": 1,
}


def ticks_by_hand(runs: list[PlaygroundRun], n: int) -> tuple[list[float], list[list[Any]]]:
    """``n`` engine ticks for ``runs``, each learner's messages sent at once; the seconds
    each tick took and each learner's messages."""
    import time

    from app.config import Settings
    from app.session.engine import Engine

    async def main() -> tuple[list[float], list[list[Any]]]:
        engine = Engine(Settings())
        got: list[list[Any]] = [[] for _ in runs]
        members = [engine.join(lambda r=r: r, got[i].extend) for i, r in enumerate(runs)]  # type: ignore[misc]
        seconds = []
        for _ in range(n):
            started = time.perf_counter()
            out = engine.tick(0.97 / 30)
            seconds.append(time.perf_counter() - started)
            engine.deliver(out)
            for m in members:
                engine.sent(m)
        for m in members:
            engine.leave(m)
        return seconds, got

    return asyncio.run(main())


def test_a_neighbour_of_the_largest_network_gets_a_frame_every_tick() -> None:
    huge, mine = PlaygroundRun(TrainConfig(**HUGE)), PlaygroundRun(TrainConfig(**MINE))
    seconds, (huge_got, mine_got) = ticks_by_hand([huge, mine], 24)
    frames = [m for m in mine_got if isinstance(m, bytes)]
    assert len(frames) >= 22  # one in (almost) every tick: none in 24 before
    assert max(seconds) < 0.6  # an unsliced epoch of the big one takes longer than that
    assert huge.trainer.optimizer.t > 0 and huge.trainer.epoch < mine.trainer.epoch
    progress = [e for e in mine_got if isinstance(e, dict) and e["type"] == "progress"]
    epochs = [e for p in progress for e in p["epochs"]]
    assert epochs == list(range(1, mine.trainer.epoch + 1))  # every epoch, in order


def test_a_run_trained_in_slices_gets_the_curve_and_frames_of_whole_epochs() -> None:
    # 1,000 steps an epoch: far more than a tick's share, on any machine
    setup = {**MINE, "hidden_layers": [32, 32, 32], "n_samples": 2000, "batch_size": 1}
    sliced, mine = PlaygroundRun(TrainConfig(**setup)), PlaygroundRun(TrainConfig(**MINE))
    _, (got, _) = ticks_by_hand([sliced, mine], 40)
    progress = [e for e in got if isinstance(e, dict) and e["type"] == "progress"]
    assert 0 < len(progress) < 40  # an epoch took more than one tick
    latest, framed = 0, 0
    for message in got:  # each frame shows the epoch the progress before it ended
        if isinstance(message, bytes):
            assert decode_frame(message)[0]["epoch"] == latest
            framed += 1
        elif message["type"] == "progress":
            latest = message["epochs"][-1]
    assert framed > 0
    curve = [x for p in progress for x in p["train_loss"]]
    ref = PlaygroundRun(TrainConfig(**setup))
    assert curve == jsonable([r.train_loss for r in ref.trainer.fit(len(curve))])
    last = [m for m in got if isinstance(m, bytes)][-1]
    assert_reference(last, setup)  # the weights, boundary and gradients of that epoch


def test_a_flood_of_traces_on_the_largest_network_leaves_a_neighbour_its_frames(
    server: Server,
) -> None:
    async def main() -> tuple[list[int], list[int], list[str]]:
        calm = await open_run(server, MINE)
        flood = await open_run(server, HUGE, paused=True)
        sizes: list[int] = []
        indices: list[int] = []
        events: list[str] = []  # "trace" and "frame", in the order they arrived
        for k in range(300):  # at once: 28 bytes each
            await flood.send(json.dumps({"type": "trace", "split": "train", "index": k}))

        async def traces() -> None:
            while not indices or indices[-1] != 299:
                msg = await asyncio.wait_for(flood.recv(), 60)
                if isinstance(msg, str) and msg.startswith('{"type":"trace"'):
                    sizes.append(len(msg))
                    indices.append(json.loads(msg)["index"])
                    events.append("trace")

        answered = asyncio.create_task(traces())
        frames = 0
        while not answered.done() or frames < 30:
            msg = await asyncio.wait_for(calm.recv(), 60)
            if isinstance(msg, bytes):
                frames += 1
                events.append("frame")
        await answered
        await close(calm)
        await close(flood)
        return sizes, indices, events

    sizes, indices, events = asyncio.run(main())
    assert indices[-1] == 299 and len(indices) < 300  # the last one answered, a flood merged
    assert max(sizes) < 64_000  # a 28-byte request, a bounded answer
    # the neighbour's boundary kept moving while the flood was answered: frames came
    # between the answers, not only before the first and after the last
    during = events[events.index("trace") : len(events) - events[::-1].index("trace")]
    assert during.count("frame") >= during.count("trace") - 1


def test_a_learner_who_leaves_is_not_trained_past_the_slice_it_was_in() -> None:
    from app.config import Settings
    from app.session.engine import Engine

    async def main() -> int:
        engine = Engine(Settings())
        huge = PlaygroundRun(TrainConfig(**HUGE))
        member = engine.join(lambda: huge, lambda _: None)
        trainer, calls = huge.trainer, list[int]()
        for name in ("advance", "step"):
            original = getattr(trainer, name, None)
            if original is None:
                continue

            def counted(*args: Any, _original: Any = original, **kw: Any) -> Any:
                if member.left:
                    raise AssertionError("trained after its client left")
                calls.append(1)
                engine.leave(member)  # the socket closes while this slice trains
                return _original(*args, **kw)

            setattr(trainer, name, counted)
        engine.tick(1 / 30)
        engine.tick(1 / 30)
        return len(calls)

    assert asyncio.run(main()) == 1  # the slice it was in, and nothing more


def test_a_small_network_of_its_own_in_a_class_trains_and_draws_every_tick() -> None:
    own = PlaygroundRun(TrainConfig(**{**MINE, "hidden_layers": [8, 8], "activation": "relu"}))
    class_ = [PlaygroundRun(TrainConfig(**{**MINE, "seed": s})) for s in range(30)]
    _, got = ticks_by_hand([own, *class_], 20)
    frames = [sum(isinstance(m, bytes) for m in g) for g in got]
    # never rationed (a rationed learner gets about every other frame), never sliced away;
    # a loaded machine (the suite's other workers) may cost a class member a few ticks
    assert frames[0] >= 19 and min(frames) >= 15, frames
    assert own.trainer.epoch >= 2 * 19  # MIN_EPOCHS a tick, as every learner
