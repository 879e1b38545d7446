"""An edit while paused: the same epoch's losses and accuracy come again, recomputed at the
edited parameters, before the new frame (docs/protocol.md, ``edit``)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.playground.run import PlaygroundRun
from app.playground.schema import TrainConfig
from app.wire import decode_frame
from tests.app.wsutil import next_json

SMALL = {"hidden_layers": [3, 2], "dataset": "xor", "n_samples": 100, "grid": 20, "seed": 3}


def by_hand(blocks: dict[str, Any], x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Binary cross-entropy and accuracy of the 2-3-2-1 tanh/sigmoid network whose
    parameters a frame lists, in float64 NumPy, written out here from the formulas."""
    sizes = [2, 3, 2, 1]
    w, b = blocks["weights"].astype(np.float64), blocks["biases"].astype(np.float64)
    a, wo, bo = x.astype(np.float64), 0, 0
    for layer, (n_in, n_out) in enumerate(zip(sizes, sizes[1:], strict=False)):
        z = a @ w[wo : wo + n_in * n_out].reshape(n_in, n_out) + b[bo : bo + n_out]
        wo, bo = wo + n_in * n_out, bo + n_out
        a = np.tanh(z) if layer < len(sizes) - 2 else 1 / (1 + np.exp(-z))
    p, t = a[:, 0], y.astype(np.float64)
    loss = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    return float(loss), float(np.mean((p > 0.5) == (t == 1)))


def after_edit(ws: Any, edit: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The JSON messages and the frame's blocks an edit is answered with (an ``export``
    sent behind it marks the end, so a missing message fails rather than waits)."""
    ws.send_json({"type": "edit", **edit})
    ws.send_json({"type": "export"})
    events: list[dict[str, Any]] = []
    blocks: dict[str, Any] = {}
    while not events or events[-1]["type"] != "export":
        msg = ws.receive()
        if msg.get("bytes") is not None:
            blocks = decode_frame(msg["bytes"])[1]
        else:
            events.append(json.loads(msg["text"]))
    return events[:-1], blocks


def test_a_paused_edit_sends_that_epochs_figures_again_at_the_new_parameters(
    client: TestClient,
) -> None:
    data = PlaygroundRun(TrainConfig(**SMALL))  # the same seed: the same points
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({"type": "start", "paused": True, "config": SMALL})
        next_json(ws, "ready")
        for _ in range(3):
            ws.send_json({"type": "step"})
            before = next_json(ws, "progress")
        assert before["epochs"] == [3]
        next_json(ws, "status")  # the step's last message
        events, blocks = after_edit(ws, {"layer": 2, "kind": "bias", "j": 0, "value": 5.0})
    assert [e["type"] for e in events] == ["edited", "progress", "health"]
    after, health = events[1], events[2]
    assert blocks["biases"][-1] == 5.0
    # the same epoch, marked as an edit's figures (they replace that epoch's, not a new one)
    assert after["epochs"] == [3] and after["edited"] is True and health["epoch"] == 3
    train, train_acc = by_hand(blocks, data.x_train, data.y_train)
    test, test_acc = by_hand(blocks, data.x_test, data.y_test)
    assert after["train_loss"][0] == pytest.approx(train, rel=1e-5)
    assert after["test_loss"][0] == pytest.approx(test, rel=1e-5)
    assert after["accuracy"][0] == pytest.approx(test_acc)
    # a bias of 5 at the output changes the figures a lot: they are new, not the old ones
    assert abs(after["test_loss"][0] - before["test_loss"][0]) > 0.05


def test_the_next_step_goes_on_from_the_edit_at_the_next_epoch(client: TestClient) -> None:
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({"type": "start", "paused": True, "config": SMALL})
        next_json(ws, "ready")
        events, _ = after_edit(ws, {"layer": 0, "kind": "weight", "i": 0, "j": 1, "value": 4})
        ws.send_json({"type": "step"})
        step = next_json(ws, "progress")
    at_start = next(e for e in events if e["type"] == "progress")
    assert at_start["epochs"] == [0] and at_start["edited"] is True
    assert step["epochs"] == [1] and "edited" not in step
