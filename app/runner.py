"""A training session: one WebSocket, one run, two tasks.

The *listener* reads messages, validates them and queues them; the *trainer* owns the
run: it applies queued requests between chunks, trains a time-boxed chunk on a worker
thread (under the app's capacity limiter, so chunks from all sessions share the cores
fairly), then sends that chunk's progress and, at most ``max_fps`` times a second, a
boundary frame.  It asks for the next chunk only after the last frame was sent, so a
slow client slows only its own run.  When either task ends (the socket closed or broke)
the task group cancels the other: run state dies with its socket.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.to_thread
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from starlette.websockets import WebSocketDisconnect, WebSocketDisconnected

from app.config import Settings
from app.run import PlaygroundRun, progress_event
from app.schemas import (
    BadRequest,
    EditRequest,
    Item,
    SaveRequest,
    SetRequest,
    TraceRequest,
    VerifyRequest,
    parse_request,
)

log = logging.getLogger("backprop_lab.session")
# What a send raises once the client is gone (uvicorn's ClientDisconnected is an OSError).
GONE = (WebSocketDisconnect, WebSocketDisconnected, OSError)
SendJSON = Callable[[dict[str, Any]], Awaitable[None]]
SendBytes = Callable[[bytes], Awaitable[None]]
Receive = Callable[[], Awaitable[str | bytes | None]]
Parse = Callable[[str | bytes], Any]
SaveModel = Callable[[Any, str], Any]


class Session:
    """The state of one connection's playground run, owned by :meth:`train_loop`."""

    def __init__(
        self,
        send_json: SendJSON,
        send_bytes: SendBytes,
        settings: Settings,
        limiter: anyio.CapacityLimiter,
        *,
        parse: Parse = parse_request,
        build: Callable[[Any], Any] = PlaygroundRun,
        save: SaveModel | None = None,
        stopping: asyncio.Event | None = None,
        close: Callable[[int], Awaitable[None]] | None = None,
        load: Any = None,
    ) -> None:
        #: Shared with the other sessions of this process: ``load.training`` counts the
        #: runs training right now, which split this process's CPU time between them.
        self.load = load
        self._counted = False
        self._frame_cost = 0.001  # seconds, a running average
        self.stopping, self.close = stopping, close
        self.parse, self.build, self.save = parse, build, save
        self.send_json = send_json
        self.send_bytes = send_bytes
        self.settings = settings
        self.limiter = limiter
        self.run: Any = None  # a PlaygroundRun or an MnistRun
        self.config_request: Any = None
        self._last_frame = 0.0

    def _count(self, training: bool) -> None:
        if self.load is not None and training != self._counted:
            self.load.training += 1 if training else -1
            self._counted = training

    def training_now(self) -> int:
        return max(1, self.load.training) if self.load is not None else 1

    async def serve(self, receive: Receive) -> None:
        """Run the listener and the trainer until the client goes away."""
        try:
            await self._serve(receive)
        finally:
            self._count(False)

    async def _serve(self, receive: Receive) -> None:
        send, recv = anyio.create_memory_object_stream[Item](64)
        async with anyio.create_task_group() as tg:

            async def listen() -> None:
                await self.listen(receive, send)
                tg.cancel_scope.cancel()

            async def watch_shutdown(stopping: asyncio.Event) -> None:
                await stopping.wait()
                epoch = self.run.trainer.epoch if self.run is not None else 0
                await self.send_json(
                    {
                        "type": "status",
                        "state": "stopped",
                        "epoch": epoch,
                        "message": "the server is shutting down; this run ends here",
                    }
                )
                if self.close is not None:
                    await self.close(1001)  # going away
                tg.cancel_scope.cancel()

            tg.start_soon(listen)
            tg.start_soon(self.train_loop, recv)
            if self.stopping is not None:
                tg.start_soon(watch_shutdown, self.stopping)

    async def listen(self, receive: Receive, queue: MemoryObjectSendStream[Item]) -> None:
        async with queue:
            while True:
                text = await receive()
                if text is None:
                    return
                if len(text) > self.settings.max_message_bytes:
                    await queue.send(
                        BadRequest(
                            "message", f"is larger than {self.settings.max_message_bytes} bytes"
                        )
                    )
                    continue
                try:
                    await queue.send(self.parse(text))
                except BadRequest as exc:
                    await queue.send(exc)

    async def train_loop(self, queue: MemoryObjectReceiveStream[Item]) -> None:
        async with queue:
            while True:
                self._count(self.run is not None and self.run.state == "running")
                try:
                    if self.run is not None and self.run.state == "running":
                        # apply whatever arrived during the last chunk, then train the next one
                        while True:
                            try:
                                item = queue.receive_nowait()
                            except anyio.WouldBlock:
                                break
                            await self.apply(item)
                        if self.run is not None and self.run.state == "running":
                            await self.train_chunk()
                    else:
                        try:
                            item = await queue.receive()
                        except anyio.EndOfStream:
                            return
                        await self.apply(item)
                except GONE:
                    raise  # the client went away: the session ends
                except Exception as exc:  # a bug must not take the session (or its run) down
                    log.exception("session error")
                    if self.run is not None:
                        self.run.trainer.pause()
                    await self.error(
                        "server", f"internal error ({type(exc).__name__}); the run is paused"
                    )

    # --------------------------------------------------------------- training
    async def in_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await anyio.to_thread.run_sync(fn, *args, limiter=self.limiter)

    async def train_chunk(self) -> None:
        run = self.run
        assert run is not None
        if run.speed:
            await self.train_paced(run)
            return
        interval = self._frame_interval()
        sharing = self.training_now()
        if sharing == 1:
            # Alone: train until the next frame is due (at most chunk_seconds), so chunks
            # and frames stay in step: one frame per chunk, max_fps of them a second.
            due = self._last_frame + interval - time.monotonic() - 0.002
            budget = min(self.settings.chunk_seconds, max(0.005, due))
        else:
            # Shared: every training session gets the same slice, in turn (the limiter
            # queues them first come, first served), sized so each gets a chunk and a
            # frame about 1 / cycle_seconds times a second, its frame's cost included.
            # Sizing chunks by each session's own frame deadline instead let one session
            # take five times the others' share.
            slice_ = self.settings.cycle_seconds / sharing - self._frame_cost
            budget = max(0.001, min(self.settings.chunk_seconds, slice_))
        # Busy, or a network so large that a full frame costs more than a chunk: cheaper
        # frames (a coarser grid, thumbnails every other frame) rather than fewer. The chunk
        # and its frame share one trip to the worker thread.
        light = sharing >= self.settings.light_frames_from or self._frame_cost > 0.015
        reports, frame = await self.in_thread(self._chunk_and_frame, run, budget, light)
        if reports:
            await self.send_json(progress_event(reports))
        if frame is not None:
            await self._send_messages(frame)
        if run.state != "running":
            await self.send_status()
        await anyio.sleep(0)  # let the listener in between chunks

    def _frame_interval(self) -> float:
        """At most max_fps frames a second, and frames never take over a quarter of the
        time: a deep, wide network's frames would otherwise leave no time to train."""
        return max(1.0 / self.settings.max_fps, 4 * self._frame_cost)

    def _chunk_and_frame(self, run: Any, budget: float, light: bool) -> tuple[Any, Any]:
        """On the worker thread: a chunk, then its frame if one is due."""
        reports = run.chunk(budget)
        now = time.monotonic()
        if now - self._last_frame < 0.9 * self._frame_interval() and run.state == "running":
            return reports, None
        self._last_frame = now
        frame = run.frame(light=light) if light else run.frame()
        took = time.monotonic() - now
        self._frame_cost = 0.8 * self._frame_cost + 0.2 * took
        return reports, frame

    async def train_paced(self, run: Any) -> None:
        """One epoch, its progress and (up to max_fps) its frame, then a pause: ``speed``
        epochs a second, slow enough for a class to watch the boundary form."""
        started = time.monotonic()
        reports = await self.in_thread(run.trainer.train_for, 0.0, 1)
        if reports:
            await self.send_json(progress_event(reports))
        if time.monotonic() - self._last_frame >= 0.9 / self.settings.max_fps or (
            run.state != "running"
        ):
            await self.send_frame()
        if run.state != "running":
            await self.send_status()
        await anyio.sleep(max(0.0, 1.0 / run.speed - (time.monotonic() - started)))

    async def send_frame(self) -> None:
        assert self.run is not None
        self._last_frame = time.monotonic()
        frame = await self.in_thread(self.run.frame)
        await self._send_messages(frame)

    async def _send_messages(self, frame: Any) -> None:
        # a run's frame is one message, or several (the playground's frame and health)
        for message in frame if isinstance(frame, list) else [frame]:
            if isinstance(message, bytes):
                await self.send_bytes(message)
            else:
                await self.send_json(message)

    async def error(self, field: str, message: str) -> None:
        """Tell the client a request could not be used; nothing changed."""
        await self.send_json({"type": "error", "field": field, "message": message})

    async def send_status(self) -> None:
        assert self.run is not None
        await self.send_json(
            {
                "type": "status",
                "state": self.run.state,
                "epoch": self.run.trainer.epoch,
                **self.run.status_extra(),
            }
        )

    # --------------------------------------------------------------- requests
    async def apply(self, item: Item) -> None:
        if isinstance(item, BadRequest):
            await self.send_json(item.event())
        elif item.type == "start":
            await self.start(item, "paused" if getattr(item, "paused", False) else "running")
        elif self.run is None:
            await self.error("type", f"{item.type} needs a run: send start first")
        elif isinstance(item, SetRequest):
            self.run.set(item.learning_rate, item.regularization_rate, item.batch_size)
            if item.speed is not None:
                self.run.speed = float(item.speed)
            await self.send_json({"type": "set", **item.model_dump(exclude_none=True)})
        elif isinstance(item, SaveRequest):
            await self.save_model(item.name)
        elif isinstance(item, EditRequest | TraceRequest | VerifyRequest):
            await self.inspect(item)
        else:
            await self.control(item.type)

    async def inspect(self, item: EditRequest | TraceRequest | VerifyRequest) -> None:
        """Edit a parameter, trace a sample or verify a gradient, between two chunks."""
        run = self.run
        if not hasattr(run, "trace_event"):
            await self.error("type", f"{item.type} is for playground runs")
            return
        try:
            if isinstance(item, EditRequest):
                await self.in_thread(run.edit, item.layer, item.kind, item.i, item.j, item.value)
                await self.send_json({"type": "edited", **item.model_dump(exclude={"type"},
                                                                          exclude_none=True)})
                if run.state != "running":  # a running session's next chunk sends one
                    await self.send_frame()
            elif isinstance(item, TraceRequest):
                await self.send_json(await self.in_thread(run.trace_event, item.split, item.index))
            else:
                await self.send_json(
                    await self.in_thread(run.verify_event, item.layer, item.kind, item.i, item.j)
                )
        except BadRequest as exc:
            await self.send_json(exc.event())

    async def save_model(self, name: str) -> None:
        if self.save is None or not hasattr(self.run, "save"):
            await self.error("type", "save is for MNIST runs on the digits page")
            return
        try:
            meta = await self.in_thread(self.save, self.run, name)
        except (ValueError, OSError) as exc:
            await self.error("name", str(exc))
            return
        await self.send_json({"type": "saved", "name": name, "metadata": meta})

    async def start(self, request: Any, state: str = "running") -> None:
        """Build a run; an invalid config leaves the previous run as it was."""
        try:
            run = await self.in_thread(self.build, request.config)
        except BadRequest as exc:
            await self.send_json(exc.event())
            return
        except ValueError as exc:  # a config the core refuses ("field: message" or prose)
            head, _, rest = str(exc).partition(": ")
            field, message = (head, rest) if rest and " " not in head else ("config", str(exc))
            await self.error(field, message)
            return
        self.run, self.config_request = run, request
        run.trainer.state = state
        await self.send_json(run.ready_event())
        await self.send_frame()
        await self.send_status()

    async def control(self, kind: str) -> None:
        run = self.run
        assert run is not None
        if kind == "pause":
            run.trainer.pause()
        elif kind == "resume":
            if run.state == "diverged":
                await self.error("type", "the run diverged: reset it (or lower the learning rate)")
                return
            if run.state == "done":
                run.trainer.max_epochs = None  # play on past the limit
                run.trainer.state = "paused"
            run.trainer.resume()
        elif kind == "step":
            if run.state == "diverged":
                await self.error("type", "the run diverged: reset it first")
                return
            run.trainer.pause()
            report = await self.in_thread(run.step)
            await self.send_json(progress_event([report]))
            await self.send_frame()
        elif kind == "reset":
            assert self.config_request is not None
            # same config and seed: the same initial weights, paused at epoch 0
            lr, rate, batch = (
                run.trainer.base_learning_rate,
                run.network.regularizer.rate,
                run.trainer.batch_size,
            )
            cfg = self.config_request.config.model_copy(
                update={
                    "learning_rate": lr,
                    "regularization_rate": rate,
                    "batch_size": batch or self.config_request.config.batch_size,
                    "speed": getattr(run, "speed", 0.0),
                }
            )
            await self.start(self.config_request.model_copy(update={"config": cfg}), state="paused")
            return
        elif kind == "export":
            if not hasattr(run, "export"):
                await self.error("type", "export is for playground runs; save this one")
                return
            exported = await self.in_thread(run.export)
            await self.send_json(
                {
                    "type": "export",
                    "filename": f"backprop-lab-{run.cfg.dataset}-epoch{run.trainer.epoch}.npz",
                    "npz": base64.b64encode(exported["npz"]).decode(),
                    "onnx": base64.b64encode(exported["onnx"]).decode(),
                    "script": exported["script"],
                }
            )
            return
        await self.send_status()
