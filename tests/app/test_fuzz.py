"""Fuzzing every inbound message and body: no crash, no 500, every error names a field.

FUZZ_EXAMPLES sets the number of cases per test (CI: 1,500; the long run: 10,000+).
Nesting stays below the recursion limit here; deeper nesting, which raises RecursionError
inside the parser, is probed in a process of its own (tests/app/test_deep_json.py).
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app.digits.session import parse_mnist
from app.playground.schema import parse_request
from app.validation import REQUEST_TYPES, BadRequest
from tests.app.wsutil import next_json

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1500"))
#: Deepest nesting fuzzed in this process: well inside sys.getrecursionlimit() (1,000).
DEPTH = 500
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
CONFIG_KEYS = [
    "dataset",
    "n_samples",
    "noise",
    "train_ratio",
    "features",
    "hidden_layers",
    "activation",
    "problem",
    "loss",
    "learning_rate",
    "optimizer",
    "batch_size",
    "regularization",
    "regularization_rate",
    "seed",
    "grid",
    "n_classes",
    "max_epochs",
    "points",
    "epochs",
    "augment",
    "name",
]
configs = st.dictionaries(st.sampled_from(CONFIG_KEYS) | st.text(max_size=6), values, max_size=6)
messages = st.fixed_dictionaries(
    {"type": st.sampled_from(REQUEST_TYPES) | st.text(max_size=8) | scalars},
    optional={
        "config": configs | values,
        "learning_rate": values,
        "batch_size": values,
        "regularization_rate": values,
        "name": values,
        "paused": values,
    },
)
raw = (
    messages.map(lambda m: json.dumps(m))
    | values.map(json.dumps)
    | st.text(max_size=200)
    | st.binary(max_size=200)
    | st.integers(1, DEPTH).map(lambda n: "[" * n + "]" * n)
    | st.integers(1, DEPTH).map(lambda n: '{"type": "start", "config": ' + "[" * n + "]" * n + "}")
)


def _check(parse: Any, text: str | bytes) -> None:
    try:
        parse(text)
    except BadRequest as exc:
        assert exc.field and isinstance(exc.field, str)
        assert exc.message and isinstance(exc.message, str)


@FUZZ
@given(text=raw)
def test_playground_messages_never_crash_the_parser(text: str | bytes) -> None:
    _check(parse_request, text)


@FUZZ
@given(text=raw)
def test_mnist_messages_never_crash_the_parser(text: str | bytes) -> None:
    _check(parse_mnist, text)


def test_a_session_survives_a_stream_of_bad_messages(client: TestClient) -> None:
    sent = 0
    with client.websocket_connect("/ws/train") as ws:

        @settings(
            max_examples=max(200, EXAMPLES // 5),
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(text=raw)
        def check(text: str | bytes) -> None:
            nonlocal sent
            try:
                req = parse_request(text)
                assume(req.type != "start")  # valid starts train; tested elsewhere
            except BadRequest:
                pass
            if isinstance(text, bytes):
                ws.send_bytes(text)
            else:
                ws.send_text(text)
            sent += 1
            err = next_json(ws, "error")  # no run yet: every message earns exactly one error
            assert err["field"] and err["message"]

        check()
        ws.send_json({"type": "start", "config": {"max_epochs": 2}})
        assert next_json(ws, "ready")["layers"] == [2, 4, 2, 1]
    assert sent > 100


def test_predict_bodies_never_give_a_500(client: TestClient) -> None:
    body_values = (
        st.fixed_dictionaries(
            {},
            optional={
                "pixels": values | st.lists(st.floats(allow_nan=True), min_size=784, max_size=784),
                "image": values | st.text(max_size=50).map(lambda t: "data:image/png;base64," + t),
                "strokes": values,
                "width": values,
                "height": values,
                "model": values,
            },
        )
        | values
    )

    @FUZZ
    @given(body=body_values)
    def check(body: Any) -> None:
        text = json.dumps(body, allow_nan=True)
        r = client.post(
            "/api/predict", content=text.encode(), headers={"content-type": "application/json"}
        )
        assert r.status_code in (200, 400, 404, 413, 422), (r.status_code, text[:200])
        if r.status_code != 200:
            detail = r.json()["detail"]
            assert detail["field"] and detail["message"]
        else:
            probs = r.json()["probabilities"]
            assert math.isclose(sum(probs), 1.0, abs_tol=1e-3)

    check()
