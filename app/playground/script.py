"""A playground run as a Python script that rebuilds and retrains it with ``nn_core``."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from nn_core.model import Network
from nn_core.training import Trainer


class Exportable(Protocol):
    """What the script is written from (a :class:`~app.playground.run.PlaygroundRun`)."""

    cfg: Any
    network: Network
    trainer: Trainer
    problem: str
    n_classes: int
    sizes: list[int]


def export_script(run: Exportable, max_classes: int) -> str:
    """A runnable Python script that rebuilds this run with nn_core and retrains it
    (``max_classes``: the labels' ceiling the run was built with)."""
    cfg, net = run.cfg, run.network
    epochs = max(run.trainer.epoch, 1)
    if cfg.dataset == "custom":
        points = np.round(np.asarray(cfg.points), 4).tolist()
        data = f"pts = np.array({points})\nx, y = pts[:, :2], pts[:, 2]"
    else:
        args = f"{cfg.dataset!r}, {cfg.n_samples}, {cfg.noise}, rng, {cfg.n_classes}"
        data = f"x, y = make_dataset({args})"
    labels = f"{run.problem!r}, rounded={cfg.dataset == 'custom'}, max_classes={max_classes}"
    lr = run.trainer.base_learning_rate
    return f'''"""Rebuild and retrain the Backprop Lab playground run with nn_core.

Data set {cfg.dataset}, network {run.sizes}, {cfg.optimizer} at learning rate {lr},
{epochs} epochs.  Run it with `python this_file.py` where nn_core is importable.
"""
import numpy as np

from nn_core import Network, Trainer
from nn_core.datasets import make_dataset, train_test_split
from nn_core.features import transform
from nn_core.optimizers import get_optimizer
from nn_core.problems import coerce_labels, targets

rng = np.random.default_rng({cfg.seed})
{data}
y, n_classes = coerce_labels(y, {labels})
x_train, y_train, x_test, y_test = train_test_split(x, y, {cfg.train_ratio}, rng)
features = {list(cfg.features)!r}

net = Network(
    {run.sizes},
    activation={cfg.activation!r},
    output_activation={net.output_activation!r},
    loss={net.loss_name!r},
    init={cfg.init!r},
    seed={cfg.seed},
    regularization={cfg.regularization!r},
    regularization_rate={net.regularizer.rate},
)
trainer = Trainer(
    net,
    get_optimizer({cfg.optimizer!r}, {lr}),
    transform(x_train, features),
    targets(y_train, {net.loss_name!r}, n_classes),
    transform(x_test, features),
    targets(y_test, {net.loss_name!r}, n_classes),
    batch_size={run.trainer.batch_size},
    classification={run.problem == "classification"},
    exact_train_loss=True,
    seed={cfg.seed},
)
for report in trainer.fit({epochs}):
    if report.epoch % 50 == 0 or report.epoch == {epochs}:
        print(report.epoch, round(report.train_loss, 4), report.test_loss, report.accuracy)
'''
