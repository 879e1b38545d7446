"""The batch's backward pass in the tutorials' matrix form, checked against its own
identities, the one-sample trace, the training gradients and finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from nn_core.backprop import trace
from nn_core.gradcheck import check_gradient
from nn_core.matrix_form import matrix_form
from nn_core.model import Network
from tests.core.test_gradients import COMBOS, small_net


@pytest.mark.parametrize(("hidden", "output", "loss"), COMBOS)
def test_matrix_form_obeys_the_tutorials_equations(hidden: str, output: str, loss: str) -> None:
    net, x, y = small_net(hidden, output, loss)
    mf = matrix_form(net, x, y)
    m = x.shape[0]
    assert mf.m == m
    a_prev = x.T  # samples are columns
    for li, lay in enumerate(mf.layers):
        n_out, n_in = net.layers[li].w.shape[1], net.layers[li].w.shape[0]
        assert lay.w.shape == (n_out, n_in) and lay.b.shape == (n_out, 1)
        assert lay.z.shape == lay.a.shape == lay.dz.shape == (n_out, m)
        np.testing.assert_allclose(lay.a_prev, a_prev)
        np.testing.assert_allclose(lay.z, lay.w @ a_prev + lay.b, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(lay.dw, lay.dz @ a_prev.T / m, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(lay.db[:, 0], lay.dz.mean(axis=1), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(lay.da_prev, lay.w.T @ lay.dz, rtol=1e-12, atol=1e-15)
        if lay.slope is not None:  # dZ = dA ⊙ f'(Z), where the activation has one slope
            fused = li == len(mf.layers) - 1 and net.loss_fn.fuses(net.layers[-1].activation)
            if not fused:
                np.testing.assert_allclose(lay.dz, lay.da * lay.slope, rtol=1e-9, atol=1e-12)
        if li + 1 < len(mf.layers):  # the layer above hands down its dA_prev
            np.testing.assert_allclose(mf.layers[li + 1].da_prev, lay.da, rtol=1e-12, atol=1e-15)
        a_prev = lay.a
    if net.loss_fn.fuses(net.layers[-1].activation):  # the tutorials' dZ = A − Y
        np.testing.assert_allclose(mf.layers[-1].dz, mf.layers[-1].a - mf.y, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize(("hidden", "output", "loss"), COMBOS)
def test_one_column_is_the_traced_sample(hidden: str, output: str, loss: str) -> None:
    """A batch of one sample is the trace, transposed; column i of a batch's Z and A is
    sample i's trace (the forward pass does not mix samples)."""
    net, x, y = small_net(hidden, output, loss)
    one = matrix_form(net, x[2:3], y[2:3])
    t = trace(net, x[2], y[2])
    whole = matrix_form(net, x, y)
    for lay, tl, full in zip(one.layers, t.layers, whole.layers, strict=True):
        np.testing.assert_allclose(lay.z[:, 0], tl.z, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(lay.dz[:, 0], tl.delta, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(lay.dw, tl.grad_w.T, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(lay.db[:, 0], tl.grad_b, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(full.a[:, 2], tl.a, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("regularization", ["none", "l2"])
def test_the_training_sets_dw_is_the_cards_gradient(regularization: str) -> None:
    """Over the whole training set dW (with the regulariser's part, dW_reg) is the
    gradient of the training objective, by finite differences, for every weight."""
    rng = np.random.default_rng(5)
    net = Network(
        [2, 3, 1], activation="tanh", output_activation="sigmoid", loss="bce", seed=4,
        regularization=regularization, regularization_rate=0.05,
    )  # fmt: skip
    x = rng.normal(0, 1, (12, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.float32)
    mf = matrix_form(net, x, y)
    for li, lay in enumerate(mf.layers):
        assert lay.dw.dtype == np.float64
        for i in range(lay.w.shape[1]):
            for j in range(lay.w.shape[0]):
                check = check_gradient(net, x, y, layer=li, kind="weight", i=i, j=j)
                assert lay.dw_reg[j, i] == pytest.approx(check.numeric, rel=1e-6, abs=1e-10)
                assert lay.dw_reg[j, i] == pytest.approx(check.analytic, rel=1e-9, abs=1e-13)
            if regularization == "none":
                np.testing.assert_array_equal(lay.dw, lay.dw_reg)
        for j in range(lay.b.shape[0]):
            check = check_gradient(net, x, y, layer=li, kind="bias", i=0, j=j)
            assert lay.db[j, 0] == pytest.approx(check.numeric, rel=1e-6, abs=1e-10)


def test_matrix_form_leaves_the_network_alone() -> None:
    net, x, y = small_net("relu", "sigmoid", "bce")
    before = net.flat_parameters.copy()
    mf = matrix_form(net, x, y)
    np.testing.assert_array_equal(net.flat_parameters, before)
    assert mf.loss == pytest.approx(net.loss(x, y), rel=1e-12)


def test_next_batch_is_the_batch_the_next_update_trains_on() -> None:
    """Read between epochs and inside one; the run's numbers do not change by looking."""
    from nn_core.optimizers import SGD
    from nn_core.training import Trainer

    rng = np.random.default_rng(2)
    x = rng.normal(0, 1, (23, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)

    def trainer() -> Trainer:
        net = Network([2, 3, 1], output_activation="sigmoid", loss="bce", seed=1)
        return Trainer(net, SGD(0.1), x, y, batch_size=5, seed=7)

    looked, alone = trainer(), trainer()
    for _ in range(4):
        batch = looked.next_batch()
        assert batch.shape == (5,)
        looked.begin_epoch()
        assert looked._order is not None
        np.testing.assert_array_equal(batch, looked._order[:5])
        looked.advance(batches=1)
        np.testing.assert_array_equal(looked.next_batch(), looked._order[5:10])
        looked.advance()
        alone.step()
    np.testing.assert_array_equal(looked.network.flat_parameters, alone.network.flat_parameters)
