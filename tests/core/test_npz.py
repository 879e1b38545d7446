"""The bounded .npz reader: sizes are checked before anything is inflated or allocated."""

from __future__ import annotations

import io
import json
import tracemalloc
import zipfile

import numpy as np
import pytest

from nn_core.model import FORMAT, FORMAT_VERSION, ModelFileError, Network
from nn_core.npz import NpzError, NpzReader


def npz(**members: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **members)  # type: ignore[arg-type]
    return buf.getvalue()


def test_arrays_read_back_as_they_were_written() -> None:
    w = np.arange(12, dtype=np.float32).reshape(3, 4)
    with NpzReader(npz(w=w, t=np.array("text")), max_member_bytes=1000) as reader:
        assert sorted(reader.names) == ["t", "w"]
        assert reader.shape("w") == ((3, 4), "f") and reader.shape("missing") is None
        np.testing.assert_array_equal(reader.array("w"), w)
        assert str(reader.array("t")) == "text"


def test_a_member_over_the_bound_is_refused_without_inflating_it() -> None:
    data = npz(big=np.zeros(50_000_000, np.uint8))  # 50 MB of zeros in about 50 kB
    assert len(data) < 200_000
    tracemalloc.start()
    try:
        with (
            NpzReader(data, max_member_bytes=1_000_000) as reader,
            pytest.raises(NpzError, match="would inflate to 50,000,128 bytes"),
        ):
            reader.array("big")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000


def test_object_arrays_lzma_members_and_long_directories_are_refused() -> None:
    buf = io.BytesIO()
    np.savez(buf, p=np.array([{"evil": 1}], dtype=object))
    with NpzReader(buf.getvalue(), max_member_bytes=10_000) as r, pytest.raises(NpzError):
        r.array("p")
    lz = io.BytesIO()
    with zipfile.ZipFile(lz, "w", zipfile.ZIP_LZMA) as zf:
        one = io.BytesIO()
        np.save(one, np.zeros(3))
        zf.writestr("a.npy", one.getvalue())
    with (
        NpzReader(lz.getvalue(), max_member_bytes=10_000) as reader,
        pytest.raises(NpzError, match="compressed in a way"),
    ):
        reader.array("a")
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(100):
            zf.writestr(f"m{i}.npy", b"")
    with pytest.raises(NpzError, match="lists 100 members"):
        NpzReader(many.getvalue(), max_member_bytes=10_000)
    with pytest.raises(NpzError, match="truncated"):
        NpzReader(npz(a=np.zeros(3))[:40], max_member_bytes=10_000)


def test_a_model_whose_config_claims_a_huge_network_is_refused_before_it_is_built() -> None:
    net = Network([784, 8, 10])
    header = {"format": FORMAT, "version": FORMAT_VERSION}
    header["config"] = {**net.config(), "sizes": [784, 100_000, 100_000, 10]}
    arrays = {f"w{i}": w for i, w in enumerate(net.weights)}
    arrays |= {f"b{i}": b for i, b in enumerate(net.biases)}
    data = npz(header=np.array(json.dumps(header)), **arrays)
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match="w0 is missing or wrongly shaped"):
            Network.load(io.BytesIO(data))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Building even the first layer (784 × 100,000 float32) would take 313 MB, the whole
    # network 74.5 GiB. tracemalloc counts the whole process, so other threads' allocations
    # in the test worker may add some megabytes: the bound sits well under one layer.
    assert peak < 100_000_000
    refused: list[object] = []

    def check(config: dict[str, object]) -> None:
        refused.append(config["sizes"])
        raise ValueError("too big for this page")

    with pytest.raises(ModelFileError, match="too big for this page"):
        Network.load_with_metadata(io.BytesIO(data), check=check)
    assert refused == [[784, 100_000, 100_000, 10]]
