"""The playground's session: the common protocol plus the backward-pass requests (edit,
trace, verify) and export, all on a :class:`~app.playground.run.PlaygroundRun`."""

from __future__ import annotations

import functools
from typing import Any

from app.playground.run import PlaygroundRun
from app.playground.schema import StartRequest, parse_request
from app.session.requests import EditRequest, TraceRequest, VerifyRequest
from app.session.session import Session
from app.validation import BadRequest
from app.wire import edited_event, encode_json, export_event, progress_event


class PlaygroundSession(Session[PlaygroundRun]):
    elsewhere = {"save": "save is for MNIST runs on the digits page"}
    #: A trace or a gradient check costs tens of milliseconds for a big network (a check
    #: evaluates the whole training set four times): at most ten a second per learner.
    paced = {"trace": 0.1, "verify": 0.1}

    def __init__(self, *args: Any, **options: Any) -> None:
        options.setdefault("build", PlaygroundRun)
        options.setdefault("parse", parse_request)
        super().__init__(*args, **options)

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

    async def on_verify(self, item: VerifyRequest) -> None:
        run = self._run()
        try:
            event = await self.in_thread(run.verify_event, item.layer, item.kind, item.i, item.j)
        except BadRequest as exc:
            event = exc.event()
        await self.send_json(event)

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
        "verify": on_verify,
        "export": on_export,
    }
