"""The backward pass over /ws/train: edit, trace, verify, health and gradient blocks."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.playground.presets import PRESETS
from app.playground.run import PlaygroundRun
from app.playground.schema import TrainConfig
from app.wire import encode_json
from nn_core.gradcheck import check_gradient
from tests.app.wsutil import collect, next_frame, next_json

SMALL = {"hidden_layers": [3, 2], "dataset": "xor", "n_samples": 100, "grid": 20}


def start(ws: Any, config: dict[str, Any], paused: bool = True) -> dict[str, Any]:
    ws.send_json({"type": "start", "paused": paused, "config": config})
    ready = next_json(ws, "ready")
    next_json(ws, "health")
    return ready


def frame_and_health(ws: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The next frame and the health event that follows it."""
    _, blocks = next_frame(ws)
    return blocks, next_json(ws, "health")


def test_frames_carry_gradients_and_last_updates(client: TestClient) -> None:
    with client.websocket_connect("/ws/train") as ws:
        start(ws, {**SMALL, "regularization": "l2", "regularization_rate": 0.1})
        ws.send_json({"type": "step"})
        blocks, health = frame_and_health(ws)
        n_w = 2 * 3 + 3 * 2 + 2 * 1
        for name in ("grad_weights", "grad_weights_reg", "update_weights"):
            assert blocks[name].shape == (n_w,) and blocks[name].dtype == np.float32
        assert blocks["grad_biases"].shape == blocks["update_biases"].shape == (3 + 2 + 1,)
        # the regulariser's part of an L2 gradient is rate * w
        np.testing.assert_allclose(blocks["grad_weights_reg"], 0.1 * blocks["weights"], rtol=1e-5)
        # grad_norm of each layer is the norm of its slice of grad_weights
        sizes = [2 * 3, 3 * 2, 2 * 1]
        offsets = np.cumsum([0, *sizes])
        for li, layer in enumerate(health["layers"]):
            part = blocks["grad_weights"][offsets[li] : offsets[li + 1]]
            assert layer["grad_norm"] == pytest.approx(float(np.linalg.norm(part)), rel=1e-4)
            assert layer["update_ratio"] > 0
        assert health["epoch"] == 1 and health["n_points"] == 50
        assert isinstance(health["verdict"], str) and health["verdict"]


def test_edit_sets_one_parameter_and_training_continues_from_it(client: TestClient) -> None:
    with client.websocket_connect("/ws/train") as ws:
        start(ws, SMALL)
        ws.send_json({"type": "edit", "layer": 1, "kind": "weight", "i": 2, "j": 1, "value": 1.5})
        assert next_json(ws, "edited") == {
            "type": "edited",
            "layer": 1,
            "kind": "weight",
            "i": 2,
            "j": 1,
            "value": 1.5,
        }
        blocks, _ = frame_and_health(ws)
        index = 2 * 3 + 2 * 2 + 1  # layer 1 starts after 6 weights; row i=2 of a 3x2 matrix
        assert blocks["weights"][index] == 1.5
        ws.send_json({"type": "edit", "layer": 2, "kind": "bias", "j": 0, "value": -2.0})
        next_json(ws, "edited")
        blocks, _ = frame_and_health(ws)
        assert blocks["biases"][-1] == -2.0
        ws.send_json({"type": "step"})
        blocks, _ = frame_and_health(ws)
        # one epoch moved it a little from the edited value, not from the old one
        assert blocks["weights"][index] != 1.5 and abs(blocks["weights"][index] - 1.5) < 0.5
        assert abs(blocks["biases"][-1] + 2.0) < 0.5


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ({"layer": 5, "kind": "weight", "i": 0, "j": 0, "value": 1}, "layer"),
        ({"layer": 0, "kind": "weight", "i": 2, "j": 0, "value": 1}, "i"),
        ({"layer": 0, "kind": "bias", "j": 3, "value": 1}, "j"),
        ({"layer": 0, "kind": "weight", "j": 0, "value": 1}, "i"),
        ({"layer": 0, "kind": "weight", "i": 0, "j": 0, "value": 1e9}, "value"),
        ({"layer": 0, "kind": "weight", "i": 0, "j": 0, "value": "big"}, "value"),
    ],
)
def test_edit_out_of_range_names_the_field_and_changes_nothing(
    client: TestClient, message: dict[str, Any], field: str
) -> None:
    with client.websocket_connect("/ws/train") as ws:
        start(ws, SMALL)
        ws.send_json({"type": "step"})
        before, _ = frame_and_health(ws)
        ws.send_json({"type": "edit", **message})
        err = next_json(ws, "error")
        assert err["field"] == field and "between" in err["message"] or "needs" in err["message"]
        ws.send_json({"type": "export"})
        next_json(ws, "export")
        ws.send_json({"type": "step"})  # the run is alive and unchanged until then
        after, _ = frame_and_health(ws)
        assert not np.array_equal(before["weights"], after["weights"])


def test_trace_is_one_samples_passes_and_changes_nothing(client: TestClient) -> None:
    with client.websocket_connect("/ws/train") as ws:
        start(ws, {**SMALL, "optimizer": "sgd", "learning_rate": 0.3})
        ws.send_json({"type": "step"})
        before, _ = frame_and_health(ws)
        ws.send_json({"type": "trace", "split": "train", "index": 7})
        t = next_json(ws, "trace")
        assert t["split"] == "train" and t["index"] == 7 and t["learning_rate"] == 0.3
        assert len(t["layers"]) == 3 and len(t["input"]) == 2 and len(t["point"]) == 2
        a_prev = np.array(t["input"])
        for layer in t["layers"]:
            w, b = np.array(layer["weights"]), np.array(layer["biases"])
            np.testing.assert_allclose(layer["z"], a_prev @ w + b, rtol=1e-12)
            np.testing.assert_allclose(layer["grad_w"], np.outer(a_prev, layer["delta"]))
            np.testing.assert_allclose(layer["grad_b"], layer["delta"])
            # the SGD step on this sample alone
            np.testing.assert_allclose(layer["new_weights"], w - 0.3 * np.array(layer["grad_w"]))
            # delta's two factors, sent so the page prints them: f'(z) (tanh: 1 - a^2) and
            # the back-propagated sum
            a = np.array(layer["a"])
            np.testing.assert_allclose(
                layer["delta"], np.multiply(layer["slope"], layer["upstream"])
            )
            a_prev = a
        hidden = t["layers"][:-1]
        for layer, upper in zip(hidden, t["layers"][1:], strict=True):
            np.testing.assert_allclose(layer["slope"], 1 - np.square(layer["a"]), rtol=1e-12)
            w_up = np.array(upper["weights"])
            np.testing.assert_allclose(layer["upstream"], w_up @ np.array(upper["delta"]))
            assert layer["slope_formula"] == "1 − a²"
        assert t["layers"][-1]["slope_formula"] == "a(1 − a)"  # the sigmoid output
        assert t["output"] == t["layers"][-1]["a"]
        assert t["loss_after"] < t["loss"]
        # tracing changed nothing: the same weights in the next frame
        ws.send_json(
            {
                "type": "edit",
                "layer": 0,
                "kind": "bias",
                "j": 0,
                "value": float(before["biases"][0]),
            }
        )
        next_json(ws, "edited")
        after, _ = frame_and_health(ws)
        np.testing.assert_array_equal(before["weights"], after["weights"])
        ws.send_json({"type": "trace", "split": "test", "index": 49})
        assert next_json(ws, "trace")["split"] == "test"
        ws.send_json({"type": "trace", "split": "test", "index": 50})
        err = next_json(ws, "error")
        assert err["field"] == "index" and "between 0 and 49" in err["message"]


def test_verify_matches_the_frames_gradient(client: TestClient) -> None:
    with client.websocket_connect("/ws/train") as ws:
        start(ws, {**SMALL, "regularization": "l2", "regularization_rate": 0.01})
        for _ in range(3):
            ws.send_json({"type": "step"})
        for _ in range(3):
            blocks, _ = frame_and_health(ws)
        ws.send_json({"type": "verify", "layer": 0, "kind": "weight", "i": 1, "j": 2})
        v = next_json(ws, "verify")
        assert v["layer"] == 0 and v["i"] == 1 and v["j"] == 2 and v["kind"] == "weight"
        assert v["relative_error"] < 1e-6 and v["matches"] is True
        assert v["analytic"] == pytest.approx(float(blocks["grad_weights"][1 * 3 + 2]), rel=1e-3)
        ws.send_json({"type": "verify", "layer": 2, "kind": "bias", "j": 0})
        v = next_json(ws, "verify")
        assert v["matches"] and v["analytic"] == pytest.approx(
            float(blocks["grad_biases"][-1]), rel=1e-3, abs=1e-7
        )


def test_health_follows_every_frame_while_running(client: TestClient) -> None:
    with client.websocket_connect("/ws/train") as ws:
        start(ws, SMALL, paused=False)
        for _ in range(5):
            blocks, health = frame_and_health(ws)
            assert len(health["layers"]) == 3


def test_vanishing_preset_reports_vanishing_gradients() -> None:
    run = PlaygroundRun(TrainConfig(**PRESETS["vanishing_gradients"]["config"]))
    run.trainer.fit(5)
    health = run.frame()[1]
    assert isinstance(health, dict)
    layers = health["layers"]
    assert len(layers) == 7
    assert layers[0]["grad_norm"] < 1e-2 * layers[-1]["grad_norm"]
    assert health["verdict"].startswith("vanishing gradients: layer 1's gradient norm is ")
    assert health["code"] == "vanishing"
    assert health["figures"]["first"] == layers[0]["grad_norm"]
    assert health["figures"]["output"] == layers[-1]["grad_norm"]
    # sigmoid units can saturate and cannot die: the page shows only the one count
    assert all(h["saturating"] and not h["rectifier"] for h in layers)


def test_dead_relu_preset_reports_a_dead_unit() -> None:
    run = PlaygroundRun(TrainConfig(**PRESETS["dead_relus"]["config"]))
    run.trainer.fit(5)
    health = run.frame()[1]
    assert isinstance(health, dict)
    assert health["layers"][0]["dead"] >= 1 and health["dead_units"][0][0] == 0
    assert health["verdict"].startswith("dead ReLUs")
    assert health["code"] == "dead" and health["figures"]["dead"] == health["layers"][0]["dead"]
    assert health["layers"][0]["rectifier"] and not health["layers"][0]["saturating"]
    # dead by definition: z <= 0 on all 250 training points
    layer = health["dead_units"][0]
    net, x = run.network, run.trainer.x_train
    z = x @ net.weights[0][:, layer[1]] + net.biases[0][layer[1]]
    assert len(x) == 250 and np.all(z <= 0)
    # and lowering the rate cannot revive it: no gradient reaches its weights
    run.set(0.01, None, None)
    run.trainer.fit(20)
    assert run.frame()[1]["layers"][0]["dead"] >= 1  # type: ignore[index]


def test_same_setup_and_seed_give_identical_curves(client: TestClient) -> None:
    curves = []
    for _ in range(2):
        with client.websocket_connect("/ws/train") as ws:
            start(ws, {**SMALL, "seed": 11})
            losses: list[float] = []
            for _ in range(15):
                ws.send_json({"type": "step"})
                losses += next_json(ws, "progress")["train_loss"]
            curves.append(losses)
    assert curves[0] == curves[1] and len(set(curves[0])) > 5


def test_verify_in_the_run_matches_the_core_in_float64() -> None:
    run = PlaygroundRun(TrainConfig(**SMALL))
    run.trainer.fit(2)
    event = run.verify_event(1, "weight", 0, 1)
    core = check_gradient(run.network, run.trainer.x_train, run.trainer.y_train, 1, "weight", 0, 1)
    assert event["analytic"] == core.analytic and event["numeric"] == core.numeric


def test_light_frames_are_cheaper_but_complete() -> None:
    """A busy server sends a coarser grid and thumbnails every other frame; weights,
    gradients and health come with every frame."""
    from app.wire import decode_frame

    run = PlaygroundRun(TrainConfig(grid=100))
    full_header, full = decode_frame(run.frame()[0])  # type: ignore[arg-type]
    light = [decode_frame(run.frame(light=True)[0]) for _ in range(2)]  # type: ignore[arg-type]
    assert full_header["grid"] == 100 and full["output"].shape == (100, 100)
    for header, blocks in light:
        assert header["grid"] == 50 and blocks["output"].shape == (50, 50)
        assert {"weights", "biases", "grad_weights", "grad_biases"} <= set(blocks)
    assert sum("neurons" in blocks for _, blocks in light) == 1
    assert len(run.frame(light=True)[0]) < 0.6 * len(run.frame()[0])  # type: ignore[arg-type]


def _strict(text: str) -> Any:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_a_trace_after_divergence_is_json_with_the_loss_as_null(client: TestClient) -> None:
    with client.websocket_connect("/ws/train") as ws:
        setup = {"dataset": "plane", "hidden_layers": [8, 8], "activation": "relu"}
        start(ws, {**setup, "learning_rate": 10, "n_samples": 100}, paused=False)
        collect(ws, "diverged")
        ws.send_json({"type": "trace", "split": "train", "index": 0})
        while True:
            msg = ws.receive()
            text = msg.get("text")
            if text is not None and '"type":"trace"' in text:
                break
        t = _strict(text)  # NaN and Infinity would not parse
        assert t["loss"] is None and t["type"] == "trace"


def test_a_trace_of_the_largest_network_is_bounded() -> None:
    wide = {"hidden_layers": [64] * 8, "features": ["x1", "x2", "x1_sq", "x2_sq", "x1_x2"]}
    run = PlaygroundRun(TrainConfig(**{**wide, "n_samples": 200}))
    text = encode_json(run.trace_event("train", 3))
    assert len(text) < 64_000  # every unit of every layer would be 2.7 MB
    t = _strict(text)
    assert t["units_shown"] == 8 and "first 8 units" in t["note"]
    first = t["layers"][0]
    assert np.array(first["weights"]).shape == (5, 8) and len(first["z"]) == 8
    assert np.array(t["layers"][1]["weights"]).shape == (8, 8) and len(t["output"]) == 1
    small = PlaygroundRun(TrainConfig(**SMALL)).trace_event("train", 0)
    assert small["note"] == "" and len(small["layers"][0]["z"]) == 3  # small ones whole
