"""The learners' side of a class: a session that joined writes its tile a few times a second
and hears of the teacher's setup and of the class's end.

One :class:`Publisher` per process does it for all its joined learners: every
``class_tile_seconds`` it takes what each learner's session last sent (the frame's bytes
and the health event, kept by reference as they went out: no copy, no work on the
training path), and on one worker thread decodes each thumbnail, writes the tiles of each
class's learners in one file and looks at each class's ``setup.json`` and heartbeat once.
Back on the event loop it hands each learner its events.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import math
import secrets
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread

from app.classroom.store import ClassStore

log = logging.getLogger("backprop_lab.classroom")
Notify = Callable[[dict[str, Any]], None]


def thumbnail(frame: bytes) -> tuple[int, bytes] | None:
    """The output neuron's view over the plane (the last of the frame's ``neurons`` block:
    side x side uint8 on the -1..1 scale, rows from the bottom), or None if the frame has
    no thumbnails (a busy server sends them every other frame)."""
    (n,) = struct.unpack_from("<I", frame, 4)
    header = json.loads(frame[8 : 8 + n])
    for block in header["blocks"]:
        if block["name"] == "neurons":
            k, side, _ = block["shape"]
            start = 8 + n + block["offset"] + (k - 1) * side * side
            return side, frame[start : start + side * side]
    return None


@dataclass(eq=False)
class Member:
    """One joined learner, as its process's publisher sees it."""

    code: str
    name: str
    run: Callable[[], Any]  # the session's current run, or None
    notify: Notify  # hands an event to the session, to send in order with the rest
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    joined: float = field(default_factory=time.time)
    frame: bytes | None = None  # the last frame the session sent
    health: dict[str, Any] | None = None  # the last health event
    thumb: tuple[int, bytes] | None = None
    setup_seen: int = 0  # setup.json's mtime (ns) when it was last offered
    left: bool = False  # set on the event loop when the learner leaves

    def tile(self) -> dict[str, Any]:
        """On the worker thread: the tile as it should be now."""
        if self.frame is not None:
            self.thumb = thumbnail(self.frame) or self.thumb
            self.frame = None
        run = self.run()
        trainer = getattr(run, "trainer", None)
        last = trainer.history[-1] if trainer is not None and trainer.history else None
        loss = last.test_loss if last is not None else None
        health = self.health or {}
        side, data = self.thumb or (0, b"")
        return {
            "id": self.id,
            "name": self.name,
            "joined": self.joined,
            "epoch": trainer.epoch if trainer is not None else 0,
            "state": getattr(run, "state", "none"),
            "test_loss": loss if loss is not None and math.isfinite(loss) else None,
            "verdict_code": health.get("code"),
            "verdict": health.get("verdict"),
            "side": side,
            "thumb": base64.b64encode(data).decode(),
        }


@dataclass
class Publisher:
    """Every joined learner of this process: their tiles and their classes' news.

    The tiles of one class's learners in this process travel together, in one file
    (``learners/<this publisher>.json``), so a round costs one write per class, not one
    per learner (a rename costs a millisecond on some disks)."""

    store: ClassStore
    period: float
    members: list[Member] = field(default_factory=list)
    #: This process's file name in each class: random, as two replicas' pids may be equal.
    name: str = field(default_factory=lambda: secrets.token_hex(8))
    _task: asyncio.Task[None] | None = None

    def add(self, member: Member) -> None:
        self.members.append(member)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop())

    def remove(self, member: Member) -> None:
        """The learner left or its socket closed: its tile goes at the next round, or now
        if it was this process's last learner in that class."""
        member.left = True
        with contextlib.suppress(ValueError):
            self.members.remove(member)
        self._clear([member.code])

    def _clear(self, codes: list[str]) -> None:
        """Remove this process's file from each class of ``codes`` it has no learner in."""
        for code in set(codes) - {m.code for m in self.members}:
            self.store.remove_tile(code, self.name)

    async def _loop(self) -> None:
        while self.members:
            await anyio.sleep(self.period)
            members = list(self.members)
            try:
                news = await anyio.to_thread.run_sync(self.publish, members)
            except Exception:  # a full disk must not stop the next round
                log.exception("class tiles could not be written")
                continue
            for member, event in news:
                if event["type"] == "class_ended":
                    with contextlib.suppress(ValueError):
                        self.members.remove(member)
                member.notify(event)
            self._clear([m.code for m in members])  # a learner left during the round

    def publish(self, members: list[Member]) -> list[tuple[Member, dict[str, Any]]]:
        """On a worker thread: each class's tiles in one write, then its news, read once."""
        news: list[tuple[Member, dict[str, Any]]] = []
        classes: dict[str, list[Member]] = {}
        for m in members:
            if not m.left:
                classes.setdefault(m.code, []).append(m)
        for code, mine in classes.items():
            if not self.store.alive(code):
                self.store.end(code)  # its teacher is gone: nobody else may see it
                news += [(m, ended_event()) for m in mine]
                continue
            if not self.store.write_tiles(code, self.name, [m.tile() for m in mine]):
                news += [(m, ended_event()) for m in mine]  # ended meanwhile
                continue
            setup = self.store.setup(code) if self.store.setup_stamp(code) else None
            for m in mine:
                if setup is not None and setup[0] > m.setup_seen:
                    m.setup_seen = setup[0]
                    news.append((m, setup_event(setup[1])))
        return news


def ended_event() -> dict[str, Any]:
    return {"type": "class_ended", "message": "the teacher ended the class"}


def setup_event(setup: dict[str, Any]) -> dict[str, Any]:
    event = {
        "type": "class_setup",
        "config": setup["config"],
        "label": setup.get("label", ""),
        "sent": setup.get("sent", 0),
    }
    if setup.get("lesson"):
        event["lesson"] = setup["lesson"]  # the page opens the lesson with its setup
    return event
