"""The digit prediction request and how its three input forms become a 28 x 28 input."""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from typing import Annotated

import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.validation import NAME_LENGTH, number
from nn_core.images import normalize_image, strokes_to_mnist

MAX_SIDE = 1024
MAX_IMAGE_CHARS = 3_000_000  # base64 characters of a data URL
MAX_POINTS = 20_000
MAX_STROKES = 200
PIXELS = 784  # a 28 x 28 image, row-major

#: The ranges of the request's numbers (what :func:`app.validation.explain` quotes).
LIMITS: dict[str, tuple[float, float]] = {"width": (1, 4096), "height": (1, 4096)}

Coord = Annotated[float, Field(ge=-1e5, le=1e5, allow_inf_nan=False)]
Pixel = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class PredictRequest(BaseModel):
    """Exactly one of ``pixels``, ``image`` or ``strokes`` (with ``width``/``height``)."""

    model_config = ConfigDict(extra="forbid")

    pixels: Annotated[list[Pixel], Field(min_length=PIXELS, max_length=PIXELS)] | None = None
    image: Annotated[str, Field(max_length=MAX_IMAGE_CHARS)] | None = None
    strokes: (
        Annotated[
            list[Annotated[list[tuple[Coord, Coord]], Field(max_length=MAX_POINTS)]],
            Field(min_length=1, max_length=MAX_STROKES),
        ]
        | None
    ) = None
    width: number("width", int, LIMITS) | None = None  # type: ignore[valid-type]
    height: number("height", int, LIMITS) | None = None  # type: ignore[valid-type]
    model: Annotated[str, Field(max_length=NAME_LENGTH)] | None = None
    #: Also return the gradient of the predicted class's output for each input pixel.
    saliency: bool = False

    @model_validator(mode="after")
    def _one_input(self) -> PredictRequest:
        given = [k for k in ("pixels", "image", "strokes") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("send exactly one of pixels, image or strokes")
        if self.strokes is not None and sum(len(s) for s in self.strokes) > MAX_POINTS:
            raise ValueError(f"strokes: at most {MAX_POINTS} points in all")
        return self


#: What :func:`app.validation.explain` says about a predict request's fields.
HINTS = {
    "pixels": f"must be {PIXELS} numbers between 0 and 1 (a 28x28 image, row-major)",
    "strokes": f"must be 1-{MAX_STROKES} strokes of [x, y] points (numbers), with width and height",
    "image": f"must be a data:image/png;base64 URL under {MAX_IMAGE_CHARS} characters",
    "model": f"must be a model name of at most {NAME_LENGTH} characters",
}


class ImageError(ValueError):
    pass


def decode_image(data_url: str) -> np.ndarray:
    """A canvas picture (PNG/JPEG/WebP data URL) -> ink-high float image in [0, 1].

    The size is checked from the header before any pixel is decoded (no image bombs).
    Ink may be dark on light, light on dark, or opaque strokes on a transparent canvas.
    """
    head, sep, payload = data_url.partition(",")
    if not sep or not head.startswith("data:image/") or ";base64" not in head:
        raise ImageError("must be a data:image/...;base64, URL")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ImageError("is not valid base64") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(raw))
            w, h = img.size
            if w > MAX_SIDE or h > MAX_SIDE:
                raise ImageError(f"is {w}x{h}; at most {MAX_SIDE}x{MAX_SIDE} pixels")
            if img.format not in ("PNG", "JPEG", "WEBP", "GIF", "BMP"):
                raise ImageError(f"format {img.format} is not supported; send PNG")
            rgba = np.asarray(img.convert("RGBA"), np.float32) / 255.0
    except ImageError:
        raise
    except (
        OSError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        SyntaxError,
    ) as exc:
        raise ImageError(f"could not be decoded ({type(exc).__name__})") from None
    lum = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    alpha = rgba[..., 3]
    if np.median(np.r_[alpha[0], alpha[-1], alpha[:, 0], alpha[:, -1]]) < 0.5:
        return alpha  # a transparent canvas: the strokes are what is opaque
    border = np.r_[lum[0], lum[-1], lum[:, 0], lum[:, -1]]
    ink = 1.0 - lum if np.median(border) > 0.5 else lum
    return np.clip((ink - np.median(np.r_[ink[0], ink[-1]])) / max(float(ink.max()), 1e-6), 0, 1)


def to_input(req: PredictRequest) -> np.ndarray:
    """The ``(784,)`` float input the model sees for this request."""
    if req.pixels is not None:
        return np.asarray(req.pixels, np.float32)
    if req.image is not None:
        return normalize_image(decode_image(req.image)).astype(np.float32).ravel()
    assert req.strokes is not None
    return strokes_to_mnist(req.strokes).astype(np.float32).ravel()


def is_tiny(req: PredictRequest, share: float = 0.04) -> bool:
    """Pen strokes spanning under ``share`` of the canvas both ways: a dot, not a digit."""
    if req.strokes is None or not req.width or not req.height:
        return False
    pts = np.asarray([p for s in req.strokes for p in s], np.float64)
    extent = pts.max(axis=0) - pts.min(axis=0)
    return bool(extent[0] < share * req.width and extent[1] < share * req.height)
