"""Wire formats: inbound requests (validated with pydantic), outbound events, and the
binary frame encoding.  The single place where core values become JSON or bytes.

Limits live in :data:`LIMITS` and appear in every error message as the allowed range.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from nn_core.activations import HIDDEN_ACTIVATIONS
from nn_core.datasets import DATASETS
from nn_core.features import FEATURES
from nn_core.initializers import INITIALIZERS
from nn_core.optimizers import OPTIMIZERS
from nn_core.regularization import REGULARIZERS

LIMITS: dict[str, tuple[float, float]] = {
    "n_samples": (10, 5000),
    "noise": (0, 0.5),
    "train_ratio": (0.1, 0.9),
    "learning_rate": (1e-6, 10),
    "batch_size": (1, 5000),
    "regularization_rate": (0, 10),
    "seed": (0, 2**31 - 1),
    "grid": (10, 200),
    "n_classes": (2, 6),
    "max_epochs": (1, 1_000_000),
    "neurons": (1, 64),
    "hidden_layers": (0, 8),
    "points": (0, 5000),
    "value": (-100, 100),
    "layer": (0, 8),
    "i": (0, 63),
    "j": (0, 63),
    "index": (0, 4999),
    "speed": (0, 1000),
}
DATASET_NAMES = (*DATASETS, "custom")


def _num(name: str, kind: type = float) -> Any:
    lo, hi = LIMITS[name]
    return Annotated[kind, Field(ge=kind(lo), le=kind(hi), strict=True, allow_inf_nan=False)]


Dataset = Literal[DATASET_NAMES]  # type: ignore[valid-type]
Activation = Literal[HIDDEN_ACTIVATIONS]  # type: ignore[valid-type]
Feature = Literal[tuple(FEATURES)]  # type: ignore[valid-type]
Optimizer = Literal[tuple(OPTIMIZERS)]  # type: ignore[valid-type]
Regularization = Literal[tuple(REGULARIZERS)]  # type: ignore[valid-type]
Neurons = Annotated[int, Field(ge=1, le=64, strict=True)]
Point = tuple[
    Annotated[float, Field(ge=-6, le=6, allow_inf_nan=False)],
    Annotated[float, Field(ge=-6, le=6, allow_inf_nan=False)],
    Annotated[float, Field(ge=-1, le=5, allow_inf_nan=False)],
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TrainConfig(Strict):
    """A playground run.  Every key has a default, so ``{}`` is a valid config."""

    dataset: Dataset = "circle"
    n_samples: _num("n_samples", int) = 500  # type: ignore[valid-type]
    noise: _num("noise") = 0.0  # type: ignore[valid-type]
    train_ratio: _num("train_ratio") = 0.5  # type: ignore[valid-type]
    features: Annotated[list[Feature], Field(min_length=1, max_length=7)] = ["x1", "x2"]  # type: ignore[valid-type]
    hidden_layers: Annotated[list[Neurons], Field(max_length=8)] = [4, 2]
    activation: Activation | Annotated[list[Activation], Field(max_length=8)] = "tanh"
    problem: Literal["classification", "regression"] | None = None
    loss: Literal["auto", "bce", "cross_entropy", "mse", "quadratic"] = "auto"
    learning_rate: _num("learning_rate") = 0.03  # type: ignore[valid-type]
    init: Literal[tuple(INITIALIZERS)] = "xavier"  # type: ignore[valid-type]
    optimizer: Optimizer = "sgd"  # type: ignore[valid-type]
    batch_size: _num("batch_size", int) = 10  # type: ignore[valid-type]
    regularization: Regularization = "none"  # type: ignore[valid-type]
    regularization_rate: _num("regularization_rate") = 0.0  # type: ignore[valid-type]
    seed: _num("seed", int) = 0  # type: ignore[valid-type]
    grid: _num("grid", int) = 100  # type: ignore[valid-type]
    n_classes: _num("n_classes", int) = 3  # type: ignore[valid-type]
    max_epochs: _num("max_epochs", int) | None = None  # type: ignore[valid-type]
    #: Epochs per second to train at, so a class can watch (0: as fast as possible).
    speed: _num("speed") = 0  # type: ignore[valid-type]
    points: Annotated[list[Point], Field(max_length=5000)] = []

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        if isinstance(self.activation, list) and len(self.activation) != len(self.hidden_layers):
            raise ValueError("activation: give one name per hidden layer")
        if self.dataset == "custom" and len(self.points) < 2:
            raise ValueError("points: a custom data set needs at least 2 points")
        return self

    def resolved_problem(self) -> str:
        if self.problem is not None:
            return self.problem
        if self.dataset == "custom":
            return "classification"
        return DATASETS[self.dataset].problem


class StartRequest(Strict):
    type: Literal["start"]
    config: TrainConfig = TrainConfig()
    #: Build the run but wait for "resume" (the page shows the untrained network first).
    paused: bool = False


class SetRequest(Strict):
    type: Literal["set"]
    learning_rate: _num("learning_rate") | None = None  # type: ignore[valid-type]
    regularization_rate: _num("regularization_rate") | None = None  # type: ignore[valid-type]
    batch_size: _num("batch_size", int) | None = None  # type: ignore[valid-type]
    speed: _num("speed") | None = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _something(self) -> SetRequest:
        if (
            self.learning_rate is None
            and self.regularization_rate is None
            and self.batch_size is None
            and self.speed is None
        ):
            raise ValueError(
                "learning_rate: give a learning rate, a regularization rate, a batch size "
                "or a speed"
            )
        return self


class ControlRequest(Strict):
    type: Literal["pause", "resume", "step", "reset", "export"]


_Index = Annotated[int, Field(ge=0, le=63, strict=True)]


class EditRequest(Strict):
    """Set one weight ``w[layer][i, j]`` or bias ``b[layer][j]`` (layer 0 is the first
    hidden layer's incoming weights)."""

    type: Literal["edit"]
    layer: _num("layer", int)  # type: ignore[valid-type]
    kind: Literal["weight", "bias"]
    i: _Index | None = None
    j: _Index
    value: _num("value")  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _needs_i(self) -> EditRequest:
        if self.kind == "weight" and self.i is None:
            raise ValueError("i: a weight needs i, the input unit it comes from")
        return self


class TraceRequest(Strict):
    """One sample's forward and backward pass at the current weights."""

    type: Literal["trace"]
    split: Literal["train", "test"] = "train"
    index: _num("index", int)  # type: ignore[valid-type]


class VerifyRequest(Strict):
    """A finite-difference check of one parameter's gradient."""

    type: Literal["verify"]
    layer: _num("layer", int)  # type: ignore[valid-type]
    kind: Literal["weight", "bias"]
    i: _Index = 0
    j: _Index


class SaveRequest(Strict):
    """Save the trained model under ``name`` (the digits page's MNIST runs)."""

    type: Literal["save"]
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")]


REQUEST_TYPES = (
    "start", "set", "pause", "resume", "step", "reset", "export", "save", "edit", "trace",
    "verify",
)
Item = Any  # a validated request or a BadRequest


def make_parser(start: type[BaseModel]) -> Callable[[str | bytes], Any]:
    """A parser for one WebSocket protocol whose ``start`` request is ``start``."""
    union: Any = Annotated[
        start | SetRequest | ControlRequest | SaveRequest | EditRequest | TraceRequest
        | VerifyRequest,
        Field(discriminator="type"),
    ]
    adapter: TypeAdapter[Any] = TypeAdapter(union)

    def parse(text: str | bytes) -> Any:
        """Parse one WebSocket message or raise :class:`BadRequest`."""
        try:
            raw = json.loads(text)
        except (ValueError, RecursionError):
            raise BadRequest("message", "must be a JSON object with a type field") from None
        if not isinstance(raw, dict) or "type" not in raw:
            raise BadRequest("type", "must be one of " + ", ".join(REQUEST_TYPES))
        try:
            return adapter.validate_python(raw)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            raise BadRequest(*_explain(err["loc"], err["type"], err["msg"])) from None
        except RecursionError:
            raise BadRequest("message", "is nested too deeply") from None

    return parse


class BadRequest(ValueError):
    """An inbound message that cannot be used; ``field`` names what was wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def event(self) -> dict[str, Any]:
        return {"type": "error", "field": self.field, "message": self.message}


def _range(name: str) -> str:
    lo, hi = LIMITS[name]
    return f"must be between {lo:g} and {hi:g}"


def _explain(loc: Sequence[int | str], err_type: str, msg: str) -> tuple[str, str]:
    """Turn one pydantic error into ``(field, message)`` people can act on."""
    names = [str(p) for p in loc if not isinstance(p, int)]
    # drop the discriminator tag pydantic puts in the path ("start", "set", ...)
    names = [n for n in names if n not in REQUEST_TYPES and n not in ("config",)] or names
    field = names[-1] if names else "message"
    if field in ("hidden_layers",) or (names[-2:-1] == ["hidden_layers"]):
        return "hidden_layers", "must list 0 to 8 hidden layers of 1 to 64 neurons each"
    if field == "name":
        return "name", "must be 1-40 letters, digits, '-' or '_', starting with a letter or digit"
    if field == "points" or "points" in names:
        return "points", "must be up to 5000 points [x1, x2, label] with x1, x2 in -6..6"
    if field in LIMITS:
        return field, _range(field)
    if err_type == "extra_forbidden":
        if not field.strip() or len(field) > 40:
            return "config" if "config" in [str(p) for p in loc] else "message", (
                f"has an unknown setting {field[:40]!r}"
            )
        return field, "is not a known setting"
    if err_type in ("literal_error", "enum"):
        return field, msg.replace("Input should be", "must be")
    if err_type == "value_error":
        text = msg.removeprefix("Value error, ")
        head, _, rest = text.partition(": ")
        return (head, rest) if rest and " " not in head else (field, text)
    if err_type == "union_tag_invalid" or field == "type":
        return "type", "must be one of " + ", ".join(REQUEST_TYPES)
    return field, msg.replace("Input should be", "must be")


parse_request = make_parser(StartRequest)


# ------------------------------------------------------------- binary frames
MAGIC = b"BPF1"


def encode_frame(
    header: dict[str, Any], blocks: Sequence[tuple[str, np.ndarray, dict[str, Any]]]
) -> bytes:
    """Pack a frame: ``MAGIC``, uint32 LE header length, JSON header, then the blocks.

    Each block's bytes start at a multiple of 4 (so the page can view float32 data in
    place); the header lists ``name``, ``dtype``, ``shape``, ``offset`` (from the payload's
    start) and any extras (``lo``/``hi`` of a quantised grid).
    """
    parts, layout, offset = [], [], 0
    for name, arr, extra in blocks:
        data = np.ascontiguousarray(arr)
        if data.dtype == np.float64:
            data = data.astype(np.float32)
        raw = data.astype(data.dtype.newbyteorder("<")).tobytes()
        layout.append(
            {
                "name": name,
                "dtype": str(data.dtype),
                "shape": list(data.shape),
                "offset": offset,
                **extra,
            }
        )
        pad = (-len(raw)) % 4
        parts.append(raw + b"\0" * pad)
        offset += len(raw) + pad
    head = json.dumps({**header, "blocks": layout}, separators=(",", ":")).encode()
    head += b" " * ((-len(head)) % 4)
    return MAGIC + struct.pack("<I", len(head)) + head + b"".join(parts)


def decode_frame(data: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Inverse of :func:`encode_frame` (used by tests and notebook clients)."""
    if data[:4] != MAGIC:
        raise ValueError("not a Backprop Lab frame")
    (n,) = struct.unpack("<I", data[4:8])
    header = json.loads(data[8 : 8 + n])
    base = 8 + n
    arrays = {}
    for b in header["blocks"]:
        dt = np.dtype(b["dtype"]).newbyteorder("<")
        count = int(np.prod(b["shape"])) if b["shape"] else 1
        arrays[b["name"]] = np.frombuffer(data, dt, count, base + b["offset"]).reshape(b["shape"])
    return header, arrays


def jsonable(values: Sequence[float | None]) -> list[float | None]:
    """Floats for JSON: NaN and infinity become ``None`` (JSON has no NaN)."""
    return [None if v is None or not np.isfinite(v) else round(float(v), 6) for v in values]
