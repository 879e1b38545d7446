"""Every limit is written once: the pydantic fields, ``/api/options`` and the messages all
come from ``app.validation.LIMITS``, and one translator phrases every refusal."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from app.config import Settings
from app.digits import inputs
from app.digits.session import parse_mnist
from app.digits.training import MnistConfig
from app.playground.schema import TrainConfig
from app.session.requests import EditRequest, VerifyRequest
from app.validation import LIMITS, MNIST_LIMITS, BadRequest, explain
from nn_core.features import FEATURES
from nn_core.losses import LOSSES
from tests.app.wsutil import next_json

ROOT = Path(__file__).resolve().parents[2]


def _bounds(prop: dict[str, Any]) -> tuple[float, float]:
    """``(minimum, maximum)`` of a number's schema, reading ``X | None`` as X."""
    some = [p for p in prop.get("anyOf", [prop]) if p.get("type") != "null"]
    return some[0]["minimum"], some[0]["maximum"]


def test_options_send_the_config_schema(client: TestClient) -> None:
    body = client.get("/api/options").json()
    assert body["schema"] == TrainConfig.model_json_schema()
    assert body["limits"] == {k: list(v) for k, v in LIMITS.items()}
    assert body["losses"] == {k: {"requires": list(v.requires)} for k, v in LOSSES.items()}
    assert body["losses"]["bce"]["requires"] == ["sigmoid"]
    assert body["schema"]["properties"]["loss"]["enum"] == ["auto", *LOSSES]


def test_every_numeric_field_of_the_config_spans_its_limit() -> None:
    props = TrainConfig.model_json_schema()["properties"]
    numeric = [k for k, p in props.items() if "minimum" in str(p) and p.get("type") != "array"]
    assert len(numeric) >= 11
    for key in numeric:
        assert _bounds(props[key]) == LIMITS[key], key


def test_lists_of_the_config_take_their_lengths_and_items_from_the_limits() -> None:
    props = TrainConfig.model_json_schema()["properties"]
    layers = props["hidden_layers"]
    assert layers["maxItems"] == LIMITS["hidden_layers"][1]
    assert _bounds(layers["items"]) == LIMITS["neurons"]
    assert props["activation"]["anyOf"][1]["maxItems"] == LIMITS["hidden_layers"][1]
    assert props["features"]["maxItems"] == len(FEATURES)
    points = props["points"]
    assert points["maxItems"] == LIMITS["points"][1]
    x1, x2, label = points["items"]["prefixItems"]
    assert _bounds(x1) == _bounds(x2) == LIMITS["coordinate"]
    assert _bounds(label) == LIMITS["label"]
    # a custom data set needs the fewest points LIMITS names
    fewest = int(LIMITS["points"][0])
    few = [[0.0, 0.0, 0]] * (fewest - 1)
    with pytest.raises(ValueError, match=f"at least {fewest} points"):
        TrainConfig.model_validate({"dataset": "custom", "points": few})
    TrainConfig.model_validate({"dataset": "custom", "points": few + [[1.0, 1.0, 1]]})


def test_a_parameter_s_address_is_bounded_by_the_network_s_limits() -> None:
    for model in (EditRequest, VerifyRequest):
        props = TypeAdapter(model).json_schema()["properties"]
        assert _bounds(props["layer"]) == (0, LIMITS["hidden_layers"][1])
        assert _bounds(props["j"]) == (0, LIMITS["neurons"][1] - 1)
        assert _bounds(props["i"]) == (0, LIMITS["neurons"][1] - 1)


def test_the_mnist_epoch_limit_is_one_fact() -> None:
    props = MnistConfig.model_json_schema()["properties"]
    assert _bounds(props["epochs"]) == MNIST_LIMITS["epochs"] == (1, 1000)
    assert "epochs" not in LIMITS  # the playground's runs have no length
    assert _bounds(props["learning_rate"]) == LIMITS["learning_rate"]
    assert not [k for k in Settings.model_fields if "epoch" in k]


def test_messages_quote_the_ranges_of_the_limits() -> None:
    lo, hi = LIMITS["hidden_layers"]
    n_lo, n_hi = LIMITS["neurons"]
    field, message = explain(("start", "config", "hidden_layers", 0), "less_than_equal", "")
    assert field == "hidden_layers"
    assert f"{lo:g} to {hi:g} hidden layers of {n_lo:g} to {n_hi:g} neurons" in message
    c_lo, c_hi = LIMITS["coordinate"]
    field, message = explain(("start", "config", "points", 3, 0), "less_than_equal", "")
    assert field == "points" and f"up to {LIMITS['points'][1]:g} points" in message
    assert f"in {c_lo:g}..{c_hi:g}" in message


def test_the_digits_page_s_refusals_quote_its_own_ranges() -> None:
    """An MNIST network may be wider and its batches larger than the playground's."""
    hi = MNIST_LIMITS["batch_size"][1]
    assert hi > LIMITS["batch_size"][1]
    for bad, field, said in [
        ({"batch_size": int(hi) + 1}, "batch_size", f"between 1 and {hi:g}"),
        ({"hidden_layers": [2000]}, "hidden_layers", "of 1 to 1024 neurons"),
    ]:
        with pytest.raises(BadRequest) as refused:
            parse_mnist(json.dumps({"type": "start", "config": bad}))
        assert refused.value.field == field and said in refused.value.message
    parse_mnist(json.dumps({"type": "start", "config": {"batch_size": int(hi)}}))


def test_refusals_over_the_socket_quote_the_limits(client: TestClient) -> None:
    n_hi = int(LIMITS["neurons"][1])
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({"type": "start", "config": {"hidden_layers": [n_hi + 1]}})
        err = next_json(ws, "error")
        assert err["field"] == "hidden_layers" and f"1 to {n_hi} neurons" in err["message"]
        ws.send_json({"type": "start", "config": {"dataset": "custom", "points": [[7, 0, 0]] * 3}})
        err = next_json(ws, "error")
        lo, hi = LIMITS["coordinate"]
        assert err["field"] == "points" and f"{lo:g}..{hi:g}" in err["message"]
        ws.send_json({"type": "start", "config": {"hidden_layers": [2]}, "paused": True})
        next_json(ws, "ready")
        ws.send_json({"type": "edit", "layer": 0, "kind": "weight", "i": n_hi, "j": 0, "value": 1})
        err = next_json(ws, "error")
        assert err == {
            "type": "error",
            "field": "i",
            "message": f"must be between 0 and {n_hi - 1}",
        }


def test_predict_requests_use_the_same_translator(client: TestClient) -> None:
    lo, hi = inputs.LIMITS["width"]
    r = client.post("/api/predict", json={"strokes": [[[0, 0]]], "width": int(hi) + 1})
    assert r.status_code == 422
    assert r.json()["detail"] == {"field": "width", "message": f"must be between {lo:g} and {hi:g}"}
    r = client.post("/api/predict", json={"pixels": [0.5] * 3})
    assert r.json()["detail"] == {"field": "pixels", "message": inputs.HINTS["pixels"]}
    r = client.post("/api/predict", json={"pixels": [0.5] * inputs.PIXELS, "colour": 1})
    assert r.json()["detail"] == {"field": "colour", "message": "is not a known field"}
    r = client.post("/api/predict", json={})
    assert r.json()["detail"]["field"] == "body"
    # and nowhere else in app/ is a pydantic error turned into words
    translators = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "app").rglob("*.py")
        if re.search(r"^def explain\b", p.read_text(), re.M)
    ]
    assert translators == ["app/validation.py"]


def test_the_page_s_words_come_with_the_options(client: TestClient) -> None:
    from app.playground.schema import DATASET_NAMES
    from app.playground.words import WORDS

    words = client.get("/api/options").json()["words"]
    assert words == WORDS
    assert set(words["datasets"]) == set(DATASET_NAMES)  # every data set has its name
    assert set(words["losses"]) == set(LOSSES)
