"""The session runner with fake send/receive: no sockets, no server."""

from __future__ import annotations

import json
import time
from typing import Any

import anyio
import pytest

from app.config import Settings
from app.playground.run import PlaygroundRun
from app.playground.schema import TrainConfig
from app.playground.session import PlaygroundSession as Session


class Fake:
    """Records what a session sends; feeds it scripted messages, then an optional wait."""

    def __init__(self, messages: list[dict[str, Any]], linger: float, frame_delay: float = 0.0):
        self.inbox = [json.dumps(m) for m in messages]
        self.linger = linger
        self.frame_delay = frame_delay
        self.events: list[dict[str, Any]] = []
        self.frames: list[float] = []

    async def send_json(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    async def send_bytes(self, data: bytes) -> None:
        self.frames.append(time.monotonic())
        await anyio.sleep(self.frame_delay)  # a slow client

    async def receive(self) -> str | None:
        if self.inbox:
            return self.inbox.pop(0)
        await anyio.sleep(self.linger)
        return None  # the client goes away

    def epochs(self) -> list[int]:
        return [e for ev in self.events if ev["type"] == "progress" for e in ev["epochs"]]


def run_session(fake: Fake, **options: Any) -> float:
    async def main() -> float:
        session = Session(
            fake.send_json, fake.send_bytes, Settings(), anyio.CapacityLimiter(1), **options
        )
        start = time.monotonic()
        await session.serve(fake.receive)
        return time.monotonic() - start

    return anyio.run(main)


def test_progress_is_lossless_and_frames_are_capped() -> None:
    fake = Fake([{"type": "start", "config": {}}], linger=1.5)
    run_session(fake)
    epochs = fake.epochs()
    assert len(epochs) > 100 and epochs == list(range(1, len(epochs) + 1))
    span = fake.frames[-1] - fake.frames[0]
    assert len(fake.frames) / span <= Settings().max_fps * 1.15
    assert len(fake.frames) >= 15  # and they keep coming


def test_a_slow_client_slows_only_its_own_run() -> None:
    fast, slow = (
        Fake([{"type": "start", "config": {}}], 1.5),
        Fake([{"type": "start", "config": {}}], 1.5, frame_delay=0.2),
    )

    async def both() -> None:
        limiter = anyio.CapacityLimiter(1)
        async with anyio.create_task_group() as tg:
            for fake in (fast, slow):
                s = Session(fake.send_json, fake.send_bytes, Settings(), limiter)
                tg.start_soon(s.serve, fake.receive)

    anyio.run(both)
    # the slow client gets about 5 frames a second and no backlog builds up: its run
    # trains only between sends, while the fast one keeps its pace
    assert len(slow.frames) <= 1.5 / 0.2 + 2
    assert len(fast.frames) > 2 * len(slow.frames)
    assert len(fast.epochs()) > len(slow.epochs())


def test_the_session_ends_promptly_when_the_client_goes() -> None:
    fake = Fake(
        [{"type": "start", "config": {"hidden_layers": [64] * 8, "n_samples": 5000}}], linger=0.3
    )
    assert run_session(fake) < 1.3  # training stopped within a second of the socket going


def test_a_bug_in_a_run_is_reported_and_the_session_lives_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken_frame(self: PlaygroundRun) -> bytes:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(PlaygroundRun, "frame", broken_frame)
    fake = Fake([{"type": "start", "config": {}}, {"type": "pause"}], linger=0.3)
    run_session(fake)
    errors = [e for e in fake.events if e["type"] == "error"]
    assert errors and errors[0]["field"] == "server" and "ZeroDivisionError" in errors[0]["message"]
    assert any(e["type"] == "status" and e["state"] == "paused" for e in fake.events)


def test_shutdown_sends_a_last_status_and_closes() -> None:
    closed: list[int] = []

    async def main(fake: Fake) -> None:
        stopping = anyio.Event()

        async def close(code: int) -> None:
            closed.append(code)

        session = Session(
            fake.send_json,
            fake.send_bytes,
            Settings(),
            anyio.CapacityLimiter(1),
            stopping=stopping,
            close=close,
        )  # type: ignore[arg-type]
        async with anyio.create_task_group() as tg:
            tg.start_soon(session.serve, fake.receive)
            await anyio.sleep(0.3)
            stopping.set()

    fake = Fake([{"type": "start", "config": {}}], linger=10)
    anyio.run(main, fake)
    stopped = [e for e in fake.events if e.get("state") == "stopped"]
    assert len(stopped) == 1 and "shutting down" in stopped[0]["message"] and closed == [1001]


def test_runs_are_built_from_the_config() -> None:
    run = PlaygroundRun(TrainConfig(hidden_layers=[3], features=["x1_sq", "x2_sq"]))
    assert run.network.sizes == [2, 3, 1] and run.state == "running"


def test_sessions_sharing_a_process_get_equal_slices() -> None:
    """Four sessions train at once on one capacity limiter: every chunk is given the same
    time budget (cycle / sessions), so none takes a multiple of the others' share."""
    budgets: dict[int, list[float]] = {}

    class Load:
        training = 0

    load = Load()

    def recording(k: int) -> Any:
        def build(cfg: Any) -> PlaygroundRun:
            run = PlaygroundRun(cfg)
            chunk = run.chunk

            def timed(budget: float) -> Any:
                budgets.setdefault(k, []).append(budget)
                return chunk(budget)

            run.chunk = timed  # type: ignore[method-assign]
            return run

        return build

    fakes = [Fake([{"type": "start", "config": {}}], linger=1.5) for _ in range(4)]

    async def main() -> None:
        limiter = anyio.CapacityLimiter(1)
        async with anyio.create_task_group() as tg:
            for k, fake in enumerate(fakes):
                session = Session(
                    fake.send_json,
                    fake.send_bytes,
                    Settings(),
                    limiter,
                    build=recording(k),
                    load=load,
                )
                tg.start_soon(session.serve, fake.receive)

    anyio.run(main)
    assert load.training == 0  # every session counted itself out when it ended
    shared = Settings().cycle_seconds / 4  # minus each session's measured frame cost
    typical = []
    for k in range(4):
        steady = sorted(budgets[k][3:-3])
        assert steady and steady[-1] <= shared, budgets[k][:10]
        typical.append(steady[len(steady) // 2])
    assert max(typical) <= 1.25 * min(typical)  # the same slice for everyone
    counts = sorted(len(f.epochs()) for f in fakes)
    assert counts[0] >= 0.8 * counts[len(counts) // 2]  # the slowest gets a fair share
