"""TensorFlow Playground's squared error: its scale, its output and its gradient.

TF Playground (``src/nn.ts`` ``Errors.SQUARE``, ``src/playground.ts`` ``getLoss``) shows the
mean over points of ``0.5 (output - target)^2`` with a tanh output and targets -1, +1.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.playground.run import PlaygroundRun
from app.playground.schema import TrainConfig
from app.validation import BadRequest
from nn_core.activations import ACTIVATIONS
from nn_core.boundary import grid_points, layer_outputs
from nn_core.losses import LOSSES, PlaygroundSquare
from nn_core.model import Network
from nn_core.problems import fitting_losses, output_head, targets

#: Two classes, half each, and the loss of a network that knows nothing: a constant output
#: at the boundary (a sigmoid's 0.5, a tanh's 0), by hand.
#: squared error: mean of (0.5 - y)^2 = 0.25; ½ squared error: 0.125; TF's: ½ (0 - ±1)^2.
CHANCE = {"mse": 0.25, "quadratic": 0.125, "tf_square": 0.5}


@pytest.mark.parametrize("loss", CHANCE)
def test_a_constant_output_at_chance_reads_as_computed_by_hand(loss: str) -> None:
    y = np.array([0, 1] * 50)
    head = output_head("classification", 2, loss)
    z = np.zeros((100, 1))
    a = ACTIVATIONS[head.activation]().forward(z)
    got = LOSSES[loss]().value(z, a, targets(y, loss, 2))
    assert got == CHANCE[loss]


def test_tf_playground_s_loss_is_its_get_loss_point_by_point() -> None:
    rng = np.random.default_rng(0)
    out = np.tanh(rng.normal(0, 1, (37, 1)))
    labels = rng.integers(0, 2, 37)
    t = targets(labels, "tf_square", 2)
    assert sorted(set(t.ravel().tolist())) == [-1.0, 1.0]  # dataset.ts's labels
    total = 0.0
    for o, label in zip(out[:, 0], labels, strict=True):  # getLoss, as playground.ts has it
        total += 0.5 * (o - (1.0 if label == 1 else -1.0)) ** 2
    assert PlaygroundSquare().value(out, out, t) == pytest.approx(total / 37, rel=1e-12)


def test_its_output_is_tanh_for_two_classes_and_linear_for_regression() -> None:
    assert output_head("classification", 2, "tf_square").activation == "tanh"
    assert output_head("regression", 0, "tf_square").activation == "linear"
    values = targets(np.array([0.3, -0.8]), "tf_square", 0)  # regression: the values
    np.testing.assert_allclose(values, [[0.3], [-0.8]], rtol=1e-7)


def test_its_derivative_matches_finite_differences_in_float64() -> None:
    rng = np.random.default_rng(1)
    a = rng.uniform(-1, 1, (9, 1))
    t = np.where(rng.random((9, 1)) < 0.5, -1.0, 1.0)
    loss, eps = PlaygroundSquare(), 1e-6
    numeric = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        up, down = a.copy(), a.copy()
        up[i] += eps
        down[i] -= eps
        numeric[i] = (loss.value(up, up, t) - loss.value(down, down, t)) / (2 * eps)
    np.testing.assert_allclose(loss.grad_a(a, t), numeric, rtol=1e-7, atol=1e-10)


def test_a_tanh_network_s_gradient_matches_finite_differences_in_float64() -> None:
    rng = np.random.default_rng(2)
    net = Network([2, 3, 1], activation="tanh", output_activation="tanh", loss="tf_square",
                  seed=4, dtype="float64")  # fmt: skip
    x = rng.normal(0, 1, (11, 2))
    y = targets(rng.integers(0, 2, 11), "tf_square", 2).astype(np.float64)
    _, grad_w, _ = net.loss_and_grads(x, y)
    w, eps = net.weights[0], 1e-6
    for i in np.ndindex(w.shape):
        old = w[i]
        w[i] = old + eps
        up = net.loss(x, y)
        w[i] = old - eps
        down = net.loss(x, y)
        w[i] = old
        assert grad_w[0][i] == pytest.approx((up - down) / (2 * eps), rel=1e-6, abs=1e-10)


def test_a_run_with_it_reads_on_tf_s_scale_and_classifies_by_the_sign() -> None:
    cfg = {"dataset": "circle", "seed": 2, "noise": 0.0}
    tf = PlaygroundRun(TrainConfig(**cfg, loss="tf_square"))
    ours = PlaygroundRun(TrainConfig(**cfg, loss="mse"))
    assert tf.ready_event()["output_activation"] == "tanh"
    assert tf.ready_event()["loss"] == "tf_square"
    first_tf, first_ours = tf.trainer.fit(1)[0], ours.trainer.fit(1)[0]
    # an untrained network sits near chance: 0.5 on TF's scale, 0.25 on squared error's
    assert 0.4 < first_tf.train_loss < 0.6 and 0.2 < first_ours.train_loss < 0.3
    last = tf.trainer.fit(300)[-1]
    assert last.train_loss < 0.1 and last.accuracy is not None and last.accuracy > 0.95
    out = tf.network.forward(tf.trainer.x_test)[:, 0]
    assert last.accuracy == np.mean((out > 0) == tf.y_test)  # class 1 where tanh > 0
    # the boundary's colours: class 1 (>= 128 of 255) where the output is positive
    (name, block, meta), *_ = tf._boundary_blocks()
    grid_out = layer_outputs(tf.network, tf.cfg.features, grid_points(tf.cfg.grid))[-1][:, 0]
    assert name == "output" and meta == {"lo": -1.0, "hi": 1.0}
    shown = block.ravel() >= 128
    clear = np.abs(grid_out) > 0.02  # away from the line, where rounding cannot decide
    assert np.array_equal(shown[clear], grid_out[clear] > 0)


def test_it_is_refused_for_more_than_two_classes_naming_the_loss_that_fits() -> None:
    with pytest.raises(BadRequest) as err:
        PlaygroundRun(TrainConfig(dataset="blobs", n_classes=4, loss="tf_square"))
    assert err.value.field == "loss"
    assert "tf_square does not fit a softmax output; try cross_entropy" in err.value.message
    # the Loss menu offers it where it fits: two classes and regression
    assert "tf_square" in fitting_losses("classification", 2)
    assert "tf_square" in fitting_losses("regression", 0)
    assert "tf_square" not in fitting_losses("classification", 4)
    assert "bce" in fitting_losses("classification", 2)  # from a tanh run, back to sigmoid


def test_on_regression_it_is_half_the_squared_error() -> None:
    cfg = {"dataset": "plane", "seed": 1}
    tf = PlaygroundRun(TrainConfig(**cfg, loss="tf_square"))
    ours = PlaygroundRun(TrainConfig(**cfg, loss="mse"))
    assert tf.network.output_activation == ours.network.output_activation == "linear"
    x, y = tf.trainer.x_train, tf.trainer.y_train
    assert tf.network.loss(x, y) == pytest.approx(0.5 * ours.network.loss(x, y), rel=1e-6)
