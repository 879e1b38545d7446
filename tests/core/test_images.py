from __future__ import annotations

import numpy as np
import pytest

from nn_core import images, mnist

SEVEN = [[[10, 10], [60, 10], [30, 90]]]
FOUR = [[[40, 0], [5, 60], [60, 60]], [[45, 20], [45, 100]]]


def _draw(
    strokes: list[list[list[float]]],
    size: int,
    scale: float,
    offset: tuple[float, float],
    pen: float,
) -> np.ndarray:
    """A canvas picture of ``strokes`` (ink high), as a browser would rasterise it."""
    gy, gx = np.mgrid[0:size, 0:size] + 0.5
    best = np.full((size, size), np.inf)
    for s in strokes:
        p = np.asarray(s, float) * scale + offset
        for (x0, y0), (x1, y1) in zip(p[:-1], p[1:], strict=True):
            dx, dy = x1 - x0, y1 - y0
            t = np.clip(((gx - x0) * dx + (gy - y0) * dy) / (dx * dx + dy * dy), 0, 1)
            best = np.minimum(best, np.hypot(gx - x0 - t * dx, gy - y0 - t * dy))
    return np.clip(pen / 2 - best + 0.5, 0, 1)


def _similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_output_is_mnist_shaped_and_centred() -> None:
    out = images.strokes_to_mnist(SEVEN)
    assert out.shape == (28, 28) and out.min() >= 0 and out.max() <= 1
    cy, cx = images.centre_of_mass(out)
    assert abs(cy - 14.0) < 0.05 and abs(cx - 14.0) < 0.05
    top, bottom, left, right = images.ink_bbox(out) or (0, 0, 0, 0)
    assert max(bottom - top, right - left) in (20, 21)


def test_real_mnist_digits_are_nearly_fixed_points() -> None:
    d = mnist.load_bundled()
    x = d.x_test[:50].astype(float) / 255
    sims = [_similarity(images.to_mnist(img), img) for img in x]
    assert np.median(sims) > 0.95


@pytest.mark.parametrize("strokes", [SEVEN, FOUR])
def test_strokes_tiny_huge_or_off_centre_map_to_the_same_input(strokes: list) -> None:
    ref = images.strokes_to_mnist(strokes)
    for scale, shift in ((0.2, 3), (8.0, 500), (1.0, -40)):
        moved = [[[x * scale + shift, y * scale + 2 * shift] for x, y in s] for s in strokes]
        assert _similarity(images.strokes_to_mnist(moved), ref) > 0.99


@pytest.mark.parametrize("strokes", [SEVEN, FOUR])
def test_canvas_pictures_with_thin_or_thick_pens_agree(strokes: list) -> None:
    ref = images.strokes_to_mnist(strokes)
    variants = {
        "thin pen, big canvas": _draw(strokes, 400, 3.0, (30, 40), pen=3),
        "thick pen": _draw(strokes, 400, 3.0, (30, 40), pen=30),
        "tiny off-centre": _draw(strokes, 400, 0.5, (300, 20), pen=4),
    }
    for name, canvas in variants.items():
        got = images.normalize_image(canvas)
        assert _similarity(got, ref) > 0.85, name


def test_thin_strokes_are_thickened_to_mnist_width() -> None:
    thin = images.normalize_image(_draw(SEVEN, 400, 3.0, (30, 40), pen=2))
    assert 1.3 < images.stroke_width(thin) < 3.5
    assert 40 < thin.sum() < 160  # MNIST digits hold about 100 units of ink


def test_blank_input_gives_a_blank_field() -> None:
    assert not images.normalize_image(np.zeros((50, 50))).any()
    assert not images.strokes_to_mnist([]).any()
    dot = images.strokes_to_mnist([[[5, 5]]])
    assert dot.sum() > 0


def test_random_affine_keeps_ink_and_moves_it() -> None:
    d = mnist.load_bundled()
    x = mnist.as_inputs(d.x_train[:64])
    out = images.random_affine(x, np.random.default_rng(0))
    assert out.shape == x.shape and out.dtype == x.dtype
    assert np.allclose(out.sum(axis=1), x.sum(axis=1), rtol=0.15)
    assert not np.allclose(out, x)
    same = images.random_affine(x, np.random.default_rng(0), max_degrees=0, max_shift=0)
    np.testing.assert_allclose(same, x, atol=1e-6)
