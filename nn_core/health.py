"""Training health: gradient norms, update-to-weight ratios, dead and saturated units,
and a verdict in words, per weight matrix, at the current weights.

    h = health(net, x_train, y_train, last_update=net.split(trainer.last_update)[0])
    h.layers[0].grad_norm, h.layers[0].update_ratio, h.dead_units, h.verdict
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nn_core.backprop import passes, regularization_grads
from nn_core.model import Network
from nn_core.types import Array

RELU_FAMILY = ("relu", "leaky_relu")
SATURATING = ("sigmoid", "tanh")


@dataclass(frozen=True)
class LayerHealth:
    """One weight matrix's health at the current weights.

    ``grad_norm`` is ``||dJ/dW||_F`` of the training objective's mean gradient;
    ``update_ratio = ||dW||_F / ||W||_F`` of the last optimizer step (NaN before one);
    ``dead`` counts ReLU-family units with ``z <= 0`` on every point; ``saturated``
    counts sigmoid/tanh units within 1 % of an asymptote on over 99 % of points.
    """

    grad_norm: float
    weight_norm: float
    update_ratio: float
    dead: int
    saturated: int
    units: int
    activation: str


@dataclass
class Health:
    """Every layer's :class:`LayerHealth`, the gradients they came from, and a verdict."""

    layers: list[LayerHealth]
    grad_w: list[Array]
    grad_b: list[Array]
    dead_units: list[tuple[int, int]]  # (layer, unit) of every dead unit
    n_points: int
    verdict: str


def saturated_mask(activation: str, a: Array) -> Array:
    """Units ``(n_units,)`` whose outputs sit within 1 % of an asymptote on > 99 % of rows."""
    if activation == "sigmoid":
        near = (a < 0.01) | (a > 0.99)
    elif activation == "tanh":
        near = np.abs(a) > 0.99
    else:
        return np.zeros(a.shape[1], bool)
    return near.mean(axis=0) > 0.99


def health(net: Network, x: Array, y: Array, last_update: list[Array] | None = None) -> Health:
    """Training health on ``(x, y)`` (the training set) at ``net``'s current weights.

    ``last_update`` holds the last optimizer step's change of each weight matrix.
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        p = passes(net, x, y)
        reg = regularization_grads(net)
    grad_w = [g + r for g, r in zip(p.grad_w, reg, strict=True)]
    names = [*net.hidden_activations, net.output_activation]
    layers: list[LayerHealth] = []
    dead_units: list[tuple[int, int]] = []
    for li, layer in enumerate(net.layers):
        w_norm = float(np.linalg.norm(layer.w))
        ratio = math.nan
        if last_update is not None:
            ratio = float(np.linalg.norm(last_update[li])) / max(w_norm, 1e-30)
        dead_mask = (
            np.all(p.z[li] <= 0, axis=0)
            if names[li] in RELU_FAMILY
            else np.zeros(layer.n_out, bool)
        )
        dead_units.extend((li, int(u)) for u in np.flatnonzero(dead_mask))
        layers.append(
            LayerHealth(
                grad_norm=float(np.linalg.norm(grad_w[li])),
                weight_norm=w_norm,
                update_ratio=ratio,
                dead=int(dead_mask.sum()),
                saturated=int(saturated_mask(names[li], p.a[li]).sum()),
                units=layer.n_out,
                activation=names[li],
            )
        )
    return Health(layers, grad_w, p.grad_b, dead_units, int(len(x)), verdict(layers))


def _power(v: float) -> str:
    """``1e-05`` as ``10⁻⁵`` (the nearest power of ten)."""
    sup = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
    return "10" + str(round(math.log10(v))).translate(sup)


def verdict(layers: list[LayerHealth]) -> str:
    """One line in words: the most serious problem the figures show, or that all is well.

    In order: not-a-number gradients, exploding gradients (a norm above 1e3), dead
    ReLU units, vanishing gradients (the first layer gets under 1e-2 of the output
    layer's gradient), saturated units, steps too large (an update ratio above 1e-1) or
    too small (under 1e-5); otherwise healthy.
    """
    if not layers:
        return ""
    norms = [h.grad_norm for h in layers]
    if not all(math.isfinite(v) for v in norms):
        return "diverged: the gradients are no longer numbers; lower the learning rate and reset"
    if max(norms) > 1e3:
        worst = norms.index(max(norms))
        return f"exploding gradients: layer {worst + 1}'s gradient norm is {max(norms):.3g}"
    dead = sum(h.dead for h in layers)
    if dead:
        units = sum(h.units for h in layers if h.activation in RELU_FAMILY)
        return (
            f"dead ReLUs: {dead} of {units} units never activate, so their weights get no "
            "gradient and stop learning; a lower learning rate cannot revive them: Reset"
        )
    if len(layers) > 1 and norms[-1] > 0:
        ratio = norms[0] / norms[-1]
        if ratio < 1e-2:
            return (
                f"vanishing gradients: layer 1 gets {_power(ratio)} of the output layer's "
                "gradient, so the first layers barely learn"
            )
    sat = sum(h.saturated for h in layers[:-1])
    if sat:
        units = sum(h.units for h in layers[:-1] if h.activation in SATURATING)
        return f"saturation: {sat} of {units} sigmoid/tanh units sit flat at an asymptote"
    ratios = [h.update_ratio for h in layers if math.isfinite(h.update_ratio)]
    if ratios and max(ratios) > 1e-1:
        return (
            f"steps too large: an update changes the weights by {max(ratios):.0%} "
            "(healthy is about 0.1 %); lower the learning rate"
        )
    if ratios and max(ratios) < 1e-5:
        return (
            f"steps too small: updates change the weights by {max(ratios):.1e} of their size "
            "(healthy is about 1e-3); raise the learning rate"
        )
    return "healthy: gradients reach every layer and updates are a sensible size"
