"""The playground's session: the common protocol plus the backward-pass requests (edit,
trace, verify) and export, all on a :class:`~app.playground.run.PlaygroundRun`."""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Any

from app.classroom.learners import Publisher
from app.classroom.seat import Seat, with_class_requests
from app.playground.matrix import matrix_event
from app.playground.run import PlaygroundRun
from app.playground.schema import StartRequest, parse_request
from app.playground.seeds import SeedRuns, history_event
from app.session.requests import (
    EditRequest,
    MatrixRequest,
    PickSeedRequest,
    SeedsRequest,
    TraceRequest,
    VerifyRequest,
)
from app.session.session import Receive, Session
from app.validation import BadRequest
from app.wire import edited_event, encode_json, export_event, progress_event


class PlaygroundSession(Session[PlaygroundRun]):
    elsewhere = {"save": "save is for MNIST runs on the digits page"}
    #: A trace or a gradient check costs tens of milliseconds for a big network (a check
    #: evaluates the whole training set four times): at most ten a second per learner.
    paced = {"trace": 0.1, "verify": 0.1, "matrix": 0.1}
    #: How often a seeds run tells the page where its seeds are.
    SEEDS_EVERY = 0.25

    def __init__(self, *args: Any, classroom: Publisher | None = None, **options: Any) -> None:
        options.setdefault("build", PlaygroundRun)
        options.setdefault("parse", with_class_requests(parse_request))
        super().__init__(*args, **options)
        self.seeds: SeedRuns | None = None
        self._seeds_task: asyncio.Task[None] | None = None
        self._seeds_lock = asyncio.Lock()  # the seeds' stack: one thread at a time
        #: The class this learner joined, if any (app/classroom, docs/teaching.md).
        self.seat = Seat(classroom, self)

    async def serve(self, receive: Receive) -> None:
        try:
            await super().serve(receive)
        finally:
            self._stop_seeds()
            self.seat.leave()  # the tile goes with the socket

    async def apply(self, item: Any) -> None:
        if not await self.seat.apply(item):  # join and leave need no run
            await super().apply(item)

    def _run(self) -> PlaygroundRun:
        assert self.run is not None
        return self.run

    async def on_start(self, request: StartRequest) -> None:
        """A new run, or (``resume_from``) one that goes on from the given parameters."""
        build: Any = self.build  # PlaygroundRun, or what a test builds instead
        if request.resume_from is not None:
            build = functools.partial(build, resume=request.resume_from)
        await self.start(request.config, "paused" if request.paused else "running", build)

    async def on_edit(self, item: EditRequest) -> None:
        """Set one parameter between two chunks; a paused run shows its new figures (the
        same epoch's losses and accuracy, recomputed) and its new frame."""
        run = self._run()
        try:
            await self.in_thread(run.edit, item.layer, item.kind, item.i, item.j, item.value)
        except BadRequest as exc:
            await self.send_json(exc.event())
            return
        await self.send_json(edited_event(item.model_dump(exclude={"type"}, exclude_none=True)))
        if run.state != "running":  # a running session's next chunk sends them
            report = await self.in_thread(run.refigure)
            await self.send_json({**progress_event([report]), "edited": True})
            await self.send_frame()

    async def on_trace(self, item: TraceRequest) -> None:
        """Traced and encoded on the worker thread: a big network's answer is tens of kB."""
        try:
            text = await self.in_thread(self._trace_text, item.split, item.index)
        except BadRequest as exc:
            await self.send_json(exc.event())
            return
        await self.send_json(text)

    def _trace_text(self, split: str, index: int) -> str:
        return encode_json(self._run().trace_event(split, index))

    async def on_matrix(self, item: MatrixRequest) -> None:
        """Computed and encoded on the worker thread, like a trace."""
        run = self._run()
        text = await self.in_thread(
            lambda: encode_json(matrix_event(run.network, run.trainer, item.batch))
        )
        await self.send_json(text)

    async def on_verify(self, item: VerifyRequest) -> None:
        run = self._run()
        try:
            event = await self.in_thread(run.verify_event, item.layer, item.kind, item.i, item.j)
        except BadRequest as exc:
            event = exc.event()
        await self.send_json(event)

    # ------------------------------------------------------------ many seeds
    async def on_seeds(self, item: SeedsRequest) -> None:
        """Train the current setup from several seeds beside the learner's run."""
        self._stop_seeds()
        if item.stop:
            return
        cfg = self._run().restart_config()
        try:
            self.seeds = await self.in_thread(SeedRuns, cfg, item.seeds, item.seed_epochs)
        except (BadRequest, ValueError) as exc:
            await self.send_json(BadRequest("config", str(exc)).event())
            return
        self._seeds_task = asyncio.get_running_loop().create_task(self._train_seeds(self.seeds))

    async def _train_seeds(self, seeds: SeedRuns) -> None:
        said = 0.0
        while True:
            async with self._seeds_lock:
                done = await self.in_thread(seeds.advance)
                if done or time.monotonic() - said >= self.SEEDS_EVERY:
                    said = time.monotonic()
                    self._post(await self.in_thread(lambda: encode_json(seeds.event())))
            if done:
                return

    def _post(self, event: str) -> None:
        """Out through the session's sender, in order with its other messages."""
        self._outbox.put_nowait(([event], False))

    def _stop_seeds(self) -> None:
        if self._seeds_task is not None:
            self._seeds_task.cancel()
            self._seeds_task = None

    async def on_pick_seed(self, item: PickSeedRequest) -> None:
        """The chosen seed's run, as trained, becomes the learner's run (paused)."""
        if self.seeds is None:
            await self.error("seed", "there are no seeds to pick from: run the seeds first")
            return
        seeds = self.seeds
        async with self._seeds_lock:
            run = await self.in_thread(seeds.pick, item.seed)
        if run is None:
            first = seeds.cfg.seed
            await self.error(
                "seed", f"must be one of the seeds run: {first} to {first + len(seeds.runs)}"
            )
            return
        await self.send_json(history_event(run))
        await self.start(run.cfg, "paused", lambda _cfg: run)

    async def on_export(self, _item: Any) -> None:
        run = self._run()
        exported = await self.in_thread(run.export)
        name = f"backprop-lab-{run.cfg.dataset}-epoch{run.trainer.epoch}.npz"
        await self.send_json(
            export_event(name, exported["npz"], exported["onnx"], exported["script"])
        )

    handlers = {
        **Session.handlers,
        "start": on_start,
        "edit": on_edit,
        "trace": on_trace,
        "matrix": on_matrix,
        "seeds": on_seeds,
        "pick_seed": on_pick_seed,
        "verify": on_verify,
        "export": on_export,
    }
