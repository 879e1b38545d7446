"""The run's health verdict: chance level, the window's figures, root cause, hysteresis."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nn_core.diagnosis import EXIT, HOLD, WINDOW, HealthWatch, chance_loss
from nn_core.health import VANISHING_SHARE, Health, LayerHealth
from nn_core.model import Network


def test_chance_is_the_loss_of_guessing_the_class_shares() -> None:
    """By hand: 3 of 10 points in class 1 give -(0.3 ln 0.3 + 0.7 ln 0.7) = 0.6109;
    classes of 2, 3 and 5 points give -(0.2 ln 0.2 + 0.3 ln 0.3 + 0.5 ln 0.5) = 1.0297;
    a regression's squared error, the targets' variance."""
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0], np.float32).reshape(-1, 1)
    net = Network([2, 3, 1], output_activation="sigmoid", loss="bce", seed=0)
    assert chance_loss(net, y) == pytest.approx(0.6108643, rel=1e-6)
    labels = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2, 2])
    soft = Network([2, 3, 3], output_activation="softmax", loss="cross_entropy", seed=0)
    assert chance_loss(soft, labels) == pytest.approx(1.0296530, rel=1e-6)
    assert chance_loss(soft, np.eye(3, dtype=np.float32)[labels]) == pytest.approx(1.029653)
    even = np.array([0, 1] * 5, np.float32).reshape(-1, 1)
    assert chance_loss(net, even) == pytest.approx(math.log(2))
    t = np.array([-1.0, 0.0, 0.5, 0.5], np.float32).reshape(-1, 1)
    reg = Network([2, 3, 1], output_activation="linear", loss="mse", seed=0)
    assert chance_loss(reg, t) == pytest.approx(float(np.var(t)), rel=1e-6)


def _fit(
    ratios: tuple[float, ...] = (1e-3, 1e-3),
    grads: tuple[float, ...] = (1.0, 1.0),
    loss: float = 0.3,
    dead: int = 0,
    sat: int = 0,
) -> Health:
    """A two-layer tanh network's health: the hidden layer may have saturated units, or
    be relu with dead ones."""
    act = "relu" if dead else "tanh"
    layers = [
        LayerHealth(g, 1.0, r, dead if li == 0 else 0, sat if li == 0 else 0, 4, act,
                    rectifier=bool(dead), saturating=not dead)
        for li, (g, r) in enumerate(zip(grads, ratios, strict=True))
    ]  # fmt: skip
    return Health(layers, [], [], [], 100, None, loss=loss)  # type: ignore[arg-type]


def _feed(watch: HealthWatch, fits: list[Health], start: int = 1) -> list[str]:
    return [watch.observe(start + i, f).code for i, f in enumerate(fits)]


def test_a_new_verdict_is_shown_only_after_it_held_for_hold_samples() -> None:
    watch = HealthWatch(chance=0.693)
    small = _fit(ratios=(1e-7, 1e-7))
    assert set(_feed(watch, [small] * 30)) == {"steps_too_small"}
    assert watch.shown is not None and watch.shown.figures["update_ratio"] == 1e-7
    codes = _feed(watch, [_fit()] * 20, start=31)
    assert codes == ["steps_too_small"] * (HOLD - 1) + ["healthy"] * (20 - HOLD + 1)


def test_healthy_is_dropped_as_soon_as_any_of_it_is_untrue() -> None:
    watch = HealthWatch(chance=0.693)
    assert set(_feed(watch, [_fit()] * 30)) == {"healthy"}
    assert watch.observe(31, _fit(ratios=(1e-3, 0.2))).code == "steps_too_large"
    # and the window remembers that step: it is the figure the table shows
    assert set(_feed(watch, [_fit()] * (WINDOW - 1), start=32)) == {"steps_too_large"}
    assert watch.ratios == [1e-3, 0.2]


def test_alternating_frames_do_not_flip_the_verdict() -> None:
    """The vanishing preset's share hovers near 10^-2: frames alternate either side."""
    watch = HealthWatch(chance=0.693)
    low, high = (1e-3, 1.0), (2e-2, 1.0)
    fits = [_fit(grads=high if i % 3 == 2 else low, loss=0.4) for i in range(200)]
    codes = _feed(watch, fits)
    assert set(codes) == {"vanishing"}
    # once shown, the share must climb past EXIT times the threshold to clear it
    near = _fit(grads=(VANISHING_SHARE * EXIT * 0.9, 1.0), loss=0.4)
    assert set(_feed(watch, [near] * 50, start=201)) == {"vanishing"}
    clear = _fit(grads=(1.0, 1.0), loss=0.4)
    codes = _feed(watch, [clear] * 50, start=251)
    assert codes[-1] == "healthy" and codes.count("vanishing") >= HOLD


def test_large_steps_are_named_as_the_cause_of_saturation_and_vanishing() -> None:
    """The rate typed up to 3: the units saturate at once, the large steps follow."""
    watch = HealthWatch(chance=0.693)
    assert set(_feed(watch, [_fit()] * 30)) == {"healthy"}
    mixed = [_fit(ratios=(1e-2, 0.3 if i % 2 else 1e-2), sat=1, loss=0.9) for i in range(30)]
    codes = _feed(watch, mixed, start=31)
    # saturation shows the moment health is untrue, until a large step came: then
    # their cause replaces it at once
    assert codes[0] == "saturated" and set(codes[1:]) == {"steps_too_large"}
    watch = HealthWatch(chance=0.693)
    large = [_fit(ratios=(1e-2, 0.3), loss=0.5)] * 10
    flat = [_fit(ratios=(0.0, 0.3), grads=(1e-7, 1.0), sat=3, loss=0.9)] * 100
    codes = _feed(watch, large + flat)
    assert set(codes) == {"steps_too_large"}
    d = watch.shown
    assert d is not None and d.also == ("saturated", "vanishing")
    assert d.figures == {"layer": 1, "update_ratio": 0.3}


def test_dead_units_after_large_steps_say_both() -> None:
    watch = HealthWatch(chance=0.693)
    _feed(watch, [_fit(ratios=(0.2, 0.1), dead=1, loss=0.5)] * 5)
    d = watch.shown
    assert d is not None and d.code == "dead" and d.also == ("steps_too_large",)
    assert d.figures == {"layer": 0, "dead": 1, "units": 4, "total": 1, "step_layer": 0,
                         "update_ratio": 0.2}  # fmt: skip


def test_healthy_needs_the_loss_below_chance() -> None:
    watch = HealthWatch(chance=0.693)
    assert set(_feed(watch, [_fit(loss=0.69)] * 30)) == {"not_learning"}
    assert watch.shown is not None and watch.shown.figures["loss"] == 0.69
    codes = _feed(watch, [_fit(loss=0.6)] * 30, start=31)
    assert codes[-1] == "healthy" and codes[: HOLD - 1] == ["not_learning"] * (HOLD - 1)


def test_the_step_is_the_windows_largest_not_the_last_batchs() -> None:
    """A last mini-batch that gave the weights no gradient moved them by exactly 0."""
    watch = HealthWatch(chance=0.693)
    fits = [_fit(ratios=(2e-4, 1e-4)), _fit(ratios=(1e-4, 3e-4))] * 3 + [_fit(ratios=(0.0, 0.0))]
    assert set(_feed(watch, fits)) == {"healthy"}
    assert watch.ratios == [2e-4, 3e-4]


def test_divergence_is_shown_at_once_and_an_edit_replaces_its_epoch() -> None:
    watch = HealthWatch(chance=0.693)
    _feed(watch, [_fit()] * 10)
    assert watch.observe(11, _fit(grads=(math.nan, 1.0))).code == "diverged"
    assert watch.observe(11, _fit()).code == "diverged"  # the same epoch again: replaced
    assert len(watch.samples) == 11 and watch.samples[-1].health.layers[0].grad_norm == 1.0
    _feed(watch, [_fit()] * (2 * WINDOW), start=12)
    assert len(watch.samples) == WINDOW and watch.shown is not None
    assert watch.shown.code == "healthy"
