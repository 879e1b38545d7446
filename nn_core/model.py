"""The fully connected network: a list of :class:`~nn_core.layers.Dense` layers.

    net = Network([2, 4, 1], activation="tanh", output_activation="sigmoid", loss="bce")
    a = net.forward(x)                       # (n, 2) -> (n, 1)
    loss, grad_w, grad_b = net.loss_and_grads(x, y)

Forward, for layer ``l``: ``z_l = a_{l-1} @ w_l + b_l``, ``a_l = f_l(z_l)`` with
``a_0 = x``.  Backward starts from the loss's ``delta_L = dL/dz_L`` and repeats
``grad_w_l = a_{l-1}.T @ delta_l``, ``delta_{l-1} = f'_{l-1}(z_{l-1}) * (delta_l @ w_l.T)``:
one matrix product per layer and direction for the whole batch, never a loop over samples.
"""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nn_core.activations import HIDDEN_ACTIVATIONS, get_activation
from nn_core.initializers import get_initializer
from nn_core.layers import Dense
from nn_core.losses import get_loss
from nn_core.npz import MAX_ARRAY_BYTES, NpzError, NpzReader, write_atomic
from nn_core.regularization import get_regularizer
from nn_core.types import Array

FORMAT = "backprop-lab-model"
FORMAT_VERSION = 1
DTYPES = {"float32": np.float32, "float64": np.float64}


class ModelFileError(ValueError):
    """A model file is malformed, foreign or unsafe to load."""


def default_loss(output_activation: str) -> str:
    """The natural loss for an output: bce for sigmoid, cross-entropy for softmax, else mse."""
    return {"sigmoid": "bce", "softmax": "cross_entropy"}.get(output_activation, "mse")


class Network:
    """A fully connected feed-forward network trained by backpropagation.

    Parameters
    ----------
    sizes : layer widths, input first, e.g. ``[784, 256, 128, 10]``.
    activation : hidden activation name, or a list with one name per hidden layer.
    output_activation : ``sigmoid``, ``softmax``, ``linear`` or ``tanh``.
    loss : ``bce``, ``cross_entropy``, ``mse`` or ``quadratic`` (default fits the output).
    init : ``normal`` (randn * ``init_scale``, default 0.01), ``xavier`` or ``he``.
    seed : seeds the ``numpy.random.Generator`` that draws the initial weights.
    dtype : ``"float32"`` (fast) or ``"float64"`` (gradient checks).
    regularization, regularization_rate : ``none``/``l1``/``l2`` and its rate.
    dropout : probability of dropping a hidden unit while training (0 disables).
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str | Sequence[str] = "relu",
        output_activation: str = "sigmoid",
        loss: str | None = None,
        init: str = "xavier",
        seed: int | None = 0,
        dtype: str = "float32",
        init_scale: float | None = None,
        regularization: str = "none",
        regularization_rate: float = 0.0,
        dropout: float = 0.0,
    ) -> None:
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must list at least two positive widths, got {sizes}")
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        n_hidden = len(sizes) - 2
        if isinstance(activation, str):
            hidden, named = [activation] * n_hidden, [activation]
        else:
            hidden = named = list(activation)
        if len(hidden) != n_hidden:
            raise ValueError(f"activation list needs {n_hidden} names (one per hidden layer)")
        for name in named:
            if name not in HIDDEN_ACTIVATIONS:
                raise ValueError(
                    f"unknown hidden activation {name!r}; choose one of "
                    f"{', '.join(HIDDEN_ACTIVATIONS)}"
                )
        loss = loss or default_loss(output_activation)
        self.loss_fn = get_loss(loss, output_activation)
        self.sizes = sizes
        self.hidden_activations = hidden
        self.output_activation = output_activation
        self.loss_name = loss
        self.init = init
        self.init_scale = init_scale
        self.seed = seed
        self.dtype = dtype
        self.dropout = dropout
        self.regularizer = get_regularizer(regularization, regularization_rate)
        initializer = get_initializer(init, init_scale)
        rng = np.random.default_rng(seed)
        dt = DTYPES[dtype]
        names = [*hidden, output_activation]
        self.layers = [
            Dense(
                initializer(rng, n_in, n_out, dt),
                np.zeros(n_out, dt),
                get_activation(name, role="hidden" if i < n_hidden else "output"),
            )
            for i, (n_in, n_out, name) in enumerate(zip(sizes[:-1], sizes[1:], names, strict=True))
        ]
        self._flatten()

    def _flatten(self) -> None:
        """Make every weight, bias and gradient a view into one flat array each, so an
        optimizer updates all parameters with a handful of whole-array operations."""
        params = [p for layer in self.layers for p in (layer.w, layer.b)]
        flat = np.concatenate([p.ravel() for p in params])
        self.bind(flat, np.zeros_like(flat))

    def bind(self, parameters: Array, gradients: Array) -> None:
        """Keep every weight, bias and gradient in the given flat arrays (views, not copies),
        laid out like :attr:`flat_parameters`.  A :class:`~nn_core.stack.Stack` binds its
        members to rows of its own storage; their values must already be there."""
        self.flat_parameters = parameters
        self.flat_gradients = gradients
        offset = 0
        for layer in self.layers:
            for name in ("w", "b"):
                shape = getattr(layer, name).shape
                size = int(np.prod(shape))
                view = slice(offset, offset + size)
                setattr(layer, name, parameters[view].reshape(shape))
                setattr(layer, f"grad_{name}", gradients[view].reshape(shape))
                offset += size

    # ----------------------------------------------------------------- views
    @property
    def weights(self) -> list[Array]:
        return [layer.w for layer in self.layers]

    @property
    def biases(self) -> list[Array]:
        return [layer.b for layer in self.layers]

    def parameters(self) -> list[Array]:
        """``[w_0, b_0, w_1, b_1, ...]``: the arrays an optimizer updates in place."""
        return [p for layer in self.layers for p in (layer.w, layer.b)]

    def gradients(self) -> list[Array]:
        """The gradient buffers matching :meth:`parameters`, filled by :meth:`backprop`."""
        return [g for layer in self.layers for g in (layer.grad_w, layer.grad_b)]

    def split(self, flat: Array) -> tuple[list[Array], list[Array]]:
        """Views of a flat vector laid out like :attr:`flat_parameters`, as
        ``(weights, biases)`` shaped like :attr:`weights` and :attr:`biases`."""
        ws: list[Array] = []
        bs: list[Array] = []
        offset = 0
        for layer in self.layers:
            n_in, n_out = layer.w.shape
            ws.append(flat[offset : offset + n_in * n_out].reshape(n_in, n_out))
            offset += n_in * n_out
            bs.append(flat[offset : offset + n_out])
            offset += n_out
        return ws, bs

    @property
    def n_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    @property
    def regularization(self) -> str:
        return self.regularizer.name

    def config(self) -> dict[str, Any]:
        """Everything needed to rebuild this network (not its weights)."""
        return {
            "sizes": self.sizes,
            "activation": self.hidden_activations,
            "output_activation": self.output_activation,
            "loss": self.loss_name,
            "init": self.init,
            "init_scale": self.init_scale,
            "seed": self.seed,
            "dtype": self.dtype,
            "regularization": self.regularizer.name,
            "regularization_rate": self.regularizer.rate,
            "dropout": self.dropout,
        }

    # --------------------------------------------------------------- forward
    def _cast(self, x: Array) -> Array:
        return np.asarray(x, dtype=DTYPES[self.dtype])

    def forward(self, x: Array) -> Array:
        """``(n, n_in) -> (n, n_out)``, output activation applied (no dropout)."""
        return self.forward_all(x)[-1]

    def forward_all(self, x: Array) -> list[Array]:
        """Every layer's activation ``[a_1, ..., a_L]`` for ``x`` (fresh arrays)."""
        h = self._cast(x)
        out = []
        for layer in self.layers:
            _, h = layer.forward(h, reuse=False)
            out.append(h)
        return out

    def predict(self, x: Array) -> Array:
        """Class labels: argmax for several outputs, ``a > 0.5`` for one sigmoid output."""
        return self.labels(self.forward(x))

    def labels(self, a: Array) -> Array:
        """Class labels from output activations ``a`` (see :meth:`predict`)."""
        if a.shape[-1] > 1:
            return np.argmax(a, axis=-1)
        return (a[..., 0] > (0.0 if self.output_activation == "tanh" else 0.5)).astype(np.int64)

    def loss(self, x: Array, y: Array) -> float:
        """The plain data loss (no regulariser, no dropout)."""
        return self.evaluate(x, y)[0]

    def evaluate(self, x: Array, y: Array) -> tuple[float, Array]:
        """``(plain loss, output activations)`` from one forward pass."""
        h = self._cast(x)
        z = h
        for layer in self.layers:
            z, h = layer.forward(h, reuse=False)
        return self.loss_fn.value(z, h, self._target(y)), h

    def penalty(self) -> float:
        """The regulariser's penalty summed over all weight matrices."""
        return sum(self.regularizer.penalty(w) for w in self.weights)

    def _target(self, y: Array) -> Array:
        if self.loss_name == "cross_entropy" and np.asarray(y).ndim == 1:
            return np.asarray(y)
        y = np.asarray(y, dtype=DTYPES[self.dtype])
        return y.reshape(-1, 1) if y.ndim == 1 else y

    # -------------------------------------------------------------- backward
    def backprop(
        self,
        x: Array,
        y: Array,
        *,
        train: bool = True,
        rng: np.random.Generator | None = None,
        compute_loss: bool = True,
    ) -> float:
        """One forward and backward pass; fills :meth:`gradients` and returns the data loss.

        With ``train`` the regulariser's gradient is added and dropout (if any) is applied
        with ``rng``; without it the gradients are the plain loss's exact gradients.
        ``compute_loss=False`` skips the loss value (returns NaN) when the caller measures
        the loss another way; it saves a fifth of a small network's batch time.
        """
        x = self._cast(x)
        y = self._target(y)
        last = len(self.layers) - 1
        drop = train and self.dropout > 0.0
        if drop and rng is None:
            raise ValueError("dropout needs an rng")
        inputs, zs, acts, masks = [x], [], [], []
        h = x
        for i, layer in enumerate(self.layers):
            z, a = layer.forward(h)
            zs.append(z)
            acts.append(a)
            mask = None
            if drop and i < last:
                assert rng is not None
                keep = 1.0 - self.dropout
                mask = (rng.random(a.shape, dtype=a.dtype) < keep) / np.asarray(keep, a.dtype)
                h = a * mask
            else:
                h = a
            masks.append(mask)
            inputs.append(h)
        loss = self.loss_fn.value(zs[-1], acts[-1], y) if compute_loss else math.nan
        delta = self.loss_fn.delta(zs[-1], acts[-1], y, self.layers[-1].activation)
        for i in range(last, -1, -1):
            layer = self.layers[i]
            dx = layer.backward(inputs[i], delta, need_dx=i > 0)
            if train:
                self.regularizer.add_grad(layer.w, layer.grad_w)
            if dx is not None:
                if masks[i - 1] is not None:
                    dx *= masks[i - 1]
                delta = self.layers[i - 1].activation.backward(zs[i - 1], acts[i - 1], dx)
        return loss

    def loss_and_grads(self, x: Array, y: Array) -> tuple[float, list[Array], list[Array]]:
        """The plain loss and its exact gradients (copies), shaped like weights and biases."""
        loss = self.backprop(x, y, train=False)
        return (
            loss,
            [layer.grad_w.copy() for layer in self.layers],
            [layer.grad_b.copy() for layer in self.layers],
        )

    # ------------------------------------------------------------ save/load
    def save(self, path: str | os.PathLike[str], metadata: dict[str, Any] | None = None) -> None:
        """Write ``.npz`` atomically (temp file + rename): a crash never leaves half a file."""
        buf = io.BytesIO()
        self.save_to(buf, metadata)
        write_atomic(Path(path), buf.getvalue())

    def save_to(self, buf: io.BytesIO, metadata: dict[str, Any] | None = None) -> None:
        """Write the ``.npz`` bytes (weights, biases and a JSON header) into ``buf``."""
        arrays = {f"w{i}": w for i, w in enumerate(self.weights)}
        arrays |= {f"b{i}": b for i, b in enumerate(self.biases)}
        header = {"format": FORMAT, "version": FORMAT_VERSION, "config": self.config()}
        header["metadata"] = metadata or {}
        np.savez_compressed(buf, header=np.array(json.dumps(header)), **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: str | os.PathLike[str] | io.BytesIO) -> Network:
        """Load a file written by :meth:`save`; anything else raises :class:`ModelFileError`."""
        return cls.load_with_metadata(path)[0]

    @classmethod
    def load_with_metadata(
        cls,
        path: str | os.PathLike[str] | io.BytesIO,
        *,
        check: Callable[[dict[str, Any]], None] | None = None,
        max_array_bytes: int = MAX_ARRAY_BYTES,
    ) -> tuple[Network, dict[str, Any]]:
        """The network and metadata of a file written by :meth:`save`.

        Nothing is allocated unchecked (:class:`~nn_core.npz.NpzReader`): ``check(config)``
        may refuse the header's config (``ValueError``), and each array's declared shape and
        dtype must match it before the network is built.  No array may exceed ``max_array_bytes``.
        """
        data = path.getvalue() if isinstance(path, io.BytesIO) else Path(path).read_bytes()
        try:
            with NpzReader(data, max_member_bytes=max_array_bytes) as npz:
                header = _read_header(npz)
                config = header["config"]
                try:
                    if check is not None:
                        check(config)
                    shapes = _layer_shapes(config)
                except (TypeError, ValueError) as exc:
                    raise ModelFileError(f"model config is invalid: {exc}") from exc
                wrong = [n for n, shape in shapes.items() if npz.shape(n) != (shape, "f")]
                if wrong:
                    raise ModelFileError(f"model array {wrong[0]} is missing or wrongly shaped")
                try:
                    net = cls(**config)
                except (TypeError, ValueError) as exc:
                    raise ModelFileError(f"model config is invalid: {exc}") from exc
                for i, layer in enumerate(net.layers):
                    for name, target in ((f"w{i}", layer.w), (f"b{i}", layer.b)):
                        arr = npz.array(name)
                        if not np.all(np.isfinite(arr)):
                            raise ModelFileError(f"model array {name} holds NaN or infinity")
                        target[...] = arr
        except NpzError as exc:
            raise ModelFileError(f"not a readable model file: {exc}") from exc
        meta = header.get("metadata")
        return net, meta if isinstance(meta, dict) else {}


def _read_header(npz: NpzReader) -> dict[str, Any]:
    """The JSON header of a model file, checked for its format, version and config."""
    text = npz.array("header") if "header" in npz.names else None  # unreadable: NpzError
    try:
        if text is None or text.dtype.kind != "U" or text.shape != ():
            raise ValueError("not text")
        header = json.loads(str(text))
    except (ValueError, RecursionError) as exc:
        raise ModelFileError("not a Backprop Lab model: no header") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError("not a Backprop Lab model: wrong format marker")
    if header.get("version") != FORMAT_VERSION:
        raise ModelFileError(f"unsupported model version {header.get('version')!r}")
    if not isinstance(header.get("config"), dict):
        raise ModelFileError("model header has no config")
    return header


def _layer_shapes(config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """Each array's shape for a config's ``sizes``, computed before anything is built."""
    sizes = config.get("sizes")
    if not isinstance(sizes, list) or len(sizes) < 2 or any(type(n) is not int for n in sizes):
        raise ValueError("sizes must list two or more whole numbers")
    pairs = enumerate(zip(sizes[:-1], sizes[1:], strict=True))
    return {k: v for i, (a, b) in pairs for k, v in ((f"w{i}", (a, b)), (f"b{i}", (b,)))}
