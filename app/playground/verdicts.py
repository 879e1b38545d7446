"""The health verdict in words: :class:`nn_core.diagnosis.HealthWatch` decides a code and
its figures; this says it to the learner, and may name the page's buttons.

Every number is written as the page's health table writes it (:func:`sci`, the twin of
``sci`` in ``static/js/health.js``), so the learner finds the verdict's figure there.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from nn_core.diagnosis import Diagnosis
from nn_core.health import HEALTHY_BAND, Code


def sci(v: float | None) -> str:
    """``v`` as the health table shows it: 3 significant digits, ``1.55e-6`` style below
    0.01 and from 1000 on (JavaScript's ``toExponential(2)`` / ``toPrecision(3)``)."""
    if v is None or not math.isfinite(v):
        return "–"
    if v == 0:
        return "0"
    mantissa, exp = f"{v:.2e}".split("e")
    e = int(exp)
    if abs(v) < 1e-2 or abs(v) >= 1e3 or e >= 3:
        return f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return f"{v:.{2 - e}f}"


def _layer(d: Diagnosis, key: str = "layer") -> str:
    return f"layer {int(d.figures[key]) + 1}"


def _units(d: Diagnosis) -> str:
    names = "/".join(a.replace("_", " ") for a in d.activations)
    return f"{names} units" if names else "units"


def _steps(d: Diagnosis) -> str:
    return f"{_layer(d)}'s weights by {sci(d.figures['update_ratio'])} of their size"


def _dead(d: Diagnosis) -> str:
    f = d.figures
    text = (
        f"dead ReLUs: {int(f['dead'])} of {int(f['units'])} units of {_layer(d)} never "
        "activate, so their weights get no gradient and stop learning"
    )
    if f["total"] > f["dead"]:
        text += f" ({int(f['total'])} in all)"
    if "steps_too_large" in d.also:
        return text + (
            f"; steps this large ({_layer(d, 'step_layer')}: {sci(f['update_ratio'])}) "
            "killed them: lower the learning rate, then Reset"
        )
    return text + "; a lower learning rate cannot revive them: Reset"


def _large(d: Diagnosis) -> str:
    text = f"steps too large: each update moves {_steps(d)} (healthy is about 0.001)"
    if "saturated" in d.also:
        return text + f"; they push the {_units(d)} flat: lower the learning rate, then Reset"
    if "vanishing" in d.also:
        return text + "; they starve layer 1 of gradient: lower the learning rate, then Reset"
    return text + "; lower the learning rate"


def _not_learning(d: Diagnosis) -> str:
    f = d.figures
    text = (
        f"not learning yet: the loss, {sci(f['loss'])}, is still at chance ({sci(f['chance'])}"
        ", what a constant guess scores)"
    )
    if "update_ratio" in f and f["update_ratio"] < HEALTHY_BAND[0]:
        return text + f"; each update moves {_steps(d)}: raise the learning rate"
    return text + "; give it more epochs, or Reset with another seed"


_SAY: dict[Code, Callable[[Diagnosis], str]] = {
    "diverged": lambda d: (
        "diverged: the gradients are no longer numbers; lower the learning rate and reset"
    ),
    "exploding": lambda d: (
        f"exploding gradients: {_layer(d)}'s gradient norm is {sci(d.figures['grad_norm'])}; "
        "lower the learning rate"
    ),
    "dead": _dead,
    "vanishing": lambda d: (
        f"vanishing gradients: layer 1's gradient norm is {sci(d.figures['first'])}, the "
        f"output layer's {sci(d.figures['output'])}, so the first layers barely learn; "
        "try relu or tanh, or fewer layers"
    ),
    "saturated": lambda d: (
        f"saturation: {int(d.figures['saturated'])} of {int(d.figures['units'])} "
        f"{_units(d)} of {_layer(d)} sit flat at an asymptote, where little gradient passes; "
        "Reset, with a lower learning rate"
    ),
    "stuck": lambda d: (
        f"stuck: every {_units(d)[:-1]} of {_layer(d)} is off on "
        f"{int(d.figures['silent'])} of the {int(d.figures['points'])} training points, so "
        f"they all get one output though {int(d.figures['silent_other'])} of them are of "
        "another class, and they send the layer no gradient: only the other points can "
        "move its units. Give it more epochs, or Regenerate for a new start"
    ),
    "steps_too_large": _large,
    "steps_too_small": lambda d: (
        f"steps too small: each update moves {_steps(d)} (healthy is about 0.001); "
        "raise the learning rate"
    ),
    "not_learning": _not_learning,
    "healthy": lambda d: (
        "healthy: the loss is below chance, gradients reach every layer and steps are a "
        "sensible size"
    ),
}


def verdict(d: Diagnosis) -> str:
    """One line in words for ``d``: the problem, its figures and what to do."""
    return _SAY[d.code](d)
