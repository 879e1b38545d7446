"""What a client may send, and what it is told when a value cannot be used.

:data:`LIMITS` holds every numeric control's allowed range (the pydantic fields are built
from it with :func:`number`, and the page reads it from ``/api/options``); :func:`explain`
is the one translator from a pydantic error to a message that names the control and its
range.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.wire import error_event

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
)


def number(name: str, kind: type = float) -> Any:
    lo, hi = LIMITS[name]
    return Annotated[kind, Field(ge=kind(lo), le=kind(hi), strict=True, allow_inf_nan=False)]


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


def _range(name: str) -> str:
    lo, hi = LIMITS[name]
    return f"must be between {lo:g} and {hi:g}"


def explain(loc: Sequence[int | str], err_type: str, msg: str) -> tuple[str, str]:
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
