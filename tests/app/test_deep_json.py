"""The server answers deeply nested JSON with a clear error, and goes on serving.

The probe runs in a process of its own (see tests/app/deep_json.py: CPython 3.11.7's
gh-106905), so the rest of the suite never shares an interpreter with the RecursionError.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "tests.app.deep_json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return dict(json.loads(out.stdout))


def test_the_parsers_refuse_deep_nesting_naming_the_message(report: dict[str, Any]) -> None:
    assert len(report["parsers"]) == 12  # both parsers, three depths, bare or as a config
    for case, refusal in report["parsers"].items():
        assert refusal == ["message", "must be a JSON object with a type field"], case


def test_a_deep_predict_body_is_a_400_that_says_why(report: dict[str, Any]) -> None:
    status, body = report["predict"]
    assert status == 400
    assert body["detail"] == {"field": "body", "message": "must be a JSON object"}


def test_a_deep_websocket_message_is_an_error_and_the_session_goes_on(
    report: dict[str, Any],
) -> None:
    assert report["ws"]["type"] == "error" and report["ws"]["field"] == "message"
    assert report["ws"]["message"] == "must be a JSON object with a type field"
    assert report["ws_after"] == "ready"  # the same socket starts a run afterwards
