"""Trained MNIST models: the shipped one and those people save from the page.

Saved models live in ``<data_dir>/models/<name>.npz``; names are checked against a strict
pattern (no paths), files are written atomically (temp file, fsync, rename) and read with
:meth:`nn_core.model.Network.load_with_metadata`, which checks every size before it
allocates.  A file must also fit the digits page's own limits (784 inputs, 10 outputs, at
most 4 hidden layers of 1024); one that does not is left out of the list and logged once,
and its verdict is kept until the file changes (its mtime or size).

A saved model belongs to the browser that saved it: beside ``<name>.npz`` lies
``<name>.owner``, the SHA-256 of the token that browser keeps.  Only that token replaces
or deletes the model, and quotas (:class:`Quota`) bound each owner and the whole server.
Saves and deletes hold a file lock, so the worker processes of one server agree.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.config import Settings
from app.digits.quota import Quota, megabytes
from app.validation import (
    MNIST_LIMITS,
    NAME_LENGTH,
    NAME_PATTERN,
    NAME_RULE,
    OWNER_PATTERN,
    OWNER_RULE,
)
from nn_core import mnist
from nn_core.model import ModelFileError, Network
from nn_core.novelty import NoveltyCheck
from nn_core.npz import write_atomic

log = logging.getLogger("backprop_lab.models")

#: The model that ships in the package (``backprop-lab train-mnist`` makes it).
SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"
DEFAULT_MODEL = "mnist-mlp"
NAME = re.compile(NAME_PATTERN)
OWNER = re.compile(OWNER_PATTERN)
#: What a model file may hold: the digits page's networks, as float64 at most.
INPUTS, OUTPUTS = 784, 10
MAX_WIDTH = max(INPUTS, int(MNIST_LIMITS["neurons"][1]))
MAX_ARRAY_BYTES = MAX_WIDTH * MAX_WIDTH * 8 + 4096  # and its .npy header
MAX_MODEL_BYTES = 50_000_000
#: Saved networks kept in memory for predictions, with their fitted novelty checks (the
#: list needs only each file's verdict); the shipped ones are always kept.
LOADED_MODELS = 32


class ModelNotFound(KeyError):
    pass


class ModelRefused(ValueError):
    """A save or delete that may not happen; ``status`` is its HTTP status."""

    def __init__(self, message: str, status: int = 403, field: str = "name") -> None:
        super().__init__(message)
        self.status = status
        self.field = field


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise ValueError(f"model name {NAME_RULE}")
    return name


def owner_hash(token: str) -> str:
    """What is kept of an owner's token: its SHA-256, never the token itself."""
    if not OWNER.fullmatch(token):
        raise ModelRefused(f"owner {OWNER_RULE}", status=422, field="owner")
    return hashlib.sha256(token.encode()).hexdigest()


def check_config(config: dict[str, Any]) -> None:
    """Refuse, before anything is allocated, a network the digits page could not train."""
    sizes = config.get("sizes")
    if not isinstance(sizes, list) or len(sizes) < 2:
        raise ValueError("it lists no layer sizes")
    if sizes[0] != INPUTS or sizes[-1] != OUTPUTS:
        raise ValueError(f"it does not take {INPUTS} pixels to {OUTPUTS} classes")
    hidden = sizes[1:-1]
    lo, hi = MNIST_LIMITS["neurons"]
    if len(hidden) > MNIST_LIMITS["hidden_layers"][1] or not all(
        isinstance(n, int) and lo <= n <= hi for n in hidden
    ):
        raise ValueError(
            f"its hidden layers {hidden} are beyond the digits page's "
            f"{MNIST_LIMITS['hidden_layers'][1]:g} layers of {lo:g} to {hi:g} neurons"
        )


@dataclass
class LoadedModel:
    name: str
    network: Network
    metadata: dict[str, Any]
    builtin: bool
    _novelty: NoveltyCheck | None = field(default=None, repr=False)
    _novelty_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def novelty(self) -> NoveltyCheck | None:
        """The "is this a digit?" check, fitted once on the bundled MNIST split (MNIST
        models only): 5-NN distance in the last hidden layer, 99th held-out percentile."""
        if self.metadata.get("dataset", "mnist") != "mnist" or len(self.network.sizes) < 3:
            return None
        with self._novelty_lock:
            if self._novelty is None:
                digits = mnist.load_bundled()
                x_train = mnist.as_inputs(digits.x_train).reshape(len(digits.x_train), -1)
                x_test = mnist.as_inputs(digits.x_test).reshape(len(digits.x_test), -1)
                self._novelty = NoveltyCheck.fit(self.network, x_train, x_test, quantile=0.99)
            return self._novelty

    def info(self) -> dict[str, Any]:
        meta = self.metadata
        return {
            "name": self.name,
            "architecture": self.network.sizes,
            "activation": self.network.hidden_activations,
            "output_activation": self.network.output_activation,
            "dataset": meta.get("dataset", "mnist"),
            "accuracy": meta.get("accuracy"),
            "date": meta.get("date"),
            "epochs": meta.get("epochs"),
            "builtin": self.builtin,
            "classes": meta.get("classes"),
        }


#: A file's identity for the caches: its modification time and size.
FileKey = tuple[int, int]


class ModelStore:
    """Finds, checks, loads (and caches), saves and deletes models; thread-safe."""

    def __init__(
        self, data_dir: Path, shipped_dir: Path = SHIPPED_DIR, quota: Quota | None = None
    ) -> None:
        self.user_dir = data_dir / "models"
        self.shipped_dir = shipped_dir
        self.quota = quota or Quota.of(Settings())
        #: Each file's verdict: its ``info()`` or why it cannot be used.
        self._verdicts: dict[str, tuple[FileKey, dict[str, Any] | str]] = {}
        self._loaded: OrderedDict[str, tuple[FileKey, LoadedModel]] = OrderedDict()
        self._lock = threading.Lock()
        self.sweep()

    def rules(self) -> dict[str, Any]:
        """What ``/api/options`` tells the page: the name rule, the largest file, quotas."""
        return {
            "name_length": NAME_LENGTH,
            "name_pattern": NAME_PATTERN,
            "name_rule": NAME_RULE,
            "max_bytes": MAX_MODEL_BYTES,
            **self.quota.describe(),
        }

    def _path(self, name: str) -> tuple[Path, bool]:
        check_name(name)
        shipped = self.shipped_dir / f"{name}.npz"
        if shipped.is_file():
            return shipped, True
        return self.user_dir / f"{name}.npz", False

    def names(self) -> list[str]:
        found = {p.stem: None for p in sorted(self.shipped_dir.glob("*.npz"))}
        if self.user_dir.is_dir():
            found |= {
                p.stem: None for p in sorted(self.user_dir.glob("*.npz")) if NAME.fullmatch(p.stem)
            }
        return list(found)

    def get(self, name: str) -> LoadedModel:
        """The named model, loaded; :class:`ModelFileError` (cached) for a bad file."""
        path, builtin = self._path(name)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise ModelNotFound(name) from None
        key = (st.st_mtime_ns, st.st_size)
        with self._lock:
            hit = self._loaded.get(name)
            if hit and hit[0] == key:
                self._loaded.move_to_end(name)
                return hit[1]
            verdict = self._verdicts.get(name)
            if verdict and verdict[0] == key and isinstance(verdict[1], str):
                raise ModelFileError(verdict[1])
        try:
            model = self._load(name, path, st.st_size, builtin)
        except (ModelFileError, OSError) as exc:
            with self._lock:
                self._verdicts[name] = (key, str(exc))
            log.warning("model file %s is left out: %s", path, exc)
            raise ModelFileError(str(exc)) from None
        with self._lock:
            self._verdicts[name] = (key, model.info())
            self._loaded[name] = (key, model)
            saved = [n for n, (_, m) in self._loaded.items() if not m.builtin]
            for oldest in saved[: max(0, len(saved) - LOADED_MODELS)]:
                del self._loaded[oldest]
        return model

    @staticmethod
    def _load(name: str, path: Path, size: int, builtin: bool) -> LoadedModel:
        if size > MAX_MODEL_BYTES:
            raise ModelFileError(f"model file {name} is too large ({megabytes(size)})")
        net, meta = Network.load_with_metadata(
            path, check=check_config, max_array_bytes=MAX_ARRAY_BYTES
        )
        return LoadedModel(name, net, meta, builtin)

    def info(self, name: str) -> dict[str, Any]:
        """The list entry of one model, from its cached verdict when the file is unchanged."""
        path, _ = self._path(name)
        st = path.stat()
        with self._lock:
            verdict = self._verdicts.get(name)
        if verdict and verdict[0] == (st.st_mtime_ns, st.st_size):
            if isinstance(verdict[1], str):
                raise ModelFileError(verdict[1])
            return {**verdict[1], "bytes": st.st_size}
        return {**self.get(name).info(), "bytes": st.st_size}

    def list(self, owner: str | None = None) -> list[dict[str, Any]]:
        """Every usable model; ``yours`` marks those saved with the token ``owner``."""
        mine = set(self.owned_by(owner_hash(owner))) if owner else set()
        out = []
        for name in self.names():
            try:
                entry = self.info(name)
            except (ModelFileError, ModelNotFound, OSError):
                continue  # a broken file is not offered (and was logged once)
            out.append({**entry, "yours": name in mine})
        return out

    # ------------------------------------------------------------ owners
    def _owner_path(self, name: str) -> Path:
        return self.user_dir / f"{name}.owner"

    def _owner_of(self, name: str) -> str | None:
        try:
            return str(json.loads(self._owner_path(name).read_text())["owner"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def owned_by(self, digest: str) -> dict[str, int]:
        """The saved models whose owner's token hashes to ``digest``, with their bytes."""
        out = {}
        for name, size in self._saved().items():
            if self._owner_of(name) == digest:
                out[name] = size
        return out

    def _saved(self) -> dict[str, int]:
        """Every saved model file's name and size (owned or not, usable or not)."""
        if not self.user_dir.is_dir():
            return {}
        out = {}
        for p in self.user_dir.glob("*.npz"):
            with contextlib.suppress(OSError):
                out[p.stem] = p.stat().st_size
        return out

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """This process's lock and the folder's file lock (shared by the worker processes;
        the kernel releases it when a holder dies)."""
        self.user_dir.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.user_dir / ".lock", "a") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            yield

    def sweep(self) -> None:
        """Remove what a save killed midway left behind: temp files and owner files with
        no model.  Every save holds the lock while it writes, so under it nothing is in
        flight."""
        if not self.user_dir.is_dir():
            return
        with self._locked():
            self._sweep()

    def _sweep(self) -> None:
        for tmp in self.user_dir.glob(".*.tmp"):
            log.warning("removing %s, left by a save that did not finish", tmp)
            tmp.unlink(missing_ok=True)
        for owner in self.user_dir.glob("*.owner"):
            if not owner.with_suffix(".npz").exists():
                owner.unlink(missing_ok=True)

    def _refuse_others(self, name: str, digest: str, doing: str) -> None:
        if (self.shipped_dir / f"{name}.npz").exists():
            raise ModelRefused(f"'{name}' is the shipped model and cannot be {doing}")
        owner = self._owner_of(name)
        if (self.user_dir / f"{name}.npz").exists() and owner != digest:
            if doing == "replaced":
                raise ModelRefused(
                    f"A model named '{name}' already belongs to someone else: pick another name"
                )
            raise ModelRefused(
                f"The model '{name}' belongs to someone else: only the browser that saved it "
                "can delete it"
            )

    def _check_quota(self, name: str, digest: str, size: int) -> None:
        if size > MAX_MODEL_BYTES:
            raise ModelRefused(
                f"This model takes {megabytes(size)}, over the {megabytes(MAX_MODEL_BYTES)} "
                "one saved model may take: train a smaller network",
                status=413,
            )
        saved = self._saved()
        saved.pop(name, None)  # a model replaced by its owner makes room for itself
        mine = {n: s for n, s in self.owned_by(digest).items() if n != name}
        refusal = self.quota.refusal(mine, saved, size)
        if refusal:
            raise ModelRefused(refusal, status=507)

    def save(self, name: str, network: Network, metadata: dict[str, Any], owner: str) -> None:
        """Save ``network`` as ``name`` for the browser whose token is ``owner``; a name
        that is shipped or another owner's, or one over a quota, is :class:`ModelRefused`."""
        check_name(name)
        digest = owner_hash(owner)
        buf = io.BytesIO()
        network.save_to(buf, metadata)
        data = buf.getvalue()
        with self._locked():
            self._sweep()
            self._refuse_others(name, digest, "replaced")
            self._check_quota(name, digest, len(data))
            # the owner first: a kill between the two leaves an owner file with no model,
            # which the next sweep removes, never a model nobody owns
            write_atomic(self._owner_path(name), json.dumps({"owner": digest}).encode())
            write_atomic(self.user_dir / f"{name}.npz", data)
        self._forget(name)

    def delete(self, name: str, owner: str) -> None:
        """Delete a saved model of the browser whose token is ``owner``."""
        check_name(name)
        digest = owner_hash(owner)
        with self._locked():
            path = self.user_dir / f"{name}.npz"
            if not path.exists() and not (self.shipped_dir / f"{name}.npz").exists():
                raise ModelNotFound(name)
            self._refuse_others(name, digest, "deleted")
            path.unlink()
            self._owner_path(name).unlink(missing_ok=True)
        self._forget(name)

    def _forget(self, name: str) -> None:
        with self._lock:
            self._verdicts.pop(name, None)
            self._loaded.pop(name, None)


def model_path(store: ModelStore, name: str) -> Path:
    """The file behind a model name (raises ValueError for a bad name, ModelNotFound)."""
    path, _ = store._path(name)
    if not path.is_file():
        raise ModelNotFound(name)
    return path
