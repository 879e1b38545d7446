from __future__ import annotations

import gzip
import hashlib
import http.server
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from nn_core import mnist


def _idx(arr: np.ndarray) -> bytes:
    header = struct.pack(">BBBB", 0, 0, 0x08, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return gzip.compress(header + arr.astype(np.uint8).tobytes())


def test_bundled_subset_is_a_stratified_8000_2000_split() -> None:
    d = mnist.load_bundled()
    assert d.x_train.shape == (8000, 28, 28) and d.x_test.shape == (2000, 28, 28)
    assert d.x_train.dtype == np.uint8
    per_digit = np.bincount(d.y_train) + np.bincount(d.y_test)
    assert np.all(np.abs(np.bincount(d.y_test) - 0.2 * per_digit) <= 1)  # 20 % of every digit
    assert 90 < d.x_train.mean() * 784 / 255 < 110  # about 100 units of ink per digit, as MNIST


def test_parse_idx_round_trips_and_rejects_garbage() -> None:
    arr = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
    np.testing.assert_array_equal(mnist.parse_idx(_idx(arr)), arr)
    with pytest.raises(mnist.IDXError, match="magic"):
        mnist.parse_idx(b"\x01\x02\x08\x01hello")
    with pytest.raises(mnist.IDXError, match="promises"):
        mnist.parse_idx(gzip.decompress(_idx(arr))[:-5])
    with pytest.raises(mnist.IDXError, match="gzip"):
        mnist.parse_idx(_idx(arr)[:30])


@pytest.fixture()
def idx_server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    """A local HTTP server on 127.0.0.1 serving generated IDX files (and one corrupt mirror)."""
    rng = np.random.default_rng(0)
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir()
    bad.mkdir()
    blobs = {
        "train-images-idx3-ubyte.gz": _idx(rng.integers(0, 256, (30, 28, 28))),
        "train-labels-idx1-ubyte.gz": _idx(rng.integers(0, 10, 30)),
        "t10k-images-idx3-ubyte.gz": _idx(rng.integers(0, 256, (10, 28, 28))),
        "t10k-labels-idx1-ubyte.gz": _idx(rng.integers(0, 10, 10)),
    }
    hashes = {}
    for name, blob in blobs.items():
        (good / name).write_bytes(blob)
        (bad / name).write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))  # one flipped bit
        hashes[name] = hashlib.sha256(blob).hexdigest()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a: object, **k: object) -> None:
            super().__init__(*a, directory=str(tmp_path), **k)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", hashes, tmp_path
    server.shutdown()
    server.server_close()


def test_download_verifies_hashes_and_falls_through_to_the_next_mirror(
    idx_server: tuple[str, dict[str, str], Path],
) -> None:
    base, hashes, root = idx_server
    cache = root / "cache"
    digits, message = mnist.load_full(cache, mirrors=[base + "bad/", base + "good/"], files=hashes)
    assert digits.source == "mnist" and digits.x_train.shape == (30, 28, 28)
    assert "full MNIST" in message
    assert sorted(p.name for p in cache.iterdir()) == sorted(hashes)  # no temp files left


def test_corrupt_download_is_rejected_and_falls_back_to_the_bundled_set(
    idx_server: tuple[str, dict[str, str], Path],
) -> None:
    base, hashes, root = idx_server
    cache = root / "cache2"
    digits, message = mnist.load_full(cache, mirrors=[base + "bad/"], files=hashes)
    assert digits.source == "bundled"
    assert "SHA-256" in message and "bundled" in message
    assert not any(cache.iterdir())  # nothing unverified was kept


def test_offline_falls_back_with_a_clear_message(tmp_path: Path) -> None:
    digits, message = mnist.load_full(tmp_path, mirrors=["http://127.0.0.1:9/"], files=mnist.FILES)
    assert digits.source == "bundled" and "unavailable" in message


@pytest.mark.skipif(not mnist.fashion_available(), reason="dataset-fashion-mnist not installed")
def test_fashion_mnist_loads_from_debian_package() -> None:
    d = mnist.load_fashion()
    assert d.x_train.shape == (60000, 28, 28) and d.x_test.shape == (10000, 28, 28)
    assert np.bincount(d.y_test).tolist() == [1000] * 10


def _fashion_folder(root: Path) -> Path:
    rng = np.random.default_rng(2)
    root.mkdir()
    for name, arr in zip(
        mnist.FILES,
        [
            rng.integers(0, 256, (12, 28, 28)),
            rng.integers(0, 10, 12),
            rng.integers(0, 256, (4, 28, 28)),
            rng.integers(0, 10, 4),
        ],
        strict=True,
    ):
        (root / name).write_bytes(_idx(arr))
    return root


def test_fashion_mnist_is_read_from_the_folder_given_or_named_by_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _fashion_folder(tmp_path / "fashion")
    d = mnist.load_fashion(folder)
    assert d.source == "fashion" and d.x_train.shape == (12, 28, 28) and len(d.y_test) == 4
    monkeypatch.delenv(mnist.FASHION_ENV, raising=False)
    assert (
        mnist.fashion_dir() == mnist.DEBIAN_FASHION_DIR == Path("/usr/share/datasets/fashion-mnist")
    )
    monkeypatch.setenv(mnist.FASHION_ENV, str(folder))
    assert mnist.fashion_dir() == folder and mnist.fashion_available()
    assert mnist.load_fashion().x_test.shape == (4, 28, 28)
    monkeypatch.setenv(mnist.FASHION_ENV, str(tmp_path / "nowhere"))
    assert not mnist.fashion_available()
