"""Finite-difference gradient checks in float64, parametrised over the registries."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nn_core.activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from nn_core.losses import LOSSES, compatible
from nn_core.model import Network
from nn_core.regularization import REGULARIZERS

COMBOS = [
    (h, o, loss)
    for h, o, loss in itertools.product(HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, LOSSES)
    if compatible(loss, o)
]


def _targets(output: str, loss: str, rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    if loss == "cross_entropy":
        return rng.integers(0, k, n)
    if output == "softmax":
        return np.eye(k)[rng.integers(0, k, n)]
    if output == "tanh":
        return rng.uniform(-1, 1, (n, k))
    return rng.uniform(0, 1, (n, k))


def small_net(
    hidden: str, output: str, loss: str, hidden_sizes: tuple[int, ...] = (4, 3), **kw: object
) -> tuple[Network, np.ndarray, np.ndarray]:
    """A float64 network of 3 inputs, 7 samples and their targets, with non-zero biases so
    their gradients are tested too (``kw``: more Network settings)."""
    rng = np.random.default_rng(3)
    k = 3 if output == "softmax" else 2
    net = Network(
        [3, *hidden_sizes, k],
        activation=hidden,
        output_activation=output,
        loss=loss,
        init="xavier",
        seed=1,
        dtype="float64",
        **kw,  # type: ignore[arg-type]
    )
    for b in net.biases:
        b[...] = rng.normal(0, 0.3, b.shape)
    x = rng.normal(0, 1, (7, 3))
    return net, x, _targets(output, loss, rng, 7, k)


def _numeric_grads(
    net: Network, x: np.ndarray, y: np.ndarray, train_penalty: bool
) -> list[np.ndarray]:
    eps = 1e-6
    out = []

    def objective() -> float:
        value = net.loss(x, y)
        return value + net.penalty() if train_penalty else value

    for p in net.parameters():
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + eps
            up = objective()
            p[i] = old - eps
            down = objective()
            p[i] = old
            g[i] = (up - down) / (2 * eps)
        out.append(g)
    return out


def _rel_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), 1e-12))


@pytest.mark.parametrize(("hidden", "output", "loss"), COMBOS)
def test_backprop_matches_finite_differences(hidden: str, output: str, loss: str) -> None:
    net, x, y = small_net(hidden, output, loss, hidden_sizes=(4, 5))
    loss_value, grad_w, grad_b = net.loss_and_grads(x, y)
    assert loss_value == pytest.approx(net.loss(x, y))
    analytic = [g for pair in zip(grad_w, grad_b, strict=True) for g in pair]
    numeric = _numeric_grads(net, x, y, train_penalty=False)
    for a, n in zip(analytic, numeric, strict=True):
        assert _rel_error(a, n) < 1e-6


@pytest.mark.parametrize("reg", [r for r in REGULARIZERS if r != "none"])
def test_regularised_gradients_match_finite_differences(reg: str) -> None:
    rng = np.random.default_rng(5)
    net = Network(
        [2, 5, 1],
        activation="tanh",
        output_activation="sigmoid",
        loss="bce",
        seed=2,
        dtype="float64",
        regularization=reg,
        regularization_rate=0.03,
    )
    x = rng.normal(0, 1, (9, 2))
    y = rng.integers(0, 2, (9, 1)).astype(float)
    net.backprop(x, y, train=True)
    analytic = [g.copy() for g in net.gradients()]
    numeric = _numeric_grads(net, x, y, train_penalty=True)
    for a, n in zip(analytic, numeric, strict=True):
        assert _rel_error(a, n) < 1e-6


def test_regularisation_changes_the_training_gradient_but_not_the_plain_one() -> None:
    kw = dict(activation="tanh", output_activation="sigmoid", seed=0, dtype="float64")
    plain = Network([2, 3, 1], **kw)  # type: ignore[arg-type]
    reg = Network([2, 3, 1], regularization="l2", regularization_rate=0.5, **kw)  # type: ignore[arg-type]
    x, y = np.ones((4, 2)), np.ones((4, 1))
    _, gw_plain, _ = plain.loss_and_grads(x, y)
    _, gw_reg, _ = reg.loss_and_grads(x, y)
    np.testing.assert_allclose(gw_plain[0], gw_reg[0])
    reg.backprop(x, y, train=True)
    assert not np.allclose(reg.gradients()[0], gw_plain[0])
