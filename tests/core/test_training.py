from __future__ import annotations

import math

import numpy as np
import pytest

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


def _wide_trainer(augment: bool) -> Trainer:
    """Over a megabyte of training data (batches gathered one by one), dropout-free but
    drawing from the trainer's generator for the shuffle and, with ``augment``, per batch."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(1200, 256)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    jitter = (lambda xb, g: xb + g.normal(scale=0.01, size=xb.shape)) if augment else None
    net = Network([256, 16, 1], activation="relu", seed=1)
    return Trainer(
        net,
        Adam(0.01),
        x[:1000],
        y[:1000],
        x[1000:],
        y[1000:],
        batch_size=7,
        augment=jitter,
        seed=5,
    )


@pytest.mark.parametrize("augment", [False, True])
def test_an_epoch_trained_in_slices_equals_one_trained_whole_bit_for_bit(augment: bool) -> None:
    whole, sliced = _wide_trainer(augment), _wide_trainer(augment)
    expected = [whole.step() for _ in range(3)]
    got: list = []
    slices = 0
    while len(got) < 3:
        got += sliced.train_slice(budget_s=0.0)  # one batch a slice
        slices += 1
    assert slices > 3 * 143  # 143 batches an epoch (and an evaluation): really sliced
    assert got == expected
    assert np.array_equal(sliced.network.flat_parameters, whole.network.flat_parameters)


def test_a_slice_stops_inside_an_epoch_and_the_next_goes_on_from_there() -> None:
    tr = _wide_trainer(False)
    assert tr.epoch_progress == (0, 143)
    assert tr.train_slice(budget_s=0.0) == []  # one batch: no epoch ended yet
    assert tr.epoch_progress == (1, 143) and tr.epoch == 0
    tr.pause()
    assert tr.train_slice(budget_s=0.0) == [] and tr.epoch_progress == (1, 143)
    assert tr.step().epoch == 1  # a step finishes the open epoch
    assert tr.epoch_progress == (0, 143)


def test_a_batch_size_set_inside_an_epoch_counts_from_the_next() -> None:
    tr = _wide_trainer(False)
    tr.train_slice(budget_s=0.0)
    tr.batch_size = 100
    assert tr.epoch_progress == (1, 143)  # the open epoch keeps its batches of 7
    tr.step()
    assert tr.epoch_progress == (0, 10)
