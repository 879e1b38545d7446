"""The backward pass over a batch in the tutorials' matrix form: samples are columns.

The tutorials this project grew from write one layer's passes over a batch of ``m``
samples with ``W`` shaped ``(n_out, n_in)`` and one sample per column::

    Z = W·A_prev + b                    (n_l, m)
    A = f(Z)
    dZ = A − Y                          (output layer, a loss fused with its activation)
    dW = (1/m)·dZ·A_prevᵀ               (n_l, n_{l-1})
    db = (1/m)·Σ_columns dZ             (n_l, 1)
    dA_prev = Wᵀ·dZ                     (n_{l-1}, m)
    dZ_prev = dA_prev ⊙ f′(Z_prev)

Here ``dZ`` is each sample's own ``∂L_i/∂Z`` (one column per sample), so the mean over
the batch enters only in ``dW`` and ``db``.  The rest of :mod:`nn_core` keeps one sample
per *row* (``z = a_prev @ w + b`` with ``w (n_in, n_out)``) and back-propagates
``delta = ∂J/∂z`` of the *mean* loss ``J``; the two are transposes of each other::

    W = w.T,  Z = z.T,  A = a.T,  dZ = m·delta.T,  dW = grad_w.T,  db = grad_b

so :func:`matrix_form` is computed from :func:`nn_core.backprop.passes` and the tests check
it against the one-sample trace and against finite differences.  Over the whole training
set, ``dW`` is the data part of the gradient a neuron's card shows; ``dW_reg`` adds the
regulariser's part, as the optimizer sees it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nn_core.backprop import as_float64, passes, regularization_grads
from nn_core.model import Network
from nn_core.types import Array


@dataclass(frozen=True)
class MatrixLayer:
    """One weight matrix's passes over ``m`` samples, samples as columns (float64).

    ``w (n_l, n_{l-1})``, ``b (n_l, 1)``; ``a_prev (n_{l-1}, m)`` is what the layer read
    (the inputs for the first); ``z, a, dz (n_l, m)``; ``dw (n_l, n_{l-1})``,
    ``db (n_l, 1)``; ``da_prev (n_{l-1}, m) = wᵀ·dz``; ``slope (n_l, m) = f′(z)``, or
    ``None`` for an activation without one slope per unit (softmax); ``da (n_l, m)`` is
    ``∂L_i/∂A`` (for a hidden layer, the layer above's ``da_prev``); ``dw_reg`` is ``dw``
    plus the regulariser's gradient.
    """

    activation: str
    w: Array
    b: Array
    a_prev: Array
    z: Array
    a: Array
    da: Array
    slope: Array | None
    dz: Array
    dw: Array
    db: Array
    da_prev: Array
    dw_reg: Array


@dataclass(frozen=True)
class MatrixForm:
    """A batch's passes layer by layer in the tutorials' notation: ``m`` samples, the
    mean data loss ``loss`` over them, ``y (n_L, m)`` the targets as the output layer
    sees them, and one :class:`MatrixLayer` per weight matrix (first hidden layer first)."""

    m: int
    loss: float
    y: Array
    layers: list[MatrixLayer]


def matrix_form(net: Network, x: Array, y: Array) -> MatrixForm:
    """The passes over the batch ``x (m, n_in)`` with targets ``y`` in matrix form, in
    float64, without dropout; ``net`` is not changed."""
    twin = as_float64(net)
    x64 = np.asarray(x, np.float64)
    p = passes(twin, x64, y)
    m = int(x64.shape[0])
    target = np.asarray(twin._target(y), np.float64)
    if target.ndim == 1:  # class labels: one-hot, as the output layer sees them
        target = np.eye(p.a[-1].shape[1])[target.astype(int)]
    regs = regularization_grads(twin)
    layers = []
    names = [*twin.hidden_activations, twin.output_activation]
    n = len(twin.layers)
    for li, layer in enumerate(twin.layers):
        dz = m * p.delta[li].T
        w = layer.w.T
        slope = layer.activation.derivative(p.z[li], p.a[li])
        if li + 1 < n:  # the layer above's dA_prev
            da = m * (p.delta[li + 1] @ twin.layers[li + 1].w.T).T
        else:
            da = m * twin.loss_fn.grad_a(p.a[-1].copy(), twin._target(y)).T
        layers.append(
            MatrixLayer(
                activation=names[li],
                w=w,
                b=layer.b.reshape(-1, 1).copy(),
                a_prev=p.inputs[li].T,
                z=p.z[li].T,
                a=p.a[li].T,
                da=da,
                slope=None if slope is None else slope.T,
                dz=dz,
                dw=(dw := (dz @ p.inputs[li]) / m),
                db=dz.sum(axis=1, keepdims=True) / m,
                da_prev=w.T @ dz,
                dw_reg=dw + regs[li].T,
            )
        )
    return MatrixForm(m, float(p.loss), target.T, layers)
