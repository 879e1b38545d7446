"""How long a session trains before it sends, when a frame is due, how often a costly
request is answered, and what a learner's share of an engine tick buys.

The :class:`Pacer` is pure arithmetic over the clock readings the session passes in, so it
can be read (and tested) apart from the socket.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from app.config import Settings
from app.session.requests import Item
from nn_core.training import Trainer

#: The longest nap of a session waiting for its next paced epoch, in seconds.
NAP = 0.05

# ---------------------------------------------------- the engine's shares of a tick
#: A learner whose MIN_EPOCHS epochs (the engine's) cost more than this (or its share, if
#: more) trains in slices of batches instead: its share of each tick, however long its
#: epochs; an epoch then spans several ticks.
CHEAP_SECONDS = 0.006
#: A learner's frames take at most this part of its time once a frame costs more than
#: half its share of a tick and RATIONED_FRAME (a wide, deep network's boundary): it gets
#: fewer of them.  (A small network's frame, a millisecond, is never rationed: in a class
#: of a hundred it is more than its share, and frames are what a class watches.)
FRAME_SHARE = 0.25
RATIONED_FRAME = 0.005
#: Frames costlier than this are drawn light (a coarser grid, thumbnails every other time).
HEAVY_FRAME = 0.015


#: A first guess of an epoch's cost, before one was measured: seconds of NumPy calls per
#: layer and batch (shared by a stack's members), and floating-point operations a second.
CALL_SECONDS = 12e-6
FLOPS = 2e9


def epoch_guess(trainer: Trainer, k: int) -> float:
    """Seconds per learner-epoch for ``trainer`` in a stack of ``k``, guessed from its
    shape: the calls of every batch, and the arithmetic (forward and backward over the
    training set: 6 operations per parameter and point; the report's passes: 4)."""
    n = trainer.x_train.shape[0]
    batches = -(-n // trainer.epoch_batch())
    layers, params = len(trainer.network.layers), trainer.network.n_parameters
    return batches * CALL_SECONDS * layers / max(1, k) + 10 * n * params / FLOPS


def rationed(cost: float, share: float) -> bool:
    """Whether frames of ``cost`` seconds are too dear to draw after every epoch."""
    return cost > max(share / 2, RATIONED_FRAME)


@dataclass
class Pacer:
    settings: Settings
    #: Seconds a frame took to build, a running average.
    frame_cost: float = 0.001
    #: Clock reading of the last frame sent.
    last_frame: float = 0.0
    #: Clock reading of the last epoch of a run at a set speed.
    last_epoch: float = float("-inf")

    def frame_interval(self) -> float:
        """At most max_fps frames a second, and frames never take over a quarter of the
        time: a deep, wide network's frames would otherwise leave no time to train."""
        return max(1.0 / self.settings.max_fps, 4 * self.frame_cost)

    def budget(self, now: float, sharing: int) -> float:
        """Seconds of training in the next chunk, with ``sharing`` sessions training in
        this process."""
        if sharing <= 1:
            # Alone: train until the next frame is due (at most chunk_seconds), so chunks
            # and frames stay in step: one frame per chunk, max_fps of them a second.
            due = self.last_frame + self.frame_interval() - now - 0.002
            return min(self.settings.chunk_seconds, max(0.005, due))
        # Shared: every training session gets the same slice, in turn (the limiter queues
        # them first come, first served), sized so each gets a chunk and a frame about
        # 1 / cycle_seconds times a second, its frame's cost included.  Sizing chunks by
        # each session's own frame deadline instead let one session take five times the
        # others' share.
        slice_ = self.settings.cycle_seconds / sharing - self.frame_cost
        return max(0.001, min(self.settings.chunk_seconds, slice_))

    def light(self, sharing: int) -> bool:
        """Busy, or a network so large that a full frame costs more than a chunk: cheaper
        frames (a coarser grid, thumbnails every other frame) rather than fewer."""
        return sharing >= self.settings.light_frames_from or self.frame_cost > 0.015

    def frame_due(self, now: float) -> bool:
        return now - self.last_frame >= 0.9 * self.frame_interval()

    def paced_frame_due(self, now: float) -> bool:
        """For a run at a set speed: at most max_fps frames, whatever the frame costs."""
        return now - self.last_frame >= 0.9 / self.settings.max_fps

    def paced_wait(self, now: float, speed: float) -> float:
        """Seconds to wait before a run at ``speed`` epochs a second trains its next
        epoch, at most NAP: a session waits in short naps and applies requests between
        them, so that even a tiny speed never leaves a pause unanswered.  0 when the epoch
        is due: it starts ``now``."""
        wait = max(0.0, min(NAP, self.last_epoch + 1.0 / speed - now))
        if not wait:
            self.last_epoch = now
        return wait

    def sent(self, started: float, finished: float) -> None:
        """A frame was built from ``started`` to ``finished``."""
        self.last_frame = started
        self.frame_cost = 0.8 * self.frame_cost + 0.2 * (finished - started)


@dataclass
class RequestPacer:
    """A session's requests in order, where a costly one (its type in ``paced``, with the
    seconds between two of them) waits its turn, before the session takes the engine's
    lock, and of several such requests in a row only the last is answered: a flood of
    traces costs its sender time, not its neighbours."""

    queue: MemoryObjectReceiveStream[Item]
    paced: dict[str, float]
    waiting: list[Item] = field(default_factory=list)
    last: dict[str, float] = field(default_factory=dict)

    async def next(self) -> Item:
        """The next request to apply (``anyio.EndOfStream`` once the client is gone)."""
        item = self.waiting.pop() if self.waiting else await self.queue.receive()
        kind = getattr(item, "type", "")
        if kind not in self.paced:
            return item
        wait = self.last.get(kind, 0.0) + self.paced[kind] - time.monotonic()
        if wait > 0:
            await anyio.sleep(wait)
        while not self.waiting:
            try:
                following = self.queue.receive_nowait()
            except (anyio.WouldBlock, anyio.EndOfStream):
                break
            if getattr(following, "type", "") == kind:
                item = following  # an older one is dropped unanswered
            else:
                self.waiting.append(following)  # applied next, in order
        self.last[kind] = time.monotonic()
        return item
