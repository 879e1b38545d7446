"""Backpropagation made visible: one sample's trace, finite-difference checks, training
health and input saliency.

:meth:`Network.backprop <nn_core.model.Network.backprop>` is the fast path that trains
(reused buffers, float32).  This module recomputes the same passes in the open, keeping
every intermediate array, so a learner (or a test) can look at and check each number:

forward, for layer ``l`` (``a_0 = x``)::

    z_l = a_{li-1} @ w_l + b_l          (n, n_l)
    a_l = f_l(z_l)

backward, from the loss's ``delta_L = dL/dz_L``::

    grad_w_l = a_{li-1}.T @ delta_l     (n_{li-1}, n_l)
    grad_b_l = delta_l.sum(axis=0)     (n_l,)
    delta_{li-1} = f'_{li-1}(z_{li-1}) * (delta_l @ w_l.T)

Everything here is pure NumPy and changes nothing in the network it is given.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np

from nn_core.model import Network
from nn_core.optimizers import Optimizer
from nn_core.types import Array

#: Relative error below which an analytic and a numeric gradient are said to match.
MATCH_TOLERANCE = 1e-6
#: Central-difference step for :func:`check_gradient` (float64).  With Richardson's
#: extrapolation the truncation error is O(h^4) ~ 1e-12 and the rounding error about
#: 1e-16 / h ~ 1e-13, so gradients down to ~1e-9 are resolved to a relative 1e-6.
FD_STEP = 1e-3
#: Below this size a gradient cannot be told from finite differences' rounding.
FD_FLOOR = 1e-10
RELU_FAMILY = ("relu", "leaky_relu")
SATURATING = ("sigmoid", "tanh")


def as_float64(net: Network) -> Network:
    """A float64 copy of ``net`` with the same configuration and weights."""
    twin = Network(**{**net.config(), "dtype": "float64"})
    twin.flat_parameters[...] = net.flat_parameters
    return twin


@dataclass
class Passes:
    """Both passes over a batch ``x (n, n_in)``, every array kept.

    ``z[l]``, ``a[l]``, ``delta[l]`` are ``(n, n_l)`` for weight matrix ``l`` (0 is the
    first hidden layer); ``inputs[l]`` is what layer ``l`` read (``inputs[0] = x``);
    ``grad_w[l]``, ``grad_b[l]`` are the gradients of the mean data loss.
    """

    inputs: list[Array]
    z: list[Array]
    a: list[Array]
    delta: list[Array]
    grad_w: list[Array]
    grad_b: list[Array]
    loss: float


def forward_pass(net: Network, x: Array) -> tuple[list[Array], list[Array], list[Array]]:
    """``(inputs, z, a)`` per layer for ``x``, in ``net``'s dtype (fresh arrays)."""
    h = np.asarray(x, dtype=np.dtype(net.dtype))
    inputs, zs, acts = [], [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for layer in net.layers:
            inputs.append(h)
            z = h @ layer.w + layer.b
            h = layer.activation.forward(z)
            zs.append(z)
            acts.append(h)
    return inputs, zs, acts


def passes(net: Network, x: Array, y: Array) -> Passes:
    """Run the forward and backward pass on ``(x, y)`` in ``net``'s dtype, no dropout,
    no regulariser: the exact gradient of the mean data loss."""
    target = net._target(y)
    inputs, zs, acts = forward_pass(net, x)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        loss = net.loss_fn.value(zs[-1], acts[-1], target)
        delta = net.loss_fn.delta(zs[-1], acts[-1].copy(), target, net.layers[-1].activation)
    deltas: list[Array] = [delta]
    grad_w: list[Array] = []
    grad_b: list[Array] = []
    for li in range(len(net.layers) - 1, -1, -1):
        grad_w.insert(0, inputs[li].T @ delta)
        grad_b.insert(0, delta.sum(axis=0))
        if li > 0:
            below = net.layers[li - 1].activation
            delta = below.backward(zs[li - 1], acts[li - 1], delta @ net.layers[li].w.T)
            deltas.insert(0, delta)
    return Passes(inputs, zs, acts, deltas, grad_w, grad_b, loss)


def regularization_grads(net: Network) -> list[Array]:
    """The regulariser's gradient for each weight matrix (zeros without one)."""
    out = []
    for w in net.weights:
        g = np.zeros_like(w)
        net.regularizer.add_grad(w, g)
        out.append(g)
    return out


# ------------------------------------------------------------------- trace
@dataclass
class LayerTrace:
    """One layer of one sample's passes (float64): ``weights (n_in, n_out)``,
    ``biases, z, a, delta, grad_b (n_out,)``, ``grad_w (n_in, n_out)``; after the step
    ``new_weights``/``new_biases`` are the parameters the optimizer would leave."""

    weights: Array
    biases: Array
    z: Array
    a: Array
    delta: Array
    grad_w: Array
    grad_b: Array
    new_weights: Array
    new_biases: Array


@dataclass
class Trace:
    """One sample's forward pass, loss, backward pass and one optimizer step on it alone.

    ``loss`` is this sample's data loss at the current weights, ``loss_after`` after a
    step on this sample (its gradient plus the regulariser's), taken by a copy of the
    run's optimizer so its momentum or Adam moments count as they would.
    """

    input: Array
    target: Array
    output: Array
    loss: float
    loss_after: float
    learning_rate: float
    layers: list[LayerTrace] = field(default_factory=list)


def trace(net: Network, x: Array, y: Array, optimizer: Optimizer | None = None) -> Trace:
    """Trace one sample ``x (n_in,)`` with target ``y`` through ``net`` in float64.

    ``optimizer`` (the run's, copied, never changed) takes the step; plain SGD at
    learning rate 0 if none is given.
    """
    twin = as_float64(net)
    x2 = np.asarray(x, np.float64).reshape(1, -1)
    y_arr = np.asarray(y)
    y2 = y_arr.reshape(1) if net.loss_name == "cross_entropy" and y_arr.ndim == 0 else y_arr
    if y2.ndim == 1 and net.loss_name != "cross_entropy":
        y2 = y2.reshape(1, -1)
    p = passes(twin, x2, y2)
    # The step: the sample's gradient plus the regulariser's, as the trainer would add.
    opt = copy.deepcopy(optimizer) if optimizer is not None else None
    lr = opt.learning_rate if opt is not None else 0.0
    reg = regularization_grads(twin)
    grads = []
    for gw, gb, r in zip(p.grad_w, p.grad_b, reg, strict=True):
        grads.extend([gw + r, gb])
    flat_g = np.concatenate([g.ravel() for g in grads])
    after = as_float64(twin)
    if opt is not None:
        with np.errstate(over="ignore", invalid="ignore"):
            opt.step([after.flat_parameters], [flat_g])
    with np.errstate(over="ignore", invalid="ignore"):
        loss_after = after.loss(x2, y2)
    target = p.a[-1].shape[1]
    shown_target = (
        np.eye(target)[int(y2[0])] if net.loss_name == "cross_entropy" and y2.ndim == 1
        else np.asarray(y2, np.float64).reshape(-1)
    )
    layers = [
        LayerTrace(
            weights=twin.layers[li].w.copy(),
            biases=twin.layers[li].b.copy(),
            z=p.z[li][0],
            a=p.a[li][0],
            delta=p.delta[li][0],
            grad_w=p.grad_w[li],
            grad_b=p.grad_b[li],
            new_weights=after.layers[li].w.copy(),
            new_biases=after.layers[li].b.copy(),
        )
        for li in range(len(twin.layers))
    ]
    return Trace(x2[0], shown_target, p.a[-1][0], p.loss, loss_after, lr, layers)


# ---------------------------------------------------------- gradient check
@dataclass(frozen=True)
class GradientCheck:
    """An analytic gradient next to its central finite difference.

    ``relative_error = |analytic - numeric| / max(|analytic|, |numeric|, FD_FLOOR)``;
    ``note`` says why the two may honestly differ (a ReLU kink, an L1 zero, a gradient
    too small to resolve), or is empty.
    """

    analytic: float
    numeric: float
    relative_error: float
    step: float
    note: str

    @property
    def matches(self) -> bool:
        return self.relative_error < MATCH_TOLERANCE


def objective(net: Network, x: Array, y: Array) -> float:
    """The training objective: mean data loss plus the regulariser's penalty."""
    return net.loss(x, y) + net.penalty()


def check_gradient(
    net: Network, x: Array, y: Array, layer: int, kind: str, i: int, j: int,
    step: float = FD_STEP,
) -> GradientCheck:
    """Check one parameter's gradient of :func:`objective` over ``(x, y)`` in float64.

    ``kind`` is ``"weight"`` (``w[layer][i, j]``) or ``"bias"`` (``b[layer][j]``).  The
    analytic value is what a full-batch optimizer step would use (regulariser included);
    the numeric one is ``(J(p + h) - J(p - h)) / 2h``.
    """
    twin = as_float64(net)
    param = _parameter(twin, layer, kind, i, j)
    twin.backprop(x, y, train=True, rng=np.random.default_rng(0))
    grads = twin.layers[layer].grad_w if kind == "weight" else twin.layers[layer].grad_b
    analytic = float(grads[(i, j) if kind == "weight" else j])
    original = float(param[()])

    def central(h: float) -> float:
        param[()] = original + h
        up = objective(twin, x, y)
        param[()] = original - h
        down = objective(twin, x, y)
        param[()] = original
        return (up - down) / (2 * h)

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        numeric = (4 * central(step / 2) - central(step)) / 3
    scale = max(abs(analytic), abs(numeric), FD_FLOOR)
    error = abs(analytic - numeric) / scale if math.isfinite(numeric) else math.inf
    return GradientCheck(analytic, numeric, error, step, _why_different(twin, x, layer, kind,
                                                                        original, step, scale))


def _parameter(net: Network, layer: int, kind: str, i: int, j: int) -> Array:
    """A 0-d view of one parameter (raises ValueError naming what is out of range)."""
    if not 0 <= layer < len(net.layers):
        raise ValueError(f"layer: must be between 0 and {len(net.layers) - 1}")
    w, b = net.layers[layer].w, net.layers[layer].b
    if kind not in ("weight", "bias"):
        raise ValueError("kind: must be weight or bias")
    if not 0 <= j < w.shape[1]:
        raise ValueError(f"j: must be between 0 and {w.shape[1] - 1}")
    if kind == "bias":
        return b[j : j + 1].reshape(())
    if not 0 <= i < w.shape[0]:
        raise ValueError(f"i: must be between 0 and {w.shape[0] - 1}")
    return w[i : i + 1, j].reshape(())


def _why_different(
    net: Network, x: Array, layer: int, kind: str, value: float, step: float, scale: float
) -> str:
    if kind == "weight" and net.regularization == "l1" and abs(value) <= step:
        return (
            "this weight sits at an L1 zero: |w| has a corner there, so the two one-sided "
            "slopes differ and the central difference averages them"
        )
    acts = net.hidden_activations
    relu_layers = [li for li, name in enumerate(acts) if name in RELU_FAMILY and li >= layer]
    if relu_layers:
        zs = forward_pass(net, x)[1]
        close = min(float(np.min(np.abs(zs[li]))) for li in relu_layers)
        if close < 10 * step:
            return (
                f"a ReLU input is {close:.1e} from its kink at 0: a step of {step:g} can cross "
                "it, where the slope jumps, so the numeric gradient may differ"
            )
    if scale <= FD_FLOOR:
        return (
            "both gradients are below 1e-10, where finite differences only measure rounding; "
            "this parameter has (almost) no effect on the loss"
        )
    return ""


# ------------------------------------------------------------------ health
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
            np.all(p.z[li] <= 0, axis=0) if names[li] in RELU_FAMILY
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
            "gradient and stop learning"
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


# ---------------------------------------------------------------- saliency
def input_gradient(net: Network, x: Array, grad_output: Array) -> Array:
    """``dS/dx (n, n_in)`` for ``S = sum(grad_output * a_L)``: the backward pass carried
    down to the input, in float64.  With ``grad_output`` one-hot on class ``k`` this is
    the gradient of that class's output (its probability, for softmax) per input."""
    twin = as_float64(net)
    _, zs, acts = forward_pass(twin, x)
    g = np.array(grad_output, np.float64)
    delta = twin.layers[-1].activation.backward(zs[-1], acts[-1], g)
    for li in range(len(twin.layers) - 1, 0, -1):
        below = twin.layers[li - 1].activation
        delta = below.backward(zs[li - 1], acts[li - 1], delta @ twin.layers[li].w.T)
    out: Array = delta @ twin.layers[0].w.T
    return out


def saliency(net: Network, x: Array) -> tuple[Array, Array]:
    """``(classes (n,), d p_class / d x (n, n_in))``: each row's predicted class and the
    gradient of that class's output with respect to each input."""
    probs = net.forward(np.asarray(x))
    classes = np.argmax(probs, axis=1)
    onehot = np.zeros(probs.shape, np.float64)
    onehot[np.arange(len(classes)), classes] = 1.0
    return classes, input_gradient(net, x, onehot)
