"""Training health: gradient norms, update-to-weight ratios, dead and saturated units
per weight matrix at the current weights, and the most serious problem they show as a
code with its figures (the app puts it in words).

    h = health(net, x_train, y_train, last_update=net.split(trainer.last_update)[0])
    h.layers[0].grad_norm, h.layers[0].update_ratio, h.dead_units, h.finding.code

Which units can die or saturate is what each activation class declares
(:attr:`~nn_core.activations.Activation.rectifier`, ``saturating`` and ``bounds``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from nn_core.activations import ACTIVATIONS
from nn_core.backprop import Passes, passes, regularization_grads
from nn_core.model import Network
from nn_core.types import Array

#: What :func:`diagnose` can find, most serious first (``not_learning``, a loss still at
#: chance, only :class:`nn_core.diagnosis.HealthWatch` decides: it needs the loss).
Code = Literal[
    "diverged",
    "exploding",
    "dead",
    "vanishing",
    "saturated",
    "stuck",
    "steps_too_large",
    "steps_too_small",
    "not_learning",
    "healthy",
]
CODES: tuple[Code, ...] = Code.__args__  # type: ignore[attr-defined]
#: A unit within this distance of a finite bound of its activation is at an asymptote.
NEAR_BOUND = 0.01
#: Thresholds of :func:`diagnose`.
EXPLODING_NORM = 1e3
VANISHING_SHARE = 1e-2
LARGE_STEP = 1e-1
SMALL_STEP = 1e-5
#: ``stuck``: the points on which a hidden rectifier layer is all off (so they all get one
#: output) hold at least this share of the training set that is not of their usual class.
STUCK_SHARE = 0.1
#: The update ratios of healthy training (the page's green band).
HEALTHY_BAND = (1e-4, 1e-2)


@dataclass(frozen=True)
class LayerHealth:
    """One weight matrix's health at the current weights.

    ``grad_norm`` is ``||dJ/dW||_F`` of the training objective's mean gradient;
    ``update_ratio = ||dW||_F / ||W||_F`` of the last optimizer step (NaN before one);
    ``dead`` counts units of a rectifier (ReLU family) with ``z <= 0`` on every point;
    ``saturated`` counts units of a saturating activation within 0.01 of a bound on over
    99 % of points; ``rectifier`` and ``saturating`` say whether either count applies.
    ``silent`` counts the training points on which every unit of a hidden layer that
    ``silences`` (a rectifier whose output is exactly 0 when off: ReLU, not leaky ReLU)
    has ``z <= 0``: the network gives them all one output, and they send the layers up
    to this one no gradient; ``silent_other``, how many of them are not of the class most
    common among them (a classifier's; 0 otherwise), the ones that one output gets wrong.
    """

    grad_norm: float
    weight_norm: float
    update_ratio: float
    dead: int
    saturated: int
    units: int
    activation: str
    rectifier: bool = False
    saturating: bool = False
    silences: bool = False
    silent: int = 0
    silent_other: int = 0


def silences(layer_index: int, net: Network) -> bool:
    """Whether a unit of this layer that is off passes nothing on: a hidden rectifier whose
    output is then exactly 0 (ReLU; a leaky one still passes a little)."""
    act = net.layers[layer_index].activation
    return layer_index < len(net.layers) - 1 and act.rectifier and act.bounds[0] == 0.0


@dataclass(frozen=True)
class Finding:
    """The most serious problem the figures show: a :data:`Code` and the figures behind it.

    ``figures`` by code: ``exploding``: ``layer`` (0-based) and its ``grad_norm``;
    ``dead``: ``dead`` units of ``units`` rectifier units; ``vanishing``: ``share``, layer
    1's gradient norm over the output layer's; ``saturated``: ``saturated`` of ``units``
    saturating hidden units; ``stuck``: ``layer``, its ``silent`` and ``silent_other`` of
    ``points``; ``steps_too_large`` / ``steps_too_small``: the largest
    ``update_ratio``; the others none.  ``activations`` names the activations concerned
    (for ``dead`` and ``saturated``).
    """

    code: Code
    figures: dict[str, float] = field(default_factory=dict)
    activations: tuple[str, ...] = ()


@dataclass
class Health:
    """Every layer's :class:`LayerHealth`, the gradients they came from, and a verdict."""

    layers: list[LayerHealth]
    grad_w: list[Array]
    grad_b: list[Array]
    dead_units: list[tuple[int, int]]  # (layer, unit) of every dead unit
    n_points: int
    finding: Finding
    #: The regulariser's part of ``grad_w`` (zeros without one).
    reg_w: list[Array] = field(default_factory=list)
    #: The mean data loss on the same points (no regulariser), NaN if not given.
    loss: float = math.nan


def saturated_mask(activation: str, a: Array) -> Array:
    """Units ``(n_units,)`` of a saturating activation whose outputs ``a (n, n_units)`` sit
    within :data:`NEAR_BOUND` of a finite bound on > 99 % of rows (all False otherwise).
    With a leading stack axis, ``a (S, n, n_units)`` gives ``(S, n_units)``."""
    cls = ACTIVATIONS[activation]
    if not cls.saturating:
        return np.zeros((*a.shape[:-2], a.shape[-1]), bool)
    near = np.zeros(a.shape, bool)
    for bound in cls.bounds:
        if math.isfinite(bound):
            near |= np.abs(a - bound) < NEAR_BOUND
    return near.mean(axis=-2) > 0.99


def point_classes(net: Network, y: Array) -> Array | None:
    """Each training point's class ``(n,)`` for a classifier's targets ``y`` (labels,
    one-hot rows, or 0/1 for one sigmoid output); None for a regression."""
    if net.output_activation not in ("sigmoid", "softmax"):
        return None
    t = np.asarray(y)
    if t.ndim == 1:
        return (t > 0.5).astype(np.intp) if net.sizes[-1] == 1 else t.astype(np.intp)
    if t.shape[-1] == 1:
        return (t[:, 0] > 0.5).astype(np.intp)
    return np.argmax(t, axis=-1)


def silent_points(zs: list[Array], net: Network, classes: Array | None) -> list[Array]:
    """Per layer ``(2, S)``: the points on which every unit of a layer that
    :func:`silences` is off (``z <= 0``), and how many of them are not of their most
    common class, for ``S`` networks at once (``zs[l] (S, n, n_l)``, ``classes (S, n)``
    or None); zeros for other layers."""
    out = []
    k = zs[0].shape[0]
    for li, z in enumerate(zs):
        counts = np.zeros((2, k), np.intp)
        if silences(li, net):
            off = np.all(z <= 0, axis=2)  # (S, n)
            counts[0] = off.sum(axis=1)
            if classes is not None and counts[0].any():
                n_classes = int(classes.max()) + 1
                each = (off[:, :, None] & (classes[:, :, None] == np.arange(n_classes))).sum(1)
                counts[1] = counts[0] - each.max(axis=1)
        out.append(counts)
    return out


def norms(x: Array) -> Array:
    """The Frobenius norm of each matrix of ``x (..., n, m)``, in float64."""
    return np.sqrt(np.sum(np.square(x, dtype=np.float64), axis=(-2, -1)))


def health(
    net: Network,
    x: Array,
    y: Array,
    last_update: list[Array] | None = None,
    p: Passes | None = None,
) -> Health:
    """Training health on ``(x, y)`` (the training set) at ``net``'s current weights.

    ``last_update`` holds the last optimizer step's change of each weight matrix; ``p``,
    the passes on ``(x, y)`` if they were already computed.
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        p = passes(net, x, y) if p is None else p
    one = [a[None] for a in p.grad_w], [a[None] for a in p.z], [a[None] for a in p.a]
    updates = None if last_update is None else [u[None] for u in last_update]
    weights = [w[None] for w in net.weights]
    regs = [[r[None] for r in regularization_grads(net)]]
    grad_b = [[b for b in p.grad_b]]
    classes = point_classes(net, y)
    classes = None if classes is None else classes[None]
    losses = [float(p.loss)]
    return healths(net, weights, *one, grad_b, regs, updates, [True], losses, classes)[0]


def healths(
    net: Network,
    weights: list[Array],
    grad_w: list[Array],
    zs: list[Array],
    acts: list[Array],
    grad_b: list[list[Array]],
    regs: list[list[Array]],
    updates: list[Array] | None,
    stepped: list[bool],
    losses: Sequence[float] | Array | None = None,
    classes: Array | None = None,
) -> list[Health]:
    """The health of ``S`` networks shaped like ``net`` at once: every array has a leading
    stack axis (``weights[l] (S, n_in, n_out)``, ``zs[l]``, ``acts[l] (S, n, n_l)``, the
    data gradients ``grad_w``, ``updates``); ``grad_b`` per network, ``regs`` per network
    and layer (the regulariser's gradients, see :func:`regularization_grads`); ``stepped``
    says which have taken a step (an update ratio); ``losses``, each one's data loss;
    ``classes (S, n)``, each training point's class (:func:`point_classes`; None for a
    regression).  :func:`health` is the case ``S = 1``."""
    k = len(stepped)
    names = [*net.hidden_activations, net.output_activation]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        full = [
            g + np.stack([r[li].reshape(g.shape[1:]) for r in regs]) for li, g in enumerate(grad_w)
        ]
        w_norm = [norms(w) for w in weights]
        g_norm = [norms(g) for g in full]
        u_norm = [norms(u) for u in updates] if updates is not None else None
        dead = [
            np.all(z <= 0, axis=1)
            if layer.activation.rectifier
            else np.zeros((k, layer.n_out), bool)
            for z, layer in zip(zs, net.layers, strict=True)
        ]
        sat = [saturated_mask(n, a).sum(axis=-1) for n, a in zip(names, acts, strict=True)]
        silent_l = [c.tolist() for c in silent_points(zs, net, classes)]
    # Python numbers once per figure, not once per network and layer
    w_l = [v.tolist() for v in w_norm]
    g_l = [v.tolist() for v in g_norm]
    u_l = [v.tolist() for v in u_norm] if u_norm is not None else None
    dead_l = [v.tolist() for v in dead]
    sat_l = [v.tolist() for v in sat]
    out = []
    n_points = int(zs[0].shape[1])
    for i in range(k):
        layers: list[LayerHealth] = []
        dead_units: list[tuple[int, int]] = []
        for li, layer in enumerate(net.layers):
            wn = w_l[li][i]
            ratio = math.nan
            if u_l is not None and stepped[i]:
                ratio = u_l[li][i] / max(wn, 1e-30)
            flags = dead_l[li][i]
            dead_units.extend((li, u) for u, d in enumerate(flags) if d)
            act = layer.activation
            layers.append(
                LayerHealth(
                    grad_norm=g_l[li][i],
                    weight_norm=wn,
                    update_ratio=ratio,
                    dead=sum(flags),
                    saturated=int(sat_l[li][i]),
                    units=layer.n_out,
                    activation=names[li],
                    rectifier=act.rectifier,
                    saturating=act.saturating,
                    silences=silences(li, net),
                    silent=silent_l[li][0][i],
                    silent_other=silent_l[li][1][i],
                )
            )
        grads = [g[i] for g in full]
        reg = [r.reshape(g.shape) for r, g in zip(regs[i], grads, strict=True)]
        loss = math.nan if losses is None else float(losses[i])
        finding = diagnose(layers, n_points)
        fit = Health(layers, grads, grad_b[i], dead_units, n_points, finding, reg, loss)
        out.append(fit)
    return out


def stuck_layer(layers: list[LayerHealth], n_points: int, loose: float = 1.0) -> int | None:
    """The hidden layer whose all-off points hold the most of another class, if they are
    at least :data:`STUCK_SHARE` (divided by ``loose``) of the ``n_points``."""
    hidden = layers[:-1]
    if not hidden or not n_points:
        return None
    top = max(range(len(hidden)), key=lambda i: hidden[i].silent_other)
    return top if hidden[top].silent_other >= STUCK_SHARE / loose * n_points else None


def diagnose(layers: list[LayerHealth], n_points: int = 0) -> Finding:
    """The most serious problem the figures of ``layers`` (at least one) over ``n_points``
    training points show.

    In order: not-a-number gradients (``diverged``), a gradient norm above
    :data:`EXPLODING_NORM` (``exploding``), dead rectifier units (``dead``), layer 1
    getting under :data:`VANISHING_SHARE` of the output layer's gradient norm
    (``vanishing``), saturated hidden units (``saturated``), a hidden rectifier layer all
    off on points of more than one class (``stuck``, see :func:`stuck_layer`), an update
    ratio above
    :data:`LARGE_STEP` or all under :data:`SMALL_STEP` (``steps_too_large``,
    ``steps_too_small``); otherwise ``healthy``.
    """
    norms = [h.grad_norm for h in layers]
    if not all(math.isfinite(v) for v in norms):
        return Finding("diverged")
    if max(norms) > EXPLODING_NORM:
        return Finding("exploding", {"layer": norms.index(max(norms)), "grad_norm": max(norms)})
    dead = sum(h.dead for h in layers)
    if dead:
        rect = [h for h in layers if h.rectifier]
        units = sum(h.units for h in rect)
        names = tuple(dict.fromkeys(h.activation for h in rect if h.dead))
        return Finding("dead", {"dead": dead, "units": units}, names)
    if len(layers) > 1 and norms[-1] > 0:
        share = norms[0] / norms[-1]
        if share < VANISHING_SHARE:
            return Finding("vanishing", {"share": share})
    hidden = layers[:-1]
    sat = sum(h.saturated for h in hidden)
    if sat:
        flat = [h for h in hidden if h.saturating]
        names = tuple(dict.fromkeys(h.activation for h in flat))
        return Finding("saturated", {"saturated": sat, "units": sum(h.units for h in flat)}, names)
    if (top := stuck_layer(layers, n_points)) is not None:
        lay = layers[top]
        figures = {"layer": top, "silent": lay.silent, "silent_other": lay.silent_other}
        return Finding("stuck", {**figures, "points": n_points}, (lay.activation,))
    ratios = [h.update_ratio for h in layers if math.isfinite(h.update_ratio)]
    if ratios and max(ratios) > LARGE_STEP:
        return Finding("steps_too_large", {"update_ratio": max(ratios)})
    if ratios and max(ratios) < SMALL_STEP:
        return Finding("steps_too_small", {"update_ratio": max(ratios)})
    return Finding("healthy")
