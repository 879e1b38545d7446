"""Is an input like the training data?  A nearest-neighbour distance in a network's last
hidden layer, with a threshold measured on held-out data.

    check = NoveltyCheck.fit(net, x_train, x_heldout, quantile=0.99)
    check.distance(x)        # (n,) mean distance to the k nearest training points
    check.is_novel(x)        # (n,) distance above the threshold

A classifier's confidence alone does not tell a digit from a scribble: softmax can be 97 %
sure that an X is an 8.  Inputs unlike any training digit, though, land far from every
training point in the space the network's last hidden layer maps them to.  The threshold
is the ``quantile`` of the held-out data's own distances, so by construction about
``1 - quantile`` of real held-out inputs are flagged (the false-alarm rate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nn_core.model import Network
from nn_core.types import Array


def _features(net: Network, x: Array) -> Array:
    """The last hidden layer's activations ``(n, units)`` (the input for no hidden layer)."""
    acts = net.forward_all(np.asarray(x))
    return np.asarray(acts[-2] if len(acts) > 1 else x, np.float32)


@dataclass
class NoveltyCheck:
    """``train (m, units)``: the training set's features; ``threshold``: a distance."""

    net: Network
    train: Array
    threshold: float
    k: int = 5

    @classmethod
    def fit(
        cls, net: Network, x_train: Array, x_heldout: Array, quantile: float = 0.99, k: int = 5
    ) -> NoveltyCheck:
        check = cls(net, _features(net, x_train), np.inf, k)
        check.threshold = float(np.quantile(check.distance(x_heldout), quantile))
        return check

    def distance(self, x: Array, batch: int = 512) -> Array:
        """Mean Euclidean distance to the ``k`` nearest training points, per row of ``x``:
        ``|a - b|^2 = |a|^2 + |b|^2 - 2 a.b``, one matrix product per batch of rows."""
        h = _features(self.net, x)
        sq_train = np.einsum("ij,ij->i", self.train, self.train)
        out = np.empty(len(h), np.float64)
        for start in range(0, len(h), batch):
            hb = h[start : start + batch]
            d2 = np.einsum("ij,ij->i", hb, hb)[:, None] + sq_train[None, :] - 2 * hb @ self.train.T
            np.maximum(d2, 0, out=d2)
            nearest = np.partition(d2, self.k - 1, axis=1)[:, : self.k]
            out[start : start + batch] = np.sqrt(nearest).mean(axis=1)
        return out

    def is_novel(self, x: Array) -> Array:
        return self.distance(x) > self.threshold
