"""The tutorials' systems, reproduced with honest floors (numbers in the README)."""

from __future__ import annotations

import numpy as np

from nn_core import SGD, Adam, Network, Trainer
from nn_core.datasets import make_dataset
from nn_core.mnist import as_inputs, load_bundled


def test_xor_2_3_1_relu_sigmoid_bce_reaches_100_percent() -> None:
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    y = np.array([[0], [1], [1], [0]], float)
    net = Network(
        [2, 3, 1], activation="relu", output_activation="sigmoid", loss="bce", init="he", seed=0
    )  # with 3 relu units some seeds die (see README)
    Trainer(net, SGD(0.1), x, y, batch_size=None).fit(3000)
    assert np.array_equal(net.predict(x), y[:, 0])


def test_planar_flower_with_4_tanh_units_reaches_90_percent() -> None:
    # the tutorial's setup: its coordinates (our plane is 1.25x larger), randn * 0.01
    # weights, full-batch gradient descent at 1.2 for 10,000 iterations
    x, y = make_dataset("flower", 400, 0.0, np.random.default_rng(1))
    net = Network(
        [2, 4, 1], activation="tanh", output_activation="sigmoid", loss="bce", init="normal", seed=2
    )
    tr = Trainer(net, SGD(1.2), x / 1.25, y.reshape(-1, 1), batch_size=None)
    report = tr.fit(10000)[-1]
    assert report.accuracy is not None and report.accuracy >= 0.90


def test_sigmoid_neurons_with_mse_learn_the_gaussian_clouds() -> None:
    x, y = make_dataset("gaussian", 200, 0.0, np.random.default_rng(0))
    net = Network([2, 3, 1], activation="sigmoid", output_activation="sigmoid", loss="mse", seed=0)
    report = Trainer(net, SGD(2.0), x, y.reshape(-1, 1), batch_size=10).fit(30)[-1]
    assert report.accuracy is not None and report.accuracy > 0.97


def _mnist() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    d = load_bundled()
    return (
        as_inputs(d.x_train),
        d.y_train.astype(np.int64),
        as_inputs(d.x_test),
        d.y_test.astype(np.int64),
    )


def test_mnist_784_10_10_full_batch_gradient_descent() -> None:
    xtr, ytr, xte, yte = _mnist()
    net = Network(
        [784, 10, 10],
        activation="relu",
        output_activation="softmax",
        loss="cross_entropy",
        init="he",
        seed=0,
    )
    report = Trainer(net, SGD(0.5), xtr, ytr, xte, yte, batch_size=None).fit(300)[-1]
    assert report.accuracy is not None and report.accuracy >= 0.85


def test_mnist_784_256_128_64_10() -> None:
    xtr, ytr, xte, yte = _mnist()
    net = Network(
        [784, 256, 128, 64, 10],
        activation="relu",
        output_activation="softmax",
        loss="cross_entropy",
        init="he",
        seed=0,
    )
    report = Trainer(net, Adam(0.001), xtr, ytr, xte, yte, batch_size=64).fit(8)[-1]
    assert report.accuracy is not None and report.accuracy >= 0.93


def test_nielsen_784_100_10_sigmoid_quadratic_batch_10_lr_3() -> None:
    xtr, ytr, xte, yte = _mnist()
    onehot = np.eye(10, dtype=np.float32)[ytr]
    # network2.py's initialisation: randn / sqrt(n_in)
    net = Network(
        [784, 100, 10],
        activation="sigmoid",
        output_activation="sigmoid",
        loss="quadratic",
        init="normal",
        init_scale=1 / 28,
        seed=0,
    )
    tr = Trainer(net, SGD(3.0), xtr, onehot, xte, np.eye(10, dtype=np.float32)[yte], batch_size=10)
    report = tr.fit(10)[-1]
    assert report.accuracy is not None and report.accuracy >= 0.94
