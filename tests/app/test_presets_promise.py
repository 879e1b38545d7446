"""Every preset does what its text says: each ``promise`` in ``app/playground/presets.py``
(beside the text it checks), on five seeds, trained as the server builds a run from the
preset (the page's defaults, the preset's config and the seed: ``TrainConfig``)."""

from __future__ import annotations

from typing import Any

import pytest

from app.playground.presets import PRESETS
from app.playground.run import PlaygroundRun
from app.playground.schema import TrainConfig
from nn_core.health import Health, health

SEEDS = 5
KNOWN = {
    "epochs", "seeds", "accuracy_at_least", "stuck_below", "stuck_seeds", "slower_than",
    "first_layer_share_below", "dead_units_at_least", "update_ratio_above",
    "loss_rises_at_least", "against_init",
}  # fmt: skip


def seeds(config: dict[str, Any]) -> list[int]:
    """The preset's own seed first (what the page loads), then others; the page's default
    seed (0) first for a preset without one."""
    own = config.get("seed", 0)
    return [own, *[s for s in range(SEEDS + 1) if s != own]][:SEEDS]


def run(config: dict[str, Any], seed: int, **change: Any) -> PlaygroundRun:
    return PlaygroundRun(TrainConfig(**{**config, "seed": seed, **change}))


def fit_health(r: PlaygroundRun) -> Health:
    t, net = r.trainer, r.network
    last_w = net.split(t.last_update)[0] if t.last_update is not None else None
    return health(net, t.x_train, t.y_train, last_w)  # type: ignore[arg-type]


def first_at(r: PlaygroundRun, accuracy: float) -> int:
    """The first epoch whose test accuracy reaches ``accuracy`` (past the end: never)."""
    acc = [h.accuracy or 0.0 for h in r.trainer.history]
    return next((i + 1 for i, a in enumerate(acc) if a >= accuracy), len(acc) + 1)


def figures(config: dict[str, Any], promise: dict[str, Any], seed: int) -> dict[str, Any]:
    """What one seed shows, and whether it keeps the promise (``kept``)."""
    epochs = promise["epochs"]
    r = run(config, seed)
    got: dict[str, Any] = {"seed": seed}
    checks: list[bool] = []
    if "update_ratio_above" in promise:  # watched epoch by epoch, as the health panel
        ratios = []
        for _ in range(epochs):
            r.trainer.fit(1)
            ratios.append(max(layer.update_ratio for layer in fit_health(r).layers))
        got["update_ratio"] = max(ratios)
        checks.append(got["update_ratio"] > promise["update_ratio_above"])
    else:
        r.trainer.fit(epochs)
    history = r.trainer.history
    accuracy = history[-1].accuracy
    got["accuracy"] = accuracy
    if "accuracy_at_least" in promise:
        checks.append(accuracy is not None and accuracy >= promise["accuracy_at_least"])
    if "stuck_below" in promise:
        got["stuck"] = accuracy is not None and accuracy < promise["stuck_below"]
    if "loss_rises_at_least" in promise:
        loss = [h.train_loss for h in history]
        got["rises"] = sum(b > 1.05 * a for a, b in zip(loss, loss[1:], strict=False))
        checks.append(got["rises"] >= promise["loss_rises_at_least"])
    fit = fit_health(r)
    if "first_layer_share_below" in promise:
        got["share"] = fit.layers[0].grad_norm / fit.layers[-1].grad_norm
        checks.append(got["share"] < promise["first_layer_share_below"])
    if "dead_units_at_least" in promise:
        got["dead"] = sum(layer.dead for layer in fit.layers)
        checks.append(got["dead"] >= promise["dead_units_at_least"])
    if "slower_than" in promise:
        other = promise["slower_than"]
        r2 = run(config, seed, loss=other["loss"])
        r2.trainer.fit(epochs)
        got["epochs_to"] = (first_at(r, other["accuracy"]), first_at(r2, other["accuracy"]))
        checks.append(got["epochs_to"][0] >= other["factor"] * got["epochs_to"][1])
    if "against_init" in promise:
        other = promise["against_init"]
        r2 = run(config, seed, init=other["init"])
        r2.trainer.fit(epochs)
        got["grad_ratio"] = fit_health(r2).layers[0].grad_norm / fit.layers[0].grad_norm
        checks.append(got["grad_ratio"] > other["first_layer_grad_ratio_above"])
    assert checks, "a promise with nothing to check"
    got["kept"] = all(checks)
    return got


def test_every_preset_has_a_promise_in_known_words() -> None:
    for name, preset in PRESETS.items():
        promise = preset["promise"]
        assert set(promise) <= KNOWN, (name, set(promise) - KNOWN)
        assert 1 <= promise["seeds"] <= SEEDS and promise["epochs"] >= 1, name


@pytest.mark.parametrize("name", PRESETS)
def test_each_preset_keeps_its_promise_on_most_of_five_seeds(name: str) -> None:
    preset = PRESETS[name]
    promise, config = preset["promise"], preset["config"]
    shown = [figures(config, promise, s) for s in seeds(config)]
    kept = [g for g in shown if g["kept"]]
    assert len(kept) >= promise["seeds"], (preset["about"], shown)
    if "seed" in config:  # the seed the page loads shows it
        assert shown[0]["kept"], (preset["about"], shown[0])
    if "stuck_seeds" in promise:
        assert sum(g["stuck"] for g in shown) >= promise["stuck_seeds"], shown
