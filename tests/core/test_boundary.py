"""The network over the plane: grids, quantized values and each neuron's view."""

from __future__ import annotations

import numpy as np
import pytest

from nn_core.boundary import grid_points, layer_outputs, neuron_views, quantize
from nn_core.model import Network


def test_grid_rows_follow_x2_and_quantize_maps_the_range_onto_bytes() -> None:
    g = grid_points(3, 6.0)
    assert g.tolist()[:4] == [[-6.0, -6.0], [0.0, -6.0], [6.0, -6.0], [-6.0, 0.0]]
    q = quantize(np.array([-1.0, 0.0, 1.0, 5.0, np.nan]), -1, 1)
    assert q.tolist() == [0, 128, 255, 255, 128]


@pytest.mark.parametrize(("output", "lo"), [("sigmoid", 0.0), ("softmax", 0.0), ("tanh", -1.0)])
def test_neuron_views_put_every_neuron_on_one_scale(output: str, lo: float) -> None:
    k = 3 if output == "softmax" else 1
    loss = "cross_entropy" if output == "softmax" else "mse"
    net = Network([3, 4, k], activation="relu", output_activation=output, loss=loss, seed=0)
    features = ["x1", "x2", "x1_x2"]
    pts = grid_points(5)
    views = neuron_views(net, features, pts)
    outs = layer_outputs(net, features, pts)
    assert views.shape == (3 + 4 + k, 25)
    inputs = outs[0]
    np.testing.assert_allclose(views[:3], (inputs / np.abs(inputs).max(axis=0)).T, rtol=1e-6)
    assert np.abs(views[:3]).max() == pytest.approx(1.0)
    np.testing.assert_allclose(views[3:7], outs[1].T)  # hidden units as they are
    # an output bounded by (lo, 1) stretched onto -1..1: probabilities as 2p - 1
    np.testing.assert_allclose(views[7:], (2 * (outs[2] - lo) / (1 - lo) - 1).T, rtol=1e-5)


def test_an_unbounded_output_is_shown_as_it_is() -> None:
    net = Network([2, 3, 1], activation="tanh", output_activation="linear", loss="mse", seed=1)
    views = neuron_views(net, ["x1", "x2"], grid_points(4))
    np.testing.assert_allclose(
        views[-1], layer_outputs(net, ["x1", "x2"], grid_points(4))[-1][:, 0]
    )
