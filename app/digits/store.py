"""Trained MNIST models: the shipped one and those people save from the page.

Saved models live in ``<data_dir>/models/<name>.npz``; names are checked against a strict
pattern (no paths), files are written atomically and read with ``allow_pickle=False``.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.validation import NAME_PATTERN, NAME_RULE
from nn_core import mnist
from nn_core.model import ModelFileError, Network
from nn_core.novelty import NoveltyCheck

#: The model that ships in the package (``backprop-lab train-mnist`` makes it).
SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"
DEFAULT_MODEL = "mnist-mlp"
NAME = re.compile(NAME_PATTERN)
MAX_MODEL_BYTES = 50_000_000


class ModelNotFound(KeyError):
    pass


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise ValueError(f"model name {NAME_RULE}")
    return name


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


class ModelStore:
    """Finds, loads (and caches) and saves models; thread-safe."""

    def __init__(self, data_dir: Path, shipped_dir: Path = SHIPPED_DIR) -> None:
        self.user_dir = data_dir / "models"
        self.shipped_dir = shipped_dir
        self._cache: dict[str, tuple[float, LoadedModel]] = {}
        self._lock = threading.Lock()

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
        path, builtin = self._path(name)
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            raise ModelNotFound(name) from None
        with self._lock:
            hit = self._cache.get(name)
            if hit and hit[0] == mtime:
                return hit[1]
        if path.stat().st_size > MAX_MODEL_BYTES:
            raise ModelFileError(f"model file {name} is too large")
        net, meta = Network.load_with_metadata(path)
        if net.sizes[0] != 784:
            raise ModelFileError(f"model {name} does not take 28x28 images")
        model = LoadedModel(name, net, meta, builtin)
        with self._lock:
            self._cache[name] = (mtime, model)
        return model

    def list(self) -> list[dict[str, Any]]:
        out = []
        for name in self.names():
            try:
                out.append(self.get(name).info())
            except (ModelFileError, ModelNotFound, OSError):
                continue  # a broken file is not offered
        return out

    def save(self, name: str, network: Network, metadata: dict[str, Any]) -> None:
        check_name(name)
        if (self.shipped_dir / f"{name}.npz").exists():
            raise ValueError(f"model name {name} is taken by a built-in model")
        network.save(self.user_dir / f"{name}.npz", metadata)
        with self._lock:
            self._cache.pop(name, None)


def model_path(store: ModelStore, name: str) -> Path:
    """The file behind a model name (raises ValueError for a bad name, ModelNotFound)."""
    path, _ = store._path(name)
    if not path.is_file():
        raise ModelNotFound(name)
    return path
