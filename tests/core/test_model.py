from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nn_core import ModelFileError, Network, Trainer
from nn_core.optimizers import SGD


def test_shapes_follow_rows_are_samples() -> None:
    net = Network(
        [2, 4, 3, 1],
        activation="tanh",
        output_activation="sigmoid",
        loss="bce",
        init="xavier",
        seed=0,
        dtype="float64",
    )
    assert [w.shape for w in net.weights] == [(2, 4), (4, 3), (3, 1)]
    assert [b.shape for b in net.biases] == [(4,), (3,), (1,)]
    out = net.forward(np.zeros((5, 2)))
    assert out.shape == (5, 1)
    assert np.all((out > 0) & (out < 1))


def test_activation_list_sets_one_per_hidden_layer() -> None:
    net = Network([2, 3, 3, 1], activation=["relu", "tanh"])
    assert [type(layer.activation).__name__ for layer in net.layers] == ["Relu", "Tanh", "Sigmoid"]
    with pytest.raises(ValueError, match="one per hidden layer"):
        Network([2, 3, 3, 1], activation=["relu"])


def test_bad_names_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="hidden activation"):
        Network([2, 1], activation="swish")
    with pytest.raises(ValueError, match="needs output activation sigmoid"):
        Network([2, 1], output_activation="linear", loss="bce")
    with pytest.raises(ValueError, match="init"):
        Network([2, 1], init="zeros")


def test_same_seed_gives_bit_identical_losses() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 2)), rng.integers(0, 2, (64, 1)).astype(float)

    def run() -> list[float]:
        net = Network([2, 8, 1], activation="relu", seed=7)
        tr = Trainer(net, SGD(0.1), x, y, batch_size=8, seed=3)
        return [r.train_loss for r in tr.fit(5)]

    assert run() == run()
    other = Network([2, 8, 1], activation="relu", seed=8)
    assert not np.array_equal(other.weights[0], Network([2, 8, 1], seed=7).weights[0])


def test_float32_is_the_default_and_float64_on_request() -> None:
    assert Network([2, 1]).weights[0].dtype == np.float32
    assert Network([2, 1], dtype="float64").weights[0].dtype == np.float64


def test_normal_init_uses_the_tutorials_scale() -> None:
    net = Network([784, 300, 10], init="normal", seed=0, dtype="float64")
    assert net.weights[0].std() == pytest.approx(0.01, rel=0.02)


def test_dropout_only_acts_in_training() -> None:
    net = Network([4, 50, 1], activation="relu", dropout=0.5, seed=0)
    x = np.ones((3, 4))
    np.testing.assert_array_equal(net.forward(x), net.forward(x))
    rng = np.random.default_rng(0)
    net.backprop(x, np.ones((3, 1)), train=True, rng=rng)
    g1 = net.gradients()[0].copy()
    net.backprop(x, np.ones((3, 1)), train=True, rng=rng)
    assert not np.array_equal(g1, net.gradients()[0])


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    net = Network([3, 5, 2], activation="leaky_relu", output_activation="softmax", seed=4)
    path = tmp_path / "m.npz"
    net.save(path, metadata={"accuracy": 0.5})
    loaded, meta = Network.load_with_metadata(path)
    assert meta == {"accuracy": 0.5}
    assert loaded.config() == net.config()
    x = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_array_equal(loaded.forward(x), net.forward(x))


def test_load_rejects_pickles_and_foreign_files(tmp_path: Path) -> None:
    pickled = tmp_path / "p.npz"
    np.savez(pickled, header=np.array([{"format": "x"}], dtype=object))
    with pytest.raises(ModelFileError, match="not a readable model file"):
        Network.load(pickled)
    foreign = tmp_path / "f.npz"
    np.savez(foreign, w0=np.zeros((2, 2)))
    with pytest.raises(ModelFileError, match="no header"):
        Network.load(foreign)
    text = tmp_path / "t.npz"
    text.write_text("hello")
    with pytest.raises(ModelFileError):
        Network.load(text)


def test_load_rejects_truncated_and_mismatched_files(tmp_path: Path) -> None:
    net = Network([3, 2, 1], seed=0)
    good = tmp_path / "g.npz"
    net.save(good)
    truncated = tmp_path / "cut.npz"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ModelFileError):
        Network.load(truncated)
    # swap in a weight of the wrong shape
    buf = io.BytesIO()
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(buf, "w") as zout:
        for item in zin.namelist():
            if item == "w0.npy":
                inner = io.BytesIO()
                np.save(inner, np.zeros((9, 9), np.float32))
                zout.writestr(item, inner.getvalue())
            else:
                zout.writestr(item, zin.read(item))
    bad = tmp_path / "bad.npz"
    bad.write_bytes(buf.getvalue())
    with pytest.raises(ModelFileError, match="w0"):
        Network.load(bad)


def test_interrupted_save_leaves_the_previous_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.npz"
    Network([2, 3, 1], seed=1).save(path)
    before = path.read_bytes()

    def crash(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("nn_core.model.os.replace", crash)
    with pytest.raises(OSError, match="disk full"):
        Network([2, 3, 1], seed=2).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
