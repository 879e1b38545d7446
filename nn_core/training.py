"""The trainer: epochs of shuffled mini-batches, run in time-boxed chunks.

    trainer = Trainer(net, Adam(0.01), x_train, y_train, x_test, y_test, batch_size=32)
    while trainer.state == "running":
        for report in trainer.train_for(budget_s=0.05):
            print(report.epoch, report.train_loss, report.test_loss)

``train_for`` returns after the epoch that crosses the time budget, so a caller (the
web runner, a notebook loop) regains control every few tens of milliseconds and can
change the learning rate, pause, step or stop in between; ``train_slice`` (and
``advance``) stop inside an epoch too, and the next call goes on where it stopped.  A NaN
or infinite loss sets ``state = "diverged"`` and is reported, never raised.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from nn_core.history import History
from nn_core.metrics import accuracy
from nn_core.model import Network
from nn_core.optimizers import SCHEDULES, Optimizer
from nn_core.types import Array

Augment = Callable[[Array, np.random.Generator], Array]
SMALL_SET_BYTES = 1 << 20  # below this the whole set is reordered once per epoch


@dataclass(frozen=True, slots=True)
class EpochReport:
    """What one epoch achieved; ``None`` where it does not apply (no test set, regression)."""

    epoch: int
    train_loss: float
    test_loss: float | None
    accuracy: float | None  # on the test set (the training set when there is none)
    train_accuracy: float | None
    learning_rate: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Trainer:
    """Trains a :class:`Network` with an :class:`Optimizer`; states: running, paused,
    diverged, done (reached ``max_epochs``) and stopped."""

    def __init__(
        self,
        network: Network,
        optimizer: Optimizer,
        x_train: Array,
        y_train: Array,
        x_test: Array | None = None,
        y_test: Array | None = None,
        *,
        batch_size: int | None = 32,
        max_epochs: int | None = None,
        schedule: str = "constant",
        classification: bool = True,
        exact_train_loss: bool = False,
        augment: Augment | None = None,
        seed: int | None = 0,
        track_updates: bool = False,
    ) -> None:
        if schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")
        dt = np.dtype(network.dtype)
        self.network = network
        self.optimizer = optimizer
        self.x_train = np.ascontiguousarray(x_train, dtype=dt)
        self.y_train = np.asarray(y_train)
        self.x_test = None if x_test is None else np.ascontiguousarray(x_test, dtype=dt)
        self.y_test = None if y_test is None else np.asarray(y_test)
        self.batch_size = batch_size  # None means full batch
        self.max_epochs = max_epochs
        self.schedule = schedule
        self.base_learning_rate = optimizer.learning_rate
        self.classification = classification
        self.exact_train_loss = exact_train_loss
        self.augment = augment
        self.rng = np.random.default_rng(seed)
        self.epoch = 0
        self.state = "running"
        #: Every epoch's report, the older ones thinned, in bounded memory.
        self.history: History[EpochReport] = History()
        self._x_epoch: Array | None = None
        self._y_epoch: Array | None = None
        self._xb: dict[int, Array] = {}
        #: With ``track_updates``: the last optimizer step's change of every parameter,
        #: laid out like ``network.flat_parameters`` (``network.split`` gives per-layer
        #: views); zeros before the first step.
        self.last_update: Array | None = None
        self._before: Array | None = None
        if track_updates:
            self.last_update = np.zeros_like(network.flat_parameters)
            self._before = np.empty_like(network.flat_parameters)
        self._yb: dict[int, Array] = {}
        #: The epoch under way (see :meth:`advance`): its shuffle (``None`` between
        #: epochs), batch size, next sample and, without the exact loss, its loss sum.
        self._order: Array | None = None
        self._bs = 1
        self._pos = 0
        self._loss_sum = 0.0

    # -------------------------------------------------------------- control
    def pause(self) -> None:
        if self.state == "running":
            self.state = "paused"

    def resume(self) -> None:
        if self.state == "paused":
            self.state = "running"

    def stop(self) -> None:
        """End the run for good: its open epoch, if any, is dropped."""
        self.state = "stopped"
        self._order = None
        self._pos = 0

    def set_learning_rate(self, lr: float) -> None:
        """Change the rate from the next step on (the schedule then scales this one)."""
        self.base_learning_rate = lr
        self.optimizer.learning_rate = lr

    # ------------------------------------------------------------- training
    @property
    def mid_epoch(self) -> bool:
        """An epoch was begun by :meth:`advance` and not finished yet."""
        return self._order is not None

    @property
    def epoch_progress(self) -> tuple[int, int]:
        """``(batches done, batches)`` of the epoch under way; ``(0, batches)`` between
        epochs (a batch size set inside an epoch counts from the next)."""
        bs = self.epoch_batch()
        return -(-self._pos // bs), -(-self.x_train.shape[0] // bs)

    def batches_left(self) -> int:
        """Batches until the current epoch ends (a whole epoch's at an epoch boundary)."""
        return -(-(self.x_train.shape[0] - self._pos) // self.epoch_batch())

    def epoch_batch(self) -> int:
        """The batch size of the epoch under way, else of the next one (the whole set for
        full batch): a change of ``batch_size`` applies from the next epoch on."""
        if self._order is not None:
            return self._bs
        n = self.x_train.shape[0]
        return n if not self.batch_size else min(self.batch_size, n)

    def next_batch(self) -> Array:
        """The training rows (indices into ``x_train``) the next update trains on, drawn
        nothing: between epochs, the next epoch's shuffle is read from a copy of the
        generator, so the run goes on exactly as if nobody had looked."""
        if self._order is not None:
            return self._order[self._pos : self._pos + self._bs].copy()
        peek = np.random.Generator(type(self.rng.bit_generator)())
        peek.bit_generator.state = self.rng.bit_generator.state
        return peek.permutation(self.x_train.shape[0])[: self.epoch_batch()]

    def begin_epoch(self) -> None:
        """Start an epoch: its rate (by the schedule), its batch size and its shuffle."""
        total = self.max_epochs or 0
        rate = SCHEDULES[self.schedule](self.base_learning_rate, self.epoch, total)
        self.optimizer.learning_rate = rate
        self._bs = self.epoch_batch()  # (read before the epoch is under way)
        self._order = self.rng.permutation(self.x_train.shape[0])
        self._pos, self._loss_sum = 0, 0.0

    def _batches(self) -> Iterator[tuple[Array, Array]]:
        """The current epoch's remaining batches in its shuffled order, gathered into
        buffers kept between epochs.

        Small sets are reordered once per call and sliced (one call instead of one per
        batch: what matters for a 250-point playground); large sets are gathered batch by
        batch, so each batch is still in cache when the matrix products read it.
        """
        n, bs, order, pos = self.x_train.shape[0], self._bs, self._order, self._pos
        assert order is not None
        if self.x_train.nbytes <= SMALL_SET_BYTES:
            if self._x_epoch is None or self._y_epoch is None:
                self._x_epoch = np.empty_like(self.x_train)
                self._y_epoch = np.empty_like(self.y_train)
            np.take(self.x_train, order[pos:], axis=0, out=self._x_epoch[pos:])
            np.take(self.y_train, order[pos:], axis=0, out=self._y_epoch[pos:])
            for start in range(pos, n, bs):
                yield self._x_epoch[start : start + bs], self._y_epoch[start : start + bs]
            return
        for start in range(pos, n, bs):
            idx = order[start : start + bs]
            m = idx.shape[0]
            if m not in self._xb:
                self._xb[m] = np.empty((m, *self.x_train.shape[1:]), self.x_train.dtype)
                self._yb[m] = np.empty((m, *self.y_train.shape[1:]), self.y_train.dtype)
            np.take(self.x_train, idx, axis=0, out=self._xb[m])
            np.take(self.y_train, idx, axis=0, out=self._yb[m])
            yield self._xb[m], self._yb[m]

    def step(self) -> EpochReport:
        """Run one epoch whatever the state (the rest of the current one, when
        :meth:`advance` stopped inside it); return its report."""
        report = self.advance()
        assert report is not None
        return report

    def advance(self, until: float | None = None, batches: int | None = None) -> EpochReport | None:
        """Train on where the last call stopped, whatever the state: the current epoch's
        batches until it ends, ``batches`` of them were run or the clock
        (``time.perf_counter``) passed ``until``, at least one.  Returns the epoch's
        report if it ended, else ``None``.

        An epoch run in slices is the epoch run at once, bit for bit: it keeps its
        shuffle, its rate and batch size, and every draw of the generator comes in the
        same order.  Overflow is expected when a run diverges and is reported through the
        loss, so NumPy's floating-point warnings are silenced here.
        """
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if self._order is None:
                self.begin_epoch()
            return self._slice(until, batches)

    def _slice(self, until: float | None, batches: int | None) -> EpochReport | None:
        net, opt = self.network, self.optimizer
        n, bs = self.x_train.shape[0], self._bs
        params, grads = [net.flat_parameters], [net.flat_gradients]
        exact = self.exact_train_loss
        last_batch = (n - 1) // bs
        ended = False
        for done, (xb, yb) in enumerate(self._batches(), 1):
            k = self._pos // bs
            self._pos = min(n, self._pos + bs)
            if self.augment is not None:
                xb = self.augment(xb, self.rng)
            loss = net.backprop(xb, yb, train=True, rng=self.rng, compute_loss=not exact)
            if not exact:
                if not math.isfinite(loss):
                    self._loss_sum, ended = loss, True
                    break
                self._loss_sum += loss * xb.shape[0]
            if self._before is not None and k == last_batch:
                np.copyto(self._before, net.flat_parameters)
            opt.step(params, grads)
            if self._pos >= n:
                ended = True
                break
            if batches is not None and done >= batches:
                break
            if until is not None and (time.perf_counter() >= until or self.state == "stopped"):
                break  # (stopped from another thread: its client has gone)
        if not ended:
            return None
        return self._end_epoch()

    def _end_epoch(self) -> EpochReport:
        net, opt, n = self.network, self.optimizer, self.x_train.shape[0]
        self._order = None
        self._pos = 0
        if self.last_update is not None and self._before is not None:
            np.subtract(net.flat_parameters, self._before, out=self.last_update)
        self.epoch += 1
        train_out = None
        if self.exact_train_loss:
            train_loss, train_out = net.evaluate(self.x_train, self.y_train)
        else:
            loss_sum = self._loss_sum
            train_loss = loss_sum / n if math.isfinite(loss_sum) else loss_sum
        report = self._report(train_loss, opt.learning_rate, train_out)
        self.history.append(report)
        if not math.isfinite(report.train_loss) or not self._params_finite():
            self.state = "diverged"
        elif self.max_epochs is not None and self.epoch >= self.max_epochs:
            self.state = "done"
        return report

    def _params_finite(self) -> bool:
        return all(bool(np.isfinite(w).all()) for w in self.network.weights)

    def _report(self, train_loss: float, lr: float, train_out: Array | None) -> EpochReport:
        """Evaluate the epoch: one forward pass over the test set (and the training set's
        outputs, reused when the exact training loss was just computed)."""
        net = self.network
        test_loss = acc = train_acc = None
        finite = math.isfinite(train_loss)
        test_out = None
        if self.x_test is not None and self.y_test is not None and len(self.x_test) and finite:
            test_loss, test_out = net.evaluate(self.x_test, self.y_test)
        if self.classification and finite:
            if train_out is None:
                train_out = net.forward(self.x_train)
            train_acc = accuracy(net.labels(train_out), self._labels(self.y_train))
            acc = train_acc
            if test_out is not None and self.y_test is not None:
                acc = accuracy(net.labels(test_out), self._labels(self.y_test))
        return EpochReport(self.epoch, float(train_loss), test_loss, acc, train_acc, float(lr))

    @staticmethod
    def _labels(y: Array) -> Array:
        """Class labels of targets: integer labels as they are, one-hot rows by their
        argmax, a column of 0/1 or -1/+1 (signed targets) by its sign."""
        if y.ndim == 2 and y.shape[1] > 1:
            return np.argmax(y, axis=1)
        if y.ndim == 2:
            return (y[:, 0] > 0).astype(np.int64)
        return y.astype(np.int64)

    def train_for(self, budget_s: float = 0.05, max_epochs: int | None = None) -> list[EpochReport]:
        """Run whole epochs until ``budget_s`` seconds have passed (at least one epoch),
        ``max_epochs`` epochs were run, or the state leaves ``running``."""
        reports: list[EpochReport] = []
        deadline = time.perf_counter() + budget_s
        while self.state == "running":
            reports.append(self.step())
            if time.perf_counter() >= deadline:
                break
            if max_epochs is not None and len(reports) >= max_epochs:
                break
        return reports

    def train_slice(
        self, budget_s: float = 0.05, max_epochs: int | None = None
    ) -> list[EpochReport]:
        """Train batch by batch until ``budget_s`` seconds have passed (at least one batch),
        ``max_epochs`` epochs have ended or the state leaves ``running``, stopping inside
        an epoch if need be (:meth:`advance`); return the reports of the epochs that ended.

        The next slice (or :meth:`step`) goes on exactly where this one stopped, so slices
        add up to the same numbers, bit for bit, as whole epochs.  The time box holds
        whatever one epoch costs (an epoch of a wide network at batch size 1 can take
        minutes), give or take one batch and one epoch's evaluation.
        """
        reports: list[EpochReport] = []
        deadline = time.perf_counter() + budget_s
        while self.state == "running":
            report = self.advance(until=deadline)
            if report is not None:
                reports.append(report)
                if max_epochs is not None and len(reports) >= max_epochs:
                    break
            if time.perf_counter() >= deadline:
                break
        if self.state == "stopped":  # stopped from another thread during this slice
            self._order, self._pos = None, 0
        return reports

    def fit(self, epochs: int) -> list[EpochReport]:
        """Run ``epochs`` epochs (or until divergence); convenient in a notebook."""
        reports = []
        for _ in range(epochs):
            if self.state in ("diverged", "stopped"):
                break
            reports.append(self.step())
        return reports
