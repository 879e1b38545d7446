"""The per-member parts of a :class:`~nn_core.stack.Stack`'s step: a bias added row by
row, and one optimizer and one regulariser over the chosen rows, each running its own
class's code with the members' rates (and step counts) as columns, so a row's update is
the one its member would make alone."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nn_core.optimizers import Adam, Momentum
from nn_core.training import Trainer
from nn_core.types import Array


def add_bias(z: Array, b: Array) -> None:
    """``z += b`` per row: ``z (k, n, units)``, ``b (k, units)``.  Over many points, one
    unit at a time: a broadcast add whose innermost axis is a layer's few units costs a
    call per point; each add is the same single rounding either way."""
    if z.shape[1] < 64:
        z += b[:, None, :]
        return
    for j in range(z.shape[2]):
        z[:, :, j] += b[:, j, None]


def row_regularizer(chosen: Sequence[Trainer], dtype: Any) -> Callable[[Array, Array], None]:
    """``reg(w, grad_w)``: each member's penalty gradient, where it has one, by the
    regulariser's own code with the members' rates as a column."""
    groups: dict[type[Any], list[int]] = {}
    for i, t in enumerate(chosen):
        if t.network.regularizer.rate:
            groups.setdefault(type(t.network.regularizer), []).append(i)
    rates = np.asarray([t.network.regularizer.rate for t in chosen], dtype)
    plans = []
    for kind, idx in groups.items():
        sel = np.asarray(idx, np.intp)
        whole = len(idx) == len(chosen)
        plans.append((kind(rates[sel][:, None, None]), None if whole else sel))

    def reg(w: Array, gw: Array) -> None:
        for regularizer, sel in plans:
            if sel is None:
                regularizer.add_grad(w, gw)
            else:
                part = gw[sel]
                regularizer.add_grad(w[sel], part)
                gw[sel] = part

    return reg


def row_optimizer(chosen: Sequence[Trainer], a: dict[str, Array], lrs: list[float]) -> Any:
    """One optimizer of the members' kind over their rows (``a``: the stack's arrays for
    them): the same update code, with the rate and step count as per-member columns and
    the state as the stack's rows."""
    first: Any = chosen[0].optimizer
    opt: Any = copy.copy(first)  # the kind and its constants (momentum, betas, eps)
    opt.learning_rate = np.asarray(lrs, np.float64)[:, None]
    opt.t = np.asarray([t.optimizer.t for t in chosen], np.float64)[:, None]
    scratch = [np.empty_like(a["params"])]
    if isinstance(first, Momentum):
        opt._v = [a["velocity"]]
    elif isinstance(first, Adam):
        opt._m, opt._v, opt._tmp = [a["m"]], [a["v"]], scratch
    else:
        opt._tmp = scratch
    return opt
