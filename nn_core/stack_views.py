"""What a frame shows, for the members of a :class:`~nn_core.stack.Stack` at once.

A learner's frame evaluates its network on a grid over the plane (the boundary and each
neuron's view) and on its training set (the full-batch gradients behind the health
figures).  For a class, those are the same few NumPy calls per member on tiny arrays;
here they run once per stack, on ``(k, points, units)`` arrays, and each member gets
views of its own slice, equal to what :func:`nn_core.boundary.layer_outputs` and
:func:`nn_core.backprop.passes` compute for it alone (``tests/core/test_stack.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nn_core.backprop import Passes, regularization_grads
from nn_core.health import Health, healths, point_classes
from nn_core.stack import Stack
from nn_core.training import Trainer
from nn_core.types import Array

FIELDS = ("inputs", "z", "a", "delta", "grad_w", "grad_b")


def _gather(stack: Stack, trainers: Sequence[Trainer], name: str) -> Array:
    rows = [stack.members.index(t) for t in trainers]
    arr = stack.arrays[name]
    if rows == list(range(len(rows))):
        return arr[: len(rows)]
    return arr[np.asarray(rows, np.intp)]


def grid_layers(stack: Stack, trainers: Sequence[Trainer], x: Array) -> list[list[Array]]:
    """Per member, ``[x, a_1, ..., a_L]`` on the shared inputs ``x (m, n_in)``."""
    params = _gather(stack, trainers, "params")
    with np.errstate(over="ignore", invalid="ignore"):
        layers = stack.layer_outputs(params, x)
    return [[x, *(a[i] for _, a in layers)] for i in range(len(trainers))]


def member_passes(stack: Stack, trainers: Sequence[Trainer]) -> list[Passes]:
    """Per member, the forward and backward pass on its training set, as
    :func:`nn_core.backprop.passes` (no dropout, no regulariser)."""
    p = stacked_passes(stack, trainers)
    loss: Array = p.loss  # type: ignore[assignment]
    out = []
    for i in range(len(trainers)):
        parts = {f: [v[i] for v in getattr(p, f)] for f in FIELDS}
        out.append(Passes(**parts, loss=float(loss[i])))
    return out


def member_healths(stack: Stack, trainers: Sequence[Trainer], p: Passes) -> list[Health]:
    """Per member, :func:`nn_core.health.health` from the stacked passes ``p``."""
    params = _gather(stack, trainers, "params")
    weights = [w for w, _ in stack._views(params)]
    updates = None
    if "update" in stack.arrays:
        updates = [u for u, _ in stack._views(_gather(stack, trainers, "update"))]
    net = trainers[0].network
    regs = [regularization_grads(t.network) for t in trainers]
    grad_b = [[b[i] for b in p.grad_b] for i in range(len(trainers))]
    stepped = [t.epoch > 0 for t in trainers]
    losses: Array = p.loss  # type: ignore[assignment]
    each = [point_classes(net, t.y_train) for t in trainers]
    classes = None if each[0] is None else np.stack(each)  # type: ignore[arg-type]
    return healths(
        net, weights, p.grad_w, p.z, p.a, grad_b, regs, updates, stepped, losses, classes
    )


def stacked_passes(stack: Stack, trainers: Sequence[Trainer]) -> Passes:
    """:func:`nn_core.backprop.passes` for every member at once: each array with a
    leading member axis, ``loss`` an array of one loss per member."""
    params = _gather(stack, trainers, "params")
    x, y = _gather(stack, trainers, "x"), _gather(stack, trainers, "y")
    views = stack._views(params)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        layers = stack.layer_outputs(params, x)
        zs, acts = [z for z, _ in layers], [a for _, a in layers]
        losses = stack.loss.values(zs[-1], acts[-1], y)
        delta = stack.loss.delta(zs[-1], acts[-1].copy(), y, stack.activations[-1])
        deltas, grad_w, grad_b = [delta], list[Array](), list[Array]()
        for li in range(len(views) - 1, -1, -1):
            below = x if li == 0 else acts[li - 1]
            grad_w.insert(0, np.matmul(below.transpose(0, 2, 1), delta))
            grad_b.insert(0, delta.sum(axis=1))
            if li > 0:
                up = np.matmul(delta, views[li][0].transpose(0, 2, 1))
                delta = stack.activations[li - 1].backward(zs[li - 1], acts[li - 1], up)
                deltas.insert(0, delta)
    return Passes([x, *acts[:-1]], zs, acts, deltas, grad_w, grad_b, losses)  # type: ignore[arg-type]
