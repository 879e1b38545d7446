"""TensorFlow Playground's loss over /ws/train: chosen, it trains a tanh output on targets
-1, +1 and every read-out (loss, accuracy, boundary, trace, verify) is on its scale."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.app.wsutil import next_frame, next_json

CONFIG = {"dataset": "circle", "seed": 3, "loss": "tf_square", "learning_rate": 0.03}


def progress_until(ws: Any, epochs: int) -> dict[str, Any]:
    """The progress event that reaches ``epochs`` (the first one's figures in ``first``)."""
    first = None
    while True:
        msg = next_json(ws, "progress")
        first = first or msg
        if msg["epochs"][-1] >= epochs:
            return {"first": first, "last": msg}


def test_choosing_it_trains_and_reads_on_tf_playground_s_scale(client: TestClient) -> None:
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({"type": "start", "config": CONFIG})
        ready = next_json(ws, "ready")
        assert ready["loss"] == "tf_square" and ready["output_activation"] == "tanh"
        assert ready["config"]["loss"] == "tf_square"
        got = progress_until(ws, 200)
        # an untrained network reads about 0.5 (chance on TF's scale), then it learns
        assert 0.4 < got["first"]["train_loss"][0] < 0.6
        assert got["last"]["train_loss"][-1] < 0.15 and got["last"]["accuracy"][-1] > 0.9
        header, blocks = next_frame(ws)
        assert header["type"] == "frame"
        out = blocks["output"].astype(int)
        assert out.min() < 64 and out.max() > 192  # both classes' colours, -1 .. 1 mapped
        ws.send_json({"type": "pause"})
        ws.send_json({"type": "trace", "split": "train", "index": 0})
        t = next_json(ws, "trace")
        assert t["loss_name"] == "tf_square" and t["target"][0] in (-1.0, 1.0)
        assert t["loss"] == pytest.approx(0.5 * (t["output"][0] - t["target"][0]) ** 2)
        ws.send_json({"type": "verify", "layer": 0, "kind": "weight", "i": 0, "j": 1})
        v = next_json(ws, "verify")
        assert v["matches"] is True and v["relative_error"] < 1e-6


def test_squared_error_reads_a_quarter_at_the_start_where_tf_s_reads_a_half(
    client: TestClient,
) -> None:
    firsts = {}
    for loss in ("mse", "tf_square"):
        with client.websocket_connect("/ws/train") as ws:
            ws.send_json({"type": "start", "config": {**CONFIG, "loss": loss, "max_epochs": 1}})
            firsts[loss] = next_json(ws, "progress")["train_loss"][0]
    assert 0.2 < firsts["mse"] < 0.3 and 0.4 < firsts["tf_square"] < 0.6
    assert np.isclose(firsts["tf_square"] / firsts["mse"], 2, rtol=0.2)


def test_for_four_classes_it_is_refused_naming_the_loss(client: TestClient) -> None:
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({"type": "start", "config": {**CONFIG, "dataset": "blobs", "n_classes": 4}})
        err = next_json(ws, "error")
        assert err["field"] == "loss" and "try cross_entropy" in err["message"]
