"""The health verdict in words, one sentence per code, its figures written as the table's."""

from __future__ import annotations

import pytest

from app.playground.verdicts import sci, verdict
from nn_core.diagnosis import Diagnosis
from nn_core.health import CODES

FIGURES: dict[str, dict[str, float]] = {
    "exploding": {"layer": 1, "grad_norm": 5e3},
    "dead": {"layer": 0, "dead": 2, "units": 4, "total": 2},
    "vanishing": {"first": 8.15e-6, "output": 0.0372},
    "saturated": {"layer": 1, "saturated": 3, "units": 8},
    "stuck": {"layer": 0, "silent": 118, "silent_other": 53, "points": 250},
    "steps_too_large": {"layer": 2, "update_ratio": 0.445},
    "steps_too_small": {"layer": 0, "update_ratio": 1.5512e-6},
    "not_learning": {"loss": 0.6921, "chance": 0.69205},
}


@pytest.mark.parametrize("code", CODES)
def test_every_code_has_a_sentence_that_starts_with_its_problem(code: str) -> None:
    text = verdict(Diagnosis(code, FIGURES.get(code, {}), ("tanh",)))  # type: ignore[arg-type]
    first = {"dead": "dead relus", "saturated": "saturation", "exploding": "exploding gradients"}
    assert text.lower().startswith(first.get(code, code.replace("_", " ")))


def test_numbers_are_written_as_the_health_table_writes_them() -> None:
    """The twin of sci() in static/js/health.js (toExponential(2) / toPrecision(3))."""
    cases = {0.0: "0", 1.5512e-6: "1.55e-6", 5e3: "5.00e+3", 0.445: "0.445", 1.5: "1.50",
             123.4: "123", 999.6: "1.00e+3", 0.0099996: "1.00e-2", -0.0372: "-0.0372",
             2.04: "2.04", 12.345: "12.3"}  # fmt: skip
    assert {v: sci(v) for v in cases} == cases
    assert sci(None) == sci(float("nan")) == "–"


def test_the_sentences_carry_the_figures() -> None:
    assert verdict(Diagnosis("exploding", FIGURES["exploding"])).startswith(
        "exploding gradients: layer 2's gradient norm is 5.00e+3"
    )
    dead = verdict(Diagnosis("dead", FIGURES["dead"], ("relu",)))
    assert dead.startswith("dead ReLUs: 2 of 4 units of layer 1 never activate")
    assert dead.endswith("Reset") and "in all" not in dead
    killed = {**FIGURES["dead"], "total": 5, "step_layer": 1, "update_ratio": 0.257}
    text = verdict(Diagnosis("dead", killed, ("relu",), ("steps_too_large",)))
    assert "(5 in all)" in text and "steps this large (layer 2: 0.257) killed them" in text
    vanishing = verdict(Diagnosis("vanishing", FIGURES["vanishing"]))
    assert "layer 1's gradient norm is 8.15e-6, the output layer's 0.0372" in vanishing
    both = Diagnosis("saturated", FIGURES["saturated"], ("sigmoid", "tanh"))
    assert verdict(both).startswith("saturation: 3 of 8 sigmoid/tanh units of layer 2 sit flat")
    large = Diagnosis("steps_too_large", FIGURES["steps_too_large"], ("tanh",), ("saturated",))
    assert verdict(large).startswith("steps too large: each update moves layer 3's weights by "
                                     "0.445 of their size")  # fmt: skip
    assert "push the tanh units flat" in verdict(large)
    small = verdict(Diagnosis("steps_too_small", FIGURES["steps_too_small"]))
    assert "layer 1's weights by 1.55e-6 of their size" in small
    stuck = verdict(Diagnosis("stuck", FIGURES["stuck"], ("relu",)))
    assert stuck.startswith("stuck: every relu unit of layer 1 is off on 118 of the 250 "
                            "training points")  # fmt: skip
    assert "53 of them are of another class" in stuck and "Regenerate" in stuck
    still = verdict(Diagnosis("not_learning", FIGURES["not_learning"]))
    assert still.startswith("not learning yet: the loss, 0.692, is still at chance (0.692")


def test_a_first_layer_that_gets_no_gradient_at_all_is_said_as_the_table_says_it() -> None:
    """A saturated network can underflow layer 1's gradient to exactly 0."""
    text = verdict(Diagnosis("vanishing", {"first": 0.0, "output": 0.5}))
    assert "layer 1's gradient norm is 0, the output layer's 0.500" in text
