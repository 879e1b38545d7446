from __future__ import annotations

import numpy as np
import pytest

from nn_core.optimizers import OPTIMIZERS, SGD, cosine, get_optimizer, step_decay


def test_sgd_steps_against_the_gradient() -> None:
    w, g = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    SGD(0.1).step([w], [g])
    np.testing.assert_allclose(w, [0.95, 2.1])


def test_learning_rate_can_change_between_steps() -> None:
    w, g = np.array([0.0]), np.array([1.0])
    opt = SGD(0.1)
    opt.step([w], [g])
    opt.learning_rate = 1.0
    opt.step([w], [g])
    np.testing.assert_allclose(w, [-1.1])


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_minimises_a_quadratic(name: str) -> None:
    w = np.array([3.0, -2.0])
    opt = get_optimizer(name, 0.05)
    for _ in range(500):
        opt.step([w], [2 * w])  # gradient of |w|^2
    assert np.linalg.norm(w) < 0.05


def test_unknown_optimizer_names_the_choices() -> None:
    with pytest.raises(ValueError, match="sgd, momentum, adam"):
        get_optimizer("rmsprop", 0.1)


def test_schedules() -> None:
    assert step_decay(1.0, 25, 100) == pytest.approx(0.25)
    assert cosine(1.0, 0, 10) == pytest.approx(1.0)
    assert cosine(1.0, 10, 10) == pytest.approx(0.0)
