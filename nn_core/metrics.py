"""Evaluation metrics on integer labels."""

from __future__ import annotations

import numpy as np

from nn_core.types import Array


def accuracy(predicted: Array, labels: Array) -> float:
    """Fraction of ``predicted == labels`` (both ``(n,)`` integers)."""
    if labels.shape[0] == 0:
        return float("nan")
    return float(np.mean(predicted == labels))


def confusion_matrix(predicted: Array, labels: Array, n_classes: int) -> Array:
    """``m[i, j]`` counts samples of true class ``i`` predicted as ``j``."""
    m = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(m, (labels.astype(np.intp), predicted.astype(np.intp)), 1)
    return m
