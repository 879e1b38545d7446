"""The playground's start config: every control of the page, with its limits."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from app.session.requests import make_parser
from app.validation import LIMITS, Strict, number
from nn_core.activations import HIDDEN_ACTIVATIONS
from nn_core.datasets import DATASETS
from nn_core.features import FEATURES
from nn_core.initializers import INITIALIZERS
from nn_core.losses import LOSSES
from nn_core.optimizers import OPTIMIZERS
from nn_core.regularization import REGULARIZERS

DATASET_NAMES = (*DATASETS, "custom")

Dataset = Literal[DATASET_NAMES]  # type: ignore[valid-type]
Activation = Literal[HIDDEN_ACTIVATIONS]  # type: ignore[valid-type]
Feature = Literal[tuple(FEATURES)]  # type: ignore[valid-type]
Optimizer = Literal[tuple(OPTIMIZERS)]  # type: ignore[valid-type]
Regularization = Literal[tuple(REGULARIZERS)]  # type: ignore[valid-type]
Loss = Literal[("auto", *LOSSES)]  # type: ignore[valid-type]
Neurons = number("neurons", int)
Coordinate = number("coordinate")
Label = number("label")
Point = tuple[Coordinate, Coordinate, Label]  # type: ignore[valid-type]
MAX_HIDDEN = int(LIMITS["hidden_layers"][1])
MIN_POINTS, MAX_POINTS = (int(n) for n in LIMITS["points"])


class TrainConfig(Strict):
    """A playground run.  Every key has a default, so ``{}`` is a valid config."""

    dataset: Dataset = "circle"
    n_samples: number("n_samples", int) = 500  # type: ignore[valid-type]
    noise: number("noise") = 0.0  # type: ignore[valid-type]
    train_ratio: number("train_ratio") = 0.5  # type: ignore[valid-type]
    features: Annotated[list[Feature], Field(min_length=1, max_length=len(FEATURES))] = ["x1", "x2"]  # type: ignore[valid-type]
    hidden_layers: Annotated[list[Neurons], Field(max_length=MAX_HIDDEN)] = [4, 2]  # type: ignore[valid-type]
    activation: Activation | Annotated[list[Activation], Field(max_length=MAX_HIDDEN)] = "tanh"
    problem: Literal["classification", "regression"] | None = None
    loss: Loss = "auto"
    learning_rate: number("learning_rate") = 0.03  # type: ignore[valid-type]
    init: Literal[tuple(INITIALIZERS)] = "xavier"  # type: ignore[valid-type]
    optimizer: Optimizer = "sgd"  # type: ignore[valid-type]
    batch_size: number("batch_size", int) = 10  # type: ignore[valid-type]
    regularization: Regularization = "none"  # type: ignore[valid-type]
    regularization_rate: number("regularization_rate") = 0.0  # type: ignore[valid-type]
    seed: number("seed", int) = 0  # type: ignore[valid-type]
    grid: number("grid", int) = 100  # type: ignore[valid-type]
    n_classes: number("n_classes", int) = 3  # type: ignore[valid-type]
    max_epochs: number("max_epochs", int) | None = None  # type: ignore[valid-type]
    #: Epochs per second to train at, so a class can watch (0: as fast as possible).
    speed: number("speed") = 0  # type: ignore[valid-type]
    points: Annotated[list[Point], Field(max_length=MAX_POINTS)] = []

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        if isinstance(self.activation, list) and len(self.activation) != len(self.hidden_layers):
            raise ValueError("activation: give one name per hidden layer")
        if self.dataset == "custom" and len(self.points) < MIN_POINTS:
            raise ValueError(f"points: a custom data set needs at least {MIN_POINTS} points")
        return self

    def resolved_problem(self) -> str:
        if self.problem is not None:
            return self.problem
        if self.dataset == "custom":
            return "classification"
        return DATASETS[self.dataset].problem


class ResumeFrom(Strict):
    """Parameters to go on from, as a frame carried them: its ``epoch`` and its ``weights``
    and ``biases`` blocks, each base64 of the little-endian float32 bytes in the frame's
    layout.  Their counts are checked against the config's network when the run is built."""

    epoch: number("epoch", int)  # type: ignore[valid-type]
    weights: str
    biases: str


class StartRequest(Strict):
    type: Literal["start"]
    config: TrainConfig = TrainConfig()
    #: Build the run but wait for "resume" (the page shows the untrained network first).
    paused: bool = False
    #: Go on from these parameters instead of the seed's initial weights.
    resume_from: ResumeFrom | None = None


parse_request = make_parser(StartRequest)
