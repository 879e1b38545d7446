"""The digits page's session: train an MNIST network, then save it by name (the common
protocol of :mod:`app.session`, plus ``save``)."""

from __future__ import annotations

import time
from typing import Any, Literal

import anyio
from anyio.streams.memory import MemoryObjectSendStream

from app.digits.store import ModelRefused, ModelStore
from app.digits.training import MnistConfig, MnistRun
from app.session.requests import Item, SaveRequest, make_parser
from app.session.session import Receive, Session
from app.validation import MNIST_LIMITS, Strict
from app.wire import progress_event, saved_event


class MnistStartRequest(Strict):
    type: Literal["start"]
    config: MnistConfig = MnistConfig()
    paused: bool = False


parse_mnist = make_parser(MnistStartRequest, MNIST_LIMITS)
_PLAYGROUND_ONLY = "is for playground runs"


class MnistSession(Session[MnistRun]):
    elsewhere = {
        "edit": f"edit {_PLAYGROUND_ONLY}",
        "trace": f"trace {_PLAYGROUND_ONLY}",
        "verify": f"verify {_PLAYGROUND_ONLY}",
        "matrix": f"matrix {_PLAYGROUND_ONLY}",
        "seeds": f"seeds {_PLAYGROUND_ONLY}",
        "pick_seed": f"pick_seed {_PLAYGROUND_ONLY}",
        "export": f"export {_PLAYGROUND_ONLY}; save this one",
    }

    def __init__(self, *args: Any, store: ModelStore, **options: Any) -> None:
        options.setdefault("build", MnistRun)
        options.setdefault("parse", parse_mnist)
        super().__init__(*args, **options)
        self.store = store
        #: While a ``step`` trains: the epoch after which the run pauses again.
        self.step_to: int | None = None

    async def apply(self, item: Item) -> None:
        kind = getattr(item, "type", None)
        if kind in ("pause", "resume", "start", "reset"):
            self.step_to = None  # a step under way is over
        if kind == "pause" and self.run is not None:  # the weights it stays at, said
            await self.send_pictures(force=True)  # before its status says "paused"
        await super().apply(item)
        if kind in ("start", "reset") and self.run is not None:
            await self.send_pictures(force=True)  # the weights it starts from

    async def send_pictures(self, force: bool = False) -> None:
        """The first layer's pictures, when they are due (app.digits.weights)."""
        assert self.run is not None
        pictures = self.run.pictures(time.monotonic(), force)
        if pictures is not None:
            await self.send_json(pictures)

    async def on_step(self, _item: Any) -> None:
        """One epoch (the rest of the one under way), then paused, as for every run; but
        trained in slices, so a step of minutes holds the worker thread no longer than a
        chunk does."""
        run = self.run
        assert run is not None
        if run.state == "diverged":
            await self.error("type", "the run diverged: reset it first")
            return
        # (a step that comes while one trains adds an epoch to it)
        self.step_to = (self.step_to or run.trainer.epoch) + 1
        run.trainer.state = "running"  # said once the step is done: "paused"

    async def listen(self, receive: Receive, queue: MemoryObjectSendStream[Item]) -> None:
        """Read the client's messages; once it is gone, stop its run at the next batch,
        so a chunk on the worker thread ends now rather than at its time box."""
        try:
            await super().listen(receive, queue)
        finally:
            if self.run is not None:
                self.run.trainer.stop()

    async def train_chunk(self) -> None:
        """A time-boxed slice of batches (inside an epoch if need be); the evaluation only
        after an epoch ended, and a ``pace`` message while epochs are slow."""
        run = self.run
        assert run is not None
        sharing = self.training_now()
        budget = self.settings.chunk_seconds
        if sharing > 1:  # every training session gets the same slice of the cycle, in turn
            budget = max(0.001, min(budget, self.settings.cycle_seconds / sharing))
        left = None if self.step_to is None else max(1, self.step_to - run.trainer.epoch)
        reports, evaluation = await self.in_thread(_chunk_and_evaluation, run, budget, left)
        if self.step_to is not None and run.trainer.epoch >= self.step_to:
            self.step_to = None
            run.trainer.pause()  # (a run that reached its epochs stays done)
        if reports:
            await self.send_json(progress_event(reports))
        if evaluation is not None:
            await self.send_json(evaluation)
        await self.send_pictures(force=run.state != "running")  # mid-epoch too
        pace = run.pace(time.monotonic())
        if pace is not None and run.state == "running":
            await self.send_json(pace)
        if run.state != "running":
            await self.send_status()
        await anyio.sleep(0)  # let the listener in between chunks

    async def on_save(self, item: SaveRequest) -> None:
        assert self.run is not None
        try:
            meta = await self.in_thread(self.run.save, self.store, item.name, item.owner)
        except ModelRefused as exc:
            await self.error(exc.field, str(exc))
            return
        except (ValueError, OSError) as exc:
            await self.error("name", str(exc))
            return
        await self.send_json(saved_event(item.name, meta))

    handlers = {**Session.handlers, "step": on_step, "save": on_save}


def _chunk_and_evaluation(
    run: MnistRun, budget: float, max_epochs: int | None
) -> tuple[list[Any], Any]:
    """On the worker thread: a chunk, then the test evaluation if an epoch ended in it."""
    reports = run.chunk(budget, max_epochs)
    return reports, run.frame() if reports else None
