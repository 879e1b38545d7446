"""The shipped model reaches what the README promises on the bundled held-out digits."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.digits.store import DEFAULT_MODEL, SHIPPED_DIR
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


def test_the_same_digit_drawn_any_size_or_pen_gets_the_same_label() -> None:
    from nn_core.images import normalize_image, strokes_to_mnist
    from tests.core.test_images import FOUR, SEVEN, _draw

    net = Network.load(SHIPPED_DIR / f"{DEFAULT_MODEL}.npz")
    for strokes, label in ((SEVEN, 7), (FOUR, 4)):
        inputs = [
            strokes_to_mnist(strokes),
            strokes_to_mnist([[[x * 0.1 + 900, y * 0.1 + 5] for x, y in s] for s in strokes]),
            normalize_image(_draw(strokes, 400, 3.0, (30, 40), pen=3)),  # thin pen, big
            normalize_image(_draw(strokes, 400, 3.0, (30, 40), pen=30)),  # thick pen
            normalize_image(_draw(strokes, 400, 0.5, (300, 20), pen=4)),  # tiny, in a corner
        ]
        labels = net.predict(np.stack([i.ravel() for i in inputs]))
        assert labels.tolist() == [label] * len(inputs)


def test_train_mnist_reports_progress_with_a_progress_bar(tmp_path: Path) -> None:
    import io

    from app.digits.recipe import train_shipped_model

    out = io.StringIO()
    accuracy = train_shipped_model(1, 0, str(tmp_path / "m.npz"), augment=False, stream=out)
    text = out.getvalue()
    assert "epoch 1/1" in text and "held-out accuracy" in text and "━" in text
    assert "\r[" not in text  # rich draws the bar, not hand-written carriage returns
    assert 0.8 < accuracy <= 1.0 and (tmp_path / "m.npz").exists()
