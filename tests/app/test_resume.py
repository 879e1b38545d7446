"""start's resume_from: a run that goes on from given weights, biases and epoch."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.app.wsutil import next_frame, next_json

CONFIG = {"dataset": "xor", "seed": 3, "hidden_layers": [4, 2], "grid": 30, "learning_rate": 0.1}


def b64(values: Any) -> str:
    return base64.b64encode(np.asarray(values, "<f4").tobytes()).decode()


def trained_frame(client: TestClient, epochs: int = 40) -> tuple[dict[str, Any], dict[str, Any]]:
    """A frame of a run that trained ``epochs`` epochs or more."""
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({"type": "start", "config": {**CONFIG, "max_epochs": epochs}})
        while True:
            header, blocks = next_frame(ws)
            if header["epoch"] >= epochs:
                return header, blocks


def resume_of(header: dict[str, Any], blocks: dict[str, Any]) -> dict[str, Any]:
    weights, biases = b64(blocks["weights"]), b64(blocks["biases"])
    return {"epoch": header["epoch"], "weights": weights, "biases": biases}


def test_a_run_goes_on_from_the_given_weights_biases_and_epoch(client: TestClient) -> None:
    header, blocks = trained_frame(client)
    with client.websocket_connect("/ws/train") as ws:
        start = {"type": "start", "config": CONFIG, "paused": True}
        ws.send_json({**start, "resume_from": resume_of(header, blocks)})
        ready = next_json(ws)  # not an error
        assert ready["type"] == "ready", ready
        assert ready["epoch"] == header["epoch"] == 40
        first, after = next_frame(ws)
        assert first["epoch"] == 40
        np.testing.assert_array_equal(after["weights"], blocks["weights"])
        np.testing.assert_array_equal(after["biases"], blocks["biases"])
        # the same weights draw the same boundary
        np.testing.assert_array_equal(after["output"], blocks["output"])
        status = next_json(ws, "status")
        assert status["state"] == "paused" and status["epoch"] == 40
        ws.send_json({"type": "resume"})
        progress = next_json(ws, "progress")
        assert progress["epochs"][0] == 41  # counting on, never from 0


def test_a_resumed_run_past_its_limit_is_done(client: TestClient) -> None:
    header, blocks = trained_frame(client)
    with client.websocket_connect("/ws/train") as ws:
        config = {**CONFIG, "max_epochs": 30}
        ws.send_json({"type": "start", "config": config, "resume_from": resume_of(header, blocks)})
        assert next_json(ws)["type"] == "ready"
        status = next_json(ws, "status")
        assert status["state"] == "done" and status["epoch"] == 40


@pytest.mark.parametrize(
    ("resume", "field", "words"),
    [
        ({"weights": b64([0.0] * 12)}, "weights", "the 18 weights of a 2-4-2-1 network"),
        ({"biases": b64([0.0] * 8)}, "biases", "the 7 biases of a 2-4-2-1 network; this holds 8"),
        ({"weights": b64([0.0] * 17 + [np.inf])}, "weights", "number 17 is inf"),
        ({"biases": b64([np.nan] * 7)}, "biases", "number 0 is nan"),
        ({"weights": b64([2e4] + [0.0] * 17)}, "weights", "each must be from -10000 to 10000"),
        ({"weights": "not base64!"}, "weights", "must be base64 of float32 numbers"),
        ({"weights": base64.b64encode(b"abc").decode()}, "weights", "base64 of float32"),
        ({"epoch": -1}, "epoch", "must be between 0 and"),
        ({"epoch": 1.5}, "epoch", "must be between 0 and"),
        ({"epoch": "3"}, "epoch", "must be between 0 and"),
    ],
)
def test_bad_parameters_name_the_field_and_leave_the_run_as_it_was(
    client: TestClient, resume: dict[str, Any], field: str, words: str
) -> None:
    good = {"epoch": 5, "weights": b64([0.1] * 18), "biases": b64([0.0] * 7)}
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({"type": "start", "config": {"grid": 20}})
        next_json(ws, "ready")
        before = next_json(ws, "progress")["epochs"][-1]
        ws.send_json({"type": "start", "config": {"grid": 20}, "resume_from": {**good, **resume}})
        while (msg := next_json(ws))["type"] in ("progress", "health"):
            before = msg["epochs"][-1] if msg["type"] == "progress" else before
        assert msg["type"] == "error", msg
        assert msg["field"] == field and words in msg["message"], msg
        after = next_json(ws, "progress")
        assert after["epochs"][0] == before + 1  # the same run trains on


def test_the_largest_network_with_its_own_points_resumes_within_the_message_limit(
    client: TestClient,
) -> None:
    """8 x 64 neurons, every feature, 5,000 points of the learner's own: the page's largest
    resume message fits under the server's limit, and its weights come back bit for bit."""
    from app.config import Settings
    from nn_core.features import FEATURES

    rng = np.random.default_rng(0)
    points = [[*map(float, np.round(rng.uniform(-6, 6, 2), 3)), int(i % 2)] for i in range(5000)]
    features = list(FEATURES)
    config = {"dataset": "custom", "points": points, "features": features}
    config["hidden_layers"] = [64] * 8
    sizes = [len(features), *[64] * 8, 1]
    n_w = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=False))
    weights = rng.uniform(-1e4, 1e4, n_w).astype("<f4")
    biases = rng.uniform(-1, 1, sum(sizes[1:])).astype("<f4")
    resume = {"epoch": 123456, "weights": b64(weights), "biases": b64(biases)}
    message = {"type": "start", "config": config, "paused": True, "resume_from": resume}
    size = len(json.dumps(message))
    assert size < Settings().max_message_bytes, size
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json(message)
        ready = next_json(ws)
        assert ready["type"] == "ready" and ready["epoch"] == 123456, ready
        _, blocks = next_frame(ws)
        np.testing.assert_array_equal(blocks["weights"], weights)
        np.testing.assert_array_equal(blocks["biases"], biases)
