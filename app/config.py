"""Settings, read once from the environment (``BACKPROP_*`` variables), and where the
package's own files are.

A bad value names its variable: ``BACKPROP_MAX_SESSIONS=lots`` stops the server with
"BACKPROP_MAX_SESSIONS: Input should be a valid integer".
"""

from __future__ import annotations

import os
import tempfile
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: Learners one core trains at once at 60 epochs/s and 20 frames/s or more, each with
#: TensorFlow Playground's default network (docs/deploy.md, bench/bench_classroom.py).
LEARNERS_PER_CORE = 150
#: The source checkout (when the package runs from one).
ROOT = Path(__file__).resolve().parents[1]


def resource(name: str) -> Path:
    """A folder of the package's own files (``static``, ``templates``).

    An installed wheel carries them inside the package (``app/static``); a source
    checkout keeps them at the top, beside ``app/`` (the layout the design names).
    """
    inside = Path(str(files("app") / name))
    return inside if inside.is_dir() else ROOT / name


def default_workers(requested: int = 0) -> int:
    """``requested`` (``BACKPROP_WORKERS``) if set, else the container's CPU quota (cgroup v2
    ``cpu.max``) or the cores this process may use."""
    if requested > 0:
        return requested
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            return max(1, min(cores or 1, round(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores or 1)


def _default_data_dir() -> Path:
    """``./data`` in a source checkout, else the user's data folder (XDG)."""
    if (ROOT / "pyproject.toml").is_file() and (ROOT / "app").is_dir():
        return ROOT / "data"
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "backprop-lab"


def _env(short: str) -> AliasChoices:
    """A setting whose variable has a shorter name than its field."""
    return AliasChoices(f"BACKPROP_{short}", short.lower() + "_bytes")


class Settings(BaseSettings):
    """Every setting a deployment may change; each reads ``BACKPROP_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="BACKPROP_", frozen=True, extra="ignore")

    #: Where saved models live (the Docker image mounts a volume here).
    data_dir: Path = Field(default_factory=_default_data_dir)
    #: Address and port ``backprop-lab serve`` listens on.
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8000
    #: Worker processes (0: the CPU quota, else the cores this process may use).
    workers: Annotated[int, Field(ge=0, le=256)] = 0
    #: Seconds a worker process's event loop may go without writing its heartbeat before
    #: the supervisor kills it and starts another (a hung or stopped worker serves nobody).
    worker_timeout: Annotated[float, Field(gt=0)] = 20.0
    #: Training WebSocket sessions allowed at once; one more gets status "busy".
    #: The whole server's, across its worker processes.  Unset: what the machine holds,
    #: :data:`LEARNERS_PER_CORE` for each worker process.
    max_sessions: Annotated[int, Field(ge=1)] = 0
    #: Worker threads that may train at the same moment (the capacity limiter).  One:
    #: small networks are bound by Python, and threads fighting over the GIL cut the total
    #: throughput and slow predictions (bench/bench_concurrency.py measures both).
    train_threads: Annotated[int, Field(ge=1, le=64)] = 1
    #: Threads that may classify drawings at the same moment: their own, never the
    #: training limiter's nor the shared pool's, so a prediction never waits behind training.
    predict_threads: Annotated[int, Field(ge=1, le=64)] = 2
    #: sys.setswitchinterval while serving, in seconds.
    switch_interval: Annotated[float, Field(gt=0, le=1)] = 0.001
    #: Extra origins allowed to open WebSockets (comma separated), e.g. behind a proxy.
    allowed_origins: Annotated[tuple[str, ...], NoDecode] = ()
    #: Largest accepted WebSocket text message and HTTP body, in bytes.
    max_message_bytes: Annotated[int, Field(ge=100, validation_alias=_env("MAX_MESSAGE"))] = 512_000
    max_body_bytes: Annotated[int, Field(ge=100, validation_alias=_env("MAX_BODY"))] = 4_000_000
    #: Seconds of training per chunk before control returns to the session.
    chunk_seconds: float = 0.03
    #: With several sessions training in one process, each gets a slice of this cycle
    #: (so each sees its boundary move about 1 / cycle times a second).
    cycle_seconds: float = 0.04
    #: From this many sessions training in one process on, frames get cheaper.
    light_frames_from: int = 4
    #: Most boundary frames per second per session.
    max_fps: float = 30.0
    #: permessage-deflate on the WebSockets (app/serving/deflate.py): the zlib level, 1 the
    #: fastest (0: compression off, frames travel as they are), and the server's window in
    #: bits (15 holds the previous frame, so what did not change costs almost nothing).
    ws_deflate_level: Annotated[int, Field(ge=0, le=9)] = 1
    ws_deflate_window_bits: Annotated[int, Field(ge=9, le=15)] = 15
    #: Seconds a WebSocket's output may wait unread (its buffers full) before the connection
    #: is closed and its session's place freed (app/serving/protocols.py).
    unread_seconds: Annotated[float, Field(gt=0)] = 20.0
    #: Seconds a client has to send a request's headers before its connection is cut.
    header_seconds: Annotated[float, Field(gt=0)] = 10.0
    #: Saved models (the digits page's "Save model"): how many, and how many bytes, one
    #: browser may keep, and the whole server.  The largest model the page trains is
    #: about 15 MB on disk.
    owner_models: Annotated[int, Field(ge=1)] = 10
    owner_model_bytes: Annotated[int, Field(ge=1)] = 60_000_000
    server_models: Annotated[int, Field(ge=1)] = 500
    server_model_bytes: Annotated[int, Field(ge=1)] = 2_000_000_000
    #: Classes (docs/teaching.md): the directory every worker process of one server (and
    #: every replica behind one proxy) shares, one folder per class; the most classes at
    #: once, the most learners in one, seconds a class outlives its teacher's page, and
    #: seconds between two updates of a joined learner's tile.
    class_dir: Path = Path(tempfile.gettempdir()) / "backprop-lab-classes"
    class_max: Annotated[int, Field(ge=1)] = 50
    class_max_learners: Annotated[int, Field(ge=1)] = 200
    class_idle_seconds: Annotated[float, Field(gt=0)] = 120.0
    class_tile_seconds: Annotated[float, Field(gt=0, le=10)] = 0.3

    @model_validator(mode="before")
    @classmethod
    def _capacity(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("max_sessions"):
            try:
                workers = int(data.get("workers") or 0)
            except (TypeError, ValueError):
                return data  # the workers field names the problem
            data = {**data, "max_sessions": LEARNERS_PER_CORE * default_workers(workers)}
        return data

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(o.strip().rstrip("/") for o in value.split(",") if o.strip())
        return value


class SettingsError(SystemExit):
    """A ``BACKPROP_*`` variable that cannot be used; the message names it."""


def load_settings() -> Settings:
    """:class:`Settings` from the environment, or exit with the variable that is wrong."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            name = str(err["loc"][0]) if err["loc"] else "?"
            var = name if name.startswith("BACKPROP_") else f"BACKPROP_{name.upper()}"
            lines.append(f"{var}: {err['msg']}")
        raise SettingsError("backprop-lab: " + "; ".join(lines)) from None
