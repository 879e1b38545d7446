"""The visible backward pass: traces, gradient checks and saliency, each checked
against finite differences or against its definition."""

from __future__ import annotations

import numpy as np
import pytest

from nn_core.activations import ACTIVATIONS
from nn_core.backprop import as_float64, passes, saliency, trace
from nn_core.gradcheck import check_gradient
from nn_core.model import Network
from nn_core.optimizers import SGD, Adam
from tests.core.test_gradients import COMBOS, small_net


def _fd_derivative(name: str, z: np.ndarray) -> np.ndarray:
    f = ACTIVATIONS[name]()
    h = 1e-6
    return (f.forward(z + h) - f.forward(z - h)) / (2 * h)


@pytest.mark.parametrize(("hidden", "output", "loss"), COMBOS)
def test_passes_give_the_training_gradients(hidden: str, output: str, loss: str) -> None:
    net, x, y = small_net(hidden, output, loss)
    p = passes(net, x, y)
    value, grad_w, grad_b = net.loss_and_grads(x, y)
    assert p.loss == pytest.approx(value, rel=1e-12)
    for mine, theirs in zip(p.grad_w + p.grad_b, grad_w + grad_b, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(("hidden", "output", "loss"), COMBOS)
def test_trace_obeys_the_backprop_identities(hidden: str, output: str, loss: str) -> None:
    net, x, y = small_net(hidden, output, loss)
    t = trace(net, x[2], y[2])
    assert len(t.layers) == 3
    a_prev = t.input
    for li, layer in enumerate(t.layers):
        np.testing.assert_allclose(layer.z, a_prev @ layer.weights + layer.biases, rtol=1e-12)
        # dL/dW = a_prev^T delta (an outer product for one sample), dL/db = delta
        np.testing.assert_allclose(layer.grad_w, np.outer(a_prev, layer.delta), rtol=1e-12)
        np.testing.assert_allclose(layer.grad_b, layer.delta, rtol=1e-12)
        if li + 1 < len(t.layers):
            # delta_l = f'(z_l) * (delta_{li+1} W_{li+1}^T), f' by finite differences
            upper = t.layers[li + 1]
            expected = _fd_derivative(hidden, layer.z) * (upper.weights @ upper.delta)
            kink = hidden in ("relu", "leaky_relu") and np.any(np.abs(layer.z) < 1e-5)
            if not kink:
                np.testing.assert_allclose(layer.delta, expected, rtol=1e-6, atol=1e-9)
        a_prev = layer.a
    np.testing.assert_allclose(t.output, t.layers[-1].a)


@pytest.mark.parametrize(("hidden", "output", "loss"), COMBOS)
def test_trace_gives_both_factors_of_each_delta(hidden: str, output: str, loss: str) -> None:
    """slope is f'(z) by finite differences; upstream is the sum over the units above of
    w_jk delta_k, and dL/dy_hat (by finite differences of the loss) at the output."""
    net, x, y = small_net(hidden, output, loss)
    t = trace(net, x[3], y[3])
    for li, layer in enumerate(t.layers):
        act = ACTIVATIONS[net.hidden_activations[li] if li < 2 else net.output_activation]
        if layer.slope is None:
            assert not act.hidden  # softmax: its delta comes from the loss, not a slope
            continue
        kink = act.rectifier and np.any(np.abs(layer.z) < 1e-5)
        if not kink:
            fd = _fd_derivative(act.name, layer.z[None])[0]
            np.testing.assert_allclose(layer.slope, fd, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(layer.delta, layer.slope * layer.upstream, rtol=1e-9, atol=1e-12)
    for li, layer in enumerate(t.layers[:-1]):
        upper = t.layers[li + 1]
        by_hand = [sum(upper.weights[j, k] * upper.delta[k] for k in range(len(upper.delta)))
                   for j in range(len(layer.z))]  # fmt: skip
        np.testing.assert_allclose(layer.upstream, by_hand, rtol=1e-12, atol=1e-15)
    assert t.fused == ((output, loss) in (("sigmoid", "bce"), ("softmax", "cross_entropy")))
    if t.fused:  # the output's delta is prediction minus target
        np.testing.assert_allclose(t.layers[-1].delta, t.output - t.target, rtol=1e-12)
    if loss in ("mse", "quadratic"):  # these losses read a alone: dL/da by differences
        out, h = t.layers[-1].a, 1e-6
        target = t.target.reshape(1, -1)
        fn = net.loss_fn
        for k in range(len(out)):
            up, down = out.copy(), out.copy()
            up[k] += h
            down[k] -= h
            fd = fn.value(up[None], up[None], target) - fn.value(down[None], down[None], target)
            assert t.layers[-1].upstream[k] == pytest.approx(fd / (2 * h), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize(("hidden", "output", "loss"), COMBOS)
def test_trace_gradients_match_finite_differences(hidden: str, output: str, loss: str) -> None:
    net, x, y = small_net(hidden, output, loss)
    xs, ys = x[4:5], y[4:5]
    t = trace(net, x[4], y[4])
    assert t.loss == pytest.approx(net.loss(xs, ys), rel=1e-12)
    eps = 1e-6
    for li, layer in enumerate(net.layers):
        for i, j in [(0, 0), (layer.n_in - 1, layer.n_out - 1)]:
            old = layer.w[i, j]
            layer.w[i, j] = old + eps
            up = net.loss(xs, ys)
            layer.w[i, j] = old - eps
            down = net.loss(xs, ys)
            layer.w[i, j] = old
            assert t.layers[li].grad_w[i, j] == pytest.approx(
                (up - down) / (2 * eps), rel=1e-5, abs=1e-9
            )


def test_trace_update_is_the_sgd_step_and_lowers_the_samples_loss() -> None:
    net, x, y = small_net("tanh", "sigmoid", "bce", regularization="l2", regularization_rate=0.01)
    before = net.flat_parameters.copy()
    t = trace(net, x[0], y[0], SGD(0.5))
    np.testing.assert_array_equal(net.flat_parameters, before)  # nothing changed
    for layer, w in zip(t.layers, net.weights, strict=True):
        np.testing.assert_allclose(layer.step_grad_w, layer.grad_w + 0.01 * w, rtol=1e-12)
        np.testing.assert_allclose(
            layer.new_weights, w - 0.5 * (layer.grad_w + 0.01 * w), rtol=1e-12
        )
        np.testing.assert_allclose(layer.new_biases, layer.biases - 0.5 * layer.grad_b)
    assert t.learning_rate == 0.5
    assert t.loss_after < t.loss


def test_trace_takes_the_step_with_a_copy_of_the_runs_optimizer() -> None:
    net, x, y = small_net("relu", "sigmoid", "bce")
    opt = Adam(0.01)
    opt.step([net.flat_parameters.copy()], [np.ones_like(net.flat_parameters)])
    t = trace(net, x[1], y[1], opt)
    assert opt.t == 1  # the run's optimizer is untouched
    # Adam's first real step moves every parameter with a nonzero gradient by about lr
    moved = np.abs(t.layers[-1].new_biases - t.layers[-1].biases)
    assert np.all(moved > 1e-4)


@pytest.mark.parametrize(("hidden", "output", "loss"), COMBOS)
@pytest.mark.parametrize("reg", ["none", "l2", "l1"])
def test_check_gradient_matches_with_the_regulariser(
    hidden: str, output: str, loss: str, reg: str
) -> None:
    net, x, y = small_net(hidden, output, loss, regularization=reg, regularization_rate=0.05)
    for layer, kind, i, j in [(0, "weight", 1, 2), (2, "weight", 0, 0), (1, "bias", 0, 1)]:
        check = check_gradient(net, x, y, layer, kind, i, j)
        if check.note:
            continue  # at a kink the two may honestly differ; the note says why
        assert check.matches, (layer, kind, check)
        assert check.relative_error < 1e-6


def test_check_gradient_includes_the_penalty_in_the_analytic_value() -> None:
    net, x, y = small_net("tanh", "sigmoid", "bce", regularization="l2", regularization_rate=0.5)
    plain = check_gradient(
        Network(**{**net.config(), "regularization": "none"}), x, y, 0, "weight", 0, 0
    )
    check = check_gradient(net, x, y, 0, "weight", 0, 0)
    assert plain.analytic != check.analytic  # different networks, different weights
    net0 = as_float64(net)
    data = net0.loss_and_grads(x, y)[1][0][0, 0]
    assert check.analytic == pytest.approx(data + 0.5 * net0.weights[0][0, 0], rel=1e-12)


def test_check_gradient_explains_an_l1_zero_and_a_relu_kink() -> None:
    net, x, y = small_net("tanh", "sigmoid", "bce", regularization="l1", regularization_rate=0.1)
    net.weights[0][1, 1] = 1e-4  # closer to |w|'s corner than the step: the slopes differ
    check = check_gradient(net, x, y, 0, "weight", 1, 1)
    assert "L1 zero" in check.note
    assert not check.matches
    # Richardson's difference of 0.1|w| for |w| < h/2 is 0.1 * 7w / 3h, not 0.1 * sign(w)
    assert check.analytic - check.numeric == pytest.approx(0.1 * (1 - 7e-4 / (3 * check.step)))
    relu, x, y = small_net("relu", "sigmoid", "bce")
    relu.biases[0][0] = -float(x[0] @ relu.weights[0][:, 0])  # sample 0 sits on the kink
    check = check_gradient(relu, x, y, 0, "weight", 0, 0)
    assert "kink" in check.note


def test_check_gradient_refuses_parameters_that_do_not_exist() -> None:
    net, x, y = small_net("tanh", "sigmoid", "bce")
    with pytest.raises(ValueError, match="^layer"):
        check_gradient(net, x, y, 3, "weight", 0, 0)
    with pytest.raises(ValueError, match="^i"):
        check_gradient(net, x, y, 0, "weight", 3, 0)
    with pytest.raises(ValueError, match="^j"):
        check_gradient(net, x, y, 0, "bias", 0, 4)


# ---------------------------------------------------------------- saliency
def test_saliency_matches_finite_differences() -> None:
    rng = np.random.default_rng(0)
    net = Network([20, 8, 5], activation="relu", output_activation="softmax", seed=0)
    x = rng.uniform(0, 1, (2, 20))
    classes, grad = saliency(net, x)
    twin = as_float64(net)
    eps = 1e-6
    for row in range(2):
        k = classes[row]
        for i in range(20):
            up, down = x[row].copy(), x[row].copy()
            up[i] += eps
            down[i] -= eps
            fd = (twin.forward(up[None])[0, k] - twin.forward(down[None])[0, k]) / (2 * eps)
            assert grad[row, i] == pytest.approx(fd, rel=1e-5, abs=1e-9)
    assert classes.tolist() == np.argmax(net.forward(x), axis=1).tolist()
