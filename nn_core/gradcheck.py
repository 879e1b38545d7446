"""Checking a gradient: backprop's analytic value next to a finite difference, in float64.

check = check_gradient(net, x_train, y_train, layer=0, kind="weight", i=1, j=2)
check.analytic, check.numeric, check.relative_error, check.matches, check.note
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nn_core.backprop import as_float64, forward_pass
from nn_core.model import Network
from nn_core.types import Array

#: Relative error below which an analytic and a numeric gradient are said to match.
MATCH_TOLERANCE = 1e-6
#: Central-difference step for :func:`check_gradient` (float64).  With Richardson's
#: extrapolation the truncation error is O(h^4) ~ 1e-12 and the rounding error about
#: 1e-16 / h ~ 1e-13, so gradients down to ~1e-9 are resolved to a relative 1e-6.
FD_STEP = 1e-3
#: Below this size a gradient cannot be told from finite differences' rounding.
FD_FLOOR = 1e-10


@dataclass(frozen=True)
class GradientCheck:
    """An analytic gradient next to its central finite difference.

    ``relative_error = |analytic - numeric| / max(|analytic|, |numeric|, FD_FLOOR)``;
    ``note`` says why the two may honestly differ (a ReLU kink, an L1 zero, a gradient
    too small to resolve), or is empty.
    """

    analytic: float
    numeric: float
    relative_error: float
    step: float
    note: str

    @property
    def matches(self) -> bool:
        return self.relative_error < MATCH_TOLERANCE


def objective(net: Network, x: Array, y: Array) -> float:
    """The training objective: mean data loss plus the regulariser's penalty."""
    return net.loss(x, y) + net.penalty()


def check_gradient(
    net: Network,
    x: Array,
    y: Array,
    layer: int,
    kind: str,
    i: int,
    j: int,
    step: float = FD_STEP,
) -> GradientCheck:
    """Check one parameter's gradient of :func:`objective` over ``(x, y)`` in float64.

    ``kind`` is ``"weight"`` (``w[layer][i, j]``) or ``"bias"`` (``b[layer][j]``).  The
    analytic value is what a full-batch optimizer step would use (regulariser included);
    the numeric one is ``(J(p + h) - J(p - h)) / 2h``.
    """
    twin = as_float64(net)
    param = _parameter(twin, layer, kind, i, j)
    twin.backprop(x, y, train=True, rng=np.random.default_rng(0))
    grads = twin.layers[layer].grad_w if kind == "weight" else twin.layers[layer].grad_b
    analytic = float(grads[(i, j) if kind == "weight" else j])
    original = float(param[()])

    def central(h: float) -> float:
        param[()] = original + h
        up = objective(twin, x, y)
        param[()] = original - h
        down = objective(twin, x, y)
        param[()] = original
        return (up - down) / (2 * h)

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        numeric = (4 * central(step / 2) - central(step)) / 3
    scale = max(abs(analytic), abs(numeric), FD_FLOOR)
    error = abs(analytic - numeric) / scale if math.isfinite(numeric) else math.inf
    return GradientCheck(
        analytic, numeric, error, step, _why_different(twin, x, layer, kind, original, step, scale)
    )


def _parameter(net: Network, layer: int, kind: str, i: int, j: int) -> Array:
    """A 0-d view of one parameter (raises ValueError naming what is out of range)."""
    if not 0 <= layer < len(net.layers):
        raise ValueError(f"layer: must be between 0 and {len(net.layers) - 1}")
    w, b = net.layers[layer].w, net.layers[layer].b
    if kind not in ("weight", "bias"):
        raise ValueError("kind: must be weight or bias")
    if not 0 <= j < w.shape[1]:
        raise ValueError(f"j: must be between 0 and {w.shape[1] - 1}")
    if kind == "bias":
        return b[j : j + 1].reshape(())
    if not 0 <= i < w.shape[0]:
        raise ValueError(f"i: must be between 0 and {w.shape[0] - 1}")
    return w[i : i + 1, j].reshape(())


def _why_different(
    net: Network, x: Array, layer: int, kind: str, value: float, step: float, scale: float
) -> str:
    if kind == "weight" and net.regularization == "l1" and abs(value) <= step:
        return (
            "this weight sits at an L1 zero: |w| has a corner there, so the two one-sided "
            "slopes differ and the central difference averages them"
        )
    # a rectifier's slope jumps at z = 0 (the output layer is never one)
    relu_layers = [
        li for li, lay in enumerate(net.layers[:-1]) if lay.activation.rectifier and li >= layer
    ]
    if relu_layers:
        zs = forward_pass(net, x)[1]
        close = min(float(np.min(np.abs(zs[li]))) for li in relu_layers)
        if close < 10 * step:
            return (
                f"a ReLU input is {close:.1e} from its kink at 0: a step of {step:g} can cross "
                "it, where the slope jumps, so the numeric gradient may differ"
            )
    if scale <= FD_FLOOR:
        return (
            "both gradients are below 1e-10, where finite differences only measure rounding; "
            "this parameter has (almost) no effect on the loss"
        )
    return ""
