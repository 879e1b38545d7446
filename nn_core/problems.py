"""What a problem asks of a network: its output head, its labels and its training targets.

A data set poses a *problem*, ``"classification"`` (integer labels ``0 .. k-1``) or
``"regression"`` (float targets, about ``[-1, 1]``).  Either set may be asked as the other
kind: classes become targets ``-1, +1, ...`` and targets become classes by their sign.

    y, k = coerce_labels(y, "classification")
    head = output_head("classification", k)     # Head("softmax", "cross_entropy", 3)
    trainer = Trainer(net, opt, x, targets(y, head.loss, k), ...)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nn_core.losses import LOSSES, compatible, one_hot
from nn_core.model import default_loss
from nn_core.types import Array

PROBLEMS = ("classification", "regression")


@dataclass(frozen=True)
class Head:
    """The output layer a problem needs: its ``activation``, the ``loss`` that fits it by
    default and its number of ``units``."""

    activation: str
    loss: str
    units: int


def output_head(problem: str, n_classes: int, loss: str = "auto") -> Head:
    """The output for ``problem``: regression is one linear unit (mse); two classes are one
    sigmoid unit, ``p(class 1)`` (bce); ``k > 2`` classes are ``k`` softmax units
    (cross-entropy).  A ``loss`` with signed targets makes two classes one tanh unit whose
    sign is the class (TensorFlow Playground's output); ``"auto"``: the head's own loss."""
    if problem not in PROBLEMS:
        raise ValueError(f"unknown problem {problem!r}; choose one of {', '.join(PROBLEMS)}")
    signed = loss in LOSSES and LOSSES[loss].signed_targets
    if problem == "regression":
        activation, units = "linear", 1
    elif n_classes > 2:
        activation, units = "softmax", n_classes
    else:
        activation, units = ("tanh" if signed else "sigmoid"), 1
    return Head(activation, default_loss(activation) if loss == "auto" else loss, units)


def fitting_losses(problem: str, n_classes: int) -> list[str]:
    """The losses ``problem`` can train with: each on the output it makes
    (:func:`output_head`), as the Loss menu offers them."""
    return [
        name
        for name in LOSSES
        if compatible(name, output_head(problem, n_classes, name).activation)
    ]


def coerce_labels(
    y: Array, problem: str, *, rounded: bool = False, max_classes: int = 6
) -> tuple[Array, int]:
    """``(labels (n,), n_classes)`` of ``y (n,)`` asked as ``problem``.

    Classification: float labels are rounded to the nearest class when ``rounded`` (points
    drawn by hand carry their class as a float), otherwise read by their sign
    (``[y > 0]``: a regression set asked as classification); then clipped to
    ``0 .. max_classes - 1``; ``n_classes = max(2, max(y) + 1)``.  Regression: integer
    classes ``c`` become targets ``2c - 1`` (0, 1 -> -1, +1) as float64;
    ``n_classes = 0``.
    """
    if problem == "classification":
        if y.dtype.kind == "f" and rounded:
            y = np.rint(y).astype(np.int64)
        if y.dtype.kind == "f":
            y = (y > 0).astype(np.int64)
        y = np.clip(y, 0, max_classes - 1)
        return y, max(2, int(y.max()) + 1)
    if problem != "regression":
        raise ValueError(f"unknown problem {problem!r}; choose one of {', '.join(PROBLEMS)}")
    if y.dtype.kind in "iu":
        y = y * 2.0 - 1.0
    return y.astype(np.float64), 0


def targets(y: Array, loss: str, n_classes: int) -> Array:
    """What the loss compares the output with, for labels ``y (n,)``.

    Cross-entropy takes the integer labels ``(n,)``; any other loss over ``k > 2`` classes
    their one-hot rows ``(n, k)``; a loss with signed targets over two classes the column
    ``2 y - 1`` (-1, +1); everything else (one sigmoid or linear unit) the column ``y (n, 1)``,
    all as float32.
    """
    if loss == "cross_entropy":
        return y.astype(np.int64)
    if n_classes > 2:
        return one_hot(y, n_classes)
    if n_classes == 2 and LOSSES[loss].signed_targets:
        return (2.0 * y.reshape(-1, 1) - 1.0).astype(np.float32)
    return y.reshape(-1, 1).astype(np.float32)
