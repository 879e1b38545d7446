"""Run by tests/app/test_extending.py in a subprocess, where ``nn_core`` is a copy whose
activations.py has one more class, ``Softsign``, and one more registry line, and nothing
else changed: use it through every path of the app and check each against nn_core.

Prints ``ok <checks>`` when everything held; any failure is an exception (exit code 1).
"""

from __future__ import annotations

import base64
import io
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
from fastapi.testclient import TestClient

import nn_core
from app.config import Settings
from app.digits.training import MnistConfig
from app.main import create_app
from nn_core.activations import ACTIVATIONS
from nn_core.features import transform
from nn_core.health import CODES
from nn_core.model import Network
from tests.app.wsutil import next_frame, next_json

NAME = "softsign"
CONFIG = {
    "activation": NAME,
    "hidden_layers": [3, 2],
    "dataset": "xor",
    "n_samples": 100,
    "grid": 20,
    "features": ["x1", "x2", "x1_x2"],
}


def softsign(z: np.ndarray) -> np.ndarray:
    return z / (1 + np.abs(z))


def main(copy: Path) -> None:
    checks = []
    assert Path(nn_core.__file__).resolve().is_relative_to(copy), nn_core.__file__
    assert NAME in ACTIVATIONS
    MnistConfig(activation=NAME)  # the digits page's config takes it too
    checks.append("registry")
    with (
        tempfile.TemporaryDirectory() as data,
        TestClient(create_app(Settings(data_dir=Path(data)))) as client,
    ):
        options = client.get("/api/options").json()
        assert NAME in options["activations"], options["activations"]
        checks.append("options")
        with client.websocket_connect("/ws/train") as ws:
            ws.send_json({"type": "start", "paused": True, "config": CONFIG})
            ready = next_json(ws, "ready")
            assert ready["config"]["activation"] == NAME and ready["layers"] == [3, 3, 2, 1]
            next_json(ws, "health")
            ws.send_json({"type": "step"})
            header, blocks = next_frame(ws)
            assert header["epoch"] == 1 and blocks["neurons"].shape == (3 + 3 + 2 + 1, 16, 16)
            health = next_json(ws, "health")
            checks.append("frame")
            for layer in health["layers"][:-1]:
                assert layer["activation"] == NAME
                assert layer["saturating"] and not layer["rectifier"]  # as the class declares
            assert health["code"] in CODES and health["verdict"]
            checks.append("health")

            ws.send_json({"type": "trace", "split": "train", "index": 3})
            t = next_json(ws, "trace")
            for layer in t["layers"][:-1]:
                z = np.array(layer["z"])
                h = 1e-6
                fd = (softsign(z + h) - softsign(z - h)) / (2 * h)
                np.testing.assert_allclose(layer["slope"], fd, rtol=1e-6)
                np.testing.assert_allclose(layer["a"], softsign(z), rtol=1e-12)
                product = np.multiply(layer["slope"], layer["upstream"])
                np.testing.assert_allclose(layer["delta"], product, rtol=1e-12)
                assert layer["slope_formula"] == "(1 − |a|)²"
            checks.append("trace")

            ws.send_json({"type": "verify", "layer": 0, "kind": "weight", "i": 1, "j": 2})
            v = next_json(ws, "verify")
            assert v["matches"] and v["relative_error"] < 1e-6, v
            checks.append("verify")

            ws.send_json({"type": "export"})
            exported = next_json(ws, "export")
    net = Network.load(io.BytesIO(base64.b64decode(exported["npz"])))
    assert net.hidden_activations == [NAME, NAME]
    session = ort.InferenceSession(
        base64.b64decode(exported["onnx"]), providers=["CPUExecutionProvider"]
    )
    x = transform(np.random.default_rng(1).uniform(-6, 6, (25, 2)), CONFIG["features"])  # type: ignore[arg-type]
    (out,) = session.run(None, {"features": x.astype(np.float32)})
    np.testing.assert_allclose(out, net.forward(x), atol=1e-5)
    assert "Softsign" not in {n.op_type for n in _graph(base64.b64decode(exported["onnx"]))}
    checks.append("onnx")
    print("ok", " ".join(checks))


def _graph(data: bytes) -> list:  # type: ignore[type-arg]
    import onnx

    return list(onnx.load_model_from_string(data).graph.node)


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
