"""The digits page's session with fake clients: chunks end inside an epoch, a neighbour
gets its turns while a huge run trains, and a client that leaves takes its work with it.

The clients leave on events (what they were sent), never after a while; ``fail_after``
only guards against a hang. How long chunks and epochs take is bench/bench_mnist_slices.py's.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import anyio
import pytest

from app.config import Settings
from app.digits.session import MnistSession
from app.digits.store import ModelStore
from app.digits.training import MnistConfig, MnistRun
from tests.app.test_runner import Fake

#: Seconds after which a test that is still waiting has hung. One epoch of HUGE takes
#: minutes, so a chunk that is a whole epoch (or work that goes on after its client left)
#: ends the test here.
HANG = 40
#: The widest network the digits page allows, at batch size 1: minutes per epoch.
HUGE = {"hidden_layers": [1024] * 4, "batch_size": 1, "epochs": 1}
#: A small full-batch run: an epoch is one step.
SMALL = {"hidden_layers": [10], "batch_size": 8000, "optimizer": "sgd", "learning_rate": 0.5}


def start(config: dict[str, Any]) -> dict[str, Any]:
    return {"type": "start", "config": config}


def serve(fakes: list[Fake], store: ModelStore, runs: list[MnistRun]) -> anyio.CapacityLimiter:
    """Serve each fake on its own MnistSession, all on one capacity limiter (one process);
    ``runs`` gets every run they build."""
    limiter = anyio.CapacityLimiter(1)

    def build(cfg: MnistConfig) -> MnistRun:
        runs.append(MnistRun(cfg))
        return runs[-1]

    class Load:
        training = 0

    async def main() -> None:
        with anyio.fail_after(HANG):
            async with anyio.create_task_group() as tg:
                for f in fakes:
                    session = MnistSession(
                        f.send_json,
                        f.send_bytes,
                        Settings(),
                        limiter,
                        store=store,
                        build=build,
                        load=Load(),
                    )
                    tg.start_soon(session.serve, f.receive)

    anyio.run(main)
    return limiter


@pytest.fixture()
def store(tmp_path: Path) -> ModelStore:
    return ModelStore(tmp_path)


def states(fake: Fake) -> list[str]:
    return [ev["state"] for ev in fake.events if ev["type"] == "status"]


def huge_run(runs: list[MnistRun]) -> MnistRun:
    return next(r for r in runs if r.cfg.hidden_layers == HUGE["hidden_layers"])


@pytest.mark.parametrize(
    "messages",
    [[start(HUGE)], [{**start(HUGE), "paused": True}, {"type": "step"}]],
    ids=["running", "a step"],
)
def test_a_neighbour_trains_whole_runs_while_a_huge_batch_1_epoch_is_under_way(
    store: ModelStore, messages: list[dict[str, Any]]
) -> None:
    runs: list[MnistRun] = []
    leave = anyio.Event()
    seen: list[int] = []  # the huge run's epoch when the small one was done

    def small_done(f: Fake) -> bool:
        if "done" in states(f) and not leave.is_set():
            seen.append(huge_run(runs).trainer.epoch)
            leave.set()
        return leave.is_set()

    huge = Fake(messages, leave=leave)
    small = Fake([start({**SMALL, "epochs": 3})], leave_when=small_done)
    serve([huge, small], store, runs)
    assert small.epochs() == [1, 2, 3]
    assert seen == [0]  # ... before the huge run had finished its first epoch
    paces = [ev for ev in huge.events if ev["type"] == "pace"]
    assert paces and paces[-1]["batches_done"] > 0  # which was training all the while
    assert paces[0]["batches"] == 8000 and paces[0]["epoch_seconds"] > 60
    assert "try a batch size of 128" in paces[0]["message"]


def test_a_client_that_leaves_mid_epoch_takes_its_work_with_it(store: ModelStore) -> None:
    """The client leaves after the huge run's fifth batch (counted on the worker thread);
    its session ends, and its thread is free, a few batches later."""
    runs: list[MnistRun] = []
    batches: list[int] = []
    leave = anyio.Event()
    huge = Fake([start(HUGE)], leave=leave)
    loop: list[Any] = []

    def counting(cfg: MnistConfig) -> MnistRun:
        run = MnistRun(cfg)
        backprop = run.network.backprop

        def counted(*args: Any, **kwargs: Any) -> Any:
            batches.append(1)
            if len(batches) == 5:
                loop[0].call_soon_threadsafe(leave.set)
            return backprop(*args, **kwargs)

        run.network.backprop = counted  # type: ignore[method-assign]
        runs.append(run)
        return run

    limiter = anyio.CapacityLimiter(1)

    async def main() -> None:
        loop.append(asyncio.get_running_loop())
        with anyio.fail_after(HANG):
            session = MnistSession(
                huge.send_json, huge.send_bytes, Settings(), limiter, store=store, build=counting
            )
            await session.serve(huge.receive)

    anyio.run(main)
    assert limiter.borrowed_tokens == 0  # the worker thread is free again
    assert runs[0].trainer.epoch == 0  # it stopped inside its first epoch (of 8,000 batches)
    assert 5 <= len(batches) <= 5 + 5  # a few batches after its client left, not 8,000


def test_a_step_trains_one_epoch_in_slices_then_pauses(store: ModelStore) -> None:
    runs: list[MnistRun] = []
    fake = Fake(
        [{**start({**SMALL, "epochs": 5}), "paused": True}, {"type": "step"}, {"type": "step"}],
        leave_when=lambda f: f.epochs() == [1, 2] and f.events[-1]["type"] == "status",
    )
    serve([fake], store, runs)
    assert fake.epochs() == [1, 2]  # one epoch a step
    assert set(states(fake)) == {"paused"}  # paused after the start and after the steps
    assert runs[0].trainer.epoch == 2 and runs[0].trainer.epoch_progress[0] == 0
