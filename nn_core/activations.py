"""Activation functions, each a forward/backward pair kept side by side.

Every activation maps pre-activations ``z`` of shape ``(n_samples, n_units)`` to
activations ``a`` of the same shape.  ``backward`` turns ``dL/da`` into ``dL/dz``;
it receives both ``z`` and ``a`` because most derivatives are cheapest from one of them
(``sigmoid' = a (1 - a)``, ``tanh' = 1 - a^2``, ``relu' = [z > 0]``).

Besides the pair, each class states as plain data what the rest of the project needs to
know about it: its output range, whether its units can die (ReLU family) or saturate,
the ONNX nodes that compute it (:class:`OnnxOp`; nn_core never imports ``onnx``) and its
derivative in words for the trace.

Add one: write a subclass and one line in :data:`ACTIVATIONS`.  The gradient-check
tests parametrise over the registry, so the new entry is checked automatically.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from nn_core.types import Array

Attribute = float | int | Sequence[int]


@dataclass(frozen=True)
class OnnxOp:
    """One ONNX node as plain data: operator ``op`` (opset 13) with ``attributes``, reading
    ``inputs`` and writing ``output``.

    Names are local to the op list: ``"z"`` is the pre-activation ``(n, n_units)`` and
    ``"a"`` the activation it computes; any other name is an intermediate value (the
    exporter makes it unique per layer).  A composite is a short list, for example
    ``softsign(z) = z / (1 + |z|)``::

        (OnnxOp("Abs", output="abs"),
         OnnxOp("Constant", (), "one", {"value_float": 1.0}),
         OnnxOp("Add", ("abs", "one"), "den"),
         OnnxOp("Div", ("z", "den")))
    """

    op: str
    inputs: tuple[str, ...] = ("z",)
    output: str = "a"
    attributes: Mapping[str, Attribute] = field(default_factory=dict)


class Activation:
    """Base class: ``a = f(z)`` elementwise (softmax: per row)."""

    name: ClassVar[str] = ""
    #: Whether this activation may be used on hidden layers.
    hidden: ClassVar[bool] = True
    #: Whether this activation may be used on the output layer.
    output: ClassVar[bool] = False
    #: The range ``(lo, hi)`` of ``a``.
    bounds: ClassVar[tuple[float, float]] = (-math.inf, math.inf)
    #: ReLU family: a unit with ``z <= 0`` on every point gets no gradient (it is dead).
    rectifier: ClassVar[bool] = False
    #: ``a`` flattens towards its finite bounds, where ``f'(z)`` vanishes.
    saturating: ClassVar[bool] = False
    #: The rows of ``a`` already sum to one (they are probabilities).
    sums_to_one: ClassVar[bool] = False
    #: The ONNX nodes computing ``a`` from ``z`` (empty: this one cannot be exported).
    onnx: ClassVar[tuple[OnnxOp, ...]] = ()
    #: ``f'(z)`` in words, in terms of ``z`` and ``a``, for the trace.
    derivative_formula: ClassVar[str] = ""

    def forward(self, z: Array, out: Array | None = None) -> Array:
        raise NotImplementedError

    def backward(self, z: Array, a: Array, grad_a: Array) -> Array:
        """Return ``dL/dz`` given ``dL/da`` (may overwrite ``grad_a`` in place)."""
        raise NotImplementedError

    def derivative(self, z: Array, a: Array) -> Array | None:
        """``f'(z)`` elementwise, ``(n, n_units)``: ``backward`` of a gradient of ones.
        ``None`` where ``a_j`` depends on the whole row (softmax), so there is no one slope."""
        return self.backward(z, a, np.ones_like(z))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Sigmoid(Activation):
    """``a = 1 / (1 + exp(-z))``, ``da/dz = a (1 - a)``; range (0, 1)."""

    name = "sigmoid"
    output = True
    bounds = (0.0, 1.0)
    saturating = True
    onnx = (OnnxOp("Sigmoid"),)
    derivative_formula = "a(1 − a)"

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
    bounds = (-1.0, 1.0)
    saturating = True
    onnx = (OnnxOp("Tanh"),)
    derivative_formula = "1 − a²"

    def forward(self, z: Array, out: Array | None = None) -> Array:
        return np.tanh(z, out=out)

    def backward(self, z: Array, a: Array, grad_a: Array) -> Array:
        grad_a *= 1.0 - a * a
        return grad_a


class Relu(Activation):
    """``a = max(0, z)``, ``da/dz = [z > 0]``."""

    name = "relu"
    bounds = (0.0, math.inf)
    rectifier = True
    onnx = (OnnxOp("Relu"),)
    derivative_formula = "1 if z > 0, else 0"

    def forward(self, z: Array, out: Array | None = None) -> Array:
        return np.maximum(z, 0.0, out=out)

    def backward(self, z: Array, a: Array, grad_a: Array) -> Array:
        grad_a *= z > 0
        return grad_a


class LeakyRelu(Activation):
    """``a = z`` for ``z > 0`` else ``slope * z`` (slope 0.01)."""

    name = "leaky_relu"
    slope: ClassVar[float] = 0.01
    rectifier = True
    # from the slope above: a subclass with another slope restates these two
    onnx = (OnnxOp("LeakyRelu", attributes={"alpha": slope}),)
    derivative_formula = f"1 if z > 0, else {slope:g}"

    def forward(self, z: Array, out: Array | None = None) -> Array:
        return np.maximum(z, self.slope * z, out=out)

    def backward(self, z: Array, a: Array, grad_a: Array) -> Array:
        grad_a *= np.where(z > 0, 1.0, self.slope).astype(grad_a.dtype, copy=False)
        return grad_a


class Linear(Activation):
    """Identity: ``a = z``; the output for regression."""

    name = "linear"
    output = True
    onnx = (OnnxOp("Identity"),)
    derivative_formula = "1"

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
    bounds = (0.0, 1.0)
    sums_to_one = True
    onnx = (OnnxOp("Softmax", attributes={"axis": 1}),)

    def forward(self, z: Array, out: Array | None = None) -> Array:
        out = np.subtract(z, z.max(axis=-1, keepdims=True), out=out)
        np.exp(out, out=out)
        out /= out.sum(axis=-1, keepdims=True)
        return out

    def backward(self, z: Array, a: Array, grad_a: Array) -> Array:
        dot = np.sum(grad_a * a, axis=-1, keepdims=True)
        grad_a -= dot
        grad_a *= a
        return grad_a

    def derivative(self, z: Array, a: Array) -> Array | None:
        return None  # da_j/dz_k is a full (n_units, n_units) matrix per row


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls
    for cls in (
        Sigmoid,
        Tanh,
        Relu,
        LeakyRelu,
        Linear,
        Softmax,
    )
}
HIDDEN_ACTIVATIONS = tuple(name for name, cls in ACTIVATIONS.items() if cls.hidden)
OUTPUT_ACTIVATIONS = tuple(name for name, cls in ACTIVATIONS.items() if cls.output)


def get_activation(name: str, *, role: str = "hidden") -> Activation:
    """Look ``name`` up in :data:`ACTIVATIONS`; ``role`` is ``"hidden"`` or ``"output"``."""
    allowed = HIDDEN_ACTIVATIONS if role == "hidden" else OUTPUT_ACTIVATIONS
    if name not in allowed:
        raise ValueError(f"unknown {role} activation {name!r}; choose one of {', '.join(allowed)}")
    return ACTIVATIONS[name]()


# ---------------------------------------------------------- probabilities
def probabilities(a: Array, activation: Activation) -> Array:
    """Output rows ``a (n, k)`` as probabilities ``p (n, k)``, each row summing to one.

    Softmax rows are returned as they are.  Any other output (sigmoid units, one per
    class) is clipped at zero and divided by its row sum,
    ``p = m / sum_k m_k`` with ``m = max(a, 0) + [sum_k max(a_k, 0) = 0]``,
    so a row with no positive output becomes uniform, ``1 / k``.
    :data:`PROBABILITY_ONNX` is the same formula as ONNX nodes.
    """
    if activation.sums_to_one:
        return a
    clipped = np.maximum(a, 0.0)
    mass = clipped + (clipped.sum(axis=1, keepdims=True) == 0)
    out: Array = mass / mass.sum(axis=1, keepdims=True)
    return out


#: :func:`probabilities` of a non-softmax output as ONNX nodes, from ``"a"`` to ``"p"``.
PROBABILITY_ONNX = (
    OnnxOp("Constant", (), "zero", {"value_float": 0.0}),
    OnnxOp("Constant", (), "axes", {"value_ints": [1]}),
    OnnxOp("Max", ("a", "zero"), "clipped"),
    OnnxOp("ReduceSum", ("clipped", "axes"), "total", {"keepdims": 1}),
    OnnxOp("Equal", ("total", "zero"), "none"),
    OnnxOp("Cast", ("none",), "uniform", {"to": 1}),  # 1: float32
    OnnxOp("Add", ("clipped", "uniform"), "mass"),
    OnnxOp("ReduceSum", ("mass", "axes"), "mass_total", {"keepdims": 1}),
    OnnxOp("Div", ("mass", "mass_total"), "p"),
)
