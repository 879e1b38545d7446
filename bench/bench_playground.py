"""Playground streaming: epochs/s and frames/s of one session over a real WebSocket.

    python bench/bench_playground.py [--seconds 10]

TensorFlow Playground's default: features x1, x2 -> [4, 2] -> 1, tanh, batch 10, 500 points,
50 % train, a 100 x 100 boundary grid.  It runs about 60 epochs/s (one per animation frame).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import server, train_session  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from app.serving.loadtest import TF_DEFAULT  # noqa: E402

DEFAULT = TF_DEFAULT  # TensorFlow Playground's default network
CASES = {
    "TF Playground default": DEFAULT,
    "spiral, 6 features, [8, 8, 6]": {
        **DEFAULT,
        "dataset": "spiral",
        "hidden_layers": [8, 8, 6],
        "features": ["x1", "x2", "x1_sq", "x2_sq", "sin_x1", "sin_x2"],
    },
    "default, grid 200": {**DEFAULT, "grid": 200},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(f"{'setup':<34}{'epochs/s':>10}{'frames/s':>10}")
    print("-" * 54)
    with server() as url:
        for name, cfg in CASES.items():
            r = asyncio.run(train_session(url, cfg, args.seconds))
            print(f"{name:<34}{r['epochs_per_s']:>10.0f}{r['frames_per_s']:>10.1f}")
    print("\nTensorFlow Playground: about 60 epochs/s. Target: >= 600 epochs/s at >= 20 frames/s.")


if __name__ == "__main__":
    main()
