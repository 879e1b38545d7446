"""A playground session's seat in a class: the ``join`` and ``leave`` requests
(docs/protocol.md), and a tap on what the session sends, so its tile shows the last frame
and health verdict the learner saw."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Annotated, Any, Literal

import anyio.to_thread
from pydantic import Field, ValidationError

from app.classroom.learners import Member, Publisher
from app.classroom.store import CodeRequest, class_code, learner_name
from app.validation import BadRequest, Strict, explain_error

CLASS_REQUESTS = ("join", "leave")


class JoinRequest(CodeRequest):
    """Join the class whose code the teacher's screen shows, under a name for its tile."""

    type: Literal["join"]
    name: Annotated[str, Field(max_length=200)]


class LeaveRequest(Strict):
    type: Literal["leave"]


_MODELS: dict[str, type[Strict]] = {"join": JoinRequest, "leave": LeaveRequest}


def with_class_requests(parse: Callable[[str | bytes], Any]) -> Callable[[str | bytes], Any]:
    """``parse``, plus the class requests (looked for only in a message that names one)."""

    def parse_all(text: str | bytes) -> Any:
        probe = text if isinstance(text, str) else text.decode("utf-8", "replace")
        if '"join"' in probe or '"leave"' in probe:
            try:
                raw = json.loads(probe)
            except ValueError:
                raw = None
            if isinstance(raw, dict) and raw.get("type") in _MODELS:
                try:
                    return _MODELS[raw["type"]].model_validate(raw)
                except ValidationError as exc:
                    raise BadRequest(*explain_error(exc)) from None
        return parse(text)

    return parse_all


class Seat:
    """Whether (and in which class) one session sits; taps its outgoing frames."""

    def __init__(self, publisher: Publisher | None, session: Any) -> None:
        self.publisher = publisher
        self.session = session
        self.member: Member | None = None
        send_json, send_bytes = session._send_json, session._send_bytes

        async def tap_json(event: dict[str, Any] | str) -> None:
            if self.member is not None and isinstance(event, dict) and event["type"] == "health":
                self.member.health = event
            await send_json(event)

        async def tap_bytes(data: bytes) -> None:
            if self.member is not None:
                self.member.frame = data  # decoded by the publisher, off the event loop
            await send_bytes(data)

        session._send_json, session._send_bytes = tap_json, tap_bytes

    async def apply(self, item: Any) -> bool:
        """Handle a class request; False for any other."""
        kind = getattr(item, "type", None)
        if kind == "join":
            await self.join(item)
        elif kind == "leave":
            self.leave()
            await self.session.send_json({"type": "left"})
        else:
            return False
        return True

    async def join(self, item: JoinRequest) -> None:
        publisher = self.publisher
        if publisher is None:
            await self.session.error("code", "is not needed: this server holds no classes")
            return
        try:
            code, name = class_code(item.code), learner_name(item.name)
            self.leave()  # a second join moves the learner to the new class
            await anyio.to_thread.run_sync(publisher.store.admit, code)
        except BadRequest as exc:
            await self.session.send_json(exc.event())
            return
        self.member = member = Member(code, name, lambda: self.session.run, self.notify)
        publisher.add(member)  # its tile is written within class_tile_seconds
        await self.session.send_json({"type": "joined", "code": code, "name": name})

    def leave(self) -> None:
        if self.member is not None and self.publisher is not None:
            self.publisher.remove(self.member)
        self.member = None

    def notify(self, event: dict[str, Any]) -> None:
        """From the publisher: an event to send after what the session has queued."""
        if event["type"] == "class_ended":
            self.member = None
        session = self.session
        if session.engine is not None:
            session._outbox.put_nowait(([event], False))
        else:
            asyncio.get_running_loop().create_task(session.send_json(event))
