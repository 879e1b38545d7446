"""Many seeds at once: 16 seeds of a setup trained as one stack (the page's "Run 16
seeds") against the same 16 runs trained one after another, in one process, one BLAS
thread, and the same numbers either way.

    python bench/bench_seeds.py [--epochs 300]
"""

from __future__ import annotations

import argparse
import time

from threadpoolctl import threadpool_limits

from app.playground.presets import PRESETS
from app.playground.run import PlaygroundRun
from app.playground.schema import TrainConfig
from app.playground.seeds import SeedRuns

SETUPS = {
    "TF Playground's default 2-4-2-1": {},
    "XOR 2-3-1 (preset)": PRESETS["xor_2_3_1"]["config"],
    "spiral 8-8-6, Adam (preset)": PRESETS["spiral_deep"]["config"],
}
SEEDS = 16


def stacked(cfg: TrainConfig, epochs: int) -> tuple[float, list[float]]:
    t0 = time.perf_counter()
    runs = SeedRuns(cfg, SEEDS, epochs)
    while not runs.advance(0.05):
        pass
    seconds = time.perf_counter() - t0
    return seconds, [r.trainer.history[-1].test_loss for r in runs.runs]


def alone(cfg: TrainConfig, epochs: int) -> tuple[float, list[float]]:
    t0 = time.perf_counter()
    losses = []
    for k in range(SEEDS):
        run = PlaygroundRun(cfg.model_copy(update={"seed": cfg.seed + k, "grid": 24}))
        run.trainer.fit(epochs)
        losses.append(run.trainer.history[-1].test_loss)
    return time.perf_counter() - t0, losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    epochs = parser.parse_args().epochs
    print(f"{SEEDS} seeds x {epochs} epochs, one process, one BLAS thread")
    print(f"{'setup':34} {'stacked s':>10} {'one by one s':>13} {'speed-up':>9} {'same':>5}")
    with threadpool_limits(1):
        for name, config in SETUPS.items():
            cfg = TrainConfig.model_validate(config)
            s_time, s_losses = stacked(cfg, epochs)
            a_time, a_losses = alone(cfg, epochs)
            same = "yes" if s_losses == a_losses else "NO"
            print(f"{name:34} {s_time:10.2f} {a_time:13.2f} {a_time / s_time:8.1f}x {same:>5}")


if __name__ == "__main__":
    main()
