"""``backprop-lab train-mnist``: make the shipped model, reproducibly, with rich's progress bar."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from app.config import Settings
from app.digits.store import DEFAULT_MODEL, SHIPPED_DIR
from app.digits.training import MnistConfig, build_trainer, load_digits, metadata
from nn_core.optimizers import cosine

SHIPPED = {
    "hidden_layers": [256, 128],
    "optimizer": "adam",
    "learning_rate": 0.001,
    "batch_size": 128,
    "regularization_rate": 0.0,
}


def default_output() -> Path:
    """The shipped model's file, or (where that is read-only, as in the Docker image) a
    saved model ``mnist-mlp-retrained`` in the data directory, which the page then offers."""
    shipped = SHIPPED_DIR / f"{DEFAULT_MODEL}.npz"
    if os.access(SHIPPED_DIR, os.W_OK):
        return shipped
    return Settings().data_dir / "models" / f"{DEFAULT_MODEL}-retrained.npz"


def train_shipped_model(
    epochs: int, seed: int, out: str | None, *, augment: bool, stream: TextIO
) -> float:
    """Train ``[784, 256, 128, 10]`` on the bundled 8,000 digits; return held-out accuracy."""
    from threadpoolctl import threadpool_limits

    cfg = MnistConfig(**SHIPPED, epochs=epochs, seed=seed, augment=augment)  # type: ignore[arg-type]
    trainer = build_trainer(cfg, load_digits("mnist"))
    console = Console(file=stream, highlight=False)
    columns = (
        TextColumn("epoch {task.completed}/{task.total}"),
        BarColumn(),
        TextColumn("{task.fields[report]}"),
        TimeElapsedColumn(),
    )
    with (
        threadpool_limits(limits=2, user_api="blas"),
        Progress(*columns, console=console) as progress,
    ):
        task = progress.add_task("training", total=epochs, report="")
        for _ in range(epochs):
            if trainer.state != "running":
                break
            # cosine decay of the rate over the run, for a steadier finish
            trainer.set_learning_rate(cosine(cfg.learning_rate, trainer.epoch, epochs))
            r = trainer.step()
            report = (
                f"loss {r.train_loss:.4f}  test loss {r.test_loss:.4f}  "
                f"held-out accuracy {100 * (r.accuracy or 0):.2f} %"
            )
            progress.update(task, completed=r.epoch, report=report)
    path = Path(out) if out else default_output()
    meta = metadata(cfg, trainer)
    meta["recipe"] = f"backprop-lab train-mnist --epochs {epochs} --seed {seed}" + (
        "" if augment else " --no-augment"
    )
    trainer.network.save(path, meta)
    stream.write(f"wrote {path}: held-out accuracy {100 * (meta['accuracy'] or 0):.2f} %\n")
    return float(meta["accuracy"] or 0)
