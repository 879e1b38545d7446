"""The teacher's view: ``/class`` and its socket ``/ws/class`` (docs/protocol.md, "Classes").

The teacher's socket may be on any worker process (or replica): it reads the class's
folder, which every learner's process writes (:mod:`app.classroom.store`), a few times a
second and sends the tiles it finds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Annotated, Any, Literal

import anyio
import anyio.to_thread
from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse
from pydantic import Field, TypeAdapter, ValidationError, model_validator

from app.classroom.store import ClassStore, CodeRequest, class_code
from app.lessons.lesson import lessons
from app.pages import templates
from app.playground.schema import TrainConfig
from app.session.host import origin_allowed
from app.session.session import GONE
from app.state import AppState
from app.validation import BadRequest, Strict, explain_error

router = APIRouter()
log = logging.getLogger("backprop_lab.classroom")
#: What a teacher reads when the class folder cannot be written (the log has the cause).
FOLDER_TROUBLE = (
    "the server cannot write its class folder (BACKPROP_CLASS_DIR); "
    "ask whoever runs it to make that folder writable"
)


class OpenRequest(Strict):
    type: Literal["open"]


class ReopenRequest(CodeRequest):
    """The teacher's page is back after a reload or a dropped socket."""

    type: Literal["reopen"]
    token: Annotated[str, Field(max_length=200)]


class SendSetupRequest(Strict):
    """A setup for every joined learner to load: ``config``, or a playground ``lesson``
    (its id; the lesson's own setup is sent with it, and its title is the label)."""

    type: Literal["send_setup"]
    config: TrainConfig | None = None
    lesson: Annotated[str, Field(max_length=40)] | None = None
    label: Annotated[str, Field(max_length=120)] = ""

    @model_validator(mode="after")
    def _one_setup(self) -> SendSetupRequest:
        if (self.config is None) == (self.lesson is None):
            raise ValueError("config: send either a setup or a lesson")
        return self

    def resolved(self) -> tuple[dict[str, Any], str, str | None]:
        """The config to send, its label and the lesson's id (if it is a lesson)."""
        if self.lesson is None:
            assert self.config is not None
            return self.config.model_dump(exclude_defaults=True), self.label, None
        found = lessons().get(self.lesson)
        if found is None or found.page != "playground":
            playground = [k for k, v in lessons().items() if v.page == "playground"]
            raise BadRequest(
                "lesson", f"must be one of the playground's lessons: {', '.join(playground)}"
            )
        config = TrainConfig.model_validate(found.config()).model_dump(exclude_defaults=True)
        return config, self.label or found.title, found.id


class EndRequest(Strict):
    type: Literal["end"]


class SeenRequest(Strict):
    """The page drew the last tiles: the next may come (a slow page gets fewer)."""

    type: Literal["seen"]


_TEACHER: TypeAdapter[Any] = TypeAdapter(
    Annotated[
        OpenRequest | ReopenRequest | SendSetupRequest | EndRequest | SeenRequest,
        Field(discriminator="type"),
    ]
)


TEACHER_TYPES = ("open", "reopen", "send_setup", "end", "seen")
#: Seconds the next tiles wait at most for the page's ``seen`` of the last.
SEEN_SECONDS = 5.0


def parse_teacher(text: str) -> Any:
    try:
        raw = json.loads(text)
    except ValueError:
        raise BadRequest("message", "must be a JSON object with a type field") from None
    if not isinstance(raw, dict) or raw.get("type") not in TEACHER_TYPES:
        raise BadRequest("type", "must be one of " + ", ".join(TEACHER_TYPES))
    try:
        return _TEACHER.validate_python(raw)
    except ValidationError as exc:
        field, message = explain_error(exc)
        raise BadRequest(field.removeprefix("config."), message) from None


@router.get("/class", response_class=HTMLResponse, include_in_schema=False)
async def class_page(request: Request) -> HTMLResponse:
    """The teacher's view: start a class, watch every joined learner, send a setup."""
    return templates.TemplateResponse(request, "class.html", {"page": "class"})


class Teacher:
    """One teacher's socket: the class it holds (if any) and what it was last sent."""

    def __init__(self, websocket: WebSocket, store: ClassStore) -> None:
        self.ws, self.store = websocket, store
        self.code: str | None = None
        self.seen = asyncio.Event()  # the page drew the last tiles sent
        self.seen.set()

    async def send(self, event: dict[str, Any]) -> None:
        await self.ws.send_json(event)

    async def apply(self, item: Any) -> None:
        store = self.store
        if isinstance(item, SeenRequest):
            self.seen.set()
        elif isinstance(item, OpenRequest):
            if self.code is not None:
                await anyio.to_thread.run_sync(store.end, self.code)
            self.code, token = await anyio.to_thread.run_sync(store.open_class)
            await self.send({"type": "class", "code": self.code, "token": token})
        elif isinstance(item, ReopenRequest):
            code = class_code(item.code)
            if not await anyio.to_thread.run_sync(store.reclaim, code, item.token):
                raise BadRequest("code", "is not a class of yours that is still on")
            self.code = code
            await self.send({"type": "class", "code": code, "token": item.token})
        elif self.code is None:
            raise BadRequest("type", f"{item.type} needs a class: start one first")
        elif isinstance(item, SendSetupRequest):
            config, label, lesson = item.resolved()
            await anyio.to_thread.run_sync(store.send_setup, self.code, config, label, lesson)
            sent = {"type": "setup_sent", "label": label, "config": config}
            await self.send(sent | ({"lesson": lesson} if lesson else {}))
        else:
            await anyio.to_thread.run_sync(store.end, self.code)
            self.code = None
            await self.send({"type": "ended"})

    async def listen(self, limit: int) -> None:
        while True:
            text = await self.ws.receive_text()
            try:
                if len(text) > limit:
                    raise BadRequest("message", f"is larger than {limit} bytes")
                await self.apply(parse_teacher(text))
            except BadRequest as exc:
                await self.send(exc.event())
            except OSError as exc:  # the folder the replicas share cannot be written
                log.error("classes: %s (BACKPROP_CLASS_DIR=%s)", exc, self.store.root)
                await self.send(BadRequest("class", FOLDER_TROUBLE).event())

    async def watch(self, period: float) -> None:
        """A few times a second: the heartbeat, then every tile of the class."""
        while True:
            await anyio.sleep(period)
            code = self.code
            if code is None:
                continue
            tiles = await anyio.to_thread.run_sync(self._look, code)
            if code != self.code:
                continue  # ended or replaced meanwhile
            if tiles is None:
                self.code = None
                await self.send({"type": "ended", "message": "the class is no longer on"})
            else:
                # one message in flight: a page that lags (a busy laptop) gets fewer, never
                # a backlog of old ones
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.seen.wait(), SEEN_SECONDS)
                self.seen.clear()
                await self.send({"type": "tiles", "code": code, "learners": tiles})

    def _look(self, code: str) -> list[dict[str, Any]] | None:
        if not self.store.alive(code):
            return None
        self.store.beat(code)
        return self.store.tiles(code)


@router.websocket("/ws/class")
async def class_socket(websocket: WebSocket) -> None:
    """The teacher's socket: start, watch, send a setup to and end one class."""
    state: AppState = websocket.app.state.backprop
    await websocket.accept()
    if not origin_allowed(websocket, state.settings.allowed_origins):
        await websocket.close(code=1008, reason="origin not allowed")
        return
    teacher = Teacher(websocket, websocket.app.state.classroom.store)
    try:
        async with anyio.create_task_group() as tg:

            async def listen() -> None:
                await teacher.listen(state.settings.max_message_bytes)

            tg.start_soon(listen)
            tg.start_soon(teacher.watch, state.settings.class_tile_seconds)
    except* (*GONE, WebSocketDisconnect, RuntimeError):
        pass  # the teacher closed the page: the class waits class_idle_seconds for it
