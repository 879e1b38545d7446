"""Activation functions, each a forward/backward pair kept side by side.

Every activation maps pre-activations ``z`` of shape ``(n_samples, n_units)`` to
activations ``a`` of the same shape.  ``backward`` turns ``dL/da`` into ``dL/dz``;
it receives both ``z`` and ``a`` because most derivatives are cheapest from one of them
(``sigmoid' = a (1 - a)``, ``tanh' = 1 - a^2``, ``relu' = [z > 0]``).

Add one: write a subclass and one line in :data:`ACTIVATIONS`.  The gradient-check
tests parametrise over the registry, so the new entry is checked automatically.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from nn_core.types import Array


class Activation:
    """Base class: ``a = f(z)`` elementwise (softmax: per row)."""

    name: ClassVar[str] = ""
    #: Whether this activation may be used on hidden layers.
    hidden: ClassVar[bool] = True
    #: Whether this activation may be used on the output layer.
    output: ClassVar[bool] = False

    def forward(self, z: Array, out: Array | None = None) -> Array:
        raise NotImplementedError

    def backward(self, z: Array, a: Array, grad_a: Array) -> Array:
        """Return ``dL/dz`` given ``dL/da`` (may overwrite ``grad_a`` in place)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Sigmoid(Activation):
    """``a = 1 / (1 + exp(-z))``, ``da/dz = a (1 - a)``; range (0, 1)."""

    name = "sigmoid"
    output = True

    def forward(self, z: Array, out: Array | None = None) -> Array:
        # sigmoid(z) = (1 + tanh(z / 2)) / 2: the same function, but it never overflows
        # (exp(-z) does for z < -88 in float32) and needs no clipping.
        out = np.multiply(z, 0.5, out=out)
        np.tanh(out, out=out)
        out *= 0.5
        out += 0.5
        return out

    def backward(self, z: Array, a: Array, grad_a: Array) -> Array:
        grad_a *= a
        grad_a *= 1.0 - a
        return grad_a


class Tanh(Activation):
    """``a = tanh(z)``, ``da/dz = 1 - a^2``; range (-1, 1)."""

    name = "tanh"
    output = True

    def forward(self, z: Array, out: Array | None = None) -> Array:
        return np.tanh(z, out=out)

    def backward(self, z: Array, a: Array, grad_a: Array) -> Array:
        grad_a *= 1.0 - a * a
        return grad_a


class Relu(Activation):
    """``a = max(0, z)``, ``da/dz = [z > 0]``."""

    name = "relu"

    def forward(self, z: Array, out: Array | None = None) -> Array:
        return np.maximum(z, 0.0, out=out)

    def backward(self, z: Array, a: Array, grad_a: Array) -> Array:
        grad_a *= z > 0
        return grad_a


class LeakyRelu(Activation):
    """``a = z`` for ``z > 0`` else ``slope * z`` (slope 0.01)."""

    name = "leaky_relu"
    slope: ClassVar[float] = 0.01

    def forward(self, z: Array, out: Array | None = None) -> Array:
        return np.maximum(z, self.slope * z, out=out)

    def backward(self, z: Array, a: Array, grad_a: Array) -> Array:
        grad_a *= np.where(z > 0, 1.0, self.slope).astype(grad_a.dtype, copy=False)
        return grad_a


class Linear(Activation):
    """Identity: ``a = z``; the output for regression."""

    name = "linear"
    output = True

    def forward(self, z: Array, out: Array | None = None) -> Array:
        if out is None:
            return z.copy()
        np.copyto(out, z)
        return out

    def backward(self, z: Array, a: Array, grad_a: Array) -> Array:
        return grad_a


class Softmax(Activation):
    """``a_k = exp(z_k) / sum_j exp(z_j)`` per row, computed after subtracting the row max.

    Its Jacobian-vector product is ``dL/dz = a * (g - sum_k g_k a_k)`` with ``g = dL/da``;
    with cross-entropy the pair fuses to ``(a - y) / n`` (see :mod:`nn_core.losses`).
    """

    name = "softmax"
    hidden = False
    output = True

    def forward(self, z: Array, out: Array | None = None) -> Array:
        out = np.subtract(z, z.max(axis=1, keepdims=True), out=out)
        np.exp(out, out=out)
        out /= out.sum(axis=1, keepdims=True)
        return out

    def backward(self, z: Array, a: Array, grad_a: Array) -> Array:
        dot = np.sum(grad_a * a, axis=1, keepdims=True)
        grad_a -= dot
        grad_a *= a
        return grad_a


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Sigmoid, Tanh, Relu, LeakyRelu, Linear, Softmax)
}
HIDDEN_ACTIVATIONS = tuple(name for name, cls in ACTIVATIONS.items() if cls.hidden)
OUTPUT_ACTIVATIONS = tuple(name for name, cls in ACTIVATIONS.items() if cls.output)


def get_activation(name: str, *, role: str = "hidden") -> Activation:
    """Look ``name`` up in :data:`ACTIVATIONS`; ``role`` is ``"hidden"`` or ``"output"``."""
    allowed = HIDDEN_ACTIVATIONS if role == "hidden" else OUTPUT_ACTIVATIONS
    if name not in allowed:
        raise ValueError(f"unknown {role} activation {name!r}; choose one of {', '.join(allowed)}")
    return ACTIVATIONS[name]()
