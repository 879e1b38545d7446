"""Input feature maps of a 2-D point ``(x1, x2)``, as in TensorFlow Playground.

``transform(points, names)`` stacks the chosen features into the network's input
``(n, len(names))``.  The same keys travel through the URL, JSON and JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from nn_core.types import Array

FEATURES: dict[str, Callable[[Array, Array], Array]] = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1_sq": lambda x1, x2: x1 * x1,
    "x2_sq": lambda x1, x2: x2 * x2,
    "x1_x2": lambda x1, x2: x1 * x2,
    "sin_x1": lambda x1, x2: np.sin(x1),
    "sin_x2": lambda x1, x2: np.sin(x2),
}

#: Labels for people (the page shows these).
FEATURE_LABELS = {
    "x1": "X₁",
    "x2": "X₂",
    "x1_sq": "X₁²",
    "x2_sq": "X₂²",
    "x1_x2": "X₁X₂",
    "sin_x1": "sin(X₁)",
    "sin_x2": "sin(X₂)",
}


def transform(points: Array, names: Sequence[str], dtype: type = np.float32) -> Array:
    """Map ``points (n, 2)`` to ``(n, len(names))`` with the named features."""
    unknown = [n for n in names if n not in FEATURES]
    if unknown or not names:
        raise ValueError(f"features must be a non-empty subset of {', '.join(FEATURES)}")
    x1, x2 = points[:, 0], points[:, 1]
    out: Array = np.empty((points.shape[0], len(names)), dtype=dtype)
    for j, name in enumerate(names):
        out[:, j] = FEATURES[name](x1, x2)
    return out
