"""Weight penalties added to the training loss (biases are not penalised).

``L1``: ``rate * sum |w|``, gradient ``rate * sign(w)``.
``L2``: ``0.5 * rate * sum w^2``, gradient ``rate * w`` (weight decay).
The penalty is not divided by the number of samples, as in TensorFlow Playground, so
the rate means the same whatever the batch size.  ``rate`` may be an ``(S, 1, 1)`` column
for stacked weights ``(S, n_in, n_out)``, one rate per network (:mod:`nn_core.stack`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from nn_core.types import Array


def _nonzero(rate: Any) -> bool:
    return bool(rate.any()) if isinstance(rate, np.ndarray) else bool(rate)


class Regularizer:
    name: ClassVar[str] = ""

    def __init__(self, rate: Any = 0.0) -> None:
        self.rate = rate

    def penalty(self, w: Array) -> float:
        return 0.0

    def add_grad(self, w: Array, grad_w: Array) -> None:
        """Add the penalty's gradient to ``grad_w`` in place."""


class NoRegularization(Regularizer):
    name = "none"


class L1(Regularizer):
    name = "l1"

    def penalty(self, w: Array) -> float:
        return float(self.rate * np.sum(np.abs(w), dtype=np.float64))

    def add_grad(self, w: Array, grad_w: Array) -> None:
        if _nonzero(self.rate):
            grad_w += self.rate * np.sign(w)


class L2(Regularizer):
    name = "l2"

    def penalty(self, w: Array) -> float:
        return float(0.5 * self.rate * np.sum(np.square(w, dtype=np.float64)))

    def add_grad(self, w: Array, grad_w: Array) -> None:
        if _nonzero(self.rate):
            grad_w += self.rate * w


REGULARIZERS: dict[str, type[Regularizer]] = {cls.name: cls for cls in (NoRegularization, L1, L2)}


def get_regularizer(name: str, rate: float = 0.0) -> Regularizer:
    if name not in REGULARIZERS:
        raise ValueError(
            f"unknown regularization {name!r}; choose one of {', '.join(REGULARIZERS)}"
        )
    return REGULARIZERS[name](rate)
