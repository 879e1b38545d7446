"""One playground run: the data, the network and its trainer, built from a
:class:`~app.playground.schema.TrainConfig`.  Plain synchronous code; the runner calls it on a
worker thread, one call at a time."""

from __future__ import annotations

import base64
import binascii
import io
import math
from typing import Any

import numpy as np

from app.onnx_export import to_onnx
from app.playground.schema import ResumeFrom, TrainConfig
from app.playground.script import export_script
from app.playground.views import BackpropViews
from app.session.run import TrainerRun
from app.validation import LIMITS, BadRequest, span
from app.wire import encode_frame
from nn_core.boundary import grid_points, layer_outputs, neuron_views, quantize
from nn_core.datasets import EXTENT, make_dataset, train_test_split
from nn_core.diagnosis import HealthWatch, chance_loss
from nn_core.features import transform
from nn_core.health import health
from nn_core.losses import compatible
from nn_core.model import Network, default_loss
from nn_core.optimizers import get_optimizer
from nn_core.problems import coerce_labels, fitting_losses, output_head, targets
from nn_core.training import Trainer

THUMB = 16  # per-neuron heatmap resolution
MAX_CLASSES = int(LIMITS["n_classes"][1])
Block = tuple[str, np.ndarray, dict[str, Any]]
#: What a stack computed for one member's frame: ``output`` (the last layer on the
#: boundary grid), ``neurons`` (every layer on the thumbnail grid), ``health``.
Precomputed = dict[str, Any]


class PlaygroundRun(BackpropViews, TrainerRun):
    """Everything one session trains, and its wire views (ready event, frames, export)."""

    def __init__(self, cfg: TrainConfig, resume: ResumeFrom | None = None) -> None:
        self.cfg = cfg
        rng = np.random.default_rng(cfg.seed)
        if cfg.dataset == "custom":
            pts = np.asarray(cfg.points, np.float64)
            x, y = pts[:, :2], pts[:, 2]
        else:
            x, y = make_dataset(cfg.dataset, cfg.n_samples, cfg.noise, rng, cfg.n_classes)
        self.problem = cfg.resolved_problem()
        custom = cfg.dataset == "custom"
        y, self.n_classes = coerce_labels(y, self.problem, rounded=custom, max_classes=MAX_CLASSES)
        self.x_train, self.y_train, self.x_test, self.y_test = train_test_split(
            x, y, cfg.train_ratio, rng
        )
        head = output_head(self.problem, self.n_classes, cfg.loss)
        loss = head.loss
        if not compatible(loss, head.activation):
            fits = default_loss(head.activation)
            raise BadRequest("loss", f"{loss} does not fit a {head.activation} output; try {fits}")
        self.sizes = [len(cfg.features), *cfg.hidden_layers, head.units]
        self.network = Network(
            self.sizes,
            activation=cfg.activation,
            output_activation=head.activation,
            loss=loss,
            init=cfg.init,
            seed=cfg.seed,
            regularization=cfg.regularization,
            regularization_rate=cfg.regularization_rate,
        )
        self.trainer = Trainer(
            self.network,
            get_optimizer(cfg.optimizer, cfg.learning_rate),
            transform(self.x_train, cfg.features),
            targets(self.y_train, loss, self.n_classes),
            transform(self.x_test, cfg.features),
            targets(self.y_test, loss, self.n_classes),
            batch_size=cfg.batch_size,
            max_epochs=cfg.max_epochs,
            classification=self.problem == "classification",
            exact_train_loss=True,
            seed=cfg.seed,
            track_updates=True,
        )
        #: The health verdict over this run's frames (a new run starts afresh).
        self.watch = HealthWatch(chance_loss(self.network, self.trainer.y_train))
        self.speed = float(cfg.speed)
        self.grid = grid_points(cfg.grid)
        self.thumbs = grid_points(THUMB)
        #: The epoch this run started from: 0, or the one it resumed at.
        self.first_epoch = 0
        if resume is not None:
            self._go_on_from(resume)

    def _go_on_from(self, resume: ResumeFrom) -> None:
        """Take the given weights, biases and epoch in place of the seed's start.  The
        optimizer's state (momentum's velocity, Adam's moments) starts afresh."""
        ws, bs = self.network.split(self.network.flat_parameters)
        for name, views, text in (("weights", ws, resume.weights), ("biases", bs, resume.biases)):
            values = _float32s(name, text, sum(v.size for v in views), self.sizes)
            offset = 0
            for v in views:
                v[...] = values[offset : offset + v.size].reshape(v.shape)
                offset += v.size
        self.trainer.epoch = self.first_epoch = resume.epoch
        if self.trainer.max_epochs is not None and resume.epoch >= self.trainer.max_epochs:
            self.trainer.state = "done"

    # --------------------------------------------------------- wire views
    def ready_event(self) -> dict[str, Any]:
        def pts(x: np.ndarray, y: np.ndarray) -> list[list[float]]:
            rows: Any = np.round(np.c_[x, y], 3).tolist()
            return rows

        return {
            "type": "ready",
            "config": self.cfg.model_dump(exclude={"points"}),
            "layers": self.sizes,
            "problem": self.problem,
            "n_classes": self.n_classes,
            "output_activation": self.network.output_activation,
            "loss": self.network.loss_name,
            "losses": fitting_losses(self.problem, self.n_classes),
            "n_parameters": self.network.n_parameters,
            "epoch": self.first_epoch,
            "train_points": pts(self.x_train, self.y_train),
            "test_points": pts(self.x_test, self.y_test),
        }

    def frame_needs(self, light: bool = False) -> tuple[tuple[str, ...], int, int]:
        """What the next frame evaluates: the features, the boundary grid's resolution and
        the thumbnails' (0 when they are not due); the engine computes these for a stack."""
        r = self.cfg.grid
        if light and r > 50:
            r = min(50, r // 2)
        thumbs = not light or (getattr(self, "_frames", 0) + 1) % 2 == 1
        return tuple(self.cfg.features), r, THUMB if thumbs else 0

    def frame(
        self, light: bool = False, pre: Precomputed | None = None
    ) -> list[bytes | dict[str, Any]]:
        """The boundary frame (output grid, neuron thumbnails, weights, biases, their
        training-set gradients and last updates) and the health event that goes with it.

        ``light`` (a busy server): the grid at half resolution (at most 50 x 50) and the
        neuron thumbnails only every other frame; everything else as always.  ``pre``: the
        network's outputs on the grids and its training-set passes, computed for its whole
        stack at once (:mod:`nn_core.stack_views`); the same numbers as computed here.
        """
        net = self.network
        pre = pre or {}
        self._frames = getattr(self, "_frames", 0) + 1
        with np.errstate(over="ignore", invalid="ignore"):
            last_w, last_b = net.split(self.trainer.last_update)  # type: ignore[arg-type]
            # no update ratio before this run's first step
            stepped = last_w if self.trainer.epoch > self.first_epoch else None
            x, y = self.trainer.x_train, self.trainer.y_train
            fit = pre["health"] if "health" in pre else health(net, x, y, stepped)
        reg = fit.reg_w  # the card shows data and regulariser parts
        flat = np.concatenate
        blocks = self._boundary_blocks(light, pre)
        blocks += [
            ("grad_weights", flat([g.ravel() for g in fit.grad_w]), {}),
            ("grad_weights_reg", flat([g.ravel() for g in reg]), {}),
            ("grad_biases", flat([g.ravel() for g in fit.grad_b]), {}),
            ("update_weights", flat([u.ravel() for u in last_w]), {}),
            ("update_biases", flat([u.ravel() for u in last_b]), {}),
        ]
        grid = int(blocks[0][1].shape[0])  # the output block's side (coarser when light)
        header = {"type": "frame", "epoch": self.trainer.epoch, "grid": grid}
        return [encode_frame(header, blocks), self._health_event(fit)]

    def _boundary_blocks(self, light: bool = False, pre: Precomputed | None = None) -> list[Block]:
        net, cfg = self.network, self.cfg
        pre = pre or {}
        grid, r = self.grid, cfg.grid
        if light and cfg.grid > 50:
            r = min(50, cfg.grid // 2)
            if getattr(self, "_light_grid", (0, None))[0] != r:
                self._light_grid = (r, grid_points(r))
            grid = self._light_grid[1]
        thumbs_now = not light or self._frames % 2 == 1
        with np.errstate(over="ignore", invalid="ignore"):
            out = pre["output"] if "output" in pre else layer_outputs(net, cfg.features, grid)[-1]
        blocks: list[tuple[str, np.ndarray, dict[str, Any]]] = []
        if self.problem == "regression":
            blocks.append(("output", quantize(out[:, 0], -1, 1).reshape(r, r), {"lo": -1, "hi": 1}))
        elif self.n_classes > 2:
            blocks.append(
                ("output", quantize(out.max(axis=1), 0, 1).reshape(r, r), {"lo": 0, "hi": 1})
            )
            blocks.append(("classes", out.argmax(axis=1).astype(np.uint8).reshape(r, r), {}))
        else:  # p(class 1) of a sigmoid, or the sign of a tanh (TensorFlow Playground's)
            lo, hi = net.layers[-1].activation.bounds
            blocks.append(
                ("output", quantize(out[:, 0], lo, hi).reshape(r, r), {"lo": lo, "hi": hi})
            )
        if thumbs_now:
            blocks.append(self._thumbnails(pre.get("neurons")))
        blocks.append(("weights", np.concatenate([w.ravel() for w in net.weights]), {}))
        blocks.append(("biases", np.concatenate([b.ravel() for b in net.biases]), {}))
        return blocks

    def _thumbnails(self, outs: list[np.ndarray] | None = None) -> Block:
        """A 16 x 16 view of every neuron over the plane, on one -1..1 scale."""
        with np.errstate(over="ignore", invalid="ignore"):
            cols = neuron_views(self.network, self.cfg.features, self.thumbs, outs)  # (n, 256)
        return ("neurons", quantize(cols, -1, 1).reshape(-1, THUMB, THUMB), {"lo": -1, "hi": 1})

    def status_extra(self) -> dict[str, Any]:
        last = self.trainer.history[-1] if self.trainer.history else None
        if last is not None and not math.isfinite(last.train_loss):
            return {"message": "the loss became NaN or infinite: lower the learning rate and reset"}
        return {}

    def restart_config(self) -> TrainConfig:
        return self.cfg.model_copy(update={**self.live_settings(), "speed": self.speed})

    def export(self) -> dict[str, Any]:
        buf = io.BytesIO()
        meta = {"epoch": self.trainer.epoch, "features": list(self.cfg.features)}
        self.network.save_to(buf, meta)
        features = ", ".join(self.cfg.features)
        onnx_bytes = to_onnx(
            self.network,
            input_name="features",
            output_name="output",
            doc=f"Backprop Lab playground network. Input: the features {features} of each "
            f"point (x1, x2 in {-EXTENT:g}..{EXTENT:g}), in that order; output: "
            f"{self.network.output_activation}.",
        )
        return {
            "npz": buf.getvalue(),
            "script": export_script(self, MAX_CLASSES),
            "onnx": onnx_bytes,
        }


def _float32s(name: str, text: str, count: int, sizes: list[int]) -> np.ndarray:
    """``count`` finite float32 numbers within the parameter limits, from base64."""
    shape = "-".join(str(n) for n in sizes)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b"?"
    if len(raw) % 4:
        raise BadRequest(name, "must be base64 of float32 numbers, as a frame's block holds them")
    values = np.frombuffer(raw, "<f4")
    if values.size != count:
        raise BadRequest(
            name, f"must hold the {count} {name} of a {shape} network; this holds {values.size}"
        )
    lo, hi = LIMITS["parameter"]
    bad = np.flatnonzero(~np.isfinite(values) | (values < lo) | (values > hi))
    if bad.size:
        k = int(bad[0])
        raise BadRequest(
            name, f"number {k} is {values[k]:g}: each must be from {span('parameter')}"
        )
    return values
