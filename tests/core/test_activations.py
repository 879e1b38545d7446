"""What each activation declares about itself holds for its forward pass, for every entry
of the registry; and outputs become probabilities."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nn_core.activations import ACTIVATIONS, LeakyRelu, Sigmoid, Softmax, probabilities

Z = np.linspace(-30, 30, 601).reshape(-1, 1) * np.ones((1, 3))


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_outputs_stay_within_the_declared_bounds(name: str) -> None:
    f = ACTIVATIONS[name]()
    lo, hi = f.bounds
    a = f.forward(Z)
    assert np.all(a >= lo) and np.all(a <= hi)
    if f.saturating:
        # it flattens towards both of its finite bounds, where its slope vanishes
        assert math.isfinite(lo) and math.isfinite(hi)
        assert a.min() == pytest.approx(lo, abs=0.05) and a.max() == pytest.approx(hi, abs=0.05)
        slope = f.derivative(Z, a)
        assert slope is not None and slope[0, 0] < 0.05 and slope[-1, 0] < 0.05


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_derivative_is_the_slope_of_forward(name: str) -> None:
    f = ACTIVATIONS[name]()
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, (5, 4))
    z[np.abs(z) < 1e-3] = 0.5  # away from a kink
    slope = f.derivative(z, f.forward(z))
    if slope is None:
        assert not f.hidden  # only an output (softmax) may lack a per-unit slope
        return
    h = 1e-6
    numeric = (f.forward(z + h) - f.forward(z - h)) / (2 * h)
    np.testing.assert_allclose(slope, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_every_activation_declares_its_onnx_nodes_and_a_rectifier_can_die(name: str) -> None:
    cls = ACTIVATIONS[name]
    assert cls.onnx, f"{name} has no ONNX form"
    assert cls.onnx[-1].output == "a" and any("z" in op.inputs for op in cls.onnx)
    if cls.hidden:
        assert cls.derivative_formula
    if cls.rectifier:  # z <= 0 everywhere: no gradient reaches the weights
        z = -np.abs(Z) - 0.1
        grad = cls().backward(z, cls().forward(z), np.ones_like(z))
        assert cls.name == "leaky_relu" or np.all(grad == 0)


def test_the_leaky_slope_is_stated_once() -> None:
    assert LeakyRelu.onnx[0].attributes == {"alpha": LeakyRelu.slope}
    assert LeakyRelu.derivative_formula.endswith(f"{LeakyRelu.slope:g}")
    z = np.array([[-2.0]])
    assert LeakyRelu().derivative(z, LeakyRelu().forward(z))[0, 0] == LeakyRelu.slope  # type: ignore[index]


def test_softmax_has_no_single_slope() -> None:
    z = np.array([[0.1, 0.2]])
    assert Softmax().derivative(z, Softmax().forward(z)) is None


def test_sigmoid_outputs_become_probabilities_and_softmax_rows_stay() -> None:
    a = np.array([[0.2, 0.6, 0.2], [-0.5, 0.5, 0.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -3.0]])
    p = probabilities(a, Sigmoid())
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[0], [0.2, 0.6, 0.2])
    np.testing.assert_allclose(p[1], [0.0, 1.0, 0.0])  # clipped at zero, then divided
    np.testing.assert_allclose(p[2], [1 / 3] * 3)  # no positive output: uniform
    np.testing.assert_allclose(p[3], [1 / 3] * 3)
    rows = Softmax().forward(np.array([[1.0, 2.0, 3.0]]))
    assert probabilities(rows, Softmax()) is rows
