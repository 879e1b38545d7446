"""Optimizers update parameters in place from their gradients: ``opt.step(params, grads)``.

``learning_rate`` is a plain attribute, so it can change between any two steps (the
page's live slider does exactly that).  State (velocities, moments) is allocated once,
on the first step, with the parameters' shapes and dtype.

The same code updates a stack of networks (:mod:`nn_core.stack`): parameters ``(S, n)``,
and ``learning_rate`` and ``t`` given as ``(S, 1)`` columns, one value per network.

    sgd:       w -= lr * g
    momentum:  v = mu * v - lr * g;  w += v
    adam:      m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
               w -= lr * m_hat / (sqrt(v_hat) + eps)   with bias-corrected m_hat, v_hat
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from nn_core.types import Array


def _scale(value: Any, dtype: np.dtype[Any]) -> Any:
    """A Python number as it is (NumPy rounds it to the array's dtype); a column of
    per-network values rounded to ``dtype`` once, which is the same rounding."""
    return value.astype(dtype) if isinstance(value, np.ndarray) else value


class Optimizer:
    name: ClassVar[str] = ""

    def __init__(self, learning_rate: float = 0.01) -> None:
        self.learning_rate: Any = learning_rate
        self.t: Any = 0

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        self.t += 1
        self._update(params, grads)

    def _update(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    name = "sgd"

    def __init__(self, learning_rate: float = 0.01) -> None:
        super().__init__(learning_rate)
        self._tmp: list[Array] = []

    def _update(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        if not self._tmp:
            self._tmp = [np.empty_like(p) for p in params]
        for p, g, tmp in zip(params, grads, self._tmp, strict=True):
            np.multiply(g, _scale(self.learning_rate, p.dtype), out=tmp)  # no fresh temporary
            p -= tmp


class Momentum(Optimizer):
    name = "momentum"

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__(learning_rate)
        self.momentum = momentum
        self._v: list[Array] = []

    def _update(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        if not self._v:
            self._v = [np.zeros_like(p) for p in params]
        for p, g, v in zip(params, grads, self._v, strict=True):
            v *= self.momentum
            v -= _scale(self.learning_rate, p.dtype) * g
            p += v


class Adam(Optimizer):
    name = "adam"

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
    ) -> None:
        super().__init__(learning_rate)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self._m: list[Array] = []
        self._v: list[Array] = []
        self._tmp: list[Array] = []

    def _update(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        if not self._m:
            self._m = [np.zeros_like(p) for p in params]
            self._v = [np.zeros_like(p) for p in params]
            self._tmp = [np.empty_like(p) for p in params]
        b1, b2 = self.beta1, self.beta2
        # Fold both bias corrections into one step size (Kingma & Ba, section 2).
        step = self.learning_rate * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        step = float(step) if np.ndim(step) == 0 else step
        # Written as in-place passes over preallocated arrays: no temporaries per step.
        for p, g, m, v, tmp in zip(params, grads, self._m, self._v, self._tmp, strict=True):
            np.subtract(g, m, out=tmp)  # m += (1 - b1) (g - m)  ==  b1 m + (1 - b1) g
            tmp *= 1 - b1
            m += tmp
            np.multiply(g, g, out=tmp)  # v += (1 - b2) (g^2 - v)
            tmp -= v
            tmp *= 1 - b2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp += self.eps
            np.divide(m, tmp, out=tmp)
            tmp *= _scale(step, p.dtype)
            p -= tmp


OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (SGD, Momentum, Adam)}


def get_optimizer(name: str, learning_rate: float) -> Optimizer:
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name](learning_rate)


# ---------------------------------------------------------------- schedules
def constant(base_lr: float, epoch: int, total: int) -> float:
    return base_lr


def step_decay(
    base_lr: float, epoch: int, total: int, every: int = 10, factor: float = 0.5
) -> float:
    """Multiply the rate by ``factor`` every ``every`` epochs."""
    return base_lr * factor ** (epoch // every)


def cosine(base_lr: float, epoch: int, total: int) -> float:
    """Cosine from ``base_lr`` at epoch 0 down to 0 at epoch ``total``."""
    if total <= 0:
        return base_lr
    return 0.5 * base_lr * (1 + math.cos(math.pi * min(epoch, total) / total))


SCHEDULES = {"constant": constant, "step": step_decay, "cosine": cosine}
