"""Deeply nested JSON sent to the parsers, to /api/predict and to /ws/train; prints what
came back as one JSON line.

Run as ``python -m tests.app.deep_json`` by tests/app/test_deep_json.py, in a process of
its own: such input makes the parser raise RecursionError deep in a server thread, and on
CPython 3.11.7 the suite's process then hit "SystemError: AST constructor recursion depth
mismatch" in a later test (gh-106905: one recursion counter for every thread's
``ast.parse``). Nothing this probe does can reach the suite's interpreter.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from app.config import Settings
from app.digits.session import parse_mnist
from app.main import create_app
from app.playground.schema import parse_request
from app.validation import BadRequest

DEPTHS = (1_000, 50_000, 100_000)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def refused(parse: Any, text: str) -> list[str]:
    """The field and message a parser refuses ``text`` with (or what it did instead)."""
    try:
        parse(text)
    except BadRequest as exc:
        return [exc.field, exc.message]
    return ["accepted", text[:40]]


def main() -> None:
    report: dict[str, Any] = {"parsers": {}}
    for depth in DEPTHS:
        for name, parse in (("playground", parse_request), ("mnist", parse_mnist)):
            report["parsers"][f"{name} {depth}"] = refused(parse, nested(depth))
            inside = '{"type": "start", "config": ' + nested(depth) + "}"
            report["parsers"][f"{name} config {depth}"] = refused(parse, inside)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data")
        with TestClient(create_app(settings)) as client:
            r = client.post(
                "/api/predict",
                content=nested(100_000).encode(),
                headers={"content-type": "application/json"},
            )
            report["predict"] = [r.status_code, r.json()]
            with client.websocket_connect("/ws/train") as ws:
                ws.send_text(nested(100_000))
                report["ws"] = ws.receive_json()
                ws.send_json({"type": "start", "paused": True, "config": {}})
                report["ws_after"] = ws.receive_json()["type"]
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
