"""The trainer: epochs of shuffled mini-batches, run in time-boxed chunks.

    trainer = Trainer(net, Adam(0.01), x_train, y_train, x_test, y_test, batch_size=32)
    while trainer.state == "running":
        for report in trainer.train_for(budget_s=0.05):
            print(report.epoch, report.train_loss, report.test_loss)

``train_for`` returns after the epoch that crosses the time budget, so a caller (the
web runner, a notebook loop) regains control every few tens of milliseconds and can
change the learning rate, pause, step or stop in between.  A NaN or infinite loss sets
``state = "diverged"`` and is reported, never raised.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from nn_core.metrics import accuracy
from nn_core.model import Network
from nn_core.optimizers import SCHEDULES, Optimizer
from nn_core.types import Array

Augment = Callable[[Array, np.random.Generator], Array]
SMALL_SET_BYTES = 1 << 20  # below this the whole set is reordered once per epoch


@dataclass(frozen=True)
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
        self.history: list[EpochReport] = []
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
        #: The epoch a slice stopped in (resumed by the next slice or step), and how many
        #: of its batches are done.
        self._open: Generator[None, None, EpochReport] | None = None
        self._done = self._of = 0

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
        self._open = None

    def set_learning_rate(self, lr: float) -> None:
        """Change the rate from the next step on (the schedule then scales this one)."""
        self.base_learning_rate = lr
        self.optimizer.learning_rate = lr

    # ------------------------------------------------------------- training
    def _batches(self, bs: int) -> Iterator[tuple[Array, Array]]:
        """Shuffled batches, gathered into buffers kept between epochs.

        Small sets are reordered once per epoch and sliced (one call instead of one per
        batch: what matters for a 250-point playground); large sets are gathered batch by
        batch, so each batch is still in cache when the matrix products read it.
        """
        n = self.x_train.shape[0]
        order = self.rng.permutation(n)
        if self.x_train.nbytes <= SMALL_SET_BYTES:
            if self._x_epoch is None or self._y_epoch is None:
                self._x_epoch = np.empty_like(self.x_train)
                self._y_epoch = np.empty_like(self.y_train)
            np.take(self.x_train, order, axis=0, out=self._x_epoch)
            np.take(self.y_train, order, axis=0, out=self._y_epoch)
            for start in range(0, n, bs):
                yield self._x_epoch[start : start + bs], self._y_epoch[start : start + bs]
            return
        for start in range(0, n, bs):
            idx = order[start : start + bs]
            m = idx.shape[0]
            if m not in self._xb:
                self._xb[m] = np.empty((m, *self.x_train.shape[1:]), self.x_train.dtype)
                self._yb[m] = np.empty((m, *self.y_train.shape[1:]), self.y_train.dtype)
            np.take(self.x_train, idx, axis=0, out=self._xb[m])
            np.take(self.y_train, idx, axis=0, out=self._yb[m])
            yield self._xb[m], self._yb[m]

    def step(self) -> EpochReport:
        """Run one epoch whatever the state (the rest of the epoch :meth:`train_slice`
        left open, if it did); return its report.

        Overflow is expected when a run diverges and is reported through the loss, so
        NumPy's floating-point warnings are silenced here.
        """
        epoch, self._open = self._open or self._epoch(sliced=False), None
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            while True:
                try:
                    next(epoch)
                except StopIteration as end:
                    report: EpochReport = end.value
                    return report

    @property
    def epoch_progress(self) -> tuple[int, int]:
        """``(batches done, batches)`` of the epoch a slice left open; ``(0, batches)``
        between epochs."""
        if self._open is not None:  # its own count: a batch size set since counts later
            return self._done, self._of
        n = self.x_train.shape[0]
        return 0, -(-n // (min(self.batch_size, n) if self.batch_size else n))

    def _epoch(self, sliced: bool = True) -> Generator[None, None, EpochReport]:
        """One epoch, pausing after every batch (and before the evaluation) when
        ``sliced``: the generator's ``return`` value is the epoch's report."""
        net, opt = self.network, self.optimizer
        total = self.max_epochs or 0
        opt.learning_rate = SCHEDULES[self.schedule](self.base_learning_rate, self.epoch, total)
        n = self.x_train.shape[0]
        bs = n if not self.batch_size else min(self.batch_size, n)
        params, grads = [net.flat_parameters], [net.flat_gradients]
        exact = self.exact_train_loss
        loss_sum = 0.0
        last_batch = (n - 1) // bs
        self._done, self._of = 0, last_batch + 1
        for k, (xb, yb) in enumerate(self._batches(bs)):
            if self.augment is not None:
                xb = self.augment(xb, self.rng)
            loss = net.backprop(xb, yb, train=True, rng=self.rng, compute_loss=not exact)
            if not exact:
                if not math.isfinite(loss):
                    loss_sum = loss
                    break
                loss_sum += loss * xb.shape[0]
            if self._before is not None and k == last_batch:
                np.copyto(self._before, net.flat_parameters)
            opt.step(params, grads)
            if sliced:
                self._done = k + 1
                yield
        if self.last_update is not None and self._before is not None:
            np.subtract(net.flat_parameters, self._before, out=self.last_update)
        self.epoch += 1
        train_out = None
        if exact:
            train_loss, train_out = net.evaluate(self.x_train, self.y_train)
        else:
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
        if y.ndim == 2 and y.shape[1] > 1:
            return np.argmax(y, axis=1)
        return y.reshape(-1).astype(np.int64)

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
        an epoch if need be; return the reports of the epochs that ended.

        The next slice (or :meth:`step`) goes on exactly where this one stopped: the same
        batches in the same order, so slices add up to the same numbers, bit for bit, as
        whole epochs.  The time box holds whatever one epoch costs (an epoch of a wide
        network at batch size 1 can take minutes), give or take one batch or one epoch's
        evaluation: a caller regains control every ``budget_s`` seconds or so.
        """
        reports: list[EpochReport] = []
        deadline = time.perf_counter() + budget_s
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            while self.state == "running":
                epoch, self._open = self._open or self._epoch(), None
                try:
                    next(epoch)
                except StopIteration as end:
                    reports.append(end.value)
                    if max_epochs is not None and len(reports) >= max_epochs:
                        break
                else:
                    self._open = epoch
                if time.perf_counter() >= deadline:
                    break
        if self.state == "stopped":  # stopped from another thread during this slice
            self._open = None
        return reports

    def fit(self, epochs: int) -> list[EpochReport]:
        """Run ``epochs`` epochs (or until divergence); convenient in a notebook."""
        reports = []
        for _ in range(epochs):
            if self.state in ("diverged", "stopped"):
                break
            reports.append(self.step())
        return reports
