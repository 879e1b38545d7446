"""The wire: every event the server sends, and the binary frame encoding
(docs/protocol.md).  Core values become JSON or bytes here and nowhere else."""

from __future__ import annotations

import base64
import json
import struct
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

# ------------------------------------------------------------- binary frames
MAGIC = b"BPF1"
BIG_ENDIAN = sys.byteorder == "big"


_NAMES: dict[np.dtype[Any], str] = {}


def _name(dtype: np.dtype[Any]) -> str:
    """``dtype.name``, remembered (NumPy computes it afresh on every access)."""
    name = _NAMES.get(dtype)
    if name is None:
        name = _NAMES[dtype] = dtype.name
    return name


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
        if data.dtype.byteorder == ">" or (data.dtype.byteorder == "=" and BIG_ENDIAN):
            data = data.astype(data.dtype.newbyteorder("<"))
        raw = data.tobytes()
        layout.append(
            {
                "name": name,
                "dtype": _name(data.dtype),
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


def encode_json(event: dict[str, Any]) -> str:
    """An event as the JSON text a socket sends (what ``send_json`` would write), for
    large answers encoded on a worker thread rather than the event loop.  NaN is refused."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


# ------------------------------------------------------------- outbound events
def error_event(field: str, message: str) -> dict[str, Any]:
    """A request could not be used; nothing changed.  ``field`` names the control."""
    return {"type": "error", "field": field, "message": message}


def status_event(state: str, epoch: int, **extra: Any) -> dict[str, Any]:
    """The run's state: running, paused, done, diverged, stopped (or busy, before one)."""
    return {"type": "status", "state": state, "epoch": epoch, **extra}


def busy_event(learners: int) -> dict[str, Any]:
    """The whole server is full: sent before the socket closes with 1013 ``busy``."""
    are = "s are" if learners != 1 else " is"
    return {
        "type": "status",
        "state": "busy",
        "learners": learners,
        "message": f"The server is full: {learners} learner{are} training.",
    }


def progress_event(reports: Sequence[Any]) -> dict[str, Any]:
    """Every epoch since the last progress message, column-wise (``EpochReport`` rows)."""
    return {
        "type": "progress",
        "epochs": [r.epoch for r in reports],
        "train_loss": jsonable([r.train_loss for r in reports]),
        "test_loss": jsonable([r.test_loss for r in reports]),
        "accuracy": jsonable([r.accuracy for r in reports]),
        "learning_rate": [r.learning_rate for r in reports],
    }


def set_event(changes: dict[str, Any]) -> dict[str, Any]:
    """The live settings a ``set`` request changed, as applied."""
    return {"type": "set", **changes}


def edited_event(changes: dict[str, Any]) -> dict[str, Any]:
    """The parameter an ``edit`` request set."""
    return {"type": "edited", **changes}


def saved_event(name: str, metadata: dict[str, Any]) -> dict[str, Any]:
    return {"type": "saved", "name": name, "metadata": metadata}


def export_event(filename: str, npz: bytes, onnx: bytes, script: str) -> dict[str, Any]:
    """The trained network as ``.npz`` and ONNX (base64) and a script that retrains it."""
    return {
        "type": "export",
        "filename": filename,
        "npz": base64.b64encode(npz).decode(),
        "onnx": base64.b64encode(onnx).decode(),
        "script": script,
    }
