"""Training health: each figure against its definition, and the problem it points to."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nn_core.datasets import make_dataset
from nn_core.health import (
    CODES,
    STUCK_SHARE,
    Finding,
    LayerHealth,
    diagnose,
    health,
    point_classes,
    saturated_mask,
)
from nn_core.model import Network
from nn_core.optimizers import SGD, get_optimizer
from nn_core.training import Trainer


def _train_health(
    net: Network, x: np.ndarray, y: np.ndarray, epochs: int, lr: float, opt: str = "sgd"
) -> tuple[Trainer, object]:
    trainer = Trainer(net, get_optimizer(opt, lr), x, y, batch_size=10, track_updates=True)
    trainer.fit(epochs)
    ws, _ = net.split(trainer.last_update)  # type: ignore[arg-type]
    return trainer, health(net, x, y, ws)


def test_health_matches_its_definitions() -> None:
    rng = np.random.default_rng(0)
    x, y = make_dataset("xor", 200, 0.0, rng)
    net = Network(
        [2, 6, 5, 1],
        activation=["relu", "tanh"],
        output_activation="sigmoid",
        seed=2,
        regularization="l2",
        regularization_rate=0.01,
    )
    trainer, h = _train_health(net, x, y.reshape(-1, 1), 5, 0.3)
    _, grad_w, _ = net.loss_and_grads(x, y.reshape(-1, 1))
    for li, layer in enumerate(h.layers):  # type: ignore[attr-defined]
        total = grad_w[li] + 0.01 * net.weights[li]
        assert layer.grad_norm == pytest.approx(float(np.linalg.norm(total)), rel=1e-4)
        assert layer.weight_norm == pytest.approx(float(np.linalg.norm(net.weights[li])), rel=1e-6)
        assert layer.units == net.sizes[li + 1]
    # the last step, done by hand: one more epoch, parameters before and after its last batch
    z1 = x @ net.weights[0] + net.biases[0]
    assert h.layers[0].dead == int(np.all(z1 <= 0, axis=0).sum())  # type: ignore[attr-defined]
    a2 = np.tanh(np.maximum(z1, 0) @ net.weights[1] + net.biases[1])
    assert h.layers[1].saturated == int(((np.abs(a2) > 0.99).mean(axis=0) > 0.99).sum())  # type: ignore[attr-defined]


def test_update_ratio_is_the_last_steps_relative_change() -> None:
    rng = np.random.default_rng(0)
    x, y = make_dataset("circle", 100, 0.0, rng)
    net = Network([2, 4, 1], activation="tanh", seed=0)
    trainer = Trainer(net, SGD(0.1), x, y.reshape(-1, 1), batch_size=None, track_updates=True)
    trainer.fit(3)
    before = [w.copy() for w in net.weights]
    trainer.step()  # full batch: one step per epoch
    ws, _ = net.split(trainer.last_update)  # type: ignore[arg-type]
    h = health(net, x, y.reshape(-1, 1), ws)
    for li, layer in enumerate(h.layers):
        expected = np.linalg.norm(net.weights[li] - before[li]) / np.linalg.norm(net.weights[li])
        assert layer.update_ratio == pytest.approx(float(expected), rel=1e-4)


def test_vanishing_preset_is_diagnosed() -> None:
    """Six sigmoid layers of 8: the first layer gets a tiny share of the output's gradient."""
    rng = np.random.default_rng(0)
    x, y = make_dataset("circle", 250, 0.0, rng)
    net = Network([2, 8, 8, 8, 8, 8, 8, 1], activation="sigmoid", init="xavier", seed=0)
    _, h = _train_health(net, x, y.reshape(-1, 1), 3, 0.03)
    layers = h.layers  # type: ignore[attr-defined]
    assert layers[0].grad_norm < 1e-3 * layers[-1].grad_norm
    assert h.finding.code == "vanishing"  # type: ignore[attr-defined]
    share = h.finding.figures["share"]  # type: ignore[attr-defined]
    assert share == pytest.approx(layers[0].grad_norm / layers[-1].grad_norm) and share < 1e-2


def test_a_relu_pushed_below_zero_everywhere_is_dead() -> None:
    rng = np.random.default_rng(0)
    x, y = make_dataset("xor", 200, 0.0, rng)
    net = Network([2, 3, 1], activation="relu", seed=0)
    net.weights[0][:, 1] = 0.0
    net.biases[0][1] = -1.0  # z = -1 on every point
    h = health(net, x, y.reshape(-1, 1))
    assert h.layers[0].dead == 1
    assert h.dead_units == [(0, 1)]
    assert h.finding == Finding("dead", {"dead": 1, "units": 3}, ("relu",))
    assert math.isnan(h.layers[0].update_ratio)  # no step taken yet
    # and its incoming weights get exactly no gradient
    assert np.all(h.grad_w[0][:, 1] == 0) and h.grad_b[0][1] == 0


def _layer(g: float, r: float = 1e-3, dead: int = 0, sat: int = 0) -> LayerHealth:
    act = "relu" if dead else "tanh"
    return LayerHealth(g, 1.0, r, dead, sat, 4, act, rectifier=bool(dead), saturating=not dead)


def test_diagnose_finds_each_problem_with_its_figures() -> None:
    assert diagnose([_layer(math.nan), _layer(1)]) == Finding("diverged")
    assert diagnose([_layer(1), _layer(5e3)]) == Finding(
        "exploding", {"layer": 1, "grad_norm": 5e3}
    )
    assert diagnose([_layer(1, dead=2), _layer(1)]) == Finding(
        "dead", {"dead": 2, "units": 4}, ("relu",)
    )
    assert diagnose([_layer(1e-5), _layer(1.0)]) == Finding("vanishing", {"share": 1e-5})
    assert diagnose([_layer(1, sat=3), _layer(1)]) == Finding(
        "saturated", {"saturated": 3, "units": 4}, ("tanh",)
    )
    # the output layer's saturation is not a problem: it is a confident prediction
    assert diagnose([_layer(1), _layer(1, sat=3)]).code == "healthy"
    assert diagnose([_layer(1, r=0.5), _layer(1, r=0.2)]) == Finding(
        "steps_too_large", {"update_ratio": 0.5}
    )
    assert diagnose([_layer(1, r=1e-7), _layer(1, r=1e-7)]) == Finding(
        "steps_too_small", {"update_ratio": 1e-7}
    )
    assert diagnose([_layer(1), _layer(1)]) == Finding("healthy")
    # a relu layer all off on 30 of 100 points, 10 of them of another class
    off = LayerHealth(1, 1, 1e-3, 0, 0, 3, "relu", rectifier=True, silences=True, silent=30)
    assert diagnose([off, _layer(1)], 100).code == "healthy"  # one class: one right output
    other = int(STUCK_SHARE * 100)
    stuck = LayerHealth(
        1, 1, 1e-3, 0, 0, 3, "relu", rectifier=True, silences=True, silent=30, silent_other=other
    )
    assert diagnose([stuck, _layer(1)], 100) == Finding(
        "stuck", {"layer": 0, "silent": 30, "silent_other": other, "points": 100}, ("relu",)
    )
    assert diagnose([stuck, _layer(1)], 101).code == "healthy"  # under the share


def test_the_most_serious_problem_is_named_first() -> None:
    both = [_layer(math.nan, dead=1), _layer(1)]
    assert diagnose(both).code == "diverged"
    assert diagnose([_layer(1e-5, dead=1), _layer(1)]).code == "dead"
    assert set(CODES) == {
        "diverged", "exploding", "dead", "vanishing", "saturated", "stuck",
        "steps_too_large", "steps_too_small", "not_learning", "healthy",
    }  # fmt: skip


def test_silent_points_are_those_where_a_whole_relu_layer_is_off() -> None:
    """Points on which every unit of a hidden ReLU layer has z <= 0 all get one output;
    of them, those not of their most common class are what that output gets wrong."""
    rng = np.random.default_rng(0)
    x, y = make_dataset("xor", 200, 0.0, rng)
    net = Network([2, 2, 3, 1], activation=["relu", "leaky_relu"], seed=1)
    net.weights[0][:] = [[1.0, 0.5], [0.0, 0.0]]  # units of layer 1: 1.0 x0 - 0.2, 0.5 x0
    net.biases[0][:] = [-0.2, 0.0]
    h = health(net, x, y.reshape(-1, 1))
    z1 = x @ net.weights[0] + net.biases[0]
    off = np.all(z1 <= 0, axis=1)
    labels = y.astype(int)
    other = int(off.sum() - np.bincount(labels[off]).max())
    assert h.layers[0].silences and h.layers[0].silent == int(off.sum()) > 0
    assert h.layers[0].silent_other == other > 0
    # a leaky ReLU still passes a little, and the output layer has no "off"
    assert not h.layers[1].silences and h.layers[1].silent == 0
    assert not h.layers[2].silences
    # every point silent and of one class: one output, nothing wrong
    same = np.zeros(len(x), int)
    h_one = health(Network([2, 3, 1], activation="relu", seed=0), x[off], same[off, None])
    assert h_one.layers[0].silent_other == 0
    # the class of each point: 0/1 for one sigmoid, labels or one-hot rows for softmax
    soft = Network([2, 3, 3], activation="relu", output_activation="softmax", seed=0)
    assert point_classes(soft, np.array([2, 0, 1])).tolist() == [2, 0, 1]
    assert point_classes(soft, np.eye(3)[[1, 2]]).tolist() == [1, 2]
    assert point_classes(net, np.array([[0.0], [1.0]])).tolist() == [0, 1]
    linear = Network([2, 3, 1], activation="relu", output_activation="linear", loss="mse")
    assert point_classes(linear, np.array([[0.3]])) is None


def test_saturation_is_within_one_percent_on_ninety_nine_percent() -> None:
    a = np.full((100, 3), 0.995)
    a[:2, 1] = 0.5  # 98 % near the asymptote: not saturated
    a[:1, 2] = 0.5  # 99 %: not over 99 %
    assert saturated_mask("sigmoid", a).tolist() == [True, False, False]
    assert saturated_mask("relu", a).tolist() == [False, False, False]
    t = np.full((100, 2), -0.995)  # tanh: near -1 counts as well as near +1
    t[:, 1] = 0.98
    assert saturated_mask("tanh", t).tolist() == [True, False]
    assert saturated_mask("softmax", np.full((100, 2), 0.999)).tolist() == [False, False]
