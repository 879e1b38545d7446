"""What a session drives: the :class:`Run` interface, and :class:`TrainerRun`, the part of
it that every run built on an ``nn_core`` :class:`~nn_core.training.Trainer` shares.

A run is plain synchronous code; the session calls it on a worker thread, one call at a
time, and only the session talks to the socket.
"""

from __future__ import annotations

from typing import Any, Protocol

from nn_core.model import Network
from nn_core.training import EpochReport, Trainer

#: One frame: a JSON event, binary bytes, or several of them in order.
Frame = bytes | dict[str, Any] | list[bytes | dict[str, Any]]


class Run(Protocol):
    """The interface a session needs from a run (the playground's and the digits page's)."""

    trainer: Trainer
    network: Network
    #: Epochs per second to train at (0: as fast as possible).
    speed: float

    @property
    def state(self) -> str: ...

    def chunk(self, budget_s: float) -> list[EpochReport]: ...

    def step(self) -> EpochReport: ...

    def set(self, learning_rate: float | None, rate: float | None, batch: int | None) -> None: ...

    def frame(self, light: bool = False) -> Frame: ...

    def ready_event(self) -> dict[str, Any]: ...

    def status_extra(self) -> dict[str, Any]: ...

    def restart_config(self) -> Any:
        """The config that rebuilds this run from scratch with today's live settings."""
        ...


class TrainerRun:
    """The trainer-driven half of :class:`Run`; subclasses add their data and wire views
    (``ready_event``, ``frame``, ``status_extra``, ``restart_config``)."""

    trainer: Trainer
    network: Network
    speed: float = 0.0

    @property
    def state(self) -> str:
        return self.trainer.state

    def chunk(self, budget_s: float) -> list[EpochReport]:
        return self.trainer.train_for(budget_s)

    def step(self) -> EpochReport:
        state = self.trainer.state
        report = self.trainer.step()
        if self.trainer.state == "running":  # stepping keeps a paused run paused
            self.trainer.state = state
        return report

    def set(self, learning_rate: float | None, rate: float | None, batch: int | None) -> None:
        """Live changes, applied from the next batch on."""
        if learning_rate is not None:
            self.trainer.set_learning_rate(learning_rate)
        if rate is not None:
            self.network.regularizer.rate = rate
        if batch is not None:
            self.trainer.batch_size = batch

    def live_settings(self) -> dict[str, Any]:
        """The settings a learner may have changed since the start (for a reset)."""
        live: dict[str, Any] = {
            "learning_rate": self.trainer.base_learning_rate,
            "regularization_rate": self.network.regularizer.rate,
        }
        if self.trainer.batch_size:
            live["batch_size"] = self.trainer.batch_size
        return live
