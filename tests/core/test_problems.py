"""Output heads, labels and targets per problem."""

from __future__ import annotations

import numpy as np
import pytest

from nn_core.losses import compatible
from nn_core.problems import Head, coerce_labels, output_head, targets


def test_each_problem_gets_its_head_and_a_loss_that_fits_it() -> None:
    assert output_head("regression", 0) == Head("linear", "mse", 1)
    assert output_head("classification", 2) == Head("sigmoid", "bce", 1)
    assert output_head("classification", 5) == Head("softmax", "cross_entropy", 5)
    for head in (output_head("regression", 0), *(output_head("classification", k) for k in (2, 3))):
        assert compatible(head.loss, head.activation)
    with pytest.raises(ValueError, match="unknown problem 'ranking'"):
        output_head("ranking", 2)


def test_classes_asked_as_regression_become_minus_one_and_plus_one() -> None:
    y, k = coerce_labels(np.array([0, 1, 1, 0]), "regression")
    assert y.dtype == np.float64 and y.tolist() == [-1.0, 1.0, 1.0, -1.0] and k == 0
    floats, _ = coerce_labels(np.array([0.25, -0.5]), "regression")
    assert floats.tolist() == [0.25, -0.5]


def test_targets_asked_as_classes_are_read_by_their_sign_or_rounded() -> None:
    y = np.array([-0.7, 0.2, 0.0, 0.9])
    signs, k = coerce_labels(y, "classification")
    assert signs.tolist() == [0, 1, 0, 1] and signs.dtype == np.int64 and k == 2
    drawn, k = coerce_labels(np.array([0.0, 2.0, 1.0, 9.0, -1.0]), "classification", rounded=True)
    assert drawn.tolist() == [0, 2, 1, 5, 0] and k == 6  # clipped to max_classes - 1
    few, k = coerce_labels(np.array([0.0, 2.0, 3.0]), "classification", rounded=True, max_classes=3)
    assert few.tolist() == [0, 2, 2] and k == 3
    assert coerce_labels(np.zeros(3, np.int64), "classification")[1] == 2  # never one class


def test_targets_fit_the_loss() -> None:
    y = np.array([2, 0, 1])
    np.testing.assert_array_equal(targets(y, "cross_entropy", 3), [2, 0, 1])
    assert targets(y, "cross_entropy", 3).dtype == np.int64
    np.testing.assert_array_equal(targets(y, "mse", 3), np.eye(3)[[2, 0, 1]])
    binary = targets(np.array([1, 0]), "bce", 2)
    assert binary.shape == (2, 1) and binary.dtype == np.float32
    assert targets(np.array([0.5, -1.0]), "mse", 0).tolist() == [[0.5], [-1.0]]
