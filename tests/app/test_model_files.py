"""Hostile model files: claimed-huge configs, zip bombs, truncated files, wrong dtypes,
NaN weights, wrong shapes.  The list and predictions stay 200 or a clear 4xx, memory
stays bounded, a bad file is logged once and not read again until it changes."""

from __future__ import annotations

import io
import json
import logging
import os
import tracemalloc
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.lib import format as npy

from app.digits.store import ModelStore
from nn_core.model import FORMAT, FORMAT_VERSION, Network
from tests.app.test_reliability import Server, start_server

GOOD_SIZES = [784, 8, 10]


def header(sizes: list[int]) -> np.ndarray:
    net = Network(GOOD_SIZES, activation="relu", output_activation="softmax")
    config = {**net.config(), "sizes": sizes}
    return np.array(json.dumps({"format": FORMAT, "version": FORMAT_VERSION, "config": config}))


def arrays(sizes: list[int], dtype: Any = np.float32) -> dict[str, np.ndarray]:
    out = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        out[f"w{i}"], out[f"b{i}"] = np.zeros((a, b), dtype), np.zeros(b, dtype)
    return out


def npz(**members: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **members)  # type: ignore[arg-type]
    return buf.getvalue()


def claimed_huge() -> bytes:
    """698 bytes whose config claims [784, 100000, 100000, 10]: 74.5 GiB of weights."""
    return npz(header=header([784, 100_000, 100_000, 10]), **arrays(GOOD_SIZES))


def costly() -> bytes:
    """A small file (zeros compress well) that holds 63 MB of real weights, beyond the
    digits page's networks: loading it as it is would cost over 120 MB."""
    sizes = [784, 20_000, 10]
    return npz(header=header(sizes), **arrays(sizes))


def zip_bomb() -> bytes:
    """A complete, correct model whose first weight member inflates to 100 MB: the array
    it declares, then zeros."""
    members = {"header": header(GOOD_SIZES), **arrays(GOOD_SIZES)}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, arr in members.items():
            one = io.BytesIO()
            npy.write_array(one, arr)
            data = one.getvalue()
            if name == "w0":
                with zf.open("w0.npy", "w", force_zip64=True) as out:
                    out.write(data)
                    zero = bytes(1 << 20)
                    for _ in range(100):
                        out.write(zero)
            else:
                zf.writestr(f"{name}.npy", data)
    return buf.getvalue()


def truncated() -> bytes:
    good = npz(header=header(GOOD_SIZES), **arrays(GOOD_SIZES))
    return good[: len(good) // 2]


def wrong_dtype() -> bytes:
    return npz(header=header(GOOD_SIZES), **arrays(GOOD_SIZES, np.int64))


def nan_weights() -> bytes:
    members = arrays(GOOD_SIZES)
    members["w0"][3, 3] = np.nan
    return npz(header=header(GOOD_SIZES), **members)


def wrong_shape() -> bytes:
    members = arrays(GOOD_SIZES)
    members["w0"] = members["w0"].T.copy()
    return npz(header=header(GOOD_SIZES), **members)


def claimed_huge_array() -> bytes:
    """The config is fine; the first weight's .npy header claims 784 x 10^9 floats."""
    good = npz(header=header(GOOD_SIZES), **arrays(GOOD_SIZES))
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "w0.npy":
                head = npy.header_data_from_array_1_0(np.zeros((1, 1), np.float32))
                head["shape"] = (784, 10**9)
                one = io.BytesIO()
                npy.write_array_header_1_0(one, head)
                data = one.getvalue() + bytes(4096)
            dst.writestr(info.filename, data)
    return buf.getvalue()


def rewritten(extra: int = 0, compression: int | None = None) -> bytes:
    """A correct model written again: with ``extra`` more members, or every member
    compressed by ``compression`` (bzip2 and lzma inflate a whole chunk at once)."""
    good = npz(header=header(GOOD_SIZES), **arrays(GOOD_SIZES))
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info), compression or info.compress_type)
        for i in range(extra):
            dst.writestr(f"x{i}.npy", b"")
    return buf.getvalue()


HOSTILE: dict[str, Callable[[], bytes]] = {
    "many-members": lambda: rewritten(extra=5000),
    "lzma": lambda: rewritten(compression=zipfile.ZIP_LZMA),
    "claimed-huge": claimed_huge,
    "costly": costly,
    "zip-bomb": zip_bomb,
    "truncated": truncated,
    "wrong-dtype": wrong_dtype,
    "nan-weights": nan_weights,
    "wrong-shape": wrong_shape,
    "huge-array": claimed_huge_array,
}


@pytest.fixture(scope="module")
def hostile_files() -> dict[str, bytes]:
    return {name: make() for name, make in HOSTILE.items()}


def test_hostile_files_cost_little_memory_and_are_left_out(
    tmp_path: Path, hostile_files: dict[str, bytes]
) -> None:
    # the files are what they claim to be
    assert len(hostile_files["claimed-huge"]) < 2000
    assert len(hostile_files["zip-bomb"]) < 1_000_000
    with zipfile.ZipFile(io.BytesIO(hostile_files["zip-bomb"])) as zf:
        assert zf.getinfo("w0.npy").file_size > 100_000_000
    models = tmp_path / "models"
    models.mkdir()
    for name, data in hostile_files.items():
        (models / f"{name}.npz").write_bytes(data)
    store = ModelStore(tmp_path)
    tracemalloc.start()
    try:
        listed = [m["name"] for m in store.list()]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert listed == ["mnist-mlp"]  # every hostile file is left out; the shipped one stays
    assert peak < 30_000_000, f"listing hostile files took {peak / 1e6:.0f} MB"


def test_a_bad_file_is_logged_once_and_not_read_again_until_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    bad = models / "bad.npz"
    bad.write_bytes(nan_weights())
    store = ModelStore(tmp_path)
    reads: list[str] = []
    real = Network.load_with_metadata.__func__  # type: ignore[attr-defined]

    def counted(cls: type[Network], path: Any, **kw: Any) -> Any:
        reads.append(Path(path).stem)
        return real(cls, path, **kw)

    monkeypatch.setattr(Network, "load_with_metadata", classmethod(counted))
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            assert "bad" not in [m["name"] for m in store.list()]
    assert reads.count("bad") == 1
    logged = [r for r in caplog.records if "bad.npz" in r.getMessage()]
    assert len(logged) == 1 and "NaN" in logged[0].getMessage()
    bad.write_bytes(wrong_shape())  # a new file: a new verdict
    os.utime(bad, ns=(1, 1))
    assert "bad" not in [m["name"] for m in store.list()]
    assert reads.count("bad") == 2


def peak_rss_mb(server: Server) -> float:
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_a_server_with_hostile_files_answers_and_stays_small(
    tmp_path: Path, hostile_files: dict[str, bytes]
) -> None:
    server = start_server(tmp_path)
    try:
        assert server.get("/api/models")["models"][0]["name"] == "mnist-mlp"
        before = peak_rss_mb(server)
        models = tmp_path / "models"
        models.mkdir(exist_ok=True)
        for name, data in hostile_files.items():
            (models / f"{name}.npz").write_bytes(data)
        for _ in range(2):
            assert [m["name"] for m in server.get("/api/models")["models"]] == ["mnist-mlp"]
        for name in hostile_files:
            req = urllib.request.Request(
                server.url + "/api/predict",
                json.dumps({"pixels": [0.0] * 784, "model": name}).encode(),
                {"content-type": "application/json"},
            )
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(req, timeout=10)
            assert err.value.code == 422, name
            detail = json.loads(err.value.read())["detail"]
            assert detail["field"] == "model" and name in detail["message"]
        grown = peak_rss_mb(server) - before
        assert grown < 100, f"the server's peak memory grew by {grown:.0f} MB"
    finally:
        server.proc.terminate()
        server.proc.wait(10)
    log = (tmp_path / "server.log").read_text()
    for name in hostile_files:
        assert log.count(f"{name}.npz is left out") == 1, name
