"""The session protocol's requests (docs/protocol.md), shared by every run type, and the
parser that turns one WebSocket message into a validated request or a :class:`BadRequest`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError, model_validator

from app.validation import (
    LIMITS,
    NAME_PATTERN,
    OWNER_PATTERN,
    REQUEST_TYPES,
    BadRequest,
    Strict,
    explain_error,
    number,
)


class SetRequest(Strict):
    type: Literal["set"]
    learning_rate: number("learning_rate") | None = None  # type: ignore[valid-type]
    regularization_rate: number("regularization_rate") | None = None  # type: ignore[valid-type]
    batch_size: number("batch_size", int) | None = None  # type: ignore[valid-type]
    speed: number("speed") | None = None  # type: ignore[valid-type]

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


class EditRequest(Strict):
    """Set one weight ``w[layer][i, j]`` or bias ``b[layer][j]`` (layer 0 is the first
    hidden layer's incoming weights)."""

    type: Literal["edit"]
    layer: number("layer", int)  # type: ignore[valid-type]
    kind: Literal["weight", "bias"]
    i: number("i", int) | None = None  # type: ignore[valid-type]
    j: number("j", int)  # type: ignore[valid-type]
    value: number("value")  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _needs_i(self) -> EditRequest:
        if self.kind == "weight" and self.i is None:
            raise ValueError("i: a weight needs i, the input unit it comes from")
        return self


class TraceRequest(Strict):
    """One sample's forward and backward pass at the current weights."""

    type: Literal["trace"]
    split: Literal["train", "test"] = "train"
    index: number("index", int)  # type: ignore[valid-type]


class MatrixRequest(Strict):
    """A batch's backward pass in the tutorials' matrix form: the next mini-batch or the
    whole training set."""

    type: Literal["matrix"]
    batch: Literal["next", "train"] = "next"


class SeedsRequest(Strict):
    """Train the current setup from ``seeds`` seeds side by side, ``seed_epochs`` epochs
    each (``stop``: no more)."""

    type: Literal["seeds"]
    seeds: number("seeds", int) = 16  # type: ignore[valid-type]
    seed_epochs: number("seed_epochs", int) = 300  # type: ignore[valid-type]
    stop: bool = False


class PickSeedRequest(Strict):
    """Make one of the seeds' runs, as trained, the learner's run."""

    type: Literal["pick_seed"]
    seed: number("seed", int)  # type: ignore[valid-type]


class VerifyRequest(Strict):
    """A finite-difference check of one parameter's gradient."""

    type: Literal["verify"]
    layer: number("layer", int)  # type: ignore[valid-type]
    kind: Literal["weight", "bias"]
    i: number("i", int) = 0  # type: ignore[valid-type]
    j: number("j", int)  # type: ignore[valid-type]


class SaveRequest(Strict):
    """Save the trained model under ``name`` (the digits page's MNIST runs) for the browser
    whose token is ``owner``: only that token may replace or delete it later."""

    type: Literal["save"]
    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    owner: Annotated[str, Field(pattern=OWNER_PATTERN)]


Item = Any  # a validated request or a BadRequest


def make_parser(
    start: type[BaseModel], limits: Mapping[str, tuple[float, float]] = LIMITS
) -> Callable[[str | bytes], Any]:
    """A parser for one WebSocket protocol whose ``start`` request is ``start``, whose
    config's numbers were built from ``limits`` (the ranges its messages quote)."""
    union: Any = Annotated[
        start
        | SetRequest
        | ControlRequest
        | SaveRequest
        | EditRequest
        | TraceRequest
        | MatrixRequest
        | SeedsRequest
        | PickSeedRequest
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
            raise BadRequest(*explain_error(exc, limits=limits)) from None
        except RecursionError:
            raise BadRequest("message", "is nested too deeply") from None

    return parse
