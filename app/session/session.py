"""A training session: one WebSocket, one run, two tasks.

The *listener* reads messages, validates them and queues them; the *trainer* owns the
run: it applies queued requests between chunks, trains a time-boxed chunk on a worker
thread (under the app's capacity limiter, so chunks from all sessions share the cores
fairly), then sends that chunk's progress and, at most ``max_fps`` times a second, a
boundary frame.  It asks for the next chunk only after the last frame was sent, so a
slow client slows only its own run.  When either task ends (the socket closed or broke)
the task group cancels the other: run state dies with its socket.

Requests are dispatched through :attr:`Session.handlers`, a table keyed by message type.
This class handles what every run understands (start, set, pause, resume, step, reset);
each page's session adds its own (the playground's edit, trace, verify and export; the
digits page's save).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import anyio
import anyio.to_thread
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from starlette.websockets import WebSocketDisconnect, WebSocketDisconnected

from app.config import Settings
from app.session.engine import Engine
from app.session.pacing import Pacer, RequestPacer
from app.session.requests import Item, SetRequest
from app.session.run import Frame, Run
from app.validation import BadRequest
from app.wire import error_event, progress_event, set_event, status_event

log = logging.getLogger("backprop_lab.session")
# What a send raises once the client is gone (uvicorn's ClientDisconnected is an OSError).
GONE = (WebSocketDisconnect, WebSocketDisconnected, OSError)
SendJSON = Callable[[dict[str, Any] | str], Awaitable[None]]  # str: JSON encoded already
SendBytes = Callable[[bytes], Awaitable[None]]
Receive = Callable[[], Awaitable[str | bytes | None]]
Parse = Callable[[str | bytes], Any]
Handler = Callable[[Any, Any], Awaitable[None]]
R = TypeVar("R", bound=Run)


class Load(Protocol):
    """Shared by the sessions of one process: how many runs train right now."""

    training: int


class Session(Generic[R]):
    """The state of one connection's run, owned by :meth:`train_loop`."""

    #: What a request this session has no handler for is told, by message type.
    elsewhere: ClassVar[dict[str, str]] = {}
    paced: ClassVar[dict[str, float]] = {}  #: costly requests (:class:`RequestPacer`)

    def __init__(
        self,
        send_json: SendJSON,
        send_bytes: SendBytes,
        settings: Settings,
        limiter: anyio.CapacityLimiter,
        *,
        parse: Parse,
        build: Callable[[Any], R],
        stopping: asyncio.Event | None = None,
        close: Callable[[int], Awaitable[None]] | None = None,
        load: Load | None = None,
        engine: Engine | None = None,
    ) -> None:
        #: ``load.training`` counts the runs training right now in this process, which
        #: split its CPU time between them.
        self.load = load
        self._counted = False
        self.pacer = Pacer(settings)
        self.stopping, self.close = stopping, close
        self.parse, self.build = parse, build
        self._send_json, self._send_bytes = send_json, send_bytes
        #: With an engine, the process's engine trains the run (in a stack); the session
        #: applies requests and sends what the engine and its handlers produce, in order.
        self.engine = engine
        self._outbox: asyncio.Queue[tuple[list[Any], bool]] = asyncio.Queue()
        self._held: list[Any] | None = None
        self.settings = settings
        self.limiter = limiter
        self.run: R | None = None

    # --------------------------------------------------------------- the two tasks
    async def serve(self, receive: Receive) -> None:
        """Run the listener and the trainer until the client goes away."""
        try:
            await self._serve(receive)
        finally:
            self._count(False)
            self.run = None  # its arrays go now, not at the next garbage collection

    async def _serve(self, receive: Receive) -> None:
        send, recv = anyio.create_memory_object_stream[Item](64)
        async with anyio.create_task_group() as tg:

            async def listen() -> None:
                await self.listen(receive, send)
                tg.cancel_scope.cancel()

            async def watch_shutdown(stopping: asyncio.Event) -> None:
                await stopping.wait()
                epoch = self.run.trainer.epoch if self.run is not None else 0
                message = "the server is shutting down; this run ends here"
                await self.send_json(status_event("stopped", epoch, message=message))
                if self.close is not None:
                    await self.close(1001)  # going away
                tg.cancel_scope.cancel()

            tg.start_soon(listen)
            if self.engine is None:
                tg.start_soon(self.train_loop, recv)
            else:
                tg.start_soon(self.request_loop, recv)
                tg.start_soon(self.sender, self.engine)
            if self.stopping is not None:
                tg.start_soon(watch_shutdown, self.stopping)

    async def listen(self, receive: Receive, queue: MemoryObjectSendStream[Item]) -> None:
        limit = self.settings.max_message_bytes
        async with queue:
            while (text := await receive()) is not None:
                try:
                    if len(text) > limit:
                        raise BadRequest("message", f"is larger than {limit} bytes")
                    item = self.parse(text)
                except BadRequest as exc:
                    item = exc
                try:
                    await queue.send(item)
                except anyio.BrokenResourceError:
                    return  # the trainer ended first (its socket broke): the session is ending

    def _running(self) -> bool:
        return self.run is not None and self.run.state == "running"

    async def train_loop(self, queue: MemoryObjectReceiveStream[Item]) -> None:
        async with queue:
            while True:
                self._count(self._running())
                try:
                    if self._running():
                        # apply whatever arrived during the last chunk, then train the next one
                        while True:
                            try:
                                item = queue.receive_nowait()
                            except anyio.WouldBlock:
                                break
                            except anyio.EndOfStream:
                                return  # the client went away between two chunks
                            await self.apply(item)
                        if self._running():
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
                    name = type(exc).__name__
                    await self.error("server", f"internal error ({name}); the run is paused")

    async def send_json(self, event: dict[str, Any] | str) -> None:
        if self._held is not None:
            self._held.append(event)
        else:
            await self._send_json(event)

    async def send_bytes(self, data: bytes) -> None:
        if self._held is not None:
            self._held.append(data)
        else:
            await self._send_bytes(data)

    async def request_loop(self, queue: MemoryObjectReceiveStream[Item]) -> None:
        """With an engine: apply each request between two ticks (under the engine's lock),
        holding its messages back for :meth:`sender`, so a slow client never holds the
        lock and every message leaves in order."""
        assert self.engine is not None
        requests = RequestPacer(queue, self.paced)
        async with queue:
            while True:
                try:
                    item = await requests.next()
                except anyio.EndOfStream:
                    return
                held: list[Any] = []
                async with self.engine.lock:
                    self._held = held
                    try:
                        await self.apply(item)
                    except Exception as exc:  # a bug must not take the session down
                        log.exception("session error")
                        if self.run is not None:
                            self.run.trainer.pause()
                        name = type(exc).__name__
                        await self.error("server", f"internal error ({name}); the run is paused")
                    finally:
                        self._held = None
                self._outbox.put_nowait((held, False))
                self._count(self._running())
                if self._running():
                    self.engine.wake()

    async def sender(self, engine: Engine) -> None:
        """Send the engine's ticks and the handlers' replies; a tick's messages out, the
        engine may train this run again."""
        member = engine.join(lambda: self.run, lambda m: self._outbox.put_nowait((m, True)))
        try:
            while True:
                messages, ticked = await self._outbox.get()
                for message in messages:  # straight to the socket, never held back
                    if isinstance(message, bytes):
                        await self._send_bytes(message)
                    else:
                        await self._send_json(message)
                if ticked:
                    engine.sent(member)
        finally:
            engine.leave(member)

    def _count(self, training: bool) -> None:
        if self.load is not None and training != self._counted:
            self.load.training += 1 if training else -1
            self._counted = training

    def training_now(self) -> int:
        return max(1, self.load.training) if self.load is not None else 1

    # --------------------------------------------------------------- training
    async def in_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await anyio.to_thread.run_sync(fn, *args, limiter=self.limiter)

    async def train_chunk(self) -> None:
        run = self.run
        assert run is not None
        if run.speed:
            await self.train_paced(run)
            return
        sharing = self.training_now()
        budget = self.pacer.budget(time.monotonic(), sharing)
        # The chunk and its frame share one trip to the worker thread.
        light = self.pacer.light(sharing)
        reports, frame = await self.in_thread(self._chunk_and_frame, run, budget, light)
        if reports:
            await self.send_json(progress_event(reports))
        if frame is not None:
            await self._send_messages(frame)
        if run.state != "running":
            await self.send_status()
        await anyio.sleep(0)  # let the listener in between chunks

    def _chunk_and_frame(self, run: R, budget: float, light: bool) -> tuple[Any, Frame | None]:
        """On the worker thread: a chunk, then its frame if one is due."""
        reports = run.chunk(budget)
        now = time.monotonic()
        if not self.pacer.frame_due(now) and run.state == "running":
            return reports, None
        frame = run.frame(light=light) if light else run.frame()
        self.pacer.sent(now, time.monotonic())
        return reports, frame

    async def train_paced(self, run: R) -> None:
        """One epoch, its progress and (up to max_fps) its frame when ``speed`` says it is
        due (slow enough to watch the boundary form); else a nap between two requests."""
        if (wait := self.pacer.paced_wait(time.monotonic(), run.speed)) > 0:
            await anyio.sleep(wait)
            return
        reports = await self.in_thread(run.trainer.train_for, 0.0, 1)
        if reports:
            await self.send_json(progress_event(reports))
        if self.pacer.paced_frame_due(time.monotonic()) or run.state != "running":
            await self.send_frame()
        if run.state != "running":
            await self.send_status()

    async def send_frame(self) -> None:
        assert self.run is not None
        self.pacer.last_frame = time.monotonic()
        await self._send_messages(await self.in_thread(self.run.frame))

    async def _send_messages(self, frame: Frame) -> None:
        # a run's frame is one message, or several (the playground's frame and health)
        for message in frame if isinstance(frame, list) else [frame]:
            if isinstance(message, bytes):
                await self.send_bytes(message)
            else:
                await self.send_json(message)

    async def error(self, field: str, message: str) -> None:
        """Tell the client a request could not be used; nothing changed."""
        await self.send_json(error_event(field, message))

    async def send_status(self) -> None:
        assert self.run is not None
        run = self.run
        await self.send_json(status_event(run.state, run.trainer.epoch, **run.status_extra()))

    # --------------------------------------------------------------- requests
    async def apply(self, item: Item) -> None:
        """Dispatch one queued request through :attr:`handlers`."""
        if isinstance(item, BadRequest):
            await self.send_json(item.event())
            return
        handler = type(self).handlers.get(item.type)
        if handler is None:
            await self.error("type", self.elsewhere.get(item.type, f"{item.type} is not offered"))
        elif item.type != "start" and self.run is None:
            await self.error("type", f"{item.type} needs a run: send start first")
        else:
            await handler(self, item)

    async def on_start(self, request: Any) -> None:
        await self.start(request.config, "paused" if request.paused else "running")

    async def start(self, config: Any, state: str = "running", build: Any = None) -> None:
        """Build a run (by ``build`` if given); an invalid config leaves the run as it was."""
        try:
            run = await self.in_thread(build or self.build, config)
        except BadRequest as exc:
            await self.send_json(exc.event())
            return
        except ValueError as exc:  # a config the core refuses ("field: message" or prose)
            head, _, rest = str(exc).partition(": ")
            field, message = (head, rest) if rest and " " not in head else ("config", str(exc))
            await self.error(field, message)
            return
        self.run = run
        run.trainer.state = state if run.state == "running" else run.state  # done stays done
        await self.send_json(run.ready_event())
        await self.send_frame()
        await self.send_status()

    async def on_set(self, item: SetRequest) -> None:
        assert self.run is not None
        self.run.set(item.learning_rate, item.regularization_rate, item.batch_size)
        if item.speed is not None:
            self.run.speed = float(item.speed)
        await self.send_json(set_event(item.model_dump(exclude_none=True)))

    async def on_pause(self, _item: Any) -> None:
        assert self.run is not None
        self.run.trainer.pause()
        await self.send_status()

    async def on_resume(self, _item: Any) -> None:
        run = self.run
        assert run is not None
        if run.state == "diverged":
            await self.error("type", "the run diverged: reset it (or lower the learning rate)")
            return
        if run.state == "done":
            run.trainer.max_epochs = None  # play on past the limit
            run.trainer.state = "paused"
        run.trainer.resume()
        await self.send_status()

    async def on_step(self, _item: Any) -> None:
        run = self.run
        assert run is not None
        if run.state == "diverged":
            await self.error("type", "the run diverged: reset it first")
            return
        run.trainer.pause()
        report = await self.in_thread(run.step)
        await self.send_json(progress_event([report]))
        await self.send_frame()
        await self.send_status()

    async def on_reset(self, _item: Any) -> None:
        """The same config and seed, so the same initial weights, paused at epoch 0; the
        live settings (rate, regularisation, batch, speed) carry over."""
        assert self.run is not None
        await self.start(self.run.restart_config(), state="paused")

    #: The handler of each message type: a class's table, so a session holds no cycle
    #: through its own bound methods (and its run's arrays go as soon as it ends).
    handlers: ClassVar[dict[str, Handler]] = {
        "start": on_start,
        "set": on_set,
        "pause": on_pause,
        "resume": on_resume,
        "step": on_step,
        "reset": on_reset,
    }
