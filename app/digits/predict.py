"""One digit's prediction: probabilities, hidden activations, "is this a digit?" and,
on request, the saliency of every pixel."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.digits.store import LoadedModel
from nn_core.activations import probabilities
from nn_core.backprop import saliency

#: Below this share of the probability mass the answer is a guess.
LOW_CONFIDENCE = 0.5


def predict(
    model: LoadedModel, pixels: np.ndarray, with_saliency: bool = False, tiny: bool = False
) -> dict[str, Any]:
    """Classify one 28 x 28 input ``(784,)`` in [0, 1]; return probabilities and activations
    and, ``with_saliency``, d(output of the predicted class)/d(pixel) for all 784 pixels
    (the predicted class's probability, for a softmax model), by the backward pass."""
    acts = model.network.forward_all(pixels.reshape(1, 784))
    output = model.network.layers[-1].activation
    probs = probabilities(acts[-1].astype(np.float64), output)[0]
    extra: dict[str, Any] = {}
    check = model.novelty()
    reasons = []
    if tiny:
        reasons.append("the drawing is only a few pixels across")
    if check is not None:
        distance = float(check.distance(pixels.reshape(1, 784))[0])
        extra["novelty"] = {"distance": round(distance, 4), "threshold": round(check.threshold, 4)}
        if distance > check.threshold:
            reasons.append("it is farther from every training digit than 99 % of real digits are")
    if float(probs.max()) < LOW_CONFIDENCE:
        reasons.append(f"the model is under {LOW_CONFIDENCE:.0%} sure")
    extra["maybe_not_a_digit"] = bool(reasons)
    extra["why"] = reasons
    if with_saliency:
        _, grad = saliency(model.network, pixels.reshape(1, 784))
        extra["saliency"] = [float(f"{v:.6g}") for v in grad[0]]
    return {
        **extra,
        "label": int(np.argmax(probs)),
        "probabilities": [round(float(p), 6) for p in probs],
        "input": [round(float(v), 4) for v in pixels.ravel()],
        "model": model.name,
        "hidden": [[round(float(v), 4) for v in a[0]] for a in acts[:-1]],
    }
