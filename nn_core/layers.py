"""A fully connected layer: ``z = x @ w + b``, ``a = f(z)``.

Shapes (rows are samples): ``x (n, n_in)``, ``w (n_in, n_out)``, ``b (n_out,)``,
``z, a (n, n_out)``.  Backward, given ``delta = dL/dz (n, n_out)``:

    grad_w = x.T @ delta        (n_in, n_out)
    grad_b = delta.sum(axis=0)  (n_out,)
    dL/dx  = delta @ w.T        (n, n_in)

The layer writes ``z``, ``a`` and the gradients into buffers it keeps between batches,
because fresh allocations every batch cost more in page faults than the arithmetic.
"""

from __future__ import annotations

import numpy as np

from nn_core.activations import Activation
from nn_core.types import Array


class Dense:
    """One fully connected layer with its activation and reusable work buffers."""

    def __init__(self, w: Array, b: Array, activation: Activation) -> None:
        self.w = w
        self.b = b
        self.activation = activation
        self.grad_w = np.zeros_like(w)
        self.grad_b = np.zeros_like(b)
        self._buffers: dict[int, tuple[Array, Array, Array]] = {}

    @property
    def n_in(self) -> int:
        return int(self.w.shape[0])

    @property
    def n_out(self) -> int:
        return int(self.w.shape[1])

    def buffers(self, n: int) -> tuple[Array, Array, Array]:
        """``(z, a, dx)`` buffers for a batch of ``n`` rows (a few sizes are kept)."""
        buf = self._buffers.get(n)
        if buf is None:
            if len(self._buffers) >= 4:  # the full set, the batch size, the last batch, ...
                self._buffers.pop(next(iter(self._buffers)))
            dt = self.w.dtype
            buf = (
                np.empty((n, self.n_out), dt),
                np.empty((n, self.n_out), dt),
                np.empty((n, self.n_in), dt),
            )
            self._buffers[n] = buf
        return buf

    def forward(self, x: Array, *, reuse: bool = True) -> tuple[Array, Array]:
        """Return ``(z, a)``; with ``reuse`` they live in this layer's buffers."""
        if not reuse:
            z = x @ self.w
            z += self.b
            return z, self.activation.forward(z)
        z, a, _ = self.buffers(x.shape[0])
        np.matmul(x, self.w, out=z)
        z += self.b
        self.activation.forward(z, out=a)
        return z, a

    def backward(self, x: Array, delta: Array, *, need_dx: bool) -> Array | None:
        """Fill ``grad_w``/``grad_b`` from ``delta = dL/dz``; return ``dL/dx`` if asked."""
        np.matmul(x.T, delta, out=self.grad_w)
        np.add.reduce(delta, axis=0, out=self.grad_b)
        if not need_dx:
            return None
        dx = self.buffers(x.shape[0])[2]
        np.matmul(delta, self.w.T, out=dx)
        return dx
