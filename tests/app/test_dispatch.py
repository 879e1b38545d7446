"""The handler tables: every message type a client may send is handled or refused in
words, by each page's session, and a refused one changes nothing."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

from app.config import Settings
from app.digits.session import MnistSession
from app.digits.store import ModelStore
from app.playground.session import PlaygroundSession
from app.session.session import Session
from app.validation import REQUEST_TYPES


@pytest.mark.parametrize("kind", [PlaygroundSession, MnistSession])
def test_every_request_type_is_handled_or_refused_in_words(kind: type[Session[Any]]) -> None:
    for message_type in REQUEST_TYPES:
        handled = message_type in kind.handlers
        refused = message_type in kind.elsewhere
        assert handled != refused, f"{kind.__name__} and {message_type!r}"
    assert set(kind.handlers) <= set(REQUEST_TYPES)


def test_the_playground_handles_the_backward_pass_and_the_digits_page_saves() -> None:
    assert {"edit", "trace", "verify", "export"} <= set(PlaygroundSession.handlers)
    assert "save" in MnistSession.handlers and "save" not in PlaygroundSession.handlers


def _talk(session_of: Any, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    inbox = [json.dumps(m) for m in messages]

    async def send_json(event: dict[str, Any]) -> None:
        events.append(event)

    async def send_bytes(_data: bytes) -> None:
        return None

    async def receive() -> str | None:
        if inbox:
            return inbox.pop(0)
        await anyio.sleep(0.2)
        return None

    async def main() -> None:
        session = session_of(send_json, send_bytes, Settings(), anyio.CapacityLimiter(1))
        await session.serve(receive)

    anyio.run(main)
    return events


def test_a_request_for_the_other_page_is_refused_and_the_run_stays_as_it_was() -> None:
    events = _talk(
        PlaygroundSession,
        [
            {"type": "start", "config": {"hidden_layers": [3]}, "paused": True},
            {"type": "save", "name": "mine", "owner": "t" * 32},
            {"type": "step"},
        ],
    )
    errors = [e for e in events if e["type"] == "error"]
    assert errors == [
        {"type": "error", "field": "type", "message": "save is for MNIST runs on the digits page"}
    ]
    steps = [e for e in events if e["type"] == "progress"]
    assert steps and steps[-1]["epochs"] == [1]  # the run went on from where it was


def test_a_request_before_start_says_what_to_send_first(tmp_path: Any) -> None:
    store = ModelStore(tmp_path)

    def mnist(*args: Any) -> MnistSession:
        return MnistSession(*args, store=store)

    events = _talk(mnist, [{"type": "pause"}, {"type": "trace", "index": 0}])
    assert [e["message"] for e in events] == [
        "pause needs a run: send start first",
        "trace is for playground runs",
    ]
