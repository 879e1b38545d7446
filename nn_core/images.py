"""Digit images the way MNIST made them, and MNIST augmentation.

MNIST's recipe (LeCun et al.): crop the ink to its bounding box, scale it so the longer
side is 20 px keeping the aspect ratio, with anti-aliasing, and place it in a 28 x 28
field so that its intensity centre of mass lands at the centre.  Measured on the bundled
digits the mean centre of mass is (14.0, 14.0) in 0-based (row, column) indices, and the
strokes are about 2 px wide at half intensity (a pen of 13 % of the box renders that).

Drawings differ from MNIST mostly in stroke width: a thin pen on a big canvas becomes a
faint hairline after scaling.  So strokes are rendered (or an image's ink is thickened)
at a working resolution with a pen 13 % of the digit's size before the MNIST steps.
Everything here is NumPy; images are float arrays with ink high, values in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nn_core.types import Array

BOX = 20  # longer side of the digit in the 28 x 28 field
FIELD = 28
CENTRE = (14.0, 14.0)  # target centre of mass (row, column), measured on MNIST
STROKE_RATIO = 0.13  # pen width / longer side: gives MNIST's ~2 px strokes and ink
WORK = 80  # working resolution (longer side) for rendering and thickening
MAX_SEGMENTS = 400  # most pen segments rendered for one drawing
INK_THRESHOLD = 0.1


# ------------------------------------------------------------- resampling
def _area_matrix(n_src: int, n_dst: int) -> Array:
    """``(n_dst, n_src)`` matrix averaging source cells over each destination cell's span."""
    scale = n_src / n_dst
    edges = np.arange(n_dst + 1) * scale  # destination cell j covers [edges[j], edges[j+1])
    lo, hi = edges[:-1, None], edges[1:, None]
    src = np.arange(n_src)[None, :]
    overlap = np.clip(np.minimum(hi, src + 1) - np.maximum(lo, src), 0, None)
    return overlap / scale


def resize_area(img: Array, height: int, width: int) -> Array:
    """Resize by area averaging (exact box filter): anti-aliased when shrinking."""
    return _area_matrix(img.shape[0], height) @ img @ _area_matrix(img.shape[1], width).T


def ink_bbox(img: Array, threshold: float = INK_THRESHOLD) -> tuple[int, int, int, int] | None:
    """``(top, bottom, left, right)`` (exclusive ends) of pixels above ``threshold``."""
    mask = img > threshold * max(float(img.max()), 1e-9)
    if not mask.any():
        return None
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def centre_of_mass(img: Array) -> tuple[float, float]:
    total = float(img.sum())
    if total <= 0:
        return CENTRE
    rows = float(img.sum(axis=1) @ np.arange(img.shape[0])) / total
    cols = float(img.sum(axis=0) @ np.arange(img.shape[1])) / total
    return rows, cols


def _paste(field: Array, img: Array, top: float, left: float) -> None:
    """Add ``img`` into ``field`` at a fractional offset (bilinear split over 4 pixels)."""
    ty, tx = int(np.floor(top)), int(np.floor(left))
    fy, fx = top - ty, left - tx
    h, w = img.shape
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            weight = wy * wx
            if weight == 0:
                continue
            r0, c0 = ty + dy, tx + dx
            rs, cs = max(r0, 0), max(c0, 0)
            re, ce = min(r0 + h, field.shape[0]), min(c0 + w, field.shape[1])
            if rs < re and cs < ce:
                field[rs:re, cs:ce] += weight * img[rs - r0 : re - r0, cs - c0 : ce - c0]


def to_mnist(img: Array) -> Array:
    """Crop, scale the longer side to 20 px (area averaging), centre the mass at (14, 14).

    ``img`` is any 2-D float image with ink high; returns ``(28, 28)`` in [0, 1].
    """
    field = np.zeros((FIELD, FIELD))
    box = ink_bbox(img)
    if box is None:
        return field
    top, bottom, left, right = box
    crop = img[top:bottom, left:right].astype(np.float64)
    h, w = crop.shape
    scale = BOX / max(h, w)
    small = resize_area(crop, max(1, round(h * scale)), max(1, round(w * scale)))
    peak = small.max()
    if peak > 0:
        small = small / max(peak, float(crop.max())) if peak > 1 else small
    cy, cx = centre_of_mass(small)
    _paste(field, small, CENTRE[0] - cy, CENTRE[1] - cx)
    return np.clip(field, 0.0, 1.0)


# ----------------------------------------------------------- stroke width
def _dilate(mask_img: Array, radius: float) -> Array:
    """Grey dilation by a disc of ``radius`` pixels (max over shifted copies)."""
    r = int(np.ceil(radius))
    if r <= 0:
        return mask_img
    padded = np.pad(mask_img, r)
    out = mask_img.copy()
    h, w = mask_img.shape
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if dy * dy + dx * dx <= radius * radius:
                np.maximum(out, padded[r + dy : r + dy + h, r + dx : r + dx + w], out=out)
    return out


def stroke_width(img: Array) -> float:
    """Estimated stroke width in pixels: ``2 * area / perimeter`` of the half-intensity ink."""
    ink = img > 0.5 * max(float(img.max()), 1e-9)
    area = float(ink.sum())
    perimeter = float((ink[1:] != ink[:-1]).sum() + (ink[:, 1:] != ink[:, :-1]).sum())
    perimeter += float(ink[0].sum() + ink[-1].sum() + ink[:, 0].sum() + ink[:, -1].sum())
    return 2 * area / perimeter if perimeter else 0.0


def normalize_image(img: Array) -> Array:
    """Bring a drawn image's stroke to MNIST's width relative to its size, then :func:`to_mnist`.

    The ink is cropped and shrunk to a working size; strokes thinner than 13 % of the
    digit's longer side are thickened by dilation (thick ones are left: MNIST has bold digits).
    """
    box = ink_bbox(img)
    if box is None:
        return np.zeros((FIELD, FIELD))
    top, bottom, left, right = box
    crop = img[top:bottom, left:right].astype(np.float64)
    h, w = crop.shape
    scale = min(1.0, WORK / max(h, w))
    work = resize_area(crop, max(1, round(h * scale)), max(1, round(w * scale)))
    work = np.clip(work / max(float(work.max()), 1e-9), 0, 1)
    target = STROKE_RATIO * max(work.shape)
    have = stroke_width(work)
    if have < target:
        work = np.pad(work, int(np.ceil(target)))
        work = _dilate(work, (target - have) / 2)
    return to_mnist(work)


# ---------------------------------------------------------------- strokes
def render_strokes(strokes: Sequence[Sequence[Sequence[float]]]) -> Array:
    """Render pen strokes (lists of ``(x, y)`` points, any units) with MNIST's pen width.

    The skeleton is scaled so that, with a round pen of width ``STROKE_RATIO`` of the
    digit's size, the ink's longer side is ``WORK`` pixels; pixels are anti-aliased by
    their distance to the nearest segment.  A lone point is a dot.
    """
    pts = [np.asarray(s, np.float64).reshape(-1, 2) for s in strokes if len(s)]
    if not pts:
        return np.zeros((WORK, WORK))
    allp = np.concatenate(pts)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    span = float(max(hi - lo)) or 1.0
    pen = STROKE_RATIO * WORK
    scale = (WORK - pen) / span
    margin = pen
    size = np.ceil((hi - lo) * scale + 2 * margin).astype(int) + 1
    height, width = int(size[1]), int(size[0])
    best = np.full((height, width), np.inf)
    gy, gx = np.mgrid[0:height, 0:width] + 0.5
    reach = pen / 2 + 1.0  # pixels farther than this from a segment get no ink from it
    paths = [(s - lo) * scale + margin for s in pts]
    lengths = [np.r_[0.0, np.cumsum(np.hypot(*np.diff(p, axis=0).T))] for p in paths]
    # a point every 2 px of path (denser points add segments, not shape), and at most
    # MAX_SEGMENTS in all, so even a frantic scribble renders in bounded time
    step = max(2.0, sum(float(p[-1]) for p in lengths) / MAX_SEGMENTS)
    for p, path in zip(paths, lengths, strict=True):
        keep = np.r_[True, np.diff(np.floor(path / step)) > 0]
        keep[-1] = True
        p = p[keep]
        if len(p) == 1:  # a tap: a dot
            p = np.vstack([p, p])
        coords = p.tolist()  # plain floats: scalar arithmetic on NumPy scalars is slow
        for (x0, y0), (x1, y1) in zip(coords[:-1], coords[1:], strict=True):
            # only the window around the segment: a few hundred pixels each
            c0, c1 = int(max(min(x0, x1) - reach, 0)), int(min(max(x0, x1) + reach + 1, width))
            r0, r1 = int(max(min(y0, y1) - reach, 0)), int(min(max(y0, y1) + reach + 1, height))
            py, px = gy[r0:r1, c0:c1], gx[r0:r1, c0:c1]
            dx, dy = x1 - x0, y1 - y0
            t = (px - x0) * dx
            t += (py - y0) * dy
            t *= 1.0 / max(dx * dx + dy * dy, 1e-12)
            np.clip(t, 0.0, 1.0, out=t)
            d = np.hypot(px - (x0 + t * dx), py - (y0 + t * dy))
            np.minimum(best[r0:r1, c0:c1], d, out=best[r0:r1, c0:c1])
    return np.clip(pen / 2 - best + 0.5, 0, 1)


def strokes_to_mnist(strokes: Sequence[Sequence[Sequence[float]]]) -> Array:
    """Pen strokes -> the 28 x 28 MNIST-style input (see :func:`render_strokes`)."""
    return to_mnist(render_strokes(strokes))


# ----------------------------------------------------------- augmentation
def random_affine(
    x: Array, rng: np.random.Generator, max_degrees: float = 12.0, max_shift: float = 2.0
) -> Array:
    """Rotate each ``28 x 28`` row of ``x (n, 784)`` by up to ``±max_degrees`` and shift it by
    up to ``±max_shift`` px, with bilinear sampling; returns a new ``(n, 784)`` array."""
    n = x.shape[0]
    theta = np.deg2rad(rng.uniform(-max_degrees, max_degrees, n))[:, None]
    ty, tx = (rng.uniform(-max_shift, max_shift, (2, n)))[:, :, None]
    rr, cc = np.divmod(np.arange(FIELD * FIELD), FIELD)
    yy, xx = rr[None, :] - 13.5 - ty, cc[None, :] - 13.5 - tx
    cos, sin = np.cos(theta), np.sin(theta)
    sy, sx = cos * yy - sin * xx + 13.5, sin * yy + cos * xx + 13.5  # inverse rotation
    y0, x0 = np.floor(sy).astype(np.intp), np.floor(sx).astype(np.intp)
    fy, fx = (sy - y0).astype(x.dtype), (sx - x0).astype(x.dtype)
    out = np.zeros_like(x)
    rows = np.arange(n)[:, None]
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            yi, xi = y0 + dy, x0 + dx
            ok = (yi >= 0) & (yi < FIELD) & (xi >= 0) & (xi < FIELD)
            vals = x[rows, np.where(ok, yi * FIELD + xi, 0)]
            out += np.where(ok, vals, 0) * (wy * wx)
    return out
