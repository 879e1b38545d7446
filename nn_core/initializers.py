"""Weight initialisers: ``w = draw(rng, n_in, n_out)`` of shape ``(n_in, n_out)``.

Biases start at zero.  Every initialiser takes an explicit ``numpy.random.Generator``,
so the same seed and config give bit-identical weights.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from nn_core.types import Array


class Initializer:
    name: ClassVar[str] = ""

    def __init__(self, scale: float | None = None) -> None:
        self.scale = scale

    def std(self, n_in: int, n_out: int) -> float:
        raise NotImplementedError

    def __call__(self, rng: np.random.Generator, n_in: int, n_out: int, dtype: type) -> Array:
        w = rng.standard_normal((n_in, n_out)) * self.std(n_in, n_out)
        return w.astype(dtype)


class Normal(Initializer):
    """``w = randn * scale`` as in the tutorials (default scale 0.01)."""

    name = "normal"

    def std(self, n_in: int, n_out: int) -> float:
        return 0.01 if self.scale is None else self.scale


class Xavier(Initializer):
    """Glorot: ``std = sqrt(2 / (n_in + n_out))``; suits tanh and sigmoid."""

    name = "xavier"

    def std(self, n_in: int, n_out: int) -> float:
        return float(np.sqrt(2.0 / (n_in + n_out))) * (1.0 if self.scale is None else self.scale)


class He(Initializer):
    """He: ``std = sqrt(2 / n_in)``; suits relu."""

    name = "he"

    def std(self, n_in: int, n_out: int) -> float:
        return float(np.sqrt(2.0 / n_in)) * (1.0 if self.scale is None else self.scale)


INITIALIZERS: dict[str, type[Initializer]] = {cls.name: cls for cls in (Normal, Xavier, He)}


def get_initializer(name: str, scale: float | None = None) -> Initializer:
    if name not in INITIALIZERS:
        raise ValueError(f"unknown init {name!r}; choose one of {', '.join(INITIALIZERS)}")
    return INITIALIZERS[name](scale)
