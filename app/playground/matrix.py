"""The matrix form of the backward pass for the wire: a batch's passes in the tutorials'
notation (samples as columns), from :func:`nn_core.matrix_form.matrix_form`.

``batch="next"`` is the mini-batch the next update trains on (read without drawing, see
:meth:`nn_core.training.Trainer.next_batch`); ``"train"`` the whole training set, whose
``dW_reg`` is the gradient a neuron's card shows and ``dW`` its data part (without the
regulariser's).
Every matrix's full shape is sent; its numbers for at most :data:`MATRIX_UNITS` units and
:data:`MATRIX_COLUMNS` samples, so the answer of a big network stays tens of kB."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from nn_core.matrix_form import matrix_form
from nn_core.model import Network
from nn_core.training import Trainer

#: Units (rows) and samples (columns) of each matrix whose numbers are sent.
MATRIX_UNITS = 16
MATRIX_COLUMNS = 32
#: The two conventions, as the page states them.
CONVENTION = {
    "tutorials": "W is n_out × n_in; samples are columns: Z = W·A_prev + b, shapes (n, m)",
    "ours": "w is n_in × n_out; samples are rows: z = a_prev @ w + b, shapes (m, n)",
}


def matrix_event(
    network: Network, trainer: Trainer, batch: Literal["next", "train"]
) -> dict[str, Any]:
    """The batch's passes, layer by layer: Z, A, dZ, dW, db, dA_prev and their shapes."""
    n = trainer.x_train.shape[0]
    rows = trainer.next_batch() if batch == "next" else np.arange(n)
    mf = matrix_form(network, trainer.x_train[rows], trainer.y_train[rows])
    u, c = MATRIX_UNITS, MATRIX_COLUMNS

    def cut(a: np.ndarray, cols: bool = True) -> Any:
        return _numbers(a[:u, :c] if cols else a[:u, :u])

    layers = []
    for lay in mf.layers:
        mats = {
            "W": (lay.w, False),
            "b": (lay.b, False),
            "A_prev": (lay.a_prev, True),
            "Z": (lay.z, True),
            "A": (lay.a, True),
            "dZ": (lay.dz, True),
            "dW": (lay.dw, False),
            "dW_reg": (lay.dw_reg, False),
            "db": (lay.db, False),
            "dA_prev": (lay.da_prev, True),
        }
        layers.append(
            {
                "activation": lay.activation,
                "shapes": {k: list(a.shape) for k, (a, _) in mats.items()},
                **{k: cut(a, cols) for k, (a, cols) in mats.items()},
            }
        )
    return {
        "type": "matrix",
        "epoch": trainer.epoch,
        "batch": batch,
        "m": mf.m,
        "rows": rows[:c].tolist(),
        "units_shown": u,
        "columns_shown": min(c, mf.m),
        "loss": mf.loss,
        "loss_name": network.loss_name,
        "fused": network.loss_fn.fuses(network.layers[-1].activation),
        "convention": CONVENTION,
        "layers": layers,
    }


def _numbers(a: np.ndarray) -> Any:
    """Nested lists of floats with 6 significant digits, NaN and infinity as null."""
    out = np.asarray(a, np.float64)
    cells = np.vectorize(lambda v: float(f"{v:.6g}") if np.isfinite(v) else None, otypes=[object])
    return cells(out).tolist()
