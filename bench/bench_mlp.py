"""Seconds per epoch of [784, 256, 128, 10] relu/softmax, batch 128, float32, 60,000 samples:
nn_core against PyTorch CPU, epochs interleaved in one process, and the fraction of the
machine's float32 matmul peak.

    python bench/bench_mlp.py [--epochs 5] [--threads N]

Data: Fashion-MNIST's 60,000 training images when Debian's package is installed, else the
bundled MNIST digits repeated to 60,000 (speed does not depend on the pixels).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from nn_core import SGD, Adam, Network, Trainer, mnist

SIZES = [784, 256, 128, 10]


def data() -> tuple[np.ndarray, np.ndarray, str]:
    if mnist.fashion_available():
        d = mnist.load_fashion()
        return mnist.as_inputs(d.x_train), d.y_train.astype(np.int64), "Fashion-MNIST 60,000"
    d = mnist.load_bundled()
    reps = -(-60000 // len(d.x_train))
    x = np.tile(mnist.as_inputs(d.x_train), (reps, 1))[:60000]
    return x, np.tile(d.y_train, reps)[:60000].astype(np.int64), "bundled MNIST x 7.5"


def matmul_peak(seconds: float = 2.0) -> float:
    """Best float32 GFLOP/s of square matrix products (the practical BLAS peak)."""
    best = 0.0
    for n in (512, 1024, 2048):
        a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
        b = a.copy()
        out = np.empty_like(a)
        np.matmul(a, b, out=out)
        end = time.perf_counter() + seconds / 3
        while time.perf_counter() < end:
            t = time.perf_counter()
            np.matmul(a, b, out=out)
            best = max(best, 2 * n**3 / (time.perf_counter() - t) / 1e9)
    return best


def epoch_flops(n: int) -> float:
    """3 x the forward pass's multiply-adds x 2 (forward, and two products backward)."""
    return 3 * 2 * n * sum(a * b for a, b in zip(SIZES[:-1], SIZES[1:], strict=False))


def torch_epoch_fn(x: np.ndarray, y: np.ndarray, batch: int, optimizer: str):  # type: ignore[no-untyped-def]
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 10),
    )
    opt = (
        torch.optim.Adam(model.parameters(), lr=1e-3)
        if optimizer == "adam"
        else torch.optim.SGD(model.parameters(), lr=0.1)
    )
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def run() -> None:
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), batch):
            idx = perm[i : i + batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()

    return run, torch


def compare(
    x: np.ndarray, y: np.ndarray, optimizer: str, epochs: int, threads: int
) -> tuple[list[float], list[float]]:
    """Seconds per epoch of nn_core and of torch with ``optimizer``, epochs interleaved."""
    net = Network(
        SIZES,
        activation="relu",
        output_activation="softmax",
        loss="cross_entropy",
        init="he",
        seed=0,
    )
    opt = Adam(1e-3) if optimizer == "adam" else SGD(0.1)
    # no test set and no accuracy pass: time the training itself, as for torch
    trainer = Trainer(net, opt, x, y, batch_size=128, classification=False)
    torch_run = torch_epoch_fn(x, y, 128, optimizer)
    if torch_run is not None:
        torch_run[1].set_num_threads(threads)
    ours: list[float] = []
    theirs: list[float] = []
    trainer.step()  # warm-up: buffers, BLAS
    if torch_run:
        torch_run[0]()
    for _ in range(epochs):  # interleaved, so both see the same machine state
        t = time.perf_counter()
        trainer.step()
        ours.append(time.perf_counter() - t)
        if torch_run:
            t = time.perf_counter()
            torch_run[0]()
            theirs.append(time.perf_counter() - t)
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    x, y, source = data()
    flops = epoch_flops(len(x))
    rows = []
    with threadpool_limits(limits=args.threads):
        peak = matmul_peak()
        for optimizer in ("sgd", "adam"):
            ours, theirs = compare(x, y, optimizer, args.epochs, args.threads)
            rows.append((f"nn_core, {optimizer}", statistics.median(ours)))
            if theirs:
                rows.append((f"PyTorch CPU, {optimizer}", statistics.median(theirs)))
    print(f"data: {source}; batch 128; float32; BLAS threads: {args.threads}")
    print(
        f"float32 matmul peak: {peak:.1f} GFLOP/s; an epoch is {flops / 1e9:.1f} GFLOP "
        "(3 x the forward pass)\n"
    )
    print(f"{'engine':<24}{'s/epoch (median)':>18}{'GFLOP/s':>10}{'% of peak':>11}{'vs torch':>10}")
    print("-" * 73)
    torch_time = {name.split(", ")[1]: t for name, t in rows if name.startswith("PyTorch")}
    for name, t in rows:
        gflops = flops / t / 1e9
        ref = torch_time.get(name.split(", ")[1])
        ratio = f"{t / ref:.2f}x" if ref else "n/a"
        print(f"{name:<24}{t:>18.3f}{gflops:>10.1f}{100 * gflops / peak:>10.0f}%{ratio:>10}")
    if not torch_time:
        print("\nPyTorch is not installed: pip install torch==2.13.0 (make bench does)")


if __name__ == "__main__":
    main()
