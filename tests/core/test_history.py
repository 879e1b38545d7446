"""A run's history stays in bounded memory and still shows the whole run."""

from __future__ import annotations

import tracemalloc

import numpy as np

from nn_core import Network, Trainer
from nn_core.datasets import make_dataset
from nn_core.history import RECENT, SAMPLED, History
from nn_core.optimizers import SGD


def test_the_recent_reports_stay_exact_and_the_past_is_evenly_thinned() -> None:
    h: History[int] = History(recent=10, sampled=8)
    for i in range(1000):
        h.append(i)
        assert len(h) <= 18 and h[-1] == i and h[0] == 0
    assert list(h)[-10:] == list(range(990, 1000))
    past = h.sampled
    assert 4 <= len(past) <= 8 and past[0] == 0
    assert all(b - a == h.stride for a, b in zip(past, past[1:], strict=False))
    assert past[-1] + h.stride > 990 - h.stride  # the thinned part reaches the recent one
    assert h.total == 1000 and h[-3:] == [997, 998, 999]


def test_a_short_history_is_every_report() -> None:
    h: History[int] = History(recent=5, sampled=4)
    for i in range(5):
        h.append(i)
    assert h == [0, 1, 2, 3, 4] and list(h) == [0, 1, 2, 3, 4]


def test_a_long_runs_history_holds_a_bounded_number_of_reports_and_bytes() -> None:
    x, y = make_dataset("circle", 20, 0.0, np.random.default_rng(0))
    tr = Trainer(Network([2, 2, 1], seed=0), SGD(0.1), x, y.reshape(-1, 1), batch_size=None)
    tracemalloc.start()
    for _ in range(2 * (RECENT + SAMPLED)):  # full: what it holds from now on
        tr.step()
    before = tracemalloc.take_snapshot()
    for _ in range(3000):
        last = tr.step()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    # 3,000 more reports kept would be over 400 kB; the thinned part's filling is less
    assert grown < 60_000
    assert len(tr.history) <= RECENT + SAMPLED
    assert tr.history[-1] == last and tr.history[0].epoch == 1
    epochs = [r.epoch for r in tr.history]
    assert epochs == sorted(epochs) and epochs[-RECENT:] == list(range(4001, 4501))
