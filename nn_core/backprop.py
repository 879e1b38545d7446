"""Backpropagation made visible: every pass's arrays, one sample's trace and input
saliency (finite-difference checks live in :mod:`nn_core.gradcheck`, training health in
:mod:`nn_core.health`).

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

:func:`trace` keeps both factors of that product for one sample: ``slope = f'(z)`` and
``upstream = delta_l @ w_l.T``, the back-propagated sum.

Everything here is pure NumPy and changes nothing in the network it is given.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from nn_core.losses import one_hot
from nn_core.model import Network
from nn_core.optimizers import Optimizer
from nn_core.types import Array


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
    ``new_weights``/``new_biases`` are the parameters the optimizer would leave, from
    ``step_grad_w = grad_w + dR/dW`` (the regulariser's part added).

    The backward pass's two factors, ``delta = slope * upstream`` (both ``(n_out,)``):
    ``upstream = dL/da``, for a hidden layer the back-propagated sum
    ``upstream_j = sum_k w_jk delta_k`` over the units ``k`` of the layer above, for the
    output layer the loss's derivative ``dL/dy_hat``; ``slope = f'(z)``, ``None`` for an
    activation without one slope per unit (softmax, whose ``delta`` comes from the loss).
    """

    weights: Array
    biases: Array
    z: Array
    a: Array
    delta: Array
    grad_w: Array
    grad_b: Array
    new_weights: Array
    new_biases: Array
    slope: Array | None
    upstream: Array
    step_grad_w: Array


@dataclass
class Trace:
    """One sample's forward pass, loss, backward pass and one optimizer step on it alone.

    ``loss`` is this sample's data loss at the current weights, ``loss_after`` after a
    step on this sample (its gradient plus the regulariser's), taken by a copy of the
    run's optimizer so its momentum or Adam moments count as they would.  ``fused``: the
    loss cancels the output's derivative, so the output's ``delta`` is ``y_hat - y``.
    """

    input: Array
    target: Array
    output: Array
    loss: float
    loss_after: float
    learning_rate: float
    fused: bool = False
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
    n_out = p.a[-1].shape[1]
    shown_target = (
        one_hot(y2, n_out, np.float64)[0]
        if net.loss_name == "cross_entropy" and y2.ndim == 1
        else np.asarray(y2, np.float64).reshape(-1)
    )
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        upstream = [twin.layers[li + 1].w @ p.delta[li + 1][0] for li in range(len(p.z) - 1)]
        upstream.append(twin.loss_fn.grad_a(p.a[-1].copy(), twin._target(y2))[0])
        slopes = [
            lay.activation.derivative(z, a) for lay, z, a in zip(twin.layers, p.z, p.a, strict=True)
        ]
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
            slope=None if (s := slopes[li]) is None else s[0],
            upstream=upstream[li],
            step_grad_w=grads[2 * li],
        )
        for li in range(len(twin.layers))
    ]
    fused = twin.loss_fn.fuses(twin.layers[-1].activation)
    return Trace(x2[0], shown_target, p.a[-1][0], p.loss, loss_after, lr, fused, layers)


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
