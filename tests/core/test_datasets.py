from __future__ import annotations

import numpy as np
import pytest

from nn_core.datasets import DATASETS, make_dataset, train_test_split
from nn_core.features import FEATURES, transform


@pytest.mark.parametrize("name", list(DATASETS))
def test_each_dataset_has_the_promised_shape_and_labels(name: str) -> None:
    spec = DATASETS[name]
    x, y = make_dataset(name, 301, 0.1, np.random.default_rng(0), n_classes=4)
    assert x.shape == (301, 2) and y.shape == (301,)
    assert np.all(np.abs(x) < 9)
    if spec.problem == "classification":
        expected = 4 if spec.multiclass else 2
        assert set(np.unique(y)) == set(range(expected))
    else:
        assert y.dtype.kind == "f" and np.all(np.abs(y) <= 1) and np.std(y) > 0.05


@pytest.mark.parametrize("name", list(DATASETS))
def test_same_seed_same_data(name: str) -> None:
    a = make_dataset(name, 50, 0.2, np.random.default_rng(9))
    b = make_dataset(name, 50, 0.2, np.random.default_rng(9))
    np.testing.assert_array_equal(a[0], b[0])
    c = make_dataset(name, 50, 0.2, np.random.default_rng(10))
    assert not np.array_equal(a[0], c[0])


def test_split_respects_the_ratio() -> None:
    x, y = make_dataset("circle", 200, 0, np.random.default_rng(0))
    xtr, ytr, xte, yte = train_test_split(x, y, 0.7, np.random.default_rng(1))
    assert len(xtr) == 140 and len(xte) == 60
    assert {tuple(p) for p in xtr}.isdisjoint({tuple(p) for p in xte})


def test_circle_labels_follow_the_radius_without_noise() -> None:
    x, y = make_dataset("circle", 400, 0.0, np.random.default_rng(0))
    np.testing.assert_array_equal(y, (np.hypot(x[:, 0], x[:, 1]) < 2.5).astype(int))


def test_features_compute_their_formulas() -> None:
    pts = np.array([[1.0, 2.0], [-3.0, 0.5]])
    out = transform(pts, list(FEATURES), np.float64)
    np.testing.assert_allclose(out[1], [-3, 0.5, 9, 0.25, -1.5, np.sin(-3), np.sin(0.5)])
    with pytest.raises(ValueError, match="features"):
        transform(pts, ["x3"])
