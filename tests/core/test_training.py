from __future__ import annotations

import math

import numpy as np

from nn_core import Network, Trainer
from nn_core.datasets import make_dataset
from nn_core.optimizers import SGD, Adam


def _circle() -> tuple[np.ndarray, np.ndarray]:
    x, y = make_dataset("circle", 200, 0.0, np.random.default_rng(0))
    return x, y.reshape(-1, 1).astype(float)


def test_loss_falls_and_reports_every_epoch() -> None:
    x, y = _circle()
    net = Network([2, 8, 1], activation="tanh", seed=0)
    tr = Trainer(net, Adam(0.03), x[:150], y[:150], x[150:], y[150:], batch_size=16)
    reports = tr.fit(40)
    assert [r.epoch for r in reports] == list(range(1, 41))
    assert reports[-1].train_loss < 0.5 * reports[0].train_loss
    assert reports[-1].test_loss is not None and reports[-1].accuracy is not None
    assert reports[-1].accuracy > 0.9


def test_train_for_is_time_boxed_and_respects_pause() -> None:
    x, y = _circle()
    tr = Trainer(Network([2, 4, 1]), SGD(0.1), x, y, batch_size=10)
    reports = tr.train_for(budget_s=0.0)
    assert len(reports) == 1  # at least one epoch even with no budget
    tr.pause()
    assert tr.train_for(budget_s=0.05) == []
    assert tr.step().epoch == 2  # stepping works while paused
    tr.resume()
    assert len(tr.train_for(budget_s=0.01, max_epochs=3)) <= 3


def test_max_epochs_ends_in_done() -> None:
    x, y = _circle()
    tr = Trainer(Network([2, 3, 1]), SGD(0.1), x, y, max_epochs=3)
    tr.train_for(budget_s=10)
    assert tr.state == "done" and tr.epoch == 3


def test_divergence_is_reported_not_raised() -> None:
    x, y = make_dataset("plane", 100, 0.0, np.random.default_rng(0))
    net = Network([2, 8, 8, 1], activation="relu", output_activation="linear", loss="mse")
    tr = Trainer(net, SGD(10.0), x, y.reshape(-1, 1), batch_size=10, classification=False)
    tr.train_for(budget_s=2.0)
    assert tr.state == "diverged"
    assert not math.isfinite(tr.history[-1].train_loss)


def test_learning_rate_changes_apply_to_the_next_epoch() -> None:
    x, y = _circle()
    tr = Trainer(Network([2, 3, 1]), SGD(0.1), x, y)
    tr.step()
    tr.set_learning_rate(0.5)
    assert tr.step().learning_rate == 0.5


def test_cosine_schedule_decays_to_zero() -> None:
    x, y = _circle()
    tr = Trainer(Network([2, 3, 1]), SGD(0.2), x, y, max_epochs=4, schedule="cosine")
    rates = [r.learning_rate for r in tr.fit(4)]
    assert rates[0] == 0.2 and rates == sorted(rates, reverse=True)
