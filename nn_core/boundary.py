"""The network evaluated on a grid over the plane: the decision boundary and each
neuron's view of the input space.

Rows of a grid run along ``x2`` from ``-extent`` to ``+extent``, columns along ``x1``;
``grid_points(r)`` returns the ``r * r`` points in that row-major order.  Values travel
to the page as ``uint8`` via :func:`quantize` (a 100 x 100 grid is 10 kB).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nn_core.datasets import EXTENT
from nn_core.features import transform
from nn_core.model import Network
from nn_core.types import Array


def grid_points(resolution: int, extent: float = EXTENT) -> Array:
    """``(resolution**2, 2)`` points ``(x1, x2)`` covering ``[-extent, extent]^2``."""
    ticks = np.linspace(-extent, extent, resolution)
    x1, x2 = np.meshgrid(ticks, ticks)  # rows follow x2, columns x1
    return np.c_[x1.ravel(), x2.ravel()]


def quantize(values: Array, lo: float, hi: float) -> Array:
    """Map ``[lo, hi]`` linearly onto ``0..255`` (clipped) as ``uint8``; NaN (a diverged
    network) maps to the middle, infinities to the ends."""
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = np.subtract(np.asarray(values, np.float32), lo)
        scaled *= 255.0 / (hi - lo)
    np.nan_to_num(scaled, copy=False, nan=127.5, posinf=255.0, neginf=0.0)
    np.rint(scaled, out=scaled)
    np.clip(scaled, 0, 255, out=scaled)
    return scaled.astype(np.uint8)


def layer_outputs(network: Network, features: Sequence[str], points: Array) -> list[Array]:
    """Every layer's activation on ``points``: ``[inputs, a_1, ..., a_L]``, each ``(n, units)``."""
    x = transform(points, features, np.dtype(network.dtype).type)
    return [x, *network.forward_all(x)]


def neuron_views(
    network: Network, features: Sequence[str], points: Array, outs: list[Array] | None = None
) -> Array:
    """Every neuron's value on ``points (m, 2)``, all on one ``-1 .. 1`` scale:
    ``(n_inputs + n_hidden + n_out, m)``, inputs first, one row per neuron.

    Input features are divided by their largest ``|value|`` on the points; hidden units are
    as they are (tanh fills the scale; ``quantize`` clips a relu's top); an output with
    finite bounds ``(lo, hi)`` is mapped onto it, ``2 (a - lo) / (hi - lo) - 1`` (a
    sigmoid's or softmax's probabilities: ``2a - 1``).  ``outs``: :func:`layer_outputs`
    on ``points``, if already computed.
    """
    outs = layer_outputs(network, features, points) if outs is None else outs
    inputs = outs[0]
    scale = np.maximum(np.abs(inputs).max(axis=0), 1e-9)  # features on their own scale
    lo, hi = network.layers[-1].activation.bounds
    last = outs[-1]
    if np.isfinite(lo) and np.isfinite(hi):
        last = 2 * (last - lo) / (hi - lo) - 1
    out: Array = np.concatenate([inputs / scale, *outs[1:-1], last], axis=1).T
    return out
