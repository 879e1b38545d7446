"""MNIST training from the digits page, and the shipped model's recipe.

``MnistConfig`` is what the page (and ``backprop-lab train-mnist``) can choose; a
``MnistRun`` trains it epoch by epoch for the session runner and reports a confusion
matrix and a gallery of misclassified test digits after each epoch.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import time
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from app.digits.store import ModelStore
from app.digits.weights import PER_SECOND, first_layer
from app.session.run import TrainerRun
from app.validation import MNIST_LIMITS, Strict, number
from nn_core import mnist
from nn_core.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from nn_core.images import random_affine
from nn_core.losses import compatible
from nn_core.metrics import confusion_matrix
from nn_core.model import Network
from nn_core.optimizers import get_optimizer
from nn_core.problems import targets
from nn_core.training import EpochReport, Trainer

ARCHITECTURES: dict[str, dict[str, Any]] = {
    "mlp_256_128": {
        "title": "784-256-128-10 relu (the shipped model)",
        "hidden": [256, 128],
        "activation": "relu",
        "output": "softmax",
        "loss": "cross_entropy",
        "optimizer": "adam",
        "learning_rate": 0.001,
        "batch_size": 128,
        "init": "he",
    },
    "tutorial_10_10": {
        "title": "784-10-10 relu/softmax, full batch (tutorial)",
        "hidden": [10],
        "activation": "relu",
        "output": "softmax",
        "loss": "cross_entropy",
        "optimizer": "sgd",
        "learning_rate": 0.5,
        "batch_size": 8000,
        "init": "he",
    },
    "tutorial_deep": {
        "title": "784-256-128-64-10 relu (tutorial)",
        "hidden": [256, 128, 64],
        "activation": "relu",
        "output": "softmax",
        "loss": "cross_entropy",
        "optimizer": "adam",
        "learning_rate": 0.001,
        "batch_size": 64,
        "init": "he",
    },
    "nielsen_100": {
        "title": "784-100-10 sigmoid, quadratic cost (Nielsen)",
        "hidden": [100],
        "activation": "sigmoid",
        "output": "sigmoid",
        "loss": "quadratic",
        "optimizer": "sgd",
        "learning_rate": 3.0,
        "batch_size": 10,
        "init": "normal",
        "init_scale": 1 / 28,
    },
}
#: What the page's form sets beside the architecture (and a lesson's setup may choose).
FORM_FIELDS = ("optimizer", "learning_rate", "batch_size", "epochs", "augment")


def architecture_config(key: str, **form: Any) -> dict[str, Any]:
    """The run the page starts for architecture ``key`` with its form's ``form`` values
    (the rest as the architecture sets them), as the page's Train button sends it."""
    a = ARCHITECTURES[key]
    unknown = set(form) - set(FORM_FIELDS)
    if unknown:
        raise ValueError(f"{', '.join(sorted(unknown))}: not a field of the training form")
    return {
        "hidden_layers": a["hidden"],
        "activation": a["activation"],
        "output_activation": a["output"],
        "loss": a["loss"],
        "init": a["init"],
        "init_scale": a.get("init_scale"),
        "optimizer": a["optimizer"],
        "learning_rate": a["learning_rate"],
        "batch_size": a["batch_size"],
        **form,
    }


_Hidden: Any = number("neurons", int, MNIST_LIMITS)
#: Epochs at least this long (seconds) get a ``pace`` message about once a second.
PACE_FROM = 2.0
PACE_INTERVAL = 1.0
#: Epochs at least this long (seconds) are said to be slow, with a batch size to try.
SLOW_EPOCH = 60.0
#: Outputs whose values read as class probabilities: those bounded by 0 and 1.
PROBABILITY_OUTPUTS = tuple(n for n in OUTPUT_ACTIVATIONS if ACTIVATIONS[n].bounds == (0.0, 1.0))


class MnistConfig(Strict):
    dataset: Literal["mnist", "fashion"] = "mnist"
    hidden_layers: Annotated[
        list[_Hidden], Field(max_length=int(MNIST_LIMITS["hidden_layers"][1]))
    ] = [256, 128]
    activation: Literal[HIDDEN_ACTIVATIONS] = "relu"  # type: ignore[valid-type]
    output_activation: Literal[PROBABILITY_OUTPUTS] = "softmax"  # type: ignore[valid-type]
    loss: Literal["cross_entropy", "quadratic", "mse"] = "cross_entropy"
    init: Literal["he", "xavier", "normal"] = "he"
    init_scale: Annotated[float, Field(gt=0, le=1)] | None = None
    optimizer: Literal["sgd", "momentum", "adam"] = "adam"
    learning_rate: number("learning_rate") = 0.001  # type: ignore[valid-type]
    batch_size: number("batch_size", int, MNIST_LIMITS) = 128  # type: ignore[valid-type]
    regularization_rate: number("regularization_rate") = 0.0  # type: ignore[valid-type]
    epochs: number("epochs", int, MNIST_LIMITS) = 10  # type: ignore[valid-type]
    augment: bool = False
    seed: number("seed", int) = 0  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _fits(self) -> MnistConfig:
        if not compatible(self.loss, self.output_activation):
            raise ValueError(f"loss: {self.loss} needs a softmax output")
        return self


def load_digits(dataset: str) -> mnist.Digits:
    if dataset == "fashion":
        if not mnist.fashion_available():
            raise ValueError(
                "dataset: Fashion-MNIST is not installed (Debian: dataset-fashion-mnist, "
                f"or set {mnist.FASHION_ENV} to a folder with its IDX files)"
            )
        return mnist.load_fashion()
    return mnist.load_bundled()


def build_trainer(cfg: MnistConfig, digits: mnist.Digits) -> Trainer:
    net = Network(
        [784, *cfg.hidden_layers, 10],
        activation=cfg.activation,
        output_activation=cfg.output_activation,
        loss=cfg.loss,
        init=cfg.init,
        init_scale=cfg.init_scale,
        seed=cfg.seed,
        regularization="l2" if cfg.regularization_rate else "none",
        regularization_rate=cfg.regularization_rate,
    )

    def augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return random_affine(x, rng)

    return Trainer(
        net,
        get_optimizer(cfg.optimizer, cfg.learning_rate),
        mnist.as_inputs(digits.x_train),
        targets(digits.y_train, cfg.loss, 10),
        mnist.as_inputs(digits.x_test),
        targets(digits.y_test, cfg.loss, 10),
        batch_size=cfg.batch_size,
        max_epochs=cfg.epochs,
        augment=augment if cfg.augment else None,
        seed=cfg.seed,
    )


def metadata(cfg: MnistConfig, trainer: Trainer) -> dict[str, Any]:
    last = trainer.history[-1] if trainer.history else None
    return {
        "dataset": cfg.dataset,
        "accuracy": None if last is None else last.accuracy,
        "epochs": trainer.epoch,
        "date": dt.date.today().isoformat(),
        "augment": cfg.augment,
        "optimizer": cfg.optimizer,
        "learning_rate": trainer.base_learning_rate,
        "batch_size": trainer.batch_size,
        "classes": list(mnist.FASHION_CLASSES) if cfg.dataset == "fashion" else None,
    }


def duration_words(seconds: float) -> str:
    """``"about 40 seconds"``, ``"about 15 minutes"``, ``"about 2.5 hours"``."""
    if seconds < 90:
        return f"about {seconds:.0f} seconds"
    if seconds < 90 * 60:
        return f"about {seconds / 60:.0f} minutes"
    return f"about {seconds / 3600:.1f} hours"


def slow_epoch_message(seconds: float, batch_size: int | None, batches: int) -> str:
    """What the page says when an epoch takes minutes, with a batch size to try."""
    suggested = int(MnistConfig.model_fields["batch_size"].default)
    text = (
        f"This network needs {duration_words(seconds)} per epoch"
        f" ({batches:,} steps at batch size {batch_size or 'full'})"
    )
    if batch_size is not None and batch_size < suggested:
        return f"{text}: try a batch size of {suggested}."
    return f"{text}: try fewer or smaller hidden layers."


class MnistRun(TrainerRun):
    """One MNIST training run for the digits page (same interface as PlaygroundRun)."""

    def __init__(self, cfg: MnistConfig) -> None:
        self.cfg = cfg
        self.digits = load_digits(cfg.dataset)
        self.trainer = build_trainer(cfg, self.digits)
        self.network = self.trainer.network
        #: Seconds spent in chunks and batches trained in them: what an epoch costs here.
        self._timed, self._timed_batches = 0.0, 0
        self._paced = -math.inf
        #: When the first layer's pictures were last sent, and at which batch.
        self._pictured, self._pictured_at = -math.inf, -1

    def chunk(self, budget_s: float, max_epochs: int | None = None) -> list[EpochReport]:
        """``budget_s`` seconds of batches (and at most ``max_epochs`` epochs), stopping
        inside an epoch if need be: an epoch of a wide network at batch size 1 takes
        minutes, and the session's neighbours (and its own pause, save or disconnect)
        wait for no more than one chunk."""
        started, before = time.perf_counter(), self._position()
        reports = self.trainer.train_slice(budget_s, max_epochs)
        self._timed += time.perf_counter() - started
        self._timed_batches += self._position() - before
        return reports

    def _position(self) -> int:
        done, per_epoch = self.trainer.epoch_progress
        return self.trainer.epoch * per_epoch + done

    def epoch_seconds(self) -> float | None:
        """Seconds an epoch takes, as measured so far (``None`` before the first batch)."""
        if not self._timed_batches:
            return None
        return self._timed / self._timed_batches * self.trainer.epoch_progress[1]

    def pace(self, now: float) -> dict[str, Any] | None:
        """A ``pace`` event (how far the open epoch is, and how long an epoch takes) when
        epochs are slow enough to need one: at most once every :data:`PACE_INTERVAL`."""
        seconds = self.epoch_seconds()
        if seconds is None or seconds < PACE_FROM or now - self._paced < PACE_INTERVAL:
            return None
        first = self._paced == -math.inf
        self._paced = now
        done, batches = self.trainer.epoch_progress
        event: dict[str, Any] = {
            "type": "pace",
            "epoch": self.trainer.epoch + 1,
            "batches_done": done,
            "batches": batches,
            "epoch_seconds": round(seconds, 1),
        }
        if first and seconds >= SLOW_EPOCH:
            event["message"] = slow_epoch_message(seconds, self.trainer.batch_size, batches)
        return event

    def pictures(self, now: float, force: bool = False) -> dict[str, Any] | None:
        """The ``first_layer`` message when the weights moved since the last one, at most
        :data:`PER_SECOND` a second unless ``force`` (a run that starts, pauses or ends)."""
        position = self._position()
        if position == self._pictured_at or (not force and now - self._pictured < 1 / PER_SECOND):
            return None
        self._pictured, self._pictured_at = now, position
        return first_layer(self.network, self.trainer.epoch)

    def ready_event(self) -> dict[str, Any]:
        return {
            "type": "ready",
            "config": self.cfg.model_dump(),
            "layers": self.network.sizes,
            "n_parameters": self.network.n_parameters,
            "n_train": int(len(self.digits.x_train)),
            "n_test": int(len(self.digits.x_test)),
            "classes": list(mnist.FASHION_CLASSES)
            if self.cfg.dataset == "fashion"
            else [str(d) for d in range(10)],
        }

    def frame(self, light: bool = False) -> dict[str, Any]:
        """After an epoch: the test confusion matrix and up to 24 misclassified digits."""
        x_test = self.trainer.x_test
        assert x_test is not None
        probs = self.network.forward(x_test)
        predicted = self.network.labels(probs)
        truth = self.digits.y_test.astype(np.int64)
        wrong = np.flatnonzero(predicted != truth)[:24]
        gallery = [
            {
                "index": int(i),
                "label": int(truth[i]),
                "predicted": int(predicted[i]),
                "pixels": base64.b64encode(self.digits.x_test[i].tobytes()).decode(),
                "probabilities": [round(float(p), 4) for p in probs[i]],
            }
            for i in wrong
        ]
        return {
            "type": "evaluation",
            "epoch": self.trainer.epoch,
            "confusion": confusion_matrix(predicted, truth, 10).tolist(),
            "misclassified": gallery,
            "n_wrong": int((predicted != truth).sum()),
        }

    def status_extra(self) -> dict[str, Any]:
        return {"epochs": self.cfg.epochs}

    def restart_config(self) -> MnistConfig:
        return self.cfg.model_copy(update=self.live_settings())

    def save(self, store: ModelStore, name: str, owner: str) -> dict[str, Any]:
        meta = metadata(self.cfg, self.trainer)
        store.save(name, self.network, meta, owner)
        return meta
