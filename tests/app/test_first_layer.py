"""The first layer's weights as pictures: what the route and the training socket send is
``W1``'s columns scaled by the documented rule (app/digits/weights.py), for every unit of a
narrow layer or the 16 of largest norm of a wide one, a few times a second at most; and a
digits run may be 1,000 epochs long."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.digits.session import parse_mnist
from app.digits.store import DEFAULT_MODEL, SHIPPED_DIR, ModelStore
from app.digits.training import MnistRun
from app.digits.weights import PER_SECOND, first_layer
from app.validation import MNIST_LIMITS, BadRequest
from nn_core.model import Network
from tests.app.test_mnist_session import SMALL, serve, start, states, store
from tests.app.test_runner import Fake

__all__ = ["store"]  # the fixture


def expected(w1: np.ndarray, units: list[int]) -> bytes:
    """The rule: each unit's column over its own largest magnitude m, byte = round(127.5
    (1 + w / m)); one 784-byte picture per unit, in the order of ``units``."""
    cols = w1[:, units].astype(np.float64).T
    m = np.abs(cols).max(axis=1, keepdims=True)
    return np.rint(127.5 * (1 + cols / np.where(m > 0, m, 1))).astype(np.uint8).tobytes()


def test_a_saved_model_s_pictures_are_its_16_largest_first_layer_columns(
    client: TestClient,
) -> None:
    r = client.get(f"/api/models/{DEFAULT_MODEL}/first-layer")
    assert r.status_code == 200
    body = r.json()
    w1 = Network.load(SHIPPED_DIR / f"{DEFAULT_MODEL}.npz").weights[0]
    assert w1.shape == (784, 256) and body["n_hidden"] == 256 and body["side"] == 28
    norms = np.linalg.norm(w1.astype(np.float64), axis=0)
    assert body["units"] == [int(j) for j in np.argsort(norms)[::-1][:16]]
    assert base64.b64decode(body["pixels"]) == expected(w1, body["units"])
    assert body["scales"] == pytest.approx(np.abs(w1[:, body["units"]]).max(axis=0), rel=1e-3)
    assert client.get("/api/models/no-such-model/first-layer").status_code == 404


def test_a_layer_of_up_to_16_units_shows_them_all_in_order() -> None:
    net = Network([784, 5, 10], seed=3)
    net.weights[0][:, 2] = 0.0  # a unit of zero weights is all "zero", 128
    body = first_layer(net, epoch=7)
    assert body["units"] == [0, 1, 2, 3, 4] and body["epoch"] == 7
    pixels = base64.b64decode(body["pixels"])
    assert pixels == expected(net.weights[0], [0, 1, 2, 3, 4])
    assert set(pixels[2 * 784 : 3 * 784]) == {128}
    assert min(pixels) == 0 and max(pixels) == 255  # each picture uses the whole scale


def test_a_training_run_redraws_its_pictures_a_few_times_a_second(store: ModelStore) -> None:
    runs: list[MnistRun] = []
    sent: list[tuple[float, dict[str, Any]]] = []
    fake = Fake([start({**SMALL, "epochs": 20})], leave_when=lambda f: "done" in states(f))
    record = fake.send_json

    async def timed(event: dict[str, Any]) -> None:
        if event["type"] == "first_layer":
            sent.append((time.monotonic(), event))
        await record(event)

    fake.send_json = timed  # type: ignore[method-assign]
    serve([fake], store, runs)
    epochs = [ev["epoch"] for _, ev in sent]
    assert epochs[0] == 0 and epochs[-1] == 20  # the start's weights, and the end's
    assert len(set(epochs)) >= 3 and epochs == sorted(epochs)  # and some in between
    gaps = np.diff([t for t, _ in sent[:-1]])  # the last one is the end's, sent at once
    assert (gaps >= 1 / PER_SECOND - 0.02).all(), gaps
    final = sent[-1][1]
    w1 = runs[0].network.weights[0]
    assert final["units"] == list(range(10))
    assert base64.b64decode(final["pixels"]) == expected(w1, final["units"])


def test_a_digits_run_may_be_1000_epochs_and_no_more() -> None:
    assert MNIST_LIMITS["epochs"] == (1, 1000)
    parse_mnist(json.dumps({"type": "start", "config": {"epochs": 1000}}))
    with pytest.raises(BadRequest) as refused:
        parse_mnist(json.dumps({"type": "start", "config": {"epochs": 1001}}))
    assert refused.value.field == "epochs"
    assert refused.value.message == "must be between 1 and 1000"
