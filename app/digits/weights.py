"""The first layer's weights as 28 x 28 pictures, as the digits page shows them.

Rows are samples in nn_core, so the first weight matrix ``W1`` is ``(784, n_hidden)`` and
unit ``j``'s picture is its column ``W1[:, j]`` laid out as the 28 x 28 image, row-major.
Up to :data:`PICTURES` units are all shown, in order; a wider layer shows the
:data:`PICTURES` columns with the largest L2 norm, largest first.

Each picture is sent as bytes, scaled to its own largest magnitude ``m = max |W1[:, j]|``:
``byte = round(127.5 * (1 + w / m))``, so 0 is the most negative weight, 255 the most
positive and 127.5 is zero (a unit of all-zero weights is all 128).  The page paints
the bytes on the diverging scale: orange negative, white zero, blue positive.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from nn_core.model import Network

#: The most units shown: all of a layer up to this many, else the largest by norm.
PICTURES = 16
SIDE = 28
#: The most ``first_layer`` messages a training run sends a second.
PER_SECOND = 4


def chosen_units(w1: np.ndarray, most: int = PICTURES) -> np.ndarray:
    """Every unit of ``w1 (784, n)`` up to ``most``, else the ``most`` of largest column
    norm (largest first, the lower index first among equals)."""
    n = w1.shape[1]
    if n <= most:
        return np.arange(n)
    norms = np.sqrt(np.einsum("ij,ij->j", w1, w1, dtype=np.float64))
    return np.argsort(-norms, kind="stable")[:most]


def to_bytes(columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(784, k)`` weights -> ``(k, 784)`` uint8 pictures by the module's rule, and each
    picture's scale ``m``."""
    w = columns.astype(np.float64).T
    scale = np.abs(w).max(axis=1)
    safe = np.where(scale > 0, scale, 1.0)
    pictures = np.rint(127.5 * (1.0 + w / safe[:, None]))
    return np.clip(pictures, 0, 255).astype(np.uint8), scale


def first_layer(network: Network, epoch: int | None = None) -> dict[str, Any]:
    """The ``first_layer`` message: the chosen units, their scales and norms, and their
    pictures as base64 (``units`` x 784 bytes, one picture after another)."""
    w1 = network.weights[0]
    units = chosen_units(w1)
    pictures, scale = to_bytes(w1[:, units])
    norms = np.sqrt((w1[:, units].astype(np.float64) ** 2).sum(axis=0))
    return {
        "type": "first_layer",
        "epoch": epoch,
        "n_hidden": int(w1.shape[1]),
        "side": SIDE,
        "units": [int(u) for u in units],
        "scales": [float(f"{s:.4g}") for s in scale],
        "norms": [float(f"{n:.4g}") for n in norms],
        "pixels": base64.b64encode(pictures.tobytes()).decode(),
    }
