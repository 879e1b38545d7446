"""The shipped model reaches what the README promises on the bundled held-out digits."""

from __future__ import annotations

from app.models import DEFAULT_MODEL, SHIPPED_DIR
from nn_core import Network
from nn_core.metrics import accuracy
from nn_core.mnist import as_inputs, load_bundled


def test_shipped_model_reaches_98_percent_held_out() -> None:
    net, meta = Network.load_with_metadata(SHIPPED_DIR / f"{DEFAULT_MODEL}.npz")
    d = load_bundled()
    acc = accuracy(net.predict(as_inputs(d.x_test)), d.y_test.astype(int))
    assert acc >= 0.98
    assert meta["accuracy"] == acc  # the recorded figure is the real one
    assert net.sizes == [784, 256, 128, 10] and "train-mnist" in meta["recipe"]
