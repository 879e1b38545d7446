"""MNIST data: the bundled 10,000-digit subset, an IDX parser, a verified downloader
for the full 70,000 images, and Fashion-MNIST from Debian's ``dataset-fashion-mnist`` (or
the folder ``$BACKPROP_FASHION_MNIST_DIR`` names).

Images are ``uint8`` arrays ``(n, 28, 28)``, ink high (255 = black ink on white paper);
labels ``uint8 (n,)``.  :func:`as_inputs` turns them into float rows ``(n, 784)`` in [0, 1].
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nn_core.npz import write_atomic
from nn_core.types import Array

BUNDLED = Path(__file__).resolve().parent / "data" / "mnist_bundled.npz"
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
FILES = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",  # noqa: E501
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",  # noqa: E501
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
#: Where Debian's ``dataset-fashion-mnist`` installs the four IDX files.
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
#: The environment variable that names another folder holding them.
FASHION_ENV = "BACKPROP_FASHION_MNIST_DIR"
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_IDX_DTYPES: dict[int, str] = {
    0x08: "u1",
    0x09: "i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}


class IDXError(ValueError):
    """A file is not a well-formed IDX file."""


@dataclass(frozen=True)
class Digits:
    """A train/test split of 28 x 28 images; ``source`` says where it came from."""

    x_train: Array
    y_train: Array
    x_test: Array
    y_test: Array
    source: str


def as_inputs(images: Array, dtype: type = np.float32) -> Array:
    """``uint8 (n, 28, 28)`` -> ``(n, 784)`` floats in [0, 1]."""
    return (images.reshape(images.shape[0], -1).astype(dtype)) * dtype(1.0 / 255.0)


def load_bundled() -> Digits:
    """The 8,000 / 2,000 stratified split of real MNIST digits shipped with the package."""
    with np.load(BUNDLED, allow_pickle=False) as data:
        return Digits(data["x_train"], data["y_train"], data["x_test"], data["y_test"], "bundled")


def parse_idx(raw: bytes) -> Array:
    """Parse IDX bytes (gzip-compressed or not) into an array.

    Layout: two zero bytes, a type code, the number of dimensions ``d``, ``d`` big-endian
    uint32 sizes, then the data.  Anything else raises :class:`IDXError`.
    """
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise IDXError(f"corrupt gzip stream: {exc}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise IDXError("not an IDX file (bad magic number)")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES or not 1 <= ndim <= 4:
        raise IDXError(f"unsupported IDX type 0x{code:02x} with {ndim} dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError("truncated IDX header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise IDXError(f"IDX data holds {len(raw) - header} bytes, its header promises {expected}")
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike[str]) -> Array:
    return parse_idx(Path(path).read_bytes())


def _load_split(folder: Path, names: Sequence[str], source: str) -> Digits:
    x_tr, y_tr, x_te, y_te = (read_idx(folder / n) for n in names)
    if x_tr.shape[1:] != (28, 28) or len(x_tr) != len(y_tr) or len(x_te) != len(y_te):
        raise IDXError(f"{folder}: images and labels do not match")
    return Digits(x_tr, y_tr, x_te, y_te, source)


def download(
    cache_dir: str | os.PathLike[str],
    mirrors: Sequence[str] = MIRRORS,
    files: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Path:
    """Fetch the MNIST IDX files into ``cache_dir``, verifying SHA-256 before keeping them.

    Mirrors are tried in order for each file; a file already cached with the right hash is
    not fetched again.  Files are written atomically, so an interrupted download never
    leaves a half file under the real name.  Raises ``OSError`` when no mirror delivers.
    """
    files = FILES if files is None else files
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    for name, sha in files.items():
        target = cache / name
        if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == sha:
            continue
        errors = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + name
            try:
                with urllib.request.urlopen(url, timeout=timeout) as resp:
                    data = resp.read()
            except (urllib.error.URLError, OSError, ValueError) as exc:
                errors.append(f"{url}: {exc}")
                continue
            digest = hashlib.sha256(data).hexdigest()
            if digest != sha:
                errors.append(f"{url}: SHA-256 {digest[:12]}… does not match {sha[:12]}…")
                continue
            write_atomic(target, data)
            break
        else:
            raise OSError(f"could not download {name}: " + "; ".join(errors))
    return cache


def load_full(
    cache_dir: str | os.PathLike[str],
    mirrors: Sequence[str] = MIRRORS,
    files: dict[str, str] | None = None,
) -> tuple[Digits, str]:
    """The full 60,000 / 10,000 MNIST, downloaded if needed; offline, the bundled subset.

    Returns the data and a message for people saying which data they got and why.
    """
    files = FILES if files is None else files
    try:
        folder = download(cache_dir, mirrors, files)
        names = list(files)
        digits = _load_split(folder, [names[0], names[1], names[2], names[3]], "mnist")
        return (
            digits,
            f"full MNIST: {len(digits.x_train)} training and {len(digits.x_test)} test images",
        )
    except (OSError, IDXError) as exc:
        return load_bundled(), f"full MNIST unavailable ({exc}); using the bundled 10,000 digits"


def fashion_dir() -> Path:
    """The Fashion-MNIST folder: ``$BACKPROP_FASHION_MNIST_DIR`` if set, else Debian's."""
    return Path(os.environ.get(FASHION_ENV) or DEBIAN_FASHION_DIR)


def fashion_available(folder: Path | None = None) -> bool:
    """Whether ``folder`` (default :func:`fashion_dir`) holds the Fashion-MNIST files."""
    return ((folder or fashion_dir()) / "train-images-idx3-ubyte.gz").exists()


def load_fashion(folder: Path | None = None) -> Digits:
    """Fashion-MNIST (60,000 / 10,000) from the IDX files in ``folder`` (default
    :func:`fashion_dir`: Debian's ``dataset-fashion-mnist`` unless the variable says)."""
    names = list(FILES)
    return _load_split(folder or fashion_dir(), names, "fashion")
