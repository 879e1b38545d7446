"""Many seeds at once: the current setup trained from several seeds side by side.

A learner asks for ``{"type": "seeds", "seeds": 16, "seed_epochs": 300}``: the setup is built
once per seed (``seed``, ``seed + 1``, ...: each its own data draw and its own start) and
the runs train as one :class:`~nn_core.stack.Stack`, bit for bit as each would alone, in
short slices on a worker thread, beside (not inside) the learner's own run.  A few times
a second the page gets a ``seeds`` event: per seed its epoch, test loss, accuracy, dead
units and a small boundary; and a one-line summary of how many got stuck.  Picking a seed
(``{"type": "pick_seed", "seed": s}``) makes that run, as trained, the learner's run.
"""

from __future__ import annotations

import base64
import math
import time
from typing import Any

from app.playground.run import PlaygroundRun
from app.playground.schema import TrainConfig
from nn_core.boundary import grid_points
from nn_core.health import health
from nn_core.stack import Stack

#: A seed whose final test loss is above this got stuck (the summary counts them).
STUCK_LOSS = 0.3
#: The side of each seed's boundary picture.
SEED_GRID = 24
#: The longest slice of training between two looks at the clock, in seconds.
SLICE_SECONDS = 0.03


class SeedRuns:
    """``count`` runs of ``cfg`` from consecutive seeds, trained to ``epochs`` together."""

    def __init__(self, cfg: TrainConfig, count: int, epochs: int) -> None:
        self.cfg, self.epochs = cfg, epochs
        #: The seeds run, first to last (a picked one leaves ``runs``, not this).
        self.seed_range = (cfg.seed, cfg.seed + count - 1)
        small = {"grid": SEED_GRID, "max_epochs": epochs}
        self.runs = [
            PlaygroundRun(cfg.model_copy(update={"seed": cfg.seed + k, **small}))
            for k in range(count)
        ]
        self.stack = Stack()
        for run in self.runs:
            run.trainer.state = "running"
            self.stack.add(run.trainer)

    @property
    def done(self) -> bool:
        return all(run.trainer.epoch >= self.epochs or run.state != "running" for run in self.runs)

    def advance(self, seconds: float = SLICE_SECONDS) -> bool:
        """Train every seed still going for about ``seconds``; True once all are done."""
        until = time.perf_counter() + seconds
        while not self.done and time.perf_counter() < until:
            going = [r.trainer for r in self.runs if r.state == "running"]
            self.stack.advance(going, until=until)
        return self.done

    def event(self) -> dict[str, Any]:
        """Where every seed is: the page's ``seeds`` event."""
        seeds = []
        for run in self.runs:
            last = run.trainer.history[-1] if run.trainer.history else None
            fit = health(run.network, run.trainer.x_train, run.trainer.y_train)
            block = run._boundary_blocks(light=False)[0]
            seeds.append(
                {
                    "seed": run.cfg.seed,
                    "epoch": run.trainer.epoch,
                    "state": run.state,
                    "test_loss": _finite(last.test_loss if last else None),
                    "accuracy": _finite(last.accuracy if last else None),
                    "dead_units": len(fit.dead_units),
                    "boundary": base64.b64encode(block[1].tobytes()).decode(),
                    "lo": block[2].get("lo", 0),
                    "hi": block[2].get("hi", 1),
                }
            )
        stuck = sum(1 for s in seeds if s["test_loss"] is None or s["test_loss"] > STUCK_LOSS)
        done = self.done
        verb = "got stuck" if done else "are stuck so far"
        return {
            "type": "seeds",
            "epochs": self.epochs,
            "grid": SEED_GRID,
            "done": done,
            "seeds": seeds,
            "stuck": stuck,
            "stuck_above": STUCK_LOSS,
            "summary": f"{stuck} of {len(seeds)} seeds {verb} above a test loss of {STUCK_LOSS}",
        }

    def pick(self, seed: int) -> PlaygroundRun | None:
        """The run of ``seed``, taken out of the stack to become the learner's run: its
        boundary at the setup's own resolution, its stop at the setup's ``max_epochs``."""
        run = next((r for r in self.runs if r.cfg.seed == seed), None)
        if run is None:
            return None
        if run.trainer in self.stack.members:
            self.stack.remove(run.trainer)
        self.runs.remove(run)
        run.cfg = self.cfg.model_copy(update={"seed": seed})
        run.grid = grid_points(run.cfg.grid)
        trainer = run.trainer
        trainer.max_epochs = run.cfg.max_epochs
        done = trainer.max_epochs is not None and trainer.epoch >= trainer.max_epochs
        trainer.state = (
            "done" if done else ("paused" if trainer.state != "diverged" else "diverged")
        )
        run.first_epoch = trainer.epoch
        return run


def history_event(run: PlaygroundRun) -> dict[str, Any]:
    """A picked seed's curves so far, for the page's loss chart (``seed_history``)."""
    reports = list(run.trainer.history)
    return {
        "type": "seed_history",
        "seed": run.cfg.seed,
        "epochs": [r.epoch for r in reports],
        "train_loss": [_finite(r.train_loss) for r in reports],
        "test_loss": [_finite(r.test_loss) for r in reports],
        "accuracy": [_finite(r.accuracy) for r in reports],
    }


def _finite(v: float | None) -> float | None:
    return float(v) if v is not None and math.isfinite(v) else None
