"""The engine: every playground session of this process trains inside a stack.

Sessions whose networks have the same shape (:func:`nn_core.stack.stack_key`) train as one
:class:`~nn_core.stack.Stack`, one array program for all of them, bit for bit as each
would train alone.  The engine runs in ticks, at most ``max_fps`` a second.  A tick
takes the lock (no request is applied while it trains), then, on a worker thread:

1. moves each session's trainer into the stack its shape belongs to (a new run after a
   start or reset, a changed batch size; a session that ended leaves its stack);
2. gives every learner that is playing and whose last tick's messages have been sent the
   same share of the tick, its frame included, so the tick's work fills most of the frame
   interval: a stack whose epochs are cheap trains whole epochs (MIN_EPOCHS at least, as
   many as its members' shares hold); a stack whose epochs cost more trains batches until
   its share is used, and its epoch goes on where it stopped next tick, bit for bit (a
   run with a set speed gets the epochs its speed has earned instead);
3. builds the frame of each learner that finished an epoch, the boundaries of a stack
   computed together; a learner whose frames cost over half its share and over
   RATIONED_FRAME gets fewer (they take at most FRAME_SHARE of its time) and lighter ones.

So whatever one learner's network, every other learner on the process gets its share of
each tick, and a learner who left is not trained past the slice it was in.

Back on the event loop, each session's messages (its progress, frame, health and, if its
state changed, status) go to that session's own sender, so a slow client slows only its
own run: it skips ticks until its last messages are out.  Requests (set, pause, step,
edit, trace, ...) are applied between ticks, under the same lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread
import numpy as np

from app.config import Settings
from app.session.pacing import (
    CHEAP_SECONDS,
    FRAME_SHARE,
    HEAVY_FRAME,
    epoch_guess,
    rationed,
)
from app.wire import progress_event, status_event
from nn_core.boundary import grid_points
from nn_core.features import transform
from nn_core.stack import Stack, stack_key
from nn_core.stack_views import grid_layers, member_healths, stacked_passes
from nn_core.training import Trainer

log = logging.getLogger("backprop_lab.engine")
Deliver = Callable[[list[Any]], None]
#: Epochs per frame at least, for a run at full speed: a class that outgrows the cores
#: loses frames and epochs alike, but always trains twice as fast as it draws (epochs
#: cost a fifth of a frame).
MIN_EPOCHS = 2
#: Seconds the event loop takes to send one learner's tick (progress, frame, health).
SEND_COST = 0.0003


@dataclass(eq=False)
class Member:
    """One session as the engine sees it."""

    run: Callable[[], Any]  # the session's current run (or None)
    deliver: Deliver  # hands a tick's messages to the session's sender
    ready: bool = True  # its last messages were sent
    current: Any = None  # the run as this tick found it
    trainer: Trainer | None = None  # the trainer now in a stack
    stack: Stack | None = None
    earned: float = 0.0  # epochs a paced run has earned and not yet trained
    left: bool = False  # the session ended
    last: float = 0.0  # clock reading of its last tick
    frame_cost: float | None = None  # CPU seconds its frame takes (see _frame)
    last_frame: float = 0.0  # clock reading of its last frame


@dataclass
class Engine:
    settings: Settings
    members: list[Member] = field(default_factory=list)
    stacks: dict[tuple[Any, ...], Stack] = field(default_factory=dict)
    #: Held while a tick trains and while a session applies a request.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: Seconds per frame, a running average over every learner (a new one's guess).
    frame_cost: float = 0.001
    #: Seconds per learner-epoch in each stack (by its key), running averages: of the
    #: clock (how many epochs fit in a tick) and of CPU time, which decides whether it
    #: trains whole epochs or slices of one (a busy machine's pauses are not its cost).
    costs: dict[tuple[Any, ...], float] = field(default_factory=dict)
    cpu_costs: dict[tuple[Any, ...], float] = field(default_factory=dict)
    #: Seconds per learner that the last tick's cheap stacks trained: at least what a
    #: costly run gets when a class outgrew the cores (and MIN_EPOCHS made ticks longer).
    cheap_share: float = 0.0
    _cheap: list[float] = field(default_factory=lambda: [0.0, 0.0])  # seconds, learners
    ticks: int = 0
    _task: asyncio.Task[None] | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _sent: asyncio.Event = field(default_factory=asyncio.Event)
    _unsent: set[Member] = field(default_factory=set)

    # ------------------------------------------------------------ sessions
    def join(self, run: Callable[[], Any], deliver: Deliver) -> Member:
        member = Member(run, deliver, last=time.monotonic())
        self.members.append(member)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop())
        return member

    def leave(self, member: Member) -> None:
        """The session ended: its trainer leaves its stack at the next tick."""
        member.run = lambda: None
        member.ready = False
        member.left = True
        self._unsent.discard(member)
        if not self._unsent:
            self._sent.set()

    def wake(self) -> None:
        """A run started playing: tick now rather than at the next interval."""
        self._wake.set()

    # ------------------------------------------------------------ the ticks
    async def _loop(self) -> None:
        # a little under max_fps's period, so that a tick that runs a few ms long still
        # keeps max_fps frames a second
        interval = 0.97 / self.settings.max_fps
        while self.members:
            started = time.monotonic()
            try:
                async with self.lock:
                    out = await anyio.to_thread.run_sync(self.tick, interval)
                self.deliver(out)
            except Exception:  # a bug must not stop every learner's training
                log.exception("engine tick failed")
            self.ticks += 1
            self._wake.clear()
            # The sessions send this tick's messages before the next tick, which would skip
            # every learner whose messages are not out yet (half an interval at least, even
            # when the tick ran late; a slow client waits for nobody after that).
            rest = interval - (time.monotonic() - started)
            if self._unsent:
                self._sent.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._sent.wait(), max(rest, interval / 2))
                rest = interval - (time.monotonic() - started)
            if rest > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), rest)
            else:
                await asyncio.sleep(0)  # let the sessions apply their requests

    def deliver(self, out: list[tuple[Member, list[Any]]]) -> None:
        """Hand each member its tick's messages; the next tick waits for them to be sent."""
        for member, messages in out:
            if member.left:  # gone while its tick ran: nobody to send to, nothing to wait for
                continue
            member.ready = False
            self._unsent.add(member)
            member.deliver(messages)

    def sent(self, member: Member) -> None:
        """The member's session has sent the messages of its last tick."""
        member.ready = True
        self._unsent.discard(member)
        if not self._unsent:
            self._sent.set()

    def _place(self) -> None:
        """Every member's trainer in the stack of its shape; the departed out."""
        kept = []
        for member in self.members:
            run = member.current = member.run()
            trainer = None if run is None else run.trainer
            if member.trainer is not None and (
                trainer is not member.trainer
                or member.stack is None
                or stack_key(trainer) != member.stack.key
            ):
                assert member.stack is not None
                member.stack.remove(member.trainer)
                if not member.stack.members:
                    self.stacks.pop(member.stack.key or (), None)
                member.trainer = member.stack = None
            if trainer is not None and member.trainer is None:
                key = stack_key(trainer)
                stack = self.stacks.get(key)
                if stack is None:
                    stack = self.stacks[key] = Stack()
                stack.add(trainer)
                member.trainer, member.stack = trainer, stack
            if run is not None or member.ready:
                kept.append(member)
        self.members = kept

    def _share(self, playing: list[Member], interval: float) -> float:
        """Seconds of each tick that are each playing learner's (its training and frame)."""
        return max(0.0, interval - SEND_COST * len(playing) - 0.003) / max(1, len(playing))

    def _frame_time(self, m: Member, share: float) -> float:
        """The part of its share that ``m``'s frames take, on average per tick."""
        cost = self.frame_cost if m.frame_cost is None else m.frame_cost
        return min(cost, FRAME_SHARE * share) if rationed(cost, share) else cost

    def _epochs(self, playing: list[Member], now: float, interval: float) -> dict[int, int]:
        """Epochs each playing member is to finish this tick (by ``id``); a run at full
        speed in a stack that trains in slices: as many as its share allows."""
        plan = {}
        for m in playing:
            speed = m.current.speed
            if speed:
                m.earned = min(m.earned + speed * (now - m.last), max(1.0, speed * interval))
                plan[id(m)] = int(m.earned)
            else:
                plan[id(m)] = MIN_EPOCHS
            m.last = now
        return plan

    def _train(
        self, stack: Stack, mine: list[Member], plan: dict[int, int], allot: float, framed: set[int]
    ) -> dict[int, list[Any]]:
        """Train one stack's playing members for their plan; returns their reports.

        Cheap epochs (MIN_EPOCHS of them within ``allot`` per learner, or within
        CHEAP_SECONDS) run whole, as many as the members' share of the tick holds;
        otherwise the stack trains batches until its ``allot`` seconds are over (at least
        one) and goes on from there next tick, each member of ``framed`` stopping at the end
        of an epoch (its frame shows that epoch's weights).
        """
        k = len(mine)
        key = stack.key or ()
        guess = epoch_guess(mine[0].trainer, k)  # type: ignore[arg-type]
        cost = self.costs.get(key, guess)
        fast = [m for m in mine if not m.current.speed]
        per = allot / max(1, k)
        # the estimate from slices carries their overhead: the guess may make it cheaper
        cheap = MIN_EPOCHS * min(self.cpu_costs.get(key, guess), guess) <= max(per, CHEAP_SECONDS)
        if cheap and fast:
            each = max(MIN_EPOCHS, int(per / cost))
            for m in fast:
                plan[id(m)] = each
        elif fast:
            for m in fast:
                plan[id(m)] = 1 if id(m) in framed else 1 << 30  # else until the time is up
        started, cpu = time.perf_counter(), time.thread_time()
        until = None if cheap else started + max(allot, k * self.cheap_share)
        steps = {id(m): m.trainer.optimizer.t for m in mine}  # type: ignore[union-attr]
        reports: dict[int, list[Any]] = {id(m): [] for m in mine}
        while True:
            rows = [
                m for m in mine if len(reports[id(m)]) < plan[id(m)] and not m.left
                and m.trainer.state == "running"  # type: ignore[union-attr]
            ]  # fmt: skip
            if not rows:
                break
            trainers: Any = [m.trainer for m in rows]
            # one learner alone trains the reference way: the same numbers, less overhead
            if len(stack) == 1:
                got = [trainers[0].advance(until)]
            else:
                got = stack.advance(trainers, until)
            for m, r in zip(rows, got, strict=True):
                if r is not None:
                    reports[id(m)].append(r)
            if until is not None and time.perf_counter() >= until:
                break
        for m in mine:
            if m.current.speed:
                m.earned -= len(reports[id(m)])
        # seconds per learner-epoch: the batches each member ran, over those of an epoch
        t0 = mine[0].trainer
        assert t0 is not None
        per_epoch = -(-t0.x_train.shape[0] // t0.epoch_batch())
        run = sum(m.trainer.optimizer.t - steps[id(m)] for m in mine) / per_epoch  # type: ignore[union-attr]
        elapsed = time.perf_counter() - started
        if run > 0:
            for costs, spent in ((self.costs, elapsed), (self.cpu_costs, time.thread_time() - cpu)):
                old = costs.get(key)
                costs[key] = spent / run if old is None else 0.7 * old + 0.3 * spent / run
        if cheap:
            self._cheap[0] += elapsed
            self._cheap[1] += k
        return reports

    def tick(self, interval: float) -> list[tuple[Member, list[Any]]]:
        """One tick on the worker thread; returns each member's messages."""
        self._place()
        for key in [key for key in self.costs if key not in self.stacks]:
            del self.costs[key], self.cpu_costs[key]
        now = time.monotonic()
        playing = [
            m for m in self.members if m.ready and m.current is not None
            and m.trainer is not None and m.trainer.state == "running"
        ]  # fmt: skip
        plan = self._epochs(playing, now, interval)
        share = self._share(playing, interval)
        wants = {id(m) for m in playing if self._frame_due(m, share, now, len(playing))}
        reports: dict[int, list[Any]] = {}
        self._cheap = [0.0, 0.0]
        for stack in list(self.stacks.values()):
            mine = [m for m in playing if m.stack is stack]
            if mine:
                allot = sum(max(0.0, share - self._frame_time(m, share)) for m in mine)
                reports |= self._train(stack, mine, plan, allot, wants)
        self.cheap_share = self._cheap[0] / self._cheap[1] if self._cheap[1] else 0.0
        out = []
        light = len(playing) >= self.settings.light_frames_from
        due = [m for m in playing if reports[id(m)] and not m.left]
        framed = [m for m in due if id(m) in wants or m.current.state != "running"]
        heavy = {id(m) for m in framed if (m.frame_cost or 0.0) > HEAVY_FRAME}
        pre = precompute([m for m in framed if id(m) not in heavy], light)
        for m in due:
            run = m.current
            messages: list[Any] = [progress_event(reports[id(m)])]
            if m in framed:
                messages += self._frame(m, light or id(m) in heavy, pre)
            if run.state != "running":
                messages.append(status_event(run.state, run.trainer.epoch, **run.status_extra()))
            out.append((m, messages))
        return out

    def _frame_due(self, m: Member, share: float, now: float, playing: int) -> bool:
        """A frame after every tick that ends an epoch, unless frames cost more than half
        the learner's share (and RATIONED_FRAME): then at most a FRAME_SHARE of its time
        goes to them."""
        cost = m.frame_cost
        if cost is None or not rationed(cost, share):
            return True
        return now - m.last_frame >= cost * playing / FRAME_SHARE

    def _frame(self, m: Member, light: bool, pre: dict[int, dict[str, Any]]) -> list[Any]:
        run = m.current
        started = time.thread_time()  # CPU time: a busy machine's pauses are not its cost
        if id(m) in pre:
            frame = run.frame(light, pre[id(m)])
        else:
            frame = run.frame(light=light) if light else run.frame()
        spent = time.thread_time() - started
        # falls at once, rises slowly: one frame that a collection or a first grid made
        # dear does not ration a small network's frames (nor does a rare one undo it)
        prev = m.frame_cost
        m.frame_cost = spent if prev is None or spent < prev else 0.9 * prev + 0.1 * spent
        m.last_frame = time.monotonic()
        self.frame_cost = 0.8 * self.frame_cost + 0.2 * spent
        return frame if isinstance(frame, list) else [frame]


@functools.lru_cache(maxsize=64)
def _grid(features: tuple[str, ...], r: int) -> Any:
    return transform(grid_points(r), features, np.float32)


def precompute(due: list[Member], light: bool) -> dict[int, dict[str, Any]]:
    """For members that share a stack, what their frames evaluate, once per stack: the
    training-set passes, the boundary grid's and the thumbnails' layer outputs."""
    out: dict[int, dict[str, Any]] = {}
    by_stack: dict[int, list[Member]] = {}
    for m in due:
        if m.stack is not None and len(m.stack) > 1 and hasattr(m.current, "frame_needs"):
            by_stack.setdefault(id(m.stack), []).append(m)
    for group in by_stack.values():
        stack = group[0].stack
        assert stack is not None
        trainers: Any = [m.trainer for m in group]
        passes = stacked_passes(stack, trainers)
        for m, fit in zip(group, member_healths(stack, trainers, passes), strict=True):
            out[id(m)] = {"health": fit}
        needs = {id(m): m.current.frame_needs(light) for m in group}
        for kind, pick in (("output", 1), ("neurons", 2)):
            grids: dict[tuple[Any, int], list[Member]] = {}
            for m in group:
                features, r = needs[id(m)][0], needs[id(m)][pick]
                if r:
                    grids.setdefault((features, r), []).append(m)
            for (features, r), ms in grids.items():
                layers = grid_layers(stack, [m.trainer for m in ms], _grid(features, r))  # type: ignore[misc]
                for m, outs in zip(ms, layers, strict=True):
                    out[id(m)][kind] = outs[-1] if kind == "output" else outs
    return out
