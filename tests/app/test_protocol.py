"""The /ws/train protocol, end to end through FastAPI's TestClient."""

from __future__ import annotations

import base64
import io
import subprocess
import sys

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from nn_core import Network
from tests.app.wsutil import collect, next_frame, next_json


def test_empty_start_uses_defaults_and_streams_every_epoch(client: TestClient) -> None:
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({"type": "start", "config": {}})
        ready = next_json(ws, "ready")
        assert ready["layers"] == [2, 4, 2, 1] and ready["problem"] == "classification"
        assert len(ready["train_points"]) == 250 and len(ready["test_points"]) == 250
        epochs: list[int] = []
        while len(epochs) < 60:
            msg = next_json(ws, "progress")
            assert len(msg["train_loss"]) == len(msg["epochs"]) == len(msg["test_loss"])
            epochs += msg["epochs"]
        assert epochs == list(range(1, len(epochs) + 1))  # nothing skipped, nothing twice
        first = next_json(ws, "progress")
        assert first["train_loss"][-1] < 0.69


def test_frames_are_binary_with_grid_thumbnails_and_weights(client: TestClient) -> None:
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json(
            {
                "type": "start",
                "paused": True,
                "config": {"hidden_layers": [3, 5], "grid": 40, "features": ["x1", "x2", "x1_x2"]},
            }
        )
        next_json(ws, "ready")
        header, blocks = next_frame(ws)
        assert header["grid"] == 40 and blocks["output"].shape == (40, 40)
        assert blocks["output"].dtype == np.uint8
        assert blocks["neurons"].shape == (3 + 3 + 5 + 1, 16, 16)
        assert blocks["weights"].shape == (3 * 3 + 3 * 5 + 5 * 1,)
        assert blocks["biases"].shape == (3 + 5 + 1,)


def test_bad_input_names_the_field_and_the_run_survives(client: TestClient) -> None:
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({"type": "set", "learning_rate": 0.1})
        err = next_json(ws, "error")
        assert "start" in err["message"]
        ws.send_json({"type": "start", "config": {}})
        next_json(ws, "ready")
        before = next_json(ws, "progress")["epochs"][-1]
        ws.send_json({"type": "set", "learning_rate": 50})
        err = next_json(ws, "error")
        assert err == {
            "type": "error",
            "field": "learning_rate",
            "message": "must be between 1e-06 and 10",
        }
        ws.send_json({"type": "start", "config": {"hidden_layers": [4] * 9}})
        err = next_json(ws, "error")
        assert err["field"] == "hidden_layers" and "0 to 8" in err["message"]
        ws.send_text("this is not json")
        assert next_json(ws, "error")["field"] == "message"
        ws.send_bytes(b"\x00\xff garbage")
        assert next_json(ws, "error")["field"] == "message"
        after = next_json(ws, "progress")
        assert after["epochs"][0] > before  # the same run kept training


def test_pause_step_resume_and_live_set(client: TestClient) -> None:
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({"type": "start", "config": {"dataset": "xor"}})
        next_json(ws, "ready")
        ws.send_json({"type": "pause"})
        paused = collect(ws, "paused")[-1]
        epoch = paused["epoch"]
        ws.send_json({"type": "step"})
        step = next_json(ws, "progress")
        assert step["epochs"] == [epoch + 1]
        ws.send_json({"type": "set", "learning_rate": 0.5, "batch_size": 20})
        assert next_json(ws, "set")["learning_rate"] == 0.5
        ws.send_json({"type": "step"})
        assert next_json(ws, "progress")["learning_rate"] == [0.5]
        ws.send_json({"type": "resume"})
        assert collect(ws, "running")[-1]["state"] == "running"


def test_reset_restores_the_same_initial_weights(client: TestClient) -> None:
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({"type": "start", "paused": True, "config": {"seed": 7}})
        next_json(ws, "ready")
        _, first = next_frame(ws)
        ws.send_json({"type": "resume"})
        next_json(ws, "progress")
        ws.send_json({"type": "reset"})
        ready = next_json(ws, "ready")
        assert ready["config"]["seed"] == 7
        _, again = next_frame(ws)
        np.testing.assert_array_equal(first["weights"], again["weights"])
        assert next_json(ws, "status")["state"] == "paused"


def test_divergence_pauses_and_reset_recovers(client: TestClient) -> None:
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json(
            {
                "type": "start",
                "config": {
                    "dataset": "plane",
                    "learning_rate": 10,
                    "hidden_layers": [8, 8],
                    "activation": "relu",
                    "batch_size": 1,
                },
            }
        )
        status = collect(ws, "diverged")[-1]
        assert status["type"] == "status" and "learning rate" in status["message"]
        ws.send_json({"type": "resume"})
        assert "reset" in next_json(ws, "error")["message"]
        ws.send_json({"type": "set", "learning_rate": 0.01})
        next_json(ws, "set")
        ws.send_json({"type": "reset"})
        next_json(ws, "ready")
        ws.send_json({"type": "resume"})
        progress = next_json(ws, "progress")
        assert all(v is not None for v in progress["train_loss"])


def test_max_epochs_ends_with_done(client: TestClient) -> None:
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({"type": "start", "config": {"max_epochs": 5}})
        msgs = collect(ws, "done")
        epochs = [e for m in msgs if m["type"] == "progress" for e in m["epochs"]]
        assert epochs == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("dataset", ["blobs", "multi_spiral", "multi_gaussian", "moons", "flower"])
def test_every_kind_of_problem_trains(client: TestClient, dataset: str) -> None:
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json(
            {"type": "start", "config": {"dataset": dataset, "n_classes": 4, "max_epochs": 3}}
        )
        ready = next_json(ws, "ready")
        _, blocks = next_frame(ws)
        if dataset in ("blobs", "multi_spiral"):
            assert ready["n_classes"] == 4 and ready["layers"][-1] == 4
            assert set(np.unique(blocks["classes"])) <= {0, 1, 2, 3}
        assert collect(ws, "done")[-1]["state"] == "done"


def test_custom_points_train(client: TestClient) -> None:
    pts = [[-3, -3, 0], [-2, -3, 0], [3, 3, 1], [2, 3, 1], [-3, -2, 0], [3, 2, 1]]
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json(
            {"type": "start", "config": {"dataset": "custom", "points": pts, "train_ratio": 0.5}}
        )
        ready = next_json(ws, "ready")
        assert len(ready["train_points"]) + len(ready["test_points"]) == 6
        ws.send_json({"type": "start", "config": {"dataset": "custom", "points": [[9, 0, 1]] * 3}})
        assert next_json(ws, "error")["field"] == "points"


def test_export_gives_a_loadable_model_and_a_runnable_script(client: TestClient, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({"type": "start", "config": {"max_epochs": 20, "seed": 3}})
        collect(ws, "done")
        ws.send_json({"type": "export"})
        msg = next_json(ws, "export")
    net = Network.load(io.BytesIO(base64.b64decode(msg["npz"])))
    assert net.sizes == [2, 4, 2, 1]
    script = tmp_path / "run.py"
    script.write_text(msg["script"])
    out = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(__import__("pathlib").Path.cwd())},
    )
    last = out.stdout.strip().splitlines()[-1].split()
    assert last[0] == "20"  # retrained for the same 20 epochs


def test_busy_past_the_session_cap(settings: Settings) -> None:
    capped = Settings(data_dir=settings.data_dir, max_sessions=1)
    with TestClient(create_app(capped)) as c, c.websocket_connect("/ws/train") as first:
        first.send_json({"type": "pause"})
        next_json(first, "error")
        with c.websocket_connect("/ws/train") as second:
            second.send_json({"type": "start", "config": {}})  # a place is taken by a start
            msg = next_json(second, "status")
            assert msg["state"] == "busy" and msg["learners"] == 1
            assert msg["message"] == "The server is full: 1 learner is training."


def test_cross_site_websocket_is_refused_with_close_code_1008(client: TestClient) -> None:
    """Accepted, then closed with 1008 and a reason, as docs/protocol.md says: the page
    reads the code and does not retry (an HTTP 403 would look like an outage)."""
    headers = {"origin": "http://evil.example"}
    with client.websocket_connect("/ws/train", headers=headers) as ws:
        closed = ws.receive()
    assert closed == {"type": "websocket.close", "code": 1008, "reason": "origin not allowed"}
    with client.websocket_connect("/ws/train", headers={"origin": "http://testserver"}) as ws:
        ws.send_json({"type": "pause"})
        assert next_json(ws, "error")["type"] == "error"


def test_allow_list_admits_a_proxy_origin(settings: Settings) -> None:
    s = Settings(data_dir=settings.data_dir, allowed_origins=("https://lab.example.org",))
    with (
        TestClient(create_app(s)) as c,
        c.websocket_connect("/ws/train", headers={"origin": "https://lab.example.org"}) as ws,
    ):
        ws.send_json({"type": "pause"})
        assert next_json(ws, "error")["type"] == "error"


def test_oversized_messages_are_refused_before_parsing(settings: Settings) -> None:
    s = Settings(data_dir=settings.data_dir, max_message_bytes=1000)
    with TestClient(create_app(s)) as c, c.websocket_connect("/ws/train") as ws:
        ws.send_text('{"type": "start", "config": {"points": [' + "[1,1,1]," * 500 + "[1,1,1]]}}")
        err = next_json(ws, "error")
        assert err["field"] == "message" and "1000 bytes" in err["message"]


def test_a_classification_set_can_be_posed_as_regression(client: TestClient) -> None:
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json(
            {
                "type": "start",
                "config": {"dataset": "xor", "problem": "regression", "max_epochs": 2},
            }
        )
        ready = next_json(ws, "ready")
        assert ready["problem"] == "regression" and ready["loss"] == "mse"
        assert {p[2] for p in ready["train_points"]} == {-1.0, 1.0}
        assert collect(ws, "done")[-1]["state"] == "done"


def test_speed_paces_training_one_epoch_at_a_time(client: TestClient) -> None:
    """At a set speed every epoch is its own step, reported on its own (the pause between
    them, 1 / speed, is measured by bench/bench_pacing.py); speed 0 trains in chunks of
    as many epochs as fit again."""
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({"type": "start", "config": {"speed": 10}})
        next_json(ws, "ready")
        paced = [next_json(ws, "progress")["epochs"] for _ in range(6)]
        assert paced == [[e] for e in range(1, 7)]  # one epoch per report, none lost
        ws.send_json({"type": "set", "speed": 0})
        until_set = collect(ws, "set")
        assert until_set[-1]["speed"] == 0
        late = [m["epochs"] for m in until_set if m["type"] == "progress"]
        assert all(len(r) == 1 for r in late)  # still paced until the set was applied
        reports = [next_json(ws, "progress")["epochs"]]
        while len(reports[-1]) == 1 and len(reports) < 50:
            reports.append(next_json(ws, "progress")["epochs"])
        assert len(reports[-1]) > 1  # as fast as possible again: many epochs per chunk
        epochs = [e for r in late + reports for e in r]
        assert epochs == list(range(7, 7 + len(epochs)))  # every epoch reported, once


def test_playground_export_includes_onnx_for_the_chosen_features(client: TestClient) -> None:
    import onnxruntime as ort

    from nn_core.features import transform

    with client.websocket_connect("/ws/train") as ws:
        ws.send_json(
            {
                "type": "start",
                "paused": True,
                "config": {"features": ["x1", "x2", "sin_x1"], "hidden_layers": [3]},
            }
        )
        next_json(ws, "ready")
        ws.send_json({"type": "step"})
        ws.send_json({"type": "export"})
        exported = next_json(ws, "export")
    net = Network.load(io.BytesIO(base64.b64decode(exported["npz"])))
    session = ort.InferenceSession(
        base64.b64decode(exported["onnx"]), providers=["CPUExecutionProvider"]
    )
    assert session.get_inputs()[0].name == "features" and session.get_inputs()[0].shape[1] == 3
    x = transform(np.random.default_rng(1).uniform(-6, 6, (20, 2)), ["x1", "x2", "sin_x1"])
    (out,) = session.run(None, {"features": x.astype(np.float32)})
    np.testing.assert_allclose(out, net.forward(x), atol=1e-5)
