"""The health verdict in words, one sentence per code the core can find."""

from __future__ import annotations

import pytest

from app.playground.verdicts import verdict
from nn_core.health import CODES, Finding

FIGURES: dict[str, dict[str, float]] = {
    "exploding": {"layer": 1, "grad_norm": 5e3},
    "dead": {"dead": 2, "units": 4},
    "vanishing": {"share": 1e-5},
    "saturated": {"saturated": 3, "units": 8},
    "steps_too_large": {"update_ratio": 0.5},
    "steps_too_small": {"update_ratio": 1e-7},
}


@pytest.mark.parametrize("code", CODES)
def test_every_code_has_a_sentence_that_starts_with_its_problem(code: str) -> None:
    text = verdict(Finding(code, FIGURES.get(code, {}), ("tanh",)))  # type: ignore[arg-type]
    first = {"dead": "dead relus", "saturated": "saturation", "exploding": "exploding gradients"}
    assert text.lower().startswith(first.get(code, code.replace("_", " ")))


def test_the_sentences_carry_the_figures() -> None:
    assert verdict(Finding("exploding", FIGURES["exploding"])).startswith(
        "exploding gradients: layer 2's gradient norm is 5e+03"
    )
    dead = verdict(Finding("dead", FIGURES["dead"], ("relu",)))
    assert dead.startswith("dead ReLUs: 2 of 4 units never activate") and dead.endswith("Reset")
    assert "layer 1 gets 10⁻⁵ of the output" in verdict(Finding("vanishing", {"share": 1e-5}))
    both = Finding("saturated", FIGURES["saturated"], ("sigmoid", "tanh"))
    assert verdict(both) == "saturation: 3 of 8 sigmoid/tanh units sit flat at an asymptote"
    assert "by 50%" in verdict(Finding("steps_too_large", FIGURES["steps_too_large"]))
    assert "by 1.0e-07" in verdict(Finding("steps_too_small", FIGURES["steps_too_small"]))


def test_a_first_layer_that_gets_no_gradient_at_all_is_said_in_words() -> None:
    """A saturated network (huge weights, an edit or a resumed run) can underflow layer 1's
    gradient to exactly 0, which has no power of ten."""
    assert "layer 1 gets none of the output" in verdict(Finding("vanishing", {"share": 0.0}))
