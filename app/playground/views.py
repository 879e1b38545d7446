"""The playground run's backward-pass views: the health event that follows every frame,
one sample's trace, a gradient check, and editing one parameter.  Numbers come from
``nn_core.backprop``, ``nn_core.gradcheck`` and ``nn_core.health``; this module only checks
what was asked for and shapes the answers for the wire (docs/protocol.md)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from app.playground.verdicts import verdict
from app.validation import BadRequest
from nn_core.backprop import trace
from nn_core.diagnosis import HealthWatch
from nn_core.gradcheck import check_gradient
from nn_core.health import Health
from nn_core.model import Network
from nn_core.training import EpochReport, Trainer

#: Units of a layer a trace lists (its first ones; the page writes out six of them and four
#: terms of each sum): the answer of an 8 x 64 network stays tens of kB, not megabytes.
TRACE_UNITS = 8


class BackpropViews:
    """Mixed into :class:`~app.playground.run.PlaygroundRun`, which provides these attributes."""

    network: Network
    trainer: Trainer
    sizes: list[int]
    cfg: Any
    x_train: np.ndarray
    x_test: np.ndarray
    watch: HealthWatch

    def _health_event(self, fit: Health) -> dict[str, Any]:
        """The frame's figures and the run's verdict, which :attr:`watch` decides over the
        last frames; the table shows each layer's ``recent_ratio``, the verdict quotes it."""
        epoch = self.trainer.epoch
        d = self.watch.observe(epoch, fit)
        return {
            "type": "health",
            "epoch": epoch,
            "layers": [
                {
                    "grad_norm": _finite(h.grad_norm),
                    "weight_norm": _finite(h.weight_norm),
                    "update_ratio": _finite(h.update_ratio) if epoch else None,
                    "recent_ratio": _finite(recent) if epoch else None,
                    "dead": h.dead,
                    "saturated": h.saturated,
                    "units": h.units,
                    "activation": h.activation,
                    "rectifier": h.rectifier,
                    "saturating": h.saturating,
                    "silent": h.silent if h.silences else None,
                    "silent_other": h.silent_other if h.silences else None,
                }
                for h, recent in zip(fit.layers, self.watch.ratios, strict=True)
            ],
            "dead_units": [list(u) for u in fit.dead_units],
            "n_points": fit.n_points,
            "loss": _finite(fit.loss),
            "chance": _finite(self.watch.chance),
            "window": len(self.watch.samples),
            "code": d.code,
            "also": list(d.also),
            "figures": {k: v if isinstance(v, int) else _finite(v) for k, v in d.figures.items()},
            "verdict": verdict(d),
        }

    def _check(self, layer: int, kind: str, i: int | None, j: int) -> None:
        """Refuse a parameter that does not exist, naming the field and its range."""
        sizes = self.sizes
        if layer >= len(sizes) - 1:
            raise BadRequest("layer", f"must be between 0 and {len(sizes) - 2}")
        if j >= sizes[layer + 1]:
            raise BadRequest("j", f"must be between 0 and {sizes[layer + 1] - 1}")
        if kind == "weight" and (i is None or i >= sizes[layer]):
            raise BadRequest("i", f"must be between 0 and {sizes[layer] - 1}")

    def edit(self, layer: int, kind: str, i: int | None, j: int, value: float) -> None:
        """Set one parameter; training goes on from it."""
        self._check(layer, kind, i, j)
        target = self.network.layers[layer]
        if kind == "weight":
            target.w[i, j] = value
        else:
            target.b[j] = value

    def refigure(self) -> EpochReport:
        """The current epoch's losses and accuracy again, at the parameters as they are now
        (after an edit): the figures an epoch's end reports, computed the same way, so the
        page can replace that epoch's point. The run's history keeps the new figures."""
        t = self.trainer
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            loss, out = self.network.evaluate(t.x_train, t.y_train)
            report = t._report(float(loss), t.optimizer.learning_rate, out)
        if t.history and t.history[-1].epoch == report.epoch:
            t.history.recent[-1] = report  # (the newest report is always a recent one)
        return report

    def trace_event(self, split: str, index: int) -> dict[str, Any]:
        """One sample's passes at the current weights, in float64 (changes nothing)."""
        t = self.trainer
        x, y, raw = (
            (t.x_train, t.y_train, self.x_train)
            if split == "train"
            else (t.x_test, t.y_test, self.x_test)
        )
        if x is None or y is None or index >= len(x):
            n = 0 if x is None else len(x)
            raise BadRequest("index", f"must be between 0 and {n - 1} for the {split} set")
        tr = trace(self.network, x[index], y[index], self.trainer.optimizer)
        k = TRACE_UNITS

        def r(a: np.ndarray) -> Any:  # a layer's first k units (and inputs)
            return _rounded(a[:k, :k] if a.ndim == 2 else a[:k])

        wide = max(self.sizes[1:-1], default=0) > k
        return {
            "type": "trace",
            "epoch": self.trainer.epoch,
            "split": split,
            "index": index,
            "point": _rounded(raw[index]),
            "input": _rounded(tr.input),
            "target": _rounded(tr.target),
            "output": _rounded(tr.output),
            "loss": _finite(tr.loss),
            "loss_after": _finite(tr.loss_after),
            "learning_rate": tr.learning_rate,
            "optimizer": self.cfg.optimizer,
            "loss_name": self.network.loss_name,
            "fused": tr.fused,
            "regularization": self.network.regularization,
            "regularization_rate": self.network.regularizer.rate,
            "activations": [*self.network.hidden_activations, self.network.output_activation],
            "units_shown": k,
            "note": f"layers list their first {k} units and inputs" if wide else "",
            "layers": [
                {
                    "weights": r(lt.weights),
                    "biases": r(lt.biases),
                    "z": r(lt.z),
                    "a": r(lt.a),
                    "delta": r(lt.delta),
                    "grad_w": r(lt.grad_w),
                    "grad_b": r(lt.grad_b),
                    "new_weights": r(lt.new_weights),
                    "new_biases": r(lt.new_biases),
                    "slope": None if lt.slope is None else r(lt.slope),
                    "upstream": r(lt.upstream),
                    "step_grad_w": r(lt.step_grad_w),
                    "slope_formula": layer.activation.derivative_formula,
                }
                for lt, layer in zip(tr.layers, self.network.layers, strict=True)
            ],
        }

    def verify_event(self, layer: int, kind: str, i: int, j: int) -> dict[str, Any]:
        """Central finite difference of the training objective for one parameter."""
        self._check(layer, kind, i, j)
        t = self.trainer
        c = check_gradient(self.network, t.x_train, t.y_train, layer, kind, i, j)
        return {
            "type": "verify",
            "layer": layer,
            "kind": kind,
            **({"i": i} if kind == "weight" else {}),
            "j": j,
            "analytic": _finite(c.analytic),
            "numeric": _finite(c.numeric),
            "relative_error": _finite(c.relative_error),
            "matches": c.matches,
            "step": c.step,
            "note": c.note,
        }


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def _rounded(a: np.ndarray) -> Any:
    """An array as nested lists of floats, NaN and infinity as null (JSON has neither)."""
    out = np.asarray(a, np.float64)
    if np.all(np.isfinite(out)):
        return out.tolist()
    cells = out.astype(object)
    cells[~np.isfinite(out)] = None
    return cells.tolist()
