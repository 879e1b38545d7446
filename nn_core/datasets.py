"""Two-dimensional toy data sets, as in TensorFlow Playground and the tutorials.

Every generator is ``generate(n_samples, noise, rng, n_classes) -> (x, y)`` with
``x (n, 2)`` float64 points in about ``[-6, 6]^2`` and ``y`` either integer class labels
``(n,)`` (classification) or float targets in ``[-1, 1]`` ``(n,)`` (regression).
``noise`` runs from 0 (clean) to 0.5 (TensorFlow Playground's 50 %).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nn_core.types import Array

Generator = Callable[[int, float, np.random.Generator, int], tuple[Array, Array]]
EXTENT = 6.0  # the plane shown on the page is [-EXTENT, EXTENT]^2


def _halves(n: int) -> tuple[int, int]:
    return n // 2, n - n // 2


def circle(
    n: int, noise: float, rng: np.random.Generator, n_classes: int = 2
) -> tuple[Array, Array]:
    """An inner disc (class 1, r < 2.5) inside a ring (class 0, 3.5 < r < 5)."""
    radius = 5.0
    n_in, n_out = _halves(n)
    r = np.concatenate(
        [rng.uniform(0, radius * 0.5, n_in), rng.uniform(radius * 0.7, radius, n_out)]
    )
    angle = rng.uniform(0, 2 * np.pi, n)
    x = np.c_[r * np.sin(angle), r * np.cos(angle)]
    jitter = rng.uniform(-radius, radius, (n, 2)) * noise
    y = (np.hypot(*(x + jitter).T) < radius * 0.5).astype(np.int64)
    return x, y


def xor(n: int, noise: float, rng: np.random.Generator, n_classes: int = 2) -> tuple[Array, Array]:
    """Uniform points in four quadrants; class 1 where ``x1 * x2 >= 0``."""
    x = rng.uniform(-5, 5, (n, 2))
    x += np.where(x > 0, 0.3, -0.3)  # keep a small gap along the axes
    jitter = rng.uniform(-5, 5, (n, 2)) * noise
    moved = x + jitter
    y = (moved[:, 0] * moved[:, 1] >= 0).astype(np.int64)
    return x, y


def gaussian(
    n: int, noise: float, rng: np.random.Generator, n_classes: int = 2
) -> tuple[Array, Array]:
    """Two Gaussian clouds at (2, 2) (class 1) and (-2, -2) (class 0); noise widens them."""
    variance = 0.5 + 7.0 * noise  # 0.5 at noise 0 up to 4 at noise 0.5
    n1, n0 = _halves(n)
    x = np.concatenate(
        [
            rng.normal(2.0, np.sqrt(variance), (n1, 2)),
            rng.normal(-2.0, np.sqrt(variance), (n0, 2)),
        ]
    )
    y = np.r_[np.ones(n1, np.int64), np.zeros(n0, np.int64)]
    return x, y


def _spiral_arms(n: int, noise: float, rng: np.random.Generator, arms: int) -> tuple[Array, Array]:
    counts = [n // arms + (1 if k < n % arms else 0) for k in range(arms)]
    xs, ys = [], []
    for k, m in enumerate(counts):
        i = np.arange(m)
        r = i / max(m, 1) * 5.0
        t = 1.75 * i / max(m, 1) * 2 * np.pi + 2 * np.pi * k / arms
        pts = np.c_[r * np.sin(t), r * np.cos(t)] + rng.uniform(-1, 1, (m, 2)) * noise
        xs.append(pts)
        ys.append(np.full(m, k, np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def spiral(
    n: int, noise: float, rng: np.random.Generator, n_classes: int = 2
) -> tuple[Array, Array]:
    """Two interleaved spiral arms (classes 1 and 0)."""
    x, y = _spiral_arms(n, noise, rng, 2)
    return x, 1 - y


def multi_spiral(
    n: int, noise: float, rng: np.random.Generator, n_classes: int = 3
) -> tuple[Array, Array]:
    """``n_classes`` spiral arms, one class each."""
    return _spiral_arms(n, noise, rng, n_classes)


def blobs(
    n: int, noise: float, rng: np.random.Generator, n_classes: int = 3
) -> tuple[Array, Array]:
    """``n_classes`` Gaussian blobs on a circle of radius 3.5, one class each."""
    y = np.arange(n) % n_classes
    angle = 2 * np.pi * y / n_classes + np.pi / 2
    centres = 3.5 * np.c_[np.cos(angle), np.sin(angle)]
    x = centres + rng.normal(0.0, 0.6 + 3.0 * noise, (n, 2))
    return x, y.astype(np.int64)


def moons(
    n: int, noise: float, rng: np.random.Generator, n_classes: int = 2
) -> tuple[Array, Array]:
    """Two interleaved half circles (scikit-learn's ``make_moons``), scaled to the plane."""
    n0, n1 = _halves(n)
    t0, t1 = rng.uniform(0, np.pi, n0), rng.uniform(0, np.pi, n1)
    upper = np.c_[np.cos(t0), np.sin(t0)]
    lower = np.c_[1 - np.cos(t1), 0.5 - np.sin(t1)]
    x = np.concatenate([upper, lower]) - [0.5, 0.25]
    x = x * 3.0 + rng.normal(0.0, 3.0 * (0.05 + noise), (n, 2))
    y = np.r_[np.zeros(n0, np.int64), np.ones(n1, np.int64)]
    return x, y


def flower(
    n: int, noise: float, rng: np.random.Generator, n_classes: int = 2
) -> tuple[Array, Array]:
    """The tutorials' planar "flower": ``r = 4 sin(4 t)``, two classes of petals.

    Noise 0 reproduces the tutorial (jitter of 0.2 on angle and radius); more noise adds to it.
    """
    n0, n1 = _halves(n)
    xs, ys = [], []
    for j, m in enumerate((n0, n1)):
        std = 0.2 + noise
        t = np.linspace(j * 3.12, (j + 1) * 3.12, m) + rng.standard_normal(m) * std
        r = 4 * np.sin(4 * t) + rng.standard_normal(m) * std
        xs.append(np.c_[r * np.sin(t), r * np.cos(t)])
        ys.append(np.full(m, j, np.int64))
    return np.concatenate(xs) * 1.25, np.concatenate(ys)


def plane(
    n: int, noise: float, rng: np.random.Generator, n_classes: int = 2
) -> tuple[Array, Array]:
    """Regression: target ``(x1 + x2) / 10`` (clipped to [-1, 1]) on uniform points."""
    x = rng.uniform(-EXTENT, EXTENT, (n, 2))
    jitter = rng.uniform(-EXTENT, EXTENT, (n, 2)) * noise
    y = np.clip((x + jitter).sum(axis=1) / 10.0, -1, 1)
    return x, y


_BUMPS = np.array(
    [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]]
)


def multi_gaussian(
    n: int, noise: float, rng: np.random.Generator, n_classes: int = 2
) -> tuple[Array, Array]:
    """Regression: six signed bumps; the target is the strongest bump at the point."""
    x = rng.uniform(-EXTENT, EXTENT, (n, 2))
    moved = x + rng.uniform(-EXTENT, EXTENT, (n, 2)) * noise
    dist = np.hypot(moved[:, None, 0] - _BUMPS[:, 0], moved[:, None, 1] - _BUMPS[:, 1])
    height = np.clip(1 - dist / 2.0, 0, 1) * _BUMPS[:, 2]
    y = height[np.arange(n), np.argmax(np.abs(height), axis=1)]
    return x, y


@dataclass(frozen=True)
class DatasetSpec:
    """A registry entry: the generator and what kind of problem it poses."""

    name: str
    generate: Generator
    problem: str  # "classification" or "regression"
    multiclass: bool = False
    description: str = ""


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec("circle", circle, "classification", description="a disc inside a ring"),
        DatasetSpec(
            "xor", xor, "classification", description="four quadrants, opposite corners alike"
        ),
        DatasetSpec("gaussian", gaussian, "classification", description="two Gaussian clouds"),
        DatasetSpec("spiral", spiral, "classification", description="two interleaved spirals"),
        DatasetSpec("moons", moons, "classification", description="two interleaved half moons"),
        DatasetSpec("flower", flower, "classification", description="the tutorials' planar flower"),
        DatasetSpec("blobs", blobs, "classification", True, "K Gaussian blobs, K classes"),
        DatasetSpec("multi_spiral", multi_spiral, "classification", True, "K spiral arms"),
        DatasetSpec("plane", plane, "regression", description="a tilted plane"),
        DatasetSpec("multi_gaussian", multi_gaussian, "regression", description="six signed bumps"),
    )
}


def make_dataset(
    name: str, n_samples: int, noise: float, rng: np.random.Generator, n_classes: int = 3
) -> tuple[Array, Array]:
    """Draw ``n_samples`` points of data set ``name`` (see :data:`DATASETS`)."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    spec = DATASETS[name]
    return spec.generate(n_samples, noise, rng, n_classes if spec.multiclass else 2)


def train_test_split(
    x: Array, y: Array, train_ratio: float, rng: np.random.Generator
) -> tuple[Array, Array, Array, Array]:
    """Shuffle and split into ``(x_train, y_train, x_test, y_test)``."""
    order = rng.permutation(x.shape[0])
    n_train = int(round(train_ratio * x.shape[0]))
    tr, te = order[:n_train], order[n_train:]
    return x[tr], y[tr], x[te], y[te]
