"""The Pacer's decisions as arithmetic over given clock readings: no clock is read here.

The session asks the pacer how long to train and whether a frame is due, passing it
``time.monotonic()``; these tests pass the readings instead, so the caps and the shares
are exact (bench/bench_pacing.py measures the rates a real session reaches).
"""

from __future__ import annotations

import pytest

from app.config import Settings
from app.session.pacing import Pacer

SETTINGS = Settings()


def alone(pacer: Pacer, seconds: float, overshoot: float = 0.0) -> list[float]:
    """A session training alone for ``seconds`` of simulated time: each chunk lasts the
    budget it was given (plus ``overshoot``: an epoch ends past the deadline), then a frame
    is built if one is due. Returns the clock readings of the frames."""
    now, frames = 0.0, []
    while now < seconds:
        now += pacer.budget(now, sharing=1) + overshoot
        if pacer.frame_due(now):
            frames.append(now)
            pacer.sent(now, now + pacer.frame_cost)
            now += pacer.frame_cost
    return frames


@pytest.mark.parametrize("overshoot", [0.0, 0.001, 0.004, 0.02])
def test_alone_frames_come_at_most_max_fps_a_second(overshoot: float) -> None:
    frames = alone(Pacer(SETTINGS, frame_cost=0.002), seconds=10.0, overshoot=overshoot)
    gaps = [b - a for a, b in zip(frames, frames[1:], strict=False)]
    assert min(gaps) >= 0.9 / SETTINGS.max_fps  # never two frames closer than this
    assert len(frames) / 10.0 <= SETTINGS.max_fps * 1.15


def test_alone_chunks_and_frames_stay_in_step() -> None:
    """Each chunk trains until the next frame is due: one frame per chunk, and about
    max_fps of them a second when epochs end on time."""
    pacer = Pacer(SETTINGS, frame_cost=0.002)
    chunks = frames = 0
    now = 0.0
    while now < 10.0:
        now += pacer.budget(now, sharing=1)
        chunks += 1
        if pacer.frame_due(now):
            frames += 1
            pacer.sent(now, now + 0.002)
            now += 0.002
    assert frames == chunks
    assert SETTINGS.max_fps <= frames / 10.0 <= SETTINGS.max_fps * 1.15


def test_an_alone_budget_is_between_5_ms_and_one_chunk() -> None:
    pacer = Pacer(SETTINGS, last_frame=100.0)
    readings = [0.0, 99.0, 100.0, 100.001, 100.02, 100.0333, 100.5, 1e6]
    budgets = [pacer.budget(now, sharing=1) for now in readings]
    assert all(0.005 <= b <= SETTINGS.chunk_seconds for b in budgets), budgets
    assert pacer.budget(100.0, 1) == SETTINGS.chunk_seconds  # a frame just went: a whole chunk
    assert pacer.budget(100.5, 1) == 0.005  # a frame is overdue: just enough for an epoch


def test_costly_frames_take_about_a_quarter_of_the_time_at_most() -> None:
    """The interval is four frame costs, and a frame is due after 90 % of it."""
    for cost in (0.001, 0.01, 0.02, 0.1, 0.5):
        pacer = Pacer(SETTINGS, frame_cost=cost)
        frames = alone(pacer, seconds=30.0)
        assert pacer.frame_cost == pytest.approx(cost)
        assert len(frames) * cost / 30.0 <= 1 / (4 * 0.9), cost
        assert len(frames) >= 0.9 * 30.0 / pacer.frame_interval()  # but they keep coming


@pytest.mark.parametrize("sharing", [2, 3, 4, 8, 32])
def test_shared_sessions_get_the_same_slice_whatever_their_frame_deadlines(sharing: int) -> None:
    """With others training in the process, a budget does not depend on when this session's
    last frame went (sizing chunks by the frame deadline let one session take five times
    the others' share): the same cycle / sharing for everyone, its frame's cost included."""
    slice_ = SETTINGS.cycle_seconds / sharing
    for cost in (0.0005, 0.001, 0.003):
        budgets = {
            Pacer(SETTINGS, frame_cost=cost, last_frame=last).budget(now, sharing)
            for last in (0.0, 9.99, 10.0)
            for now in (10.0, 10.001, 10.03, 11.0)
        }
        assert len(budgets) == 1, budgets
        (budget,) = budgets
        assert budget <= slice_
        assert budget + cost == pytest.approx(max(slice_, 0.001 + cost))
    # a session whose frames cost more trains less in its slice, not longer
    cheap, dear = Pacer(SETTINGS, frame_cost=0.001), Pacer(SETTINGS, frame_cost=0.003)
    assert dear.budget(0.0, 2) < cheap.budget(0.0, 2)


def test_a_shared_budget_never_drops_below_a_millisecond() -> None:
    assert Pacer(SETTINGS, frame_cost=0.5).budget(0.0, sharing=4) == 0.001
    assert Pacer(SETTINGS, frame_cost=0.0).budget(0.0, sharing=1000) == 0.001


def test_a_paced_run_gets_at_most_max_fps_frames_whatever_they_cost() -> None:
    pacer = Pacer(SETTINGS, frame_cost=0.5, last_frame=0.0)  # frames that cost 0.5 s
    assert not pacer.paced_frame_due(0.8 / SETTINGS.max_fps)
    assert pacer.paced_frame_due(0.9 / SETTINGS.max_fps)
    assert not pacer.frame_due(0.9 / SETTINGS.max_fps)  # an unpaced run would wait longer


def test_frames_get_lighter_when_busy_or_when_a_frame_costs_more_than_a_chunk() -> None:
    cheap = Pacer(SETTINGS, frame_cost=0.002)
    assert not cheap.light(1) and not cheap.light(SETTINGS.light_frames_from - 1)
    assert cheap.light(SETTINGS.light_frames_from)
    assert Pacer(SETTINGS, frame_cost=0.02).light(1)


def test_the_frame_cost_is_a_running_average_of_what_frames_took() -> None:
    pacer = Pacer(SETTINGS, frame_cost=0.001)
    for k in range(50):
        pacer.sent(float(k), k + 0.011)
    assert pacer.last_frame == 49.0
    assert pacer.frame_cost == pytest.approx(0.011, rel=1e-3)
    assert pacer.frame_interval() == pytest.approx(0.044, rel=1e-3)  # 4 × cost > 1 / max_fps
