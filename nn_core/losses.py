"""Loss functions as value/derivative pairs, each averaged over samples.

A loss sees the output layer's pre-activation ``z``, its activation ``a`` and the
target ``y`` (all ``(n_samples, n_out)``; ``cross_entropy`` also takes integer labels of
shape ``(n_samples,)``).  A leading stack axis is welcome: with ``(S, n_samples, n_out)``
arrays (:mod:`nn_core.stack`) every formula runs per network, and :meth:`Loss.values`
returns one loss per network, bit for bit what each alone would get.

``delta`` returns ``dL/dz`` for the output layer: where the output activation and the
loss cancel (sigmoid + bce, softmax + cross-entropy) it uses
the fused, numerically exact form ``(a - y) / n``; otherwise it chains ``dL/da`` through
the activation's ``backward``.

A loss with ``signed_targets`` compares two classes as ``-1`` and ``+1`` (not ``0``, ``1``)
and reads the class from the sign of a tanh output, as TensorFlow Playground does
(:func:`nn_core.problems.targets` and :func:`nn_core.problems.output_head` follow it).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from nn_core.activations import Activation, Sigmoid, Softmax
from nn_core.types import Array


def one_hot(labels: Array, n_classes: int, dtype: type = np.float32) -> Array:
    """Integer labels ``(n,)`` -> one-hot matrix ``(n, n_classes)``."""
    out: Array = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels.astype(np.intp)] = 1.0
    return out


class Loss:
    """Base class.  ``value`` is the mean loss; ``delta`` is ``dL/dz`` of that mean."""

    name: ClassVar[str] = ""
    #: Output activations this loss is defined for (empty: any).
    requires: ClassVar[tuple[str, ...]] = ()
    #: The output activation whose derivative this loss cancels: ``delta = (a - y) / n``.
    fused_with: ClassVar[type[Activation] | None] = None
    #: Two classes are the targets -1 and +1 of a tanh output, not 0 and 1.
    signed_targets: ClassVar[bool] = False

    def fuses(self, activation: Activation) -> bool:
        """Whether ``delta`` is the fused ``(a - y) / n`` for this output ``activation``."""
        return self.fused_with is not None and isinstance(activation, self.fused_with)

    def value(self, z: Array, a: Array, y: Array) -> float:
        return float(self.values(z, a, y))

    def values(self, z: Array, a: Array, y: Array) -> Array:
        """The mean loss over the samples axis (``-2``): a scalar, or one per network."""
        raise NotImplementedError

    def grad_a(self, a: Array, y: Array) -> Array:
        raise NotImplementedError

    def delta(self, z: Array, a: Array, y: Array, activation: Activation) -> Array:
        return activation.backward(z, a, self.grad_a(a, y))


class MeanSquaredError(Loss):
    """``L = mean over samples and outputs of (a - y)^2``; ``dL/da = 2 (a - y) / (n k)``."""

    name = "mse"

    def values(self, z: Array, a: Array, y: Array) -> Array:
        return np.mean(np.square(a - y, dtype=np.float64), axis=(-2, -1))

    def grad_a(self, a: Array, y: Array) -> Array:
        return (a - y) * (2.0 / (a.shape[-2] * a.shape[-1]))


class Quadratic(Loss):
    """Nielsen's cost ``L = mean over samples of 0.5 ||a - y||^2``; ``dL/da = (a - y) / n``."""

    name = "quadratic"

    def values(self, z: Array, a: Array, y: Array) -> Array:
        return 0.5 * np.sum(np.square(a - y, dtype=np.float64), axis=(-2, -1)) / a.shape[-2]

    def grad_a(self, a: Array, y: Array) -> Array:
        return (a - y) * (1.0 / a.shape[-2])


class PlaygroundSquare(Quadratic):
    """TensorFlow Playground's loss: ``L = mean over samples of 0.5 sum_k (a - t)^2``;
    ``dL/da = (a - t) / n`` (the value and derivative of :class:`Quadratic`).

    Its ``Errors.SQUARE`` (``src/nn.ts``: ``0.5 (output - target)^2``, derivative
    ``output - target``) averaged over the points as its ``getLoss`` does, on its output:
    tanh with targets ``t = -1, +1`` for two classes (``signed_targets``), a linear unit
    and the values themselves for regression.  A constant output of 0, chance for two
    classes, reads exactly 0.5, where squared error on a sigmoid's 0.5 reads 0.25.
    """

    name = "tf_square"
    requires = ("tanh", "linear")
    signed_targets = True


class BinaryCrossEntropy(Loss):
    """``L = -mean_n sum_k [y log a + (1 - y) log(1 - a)]`` for sigmoid outputs.

    Computed from the logits ``z`` as ``max(z, 0) - z y + log(1 + exp(-|z|))``, which
    never takes the log of 0; ``dL/dz = (a - y) / n``.
    """

    name = "bce"
    requires = ("sigmoid",)
    fused_with = Sigmoid

    def values(self, z: Array, a: Array, y: Array) -> Array:
        z64 = z.astype(np.float64)
        per = np.maximum(z64, 0.0) - z64 * y + np.log1p(np.exp(-np.abs(z64)))
        return np.sum(per, axis=(-2, -1)) / z.shape[-2]

    def grad_a(self, a: Array, y: Array) -> Array:
        eps = 1e-12
        clipped = np.clip(a, eps, 1.0 - eps)
        return (clipped - y) / (clipped * (1.0 - clipped)) / a.shape[-2]

    def delta(self, z: Array, a: Array, y: Array, activation: Activation) -> Array:
        if self.fuses(activation):
            return (a - y) * (1.0 / a.shape[-2])
        return super().delta(z, a, y, activation)


class CrossEntropy(Loss):
    """Categorical cross-entropy fused with softmax: ``L = -mean_n sum_k y_k log softmax(z)_k``.

    ``log softmax`` uses log-sum-exp, so no probability is ever rounded to ``log(0)``.
    ``y`` may be one-hot ``(n, k)`` or integer labels ``(n,)``; ``dL/dz = (a - y) / n``.
    """

    name = "cross_entropy"
    requires = ("softmax",)
    fused_with = Softmax

    @staticmethod
    def _targets(y: Array, k: int, dtype: type) -> Array:
        if y.ndim == 1:
            return one_hot(y, k, dtype)
        if not np.issubdtype(y.dtype, np.floating):  # labels (S, n) of stacked networks
            return np.stack([one_hot(row, k, dtype) for row in y])
        return y

    @staticmethod
    def _labelled(a: Array, y: Array) -> bool:
        """Integer labels (one fewer axis than the outputs) rather than target rows."""
        return y.ndim == a.ndim - 1

    def values(self, z: Array, a: Array, y: Array) -> Array:
        z64 = z.astype(np.float64)
        shifted = z64 - z64.max(axis=-1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        if self._labelled(z, y):
            picked = np.take_along_axis(log_p, y[..., None].astype(np.intp), axis=-1)[..., 0]
            return -picked.mean(axis=-1)
        return -np.sum(y * log_p, axis=(-2, -1)) / z.shape[-2]

    def grad_a(self, a: Array, y: Array) -> Array:
        t = self._targets(y, a.shape[-1], a.dtype.type) if self._labelled(a, y) else y
        return -t / np.clip(a, 1e-12, None) / a.shape[-2]

    def delta(self, z: Array, a: Array, y: Array, activation: Activation) -> Array:
        if self.fuses(activation):
            out = a.copy()
            if self._labelled(a, y):
                at = y[..., None].astype(np.intp)
                picked = np.take_along_axis(out, at, axis=-1)
                picked -= 1.0
                np.put_along_axis(out, at, picked, axis=-1)
            else:
                out -= y
            out *= 1.0 / a.shape[-2]
            return out
        return super().delta(z, a, y, activation)


LOSSES: dict[str, type[Loss]] = {
    cls.name: cls
    for cls in (BinaryCrossEntropy, CrossEntropy, MeanSquaredError, Quadratic, PlaygroundSquare)
}


def get_loss(name: str, output_activation: str) -> Loss:
    """Look ``name`` up in :data:`LOSSES` and check it fits the output activation."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    loss = LOSSES[name]()
    if loss.requires and output_activation not in loss.requires:
        raise ValueError(
            f"loss {name!r} needs output activation {' or '.join(loss.requires)}, "
            f"not {output_activation!r}"
        )
    return loss


def compatible(loss: str, output_activation: str) -> bool:
    """Whether ``loss`` is defined for ``output_activation`` (e.g. bce needs sigmoid)."""
    req = LOSSES[loss].requires
    return not req or output_activation in req
