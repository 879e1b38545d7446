"""The health verdict in words: :func:`nn_core.health.diagnose` finds a code and its figures;
this says it to the learner, and may name the page's buttons."""

from __future__ import annotations

import math
from collections.abc import Callable

from nn_core.health import Code, Finding


def _power(v: float) -> str:
    """``1e-05`` as ``10⁻⁵`` (the nearest power of ten); nothing at all (a gradient that
    underflowed in a saturated network) as "none"."""
    if not v > 0:
        return "none"
    sup = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
    return "10" + str(round(math.log10(v))).translate(sup)


def _names(f: Finding) -> str:
    return "/".join(a.replace("_", " ") for a in f.activations)


_SAY: dict[Code, Callable[[Finding], str]] = {
    "diverged": lambda f: (
        "diverged: the gradients are no longer numbers; lower the learning rate and reset"
    ),
    "exploding": lambda f: (
        f"exploding gradients: layer {int(f.figures['layer']) + 1}'s gradient norm is "
        f"{f.figures['grad_norm']:.3g}"
    ),
    "dead": lambda f: (
        f"dead ReLUs: {int(f.figures['dead'])} of {int(f.figures['units'])} units never "
        "activate, so their weights get no gradient and stop learning; a lower learning rate "
        "cannot revive them: Reset"
    ),
    "vanishing": lambda f: (
        f"vanishing gradients: layer 1 gets {_power(f.figures['share'])} of the output "
        "layer's gradient, so the first layers barely learn"
    ),
    "saturated": lambda f: (
        f"saturation: {int(f.figures['saturated'])} of {int(f.figures['units'])} "
        f"{_names(f)} units sit flat at an asymptote"
    ),
    "steps_too_large": lambda f: (
        f"steps too large: an update changes the weights by {f.figures['update_ratio']:.0%} "
        "(healthy is about 0.1 %); lower the learning rate"
    ),
    "steps_too_small": lambda f: (
        f"steps too small: updates change the weights by {f.figures['update_ratio']:.1e} of "
        "their size (healthy is about 1e-3); raise the learning rate"
    ),
    "healthy": lambda f: "healthy: gradients reach every layer and updates are a sensible size",
}


def verdict(finding: Finding) -> str:
    """One line in words for ``finding``: the problem, its figures and what to do."""
    return _SAY[finding.code](finding)
