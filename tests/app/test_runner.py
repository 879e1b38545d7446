"""The session runner with fake send/receive: no sockets, no server, no clock.

Each fake client goes away on an event (a count of what it was sent, or a flag the test
sets), never after a while, so these tests assert what the session *did* — which chunks
it trained, what it sent, which budgets it asked the pacer for — and not how fast.
``fail_after`` only guards against a hang. The rates (frames a second, the shares of four
sessions, how soon a session ends) are measured by bench/bench_pacing.py.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

from app.config import Settings
from app.playground.run import PlaygroundRun
from app.playground.schema import TrainConfig
from app.playground.session import PlaygroundSession as Session

#: Seconds after which a test that is still waiting has hung (not a measurement).
HANG = 60


class Fake:
    """Records what a session sends and feeds it scripted messages; then the client stays
    until ``leave`` is set, or until ``leave_when(self)`` holds after something was sent."""

    def __init__(
        self,
        messages: list[dict[str, Any]],
        leave_when: Callable[[Fake], bool] | None = None,
        leave: anyio.Event | None = None,
        on_frame: Callable[[Fake], Awaitable[None]] | None = None,
    ) -> None:
        self.inbox = [json.dumps(m) for m in messages]
        self.leave_when = leave_when
        self.leave = leave or anyio.Event()
        self.on_frame = on_frame
        self.events: list[dict[str, Any]] = []
        #: How many JSON events had been sent when each binary frame was sent.
        self.frames: list[int] = []

    async def send_json(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        self._check()

    async def send_bytes(self, data: bytes) -> None:
        self.frames.append(len(self.events))
        if self.on_frame is not None:
            await self.on_frame(self)  # a slow client
        self._check()

    def _check(self) -> None:
        if self.leave_when is not None and self.leave_when(self):
            self.leave.set()

    async def receive(self) -> str | None:
        if self.inbox:
            return self.inbox.pop(0)
        await self.leave.wait()
        return None  # the client goes away

    def progress(self) -> list[dict[str, Any]]:
        return [ev for ev in self.events if ev["type"] == "progress"]

    def epochs(self) -> list[int]:
        return [e for ev in self.progress() for e in ev["epochs"]]


def make_sessions(fakes: list[Fake], **options: Any) -> list[Session]:
    """One session per fake client, all on one capacity limiter, as in one process."""
    limiter = anyio.CapacityLimiter(1)
    return [Session(f.send_json, f.send_bytes, Settings(), limiter, **options) for f in fakes]


def serve(sessions: list[Session], fakes: list[Fake]) -> None:
    """Serve every fake with its session until all have gone."""

    async def main() -> None:
        with anyio.fail_after(HANG):
            async with anyio.create_task_group() as tg:
                for s, f in zip(sessions, fakes, strict=True):
                    tg.start_soon(s.serve, f.receive)

    anyio.run(main)


def run_sessions(fakes: list[Fake], **options: Any) -> list[Session]:
    sessions = make_sessions(fakes, **options)
    serve(sessions, fakes)
    return sessions


def recording_chunks(calls: list[tuple[int, float]], k: int = 0) -> Callable[[Any], Any]:
    """A run builder whose runs note (session k, budget) for every chunk they train."""

    def build(cfg: Any) -> PlaygroundRun:
        run = PlaygroundRun(cfg)
        chunk = run.chunk

        def noted(budget: float) -> Any:
            calls.append((k, budget))
            return chunk(budget)

        run.chunk = noted  # type: ignore[method-assign]
        return run

    return build


def test_progress_is_lossless_and_a_chunk_sends_at_most_one_frame() -> None:
    fake = Fake([{"type": "start", "config": {}}], leave_when=lambda f: len(f.frames) >= 15)
    calls: list[tuple[int, float]] = []
    run_sessions([fake], build=recording_chunks(calls))
    epochs = fake.epochs()
    assert epochs == list(range(1, len(epochs) + 1))  # every epoch, in order, once
    # the start sends one frame; after that at most one per chunk, each after its progress
    # (the pacer caps frames at max_fps a second: tests/app/test_pacing.py)
    assert len(fake.frames) - 1 <= len(calls) == len(fake.progress())
    assert all(budget <= Settings().chunk_seconds for _, budget in calls)
    assert fake.events[fake.frames[1] - 1]["type"] == "progress"


def test_a_slow_client_slows_only_its_own_run() -> None:
    """Every frame the slow client is sent blocks until the fast client got three more
    frames: the fast run keeps training meanwhile, and the slow one trains not at all (it
    asks for its next chunk only once its last frame was sent), so nothing piles up."""
    leave = anyio.Event()
    fast = Fake([{"type": "start", "config": {}}], leave=leave)
    blocked: list[tuple[int, int]] = []  # the slow run's epoch before and after each send

    async def slow_frame(me: Fake) -> None:
        run = slow_session.run
        assert run is not None
        epoch, fast_frames = run.trainer.epoch, len(fast.frames)
        while len(fast.frames) < fast_frames + 3:
            await anyio.sleep(0.005)
        blocked.append((epoch, run.trainer.epoch))
        if len(me.frames) >= 6:
            leave.set()

    slow = Fake([{"type": "start", "config": {}}], leave=leave, on_frame=slow_frame)
    fast_session, slow_session = make_sessions([fast, slow])
    serve([fast_session, slow_session], [fast, slow])
    assert len(blocked) == len(slow.frames) >= 6
    assert all(before == after for before, after in blocked), blocked  # no training ahead
    assert len(fast.frames) >= 3 * len(slow.frames)
    assert len(fast.epochs()) > len(slow.epochs())
    assert slow.epochs() == list(range(1, len(slow.epochs()) + 1))  # and none was lost


def test_the_session_ends_within_a_chunk_when_the_client_goes() -> None:
    """A big network, 5,000 points: the client leaves after the first progress; the chunk
    in flight finishes (at most ``chunk_seconds`` of training) and no other starts."""
    calls: list[tuple[int, float]] = []
    gone_at: list[int] = []

    def leave_after_progress(f: Fake) -> bool:
        if f.progress() and not gone_at:
            gone_at.append(len(calls))
        return bool(gone_at)

    fake = Fake(
        [{"type": "start", "config": {"hidden_layers": [64] * 8, "n_samples": 5000}}],
        leave_when=leave_after_progress,
    )
    (session,) = run_sessions([fake], build=recording_chunks(calls))
    assert len(calls) - gone_at[0] <= 1  # at most the chunk that was already on its way
    assert all(budget <= Settings().chunk_seconds for _, budget in calls)
    assert session.run is None  # its arrays went with the session


def test_a_bug_in_a_run_is_reported_and_the_session_lives_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken_frame(self: PlaygroundRun) -> bytes:
        raise ZeroDivisionError("boom")

    def paused(f: Fake) -> bool:
        return any(e["type"] == "status" and e["state"] == "paused" for e in f.events)

    monkeypatch.setattr(PlaygroundRun, "frame", broken_frame)
    fake = Fake([{"type": "start", "config": {}}, {"type": "pause"}], leave_when=paused)
    run_sessions([fake])
    errors = [e for e in fake.events if e["type"] == "error"]
    assert errors and errors[0]["field"] == "server" and "ZeroDivisionError" in errors[0]["message"]
    assert paused(fake)  # the pause that came after the bug was still served


def test_shutdown_sends_a_last_status_and_closes() -> None:
    closed: list[int] = []
    stopping = anyio.Event()

    async def close(code: int) -> None:
        closed.append(code)

    def stop_when_training(f: Fake) -> bool:
        if f.progress():
            stopping.set()  # the server is told to stop while this run trains
        return False  # the client itself never leaves

    fake = Fake([{"type": "start", "config": {}}], leave_when=stop_when_training)
    run_sessions([fake], stopping=stopping, close=close)
    stopped = [e for e in fake.events if e.get("state") == "stopped"]
    assert len(stopped) == 1 and "shutting down" in stopped[0]["message"] and closed == [1001]


def test_runs_are_built_from_the_config() -> None:
    run = PlaygroundRun(TrainConfig(hidden_layers=[3], features=["x1_sq", "x2_sq"]))
    assert run.network.sizes == [2, 3, 1] and run.state == "running"


def test_sessions_sharing_a_process_take_turns_with_equal_slices() -> None:
    """Four sessions train at once on one capacity limiter. While all four train, each
    asks the pacer for a budget as one of four (the slice is cycle / 4, its own frame's
    cost included, whatever its frame deadline), and they take turns: none gets a
    multiple of the others' chunks."""
    slice_ = Settings().cycle_seconds / 4
    asked: list[tuple[int, int, float, float, bool]] = []  # k, sharing, budget, cost, left

    class Load:
        training = 0

    load = Load()
    leave = anyio.Event()

    def enough(_f: Fake) -> bool:
        counts = [sum(1 for a in asked if a[0] == k) for k in range(4)]
        return min(counts) >= 40

    fakes = [
        Fake([{"type": "start", "config": {}}], leave_when=enough, leave=leave) for _ in "abcd"
    ]
    sessions = make_sessions(fakes, load=load)
    for k, s in enumerate(sessions):
        s.pacer.budget = spy(s, k, asked, leave)  # type: ignore[method-assign]
    serve(sessions, fakes)
    assert load.training == 0  # every session counted itself out when it ended
    first = max(next(i for i, a in enumerate(asked) if a[0] == k) for k in range(4))
    window = [a for a in asked[first:] if not a[4]]  # all four started, none has left
    assert len(window) >= 4 * 30
    for _k, sharing, budget, cost, _ in window:
        assert sharing == 4  # every session counts the others in
        assert budget <= slice_ and budget + cost == pytest.approx(max(slice_, 0.001 + cost))
    turns = [sum(1 for a in window if a[0] == k) for k in range(4)]
    assert max(turns) - min(turns) <= 2, turns  # first come, first served, in turn
    for a, b in zip(window, window[1:], strict=False):
        assert a[0] != b[0]  # nobody takes two chunks in a row while others wait


def spy(
    session: Session, k: int, asked: list[tuple[int, int, float, float, bool]], left: anyio.Event
) -> Callable[[float, int], float]:
    """The pacer's own budget, noting who asked, as one of how many, and what it got."""
    pacer = session.pacer
    budget = type(pacer).budget

    def noted(now: float, sharing: int) -> float:
        got = budget(pacer, now, sharing)
        asked.append((k, sharing, got, pacer.frame_cost, left.is_set()))
        return got

    return noted


@pytest.mark.parametrize("speed", [0.05, 1e-300])
def test_a_run_at_a_tiny_speed_still_answers_set_step_and_pause_at_once(speed: float) -> None:
    later = [{"type": "set", "learning_rate": 0.1}, {"type": "step"}, {"type": "pause"}]

    def answered(f: Fake) -> bool:
        return sum(ev.get("state") == "paused" for ev in f.events) >= 2  # the step's, the pause's

    start = {"type": "start", "config": {"hidden_layers": [2], "speed": speed}}
    fake = Fake([start], leave_when=answered)
    sessions = make_sessions([fake])
    fed = fake.receive

    async def receive() -> str | None:
        if not fake.inbox and later:  # once the first paced epoch is out: the next is far
            while not fake.progress():
                await anyio.sleep(0.01)
            fake.inbox = [json.dumps(m) for m in later]
            later.clear()
        return await fed()

    async def main() -> None:
        with anyio.fail_after(10):  # the next epoch at 0.05 epochs a second is 20 s away
            await sessions[0].serve(receive)

    anyio.run(main)
    kinds = [ev["type"] for ev in fake.events if ev["type"] in ("set", "progress")]
    assert kinds == ["progress", "set", "progress"]  # the paced epoch, the set, the step
    assert fake.epochs() == [1, 2]
