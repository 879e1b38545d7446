"""Settings, read once from the environment (``BACKPROP_*`` variables)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True)
class Settings:
    #: Where saved models live (the Docker image mounts a volume here).
    data_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("BACKPROP_DATA_DIR", ROOT / "data"))
    )
    #: Training WebSocket sessions allowed at once; one more gets status "busy".
    #: The whole server's, across its worker processes.
    max_sessions: int = field(default_factory=lambda: _int("BACKPROP_MAX_SESSIONS", 64))
    #: Worker threads that may train at the same moment (the capacity limiter).  One:
    #: small networks are bound by Python, and threads fighting over the GIL cut the total
    #: throughput and slow predictions (bench/bench_concurrency.py measures both).
    train_threads: int = field(default_factory=lambda: _int("BACKPROP_TRAIN_THREADS", 1))
    #: sys.setswitchinterval while serving, in seconds.
    switch_interval: float = field(
        default_factory=lambda: float(os.environ.get("BACKPROP_SWITCH_INTERVAL", "0.001"))
    )
    #: Extra origins allowed to open WebSockets (comma separated), e.g. behind a proxy.
    allowed_origins: tuple[str, ...] = field(
        default_factory=lambda: tuple(
            o.strip().rstrip("/")
            for o in os.environ.get("BACKPROP_ALLOWED_ORIGINS", "").split(",")
            if o.strip()
        )
    )
    #: Largest accepted WebSocket text message and HTTP body, in bytes.
    max_message_bytes: int = field(default_factory=lambda: _int("BACKPROP_MAX_MESSAGE", 512_000))
    max_body_bytes: int = field(default_factory=lambda: _int("BACKPROP_MAX_BODY", 4_000_000))
    #: Seconds of training per chunk before control returns to the session.
    chunk_seconds: float = 0.03
    #: With several sessions training in one process, each gets a slice of this cycle
    #: (so each sees its boundary move about 1 / cycle times a second).
    cycle_seconds: float = 0.04
    #: From this many sessions training in one process on, frames get cheaper.
    light_frames_from: int = 4
    #: Most boundary frames per second per session.
    max_fps: float = 30.0
    #: Largest MNIST training run from the page, in epochs.
    max_mnist_epochs: int = 100
