"""The page's words for the registries' names: data sets, losses, menu choices and run
states.  The page reads them from ``/api/options``; a name missing here is shown as it is,
so a new registry entry still appears."""

from __future__ import annotations

import math

DATASET_NAMES = {
    "circle": "Circle",
    "xor": "Exclusive or",
    "gaussian": "Gaussian",
    "spiral": "Spiral",
    "moons": "Moons",
    "flower": "Flower",
    "blobs": "Blobs (multiclass)",
    "multi_spiral": "Spirals (multiclass)",
    "plane": "Plane (regression)",
    "multi_gaussian": "Bumps (regression)",
    "custom": "Your own points",
}

#: The loss's name in the Output panel's caption.
LOSS_NAMES = {
    "bce": "binary cross-entropy",
    "cross_entropy": "cross-entropy",
    "mse": "squared error",
    "quadratic": "½ squared error",
    "tf_square": "½ squared error, ±1 targets (TF Playground)",
}

#: The menus' words, by config key and choice.
MENU_WORDS = {
    "init": {"xavier": "Xavier", "he": "He", "normal": "normal × 0.01"},
    "regularization": {"none": "None", "l1": "L1", "l2": "L2"},
    "loss": {
        "auto": "Automatic",
        "bce": "Cross-entropy (2 classes)",
        "cross_entropy": "Cross-entropy (3+ classes)",
        "mse": "Squared error",
        "quadratic": "½ squared error (Nielsen)",
        "tf_square": "Squared error (TF Playground)",
    },
    "problem": {"classification": "Classification", "regression": "Regression"},
}

#: A run's state, as the status line says it.
STATE_WORDS = {
    "running": "running",
    "paused": "paused",
    "diverged": "diverged",
    "done": "finished",
    "stopped": "stopped by the server",
    "busy": "refused: the server is full",
}

SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_of_ten(v: float) -> str:
    """``1e-4`` as the page writes it: ``10⁻⁴`` (``v`` a power of ten)."""
    return "10" + str(round(math.log10(v))).translate(SUPERSCRIPTS)


WORDS = {
    "datasets": DATASET_NAMES,
    "losses": LOSS_NAMES,
    "menus": MENU_WORDS,
    "states": STATE_WORDS,
}
