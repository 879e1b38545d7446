"""What a client may send, and what it is told when a value cannot be used.

:data:`LIMITS` holds every numeric control's allowed range (the pydantic fields are built
from it with :func:`number`, and the page reads it from ``/api/options``); :func:`explain`
is the one translator from a pydantic error to a message that names the control and its
range, for the WebSocket's requests and the HTTP API's bodies alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.wire import error_event
from nn_core.datasets import EXTENT

MAX_POINTS = 5000  # points in a data set, generated or the learner's own
MAX_HIDDEN = 8  # hidden layers
MAX_NEURONS = 64  # neurons in one hidden layer
MAX_CLASSES = 6

LIMITS: dict[str, tuple[float, float]] = {
    "n_samples": (10, MAX_POINTS),
    "noise": (0, 0.5),
    "train_ratio": (0.1, 0.9),
    "learning_rate": (1e-6, 10),
    "batch_size": (1, MAX_POINTS),
    "regularization_rate": (0, 10),
    "seed": (0, 2**31 - 1),
    "grid": (10, 200),
    "n_classes": (2, MAX_CLASSES),
    "max_epochs": (1, 1_000_000),
    "speed": (0, 1000),
    # the network: how many hidden layers, and neurons in each
    "hidden_layers": (0, MAX_HIDDEN),
    "neurons": (1, MAX_NEURONS),
    # the learner's own data: how many points a custom set holds, where they may lie and
    # their labels (a class up to the last one, or a regression target from -1)
    "points": (2, MAX_POINTS),
    "coordinate": (-EXTENT, EXTENT),
    "label": (-1, MAX_CLASSES - 1),
    # one parameter of the network (edit, verify): weight matrix, input unit, unit, value
    "layer": (0, MAX_HIDDEN),
    "i": (0, MAX_NEURONS - 1),
    "j": (0, MAX_NEURONS - 1),
    "value": (-100, 100),
    # one sample (trace)
    "index": (0, MAX_POINTS - 1),
    # a run that goes on from given parameters (start's resume_from): the epoch it had
    # reached, and every weight and bias it brings
    "epoch": (0, 2**31 - 1),
    "parameter": (-1e4, 1e4),
    # many seeds at once (the playground's "Run 16 seeds"): how many, and epochs each
    "seeds": (2, 16),
    "seed_epochs": (1, 5000),
}
#: The digits page's ranges: the playground's, with MNIST-sized networks and batches (and
#: the most a saved model file may claim), and a run's epochs: 1,000, as a full-batch run
#: (one update an epoch) needs, e.g. the tutorial's 784-10-10 to reach its 88 %.
MNIST_LIMITS = {
    **LIMITS,
    "hidden_layers": (0, 4),
    "neurons": (1, 1024),
    "batch_size": (1, 60000),
    "epochs": (1, 1000),
}

#: A saved model's name (the digits page's "Save as"), and how a refusal says it.
NAME_LENGTH = 40
NAME_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9_-]{{0,{NAME_LENGTH - 1}}}$"
NAME_RULE = f"must be 1-{NAME_LENGTH} letters, digits, '-' or '_', starting with a letter or digit"
#: The token a browser keeps (localStorage) and sends with a save or a delete: only the
#: browser that saved a model may replace or delete it.  The server keeps its SHA-256.
OWNER_PATTERN = r"^[A-Za-z0-9_-]{22,128}$"
OWNER_RULE = "must be the browser's model token: 22-128 letters, digits, '-' or '_'"

#: Every message type a client may send (docs/protocol.md).
REQUEST_TYPES = (
    "start",
    "set",
    "pause",
    "resume",
    "step",
    "reset",
    "export",
    "save",
    "edit",
    "trace",
    "verify",
    "matrix",
    "seeds",
    "pick_seed",
)


def number(
    name: str, kind: type = float, limits: Mapping[str, tuple[float, float]] = LIMITS
) -> Any:
    """A pydantic field type for ``limits[name]``: ``kind`` between its two ends."""
    lo, hi = limits[name]
    return Annotated[kind, Field(ge=kind(lo), le=kind(hi), strict=True, allow_inf_nan=False)]


def span(name: str, limits: Mapping[str, tuple[float, float]] = LIMITS) -> str:
    """``"lo to hi"`` of ``limits[name]``, for messages."""
    lo, hi = limits[name]
    return f"{lo:g} to {hi:g}"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BadRequest(ValueError):
    """An inbound message that cannot be used; ``field`` names what was wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def event(self) -> dict[str, Any]:
        return error_event(self.field, self.message)


def _range(limits: Mapping[str, tuple[float, float]], name: str) -> str:
    lo, hi = limits[name]
    return f"must be between {lo:g} and {hi:g}"


def _hints(limits: Mapping[str, tuple[float, float]]) -> dict[str, str]:
    """Messages for the fields whose rule is more than one range (those ``limits`` has)."""
    hints = {"name": NAME_RULE, "owner": OWNER_RULE}
    if {"hidden_layers", "neurons"} <= limits.keys():
        layers, neurons = span("hidden_layers", limits), span("neurons", limits)
        hints["hidden_layers"] = f"must list {layers} hidden layers of {neurons} neurons each"
    if {"points", "coordinate", "label"} <= limits.keys():
        lo, hi = limits["coordinate"]
        hints["points"] = (
            f"must be up to {limits['points'][1]:g} points [x1, x2, label] with x1, x2 in "
            f"{lo:g}..{hi:g} and label in {limits['label'][0]:g}..{limits['label'][1]:g}"
        )
    return hints


def explain(
    loc: Sequence[int | str],
    err_type: str,
    msg: str,
    *,
    hints: Mapping[str, str] | None = None,
    limits: Mapping[str, tuple[float, float]] = LIMITS,
    whole: str = "message",
    known: str = "setting",
) -> tuple[str, str]:
    """Turn one pydantic error into ``(field, message)`` people can act on.

    ``hints`` are a model's own messages by field; ``limits`` the ranges its numbers were
    built from; ``whole`` names the message as a whole (``"body"`` for an HTTP request)
    and ``known`` what its keys are called.
    """
    names = [str(p) for p in loc if not isinstance(p, int)]
    # drop the discriminator tag pydantic puts in the path ("start", "set", ...)
    names = [n for n in names if n not in REQUEST_TYPES and n not in ("config",)] or names
    field = names[-1] if names else whole
    if err_type == "extra_forbidden":
        if not field.strip() or len(field) > 40:
            return "config" if "config" in [str(p) for p in loc] else whole, (
                f"has an unknown {known} {field[:40]!r}"
            )
        return field, f"is not a known {known}"
    if err_type == "value_error":
        text = msg.removeprefix("Value error, ")
        head, _, rest = text.partition(": ")
        return (head, rest) if rest and " " not in head else (field if names else whole, text)
    hints = {**_hints(limits), **(hints or {})}
    for name in reversed(names):
        if name in hints:
            return name, hints[name]
    if field in limits:
        return field, _range(limits, field)
    if err_type in ("literal_error", "enum"):
        return field, msg.replace("Input should be", "must be")
    if err_type == "union_tag_invalid" or field == "type":
        return "type", "must be one of " + ", ".join(REQUEST_TYPES)
    return field, msg.replace("Input should be", "must be")


def explain_error(exc: ValidationError, **how: Any) -> tuple[str, str]:
    """:func:`explain` for the first problem of ``exc`` (``how``: its keyword arguments)."""
    err = exc.errors(include_url=False)[0]
    return explain(err["loc"], err["type"], str(err["msg"]), **how)
