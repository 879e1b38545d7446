"""The digits page in real Chromium: draw with the mouse, read the prediction, train a model."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pytest

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

# Digits as pen strokes in a 336 x 336 canvas, drawn the way a person would.
DIGITS = {
    "1": [[(170, 60), (172, 170), (170, 280)]],
    "7": [[(90, 70), (250, 70), (200, 160), (150, 280)]],
    "3": [
        [
            (110, 70),
            (170, 55),
            (220, 80),
            (200, 140),
            (150, 165),
            (210, 190),
            (225, 250),
            (170, 285),
            (105, 265),
        ]
    ],
    "0": [
        [
            (168, 60),
            (110, 90),
            (95, 170),
            (115, 250),
            (168, 285),
            (220, 250),
            (240, 170),
            (222, 90),
            (168, 60),
        ]
    ],
}


def draw(
    page: Any,
    strokes: list[list[tuple[int, int]]],
    scale: float = 1.0,
    offset: tuple[int, int] = (0, 0),
) -> None:
    canvas = page.get_by_label("Digit canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    for stroke in strokes:
        pts = [
            (box["x"] + offset[0] + x * scale, box["y"] + offset[1] + y * scale) for x, y in stroke
        ]
        page.mouse.move(*pts[0])
        page.mouse.down()
        for p in pts[1:]:
            page.mouse.move(*p, steps=8)
        page.mouse.up()


#: True once the answer on screen is the whole drawing's: the page keeps on the canvas how
#: many pen points it has, and on the prediction how many the answer shown was for (the
#: answers to the drawing's first strokes come first, and may be another digit).
WHOLE_DRAWING = (
    "() => { const p = document.getElementById('prediction'); return p.textContent !== '' &&"
    " p.dataset.points === document.getElementById('digit-canvas').dataset.points; }"
)


def prediction(page: Any) -> str:
    """The prediction shown for the whole drawing, once it is there."""
    page.wait_for_function(WHOLE_DRAWING, timeout=20000)
    return str(page.get_by_role("status", name="Prediction").inner_text())


@pytest.mark.parametrize("digit", list(DIGITS))
def test_drawn_digits_are_recognised(page: Any, live_server: str, digit: str) -> None:
    page.goto(live_server + "/digits")
    draw(page, DIGITS[digit])
    assert prediction(page) == digit
    assert page.get_by_label("Probabilities").is_visible()


def test_small_off_centre_digits_are_recognised(page: Any, live_server: str) -> None:
    page.goto(live_server + "/digits")
    draw(page, DIGITS["7"], scale=0.3, offset=(10, 200))  # tiny, in the bottom-left corner
    assert prediction(page) == "7"
    screenshot(page, "digits")


def test_clear_and_undo(page: Any, live_server: str) -> None:
    page.goto(live_server + "/digits")
    draw(page, DIGITS["1"])
    assert prediction(page) == "1"
    draw(page, [[(90, 70), (250, 70)]])  # a top bar turns the 1 into a 7
    prediction(page)
    page.get_by_role("button", name="Undo").click()
    assert prediction(page) == "1"
    page.get_by_role("button", name="Clear").click()
    assert page.get_by_role("status", name="Prediction").inner_text() == ""


def test_train_save_and_use_a_model_from_the_page(page: Any, live_server: str) -> None:
    page.goto(live_server + "/digits")
    page.get_by_label("Architecture").select_option("mlp_256_128")
    page.get_by_label("Epochs").fill("3")
    page.get_by_role("button", name="Train").click()
    page.wait_for_function(
        "() => document.getElementById('train-status').textContent.includes('done')", timeout=60000
    )
    curve_points = page.evaluate("() => document.getElementById('mnist-curve').data[0].x.length")
    assert curve_points == 3
    assert page.locator("#gallery canvas").count() > 0
    mistake = page.locator("#gallery figure").first
    mistake.click()  # a mistake shows what the network thought of it
    shown = page.locator("#mistake").inner_text()
    assert "read as" in shown and "(the truth)" in shown or "true" in shown
    page.get_by_label("Save as").fill("tiny-ten")
    page.get_by_role("button", name="Save model").click()
    page.wait_for_function(
        "() => document.getElementById('train-status').textContent.startsWith('Saved')"
        " || document.getElementById('train-error').textContent",
        timeout=10000,
    )
    assert page.locator("#train-error").inner_text() == ""
    page.wait_for_function(
        "() => document.getElementById('model').value === 'tiny-ten'", timeout=10000
    )
    draw(page, DIGITS["1"])
    assert prediction(page) == "1"
    models = page.evaluate("() => fetch('/api/models').then(r => r.json())")
    tiny = next(m for m in models["models"] if m["name"] == "tiny-ten")
    assert tiny["architecture"] == [784, 256, 128, 10] and tiny["accuracy"] > 0.9
    # saving over it again asks first; declining keeps the model
    page.once("dialog", lambda d: d.dismiss())
    page.get_by_role("button", name="Save model").click()
    page.wait_for_function(
        "() => document.getElementById('train-status').textContent.startsWith('Not saved')"
    )


SCRIBBLE = [[(80, 80), (260, 260)], [(260, 80), (80, 260)]]  # an X


def test_a_scribble_may_not_be_a_digit(page: Any, live_server: str) -> None:
    """No big digit and "% sure" for what may not be a digit: a "?", the warning first,
    then the best guess in words; a real digit afterwards is shown as sure again."""
    page.goto(live_server + "/digits")
    draw(page, SCRIBBLE)
    assert prediction(page) == "?"
    note, confidence = page.locator("#not-digit"), page.locator("#confidence")
    assert note.inner_text().startswith("This may not be a digit: ")
    guess = confidence.inner_text()
    assert guess.startswith("It looks most like ") and "sure" not in guess, guess
    top = page.evaluate("() => Math.max(...document.getElementById('probabilities').data[0].y)")
    assert guess.endswith(f"({100 * top:.1f} %).")
    assert note.bounding_box()["y"] < confidence.bounding_box()["y"]  # the warning first
    page.get_by_role("button", name="Clear").click()
    draw(page, DIGITS["7"])
    assert prediction(page) == "7"
    assert note.inner_text() == ""
    assert confidence.inner_text().endswith(" % sure")


def test_full_batch_architectures_warn_that_an_epoch_is_one_update(
    page: Any, live_server: str
) -> None:
    page.goto(live_server + "/digits")
    page.get_by_label("Architecture").select_option("tutorial_10_10")
    assert "each epoch is one update" in page.locator("#full-batch-note").inner_text()
    page.get_by_label("Architecture").select_option("mlp_256_128")
    assert page.locator("#full-batch-note").inner_text() == ""


def test_saliency_map_and_model_download(page: Any, live_server: str) -> None:
    page.goto(live_server + "/digits")
    draw(page, DIGITS["7"])
    assert prediction(page) == "7"
    sal = page.get_by_role("img", name="Pixels that would raise / lower the 7")
    assert sal.is_visible()
    box = sal.bounding_box()
    assert box["width"] >= 160 and box["height"] >= 160, box  # large enough to read
    legend = page.get_by_role("group", name="Saliency colours")
    assert legend.is_visible()
    assert legend.inner_text().split() == ["lowers", "p(7)", "no", "effect", "raises", "p(7)"]
    # blue raises the 7 and orange lowers it; smoothed, so neighbours inside one input
    # pixel's square differ (drawn square by square they would be equal)
    colours = page.evaluate(
        """() => { const c = document.getElementById('saliency');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let up = 0, down = 0, pairs = 0, differ = 0;
            for (let i = 0; i < d.length; i += 4) {
              if (d[i + 2] > d[i] + 60) up++; if (d[i] > d[i + 2] + 60) down++;
              const x = (i / 4) % c.width;
              if ((x + 1) % (c.width / 28) !== 0) {
                pairs++;
                if (Math.abs(d[i] - d[i + 4]) + Math.abs(d[i + 2] - d[i + 6]) > 2) differ++; } }
            return [up, down, differ / pairs, c.width]; }"""
    )
    cells = (colours[3] / 28) ** 2
    assert colours[0] > 5 * cells and colours[1] > 5 * cells, colours
    assert colours[2] > 0.3, colours
    link = page.get_by_role("link", name="Download mnist-mlp")
    assert link.get_attribute("href") == "/api/models/mnist-mlp/download"
    with page.expect_download() as got:
        link.click()
    assert got.value.suggested_filename == "mnist-mlp.npz"


def test_a_slow_epoch_shows_how_far_it_is_and_what_an_epoch_costs(
    page: Any, live_server: str
) -> None:
    page.goto(live_server + "/digits")
    page.get_by_label("Architecture").select_option("mlp_256_128")
    page.get_by_label("Batch size").fill("1")  # 8,000 steps an epoch: seconds at least
    page.get_by_role("button", name="Train").click()
    page.wait_for_function(
        "() => document.getElementById('train-status').textContent.includes('batches')",
        timeout=20000,
    )
    status = page.locator("#train-status").inner_text()
    assert status.startswith("Epoch 1: ") and "of 8,000 batches); about " in status
    assert page.get_by_role("button", name="Pause").is_enabled()  # and it can be paused
    page.get_by_role("button", name="Pause").click()
    page.wait_for_function("() => document.getElementById('train-pause').textContent === 'Resume'")


def colours(byte: np.ndarray) -> np.ndarray:
    """The page's diverging scale (paint.js): byte 0 orange, 127.5 light grey, 255 blue."""
    orange, grey, blue = (
        np.array(c, float) for c in ((245, 147, 34), (244, 244, 244), (8, 119, 189))
    )
    t = byte.astype(float)[:, None] / 255
    low = orange + (grey - orange) * (t * 2)
    high = grey + (blue - grey) * ((t - 0.5) * 2)
    return np.where(t < 0.5, low, high)


#: The region's pictures as the page painted them: RGB of each canvas, and its caption.
PAINTED = """() => { const r = document.getElementById('first-layer-region');
  return {updates: Number(r.dataset.updates), caption: r.querySelector('p').textContent,
    pictures: [...r.querySelectorAll('canvas')].map(c => [...c.getContext('2d')
      .getImageData(0, 0, 28, 28).data].filter((_, i) => i % 4 !== 3))}; }"""


def painted(page: Any) -> dict[str, Any]:
    return dict(page.evaluate(PAINTED))


def test_first_layer_weights_of_the_chosen_model_and_of_a_run_as_it_trains(
    page: Any, live_server: str
) -> None:
    page.goto(live_server + "/digits")
    region = page.get_by_role("region", name="First-layer weights")
    pictures = region.get_by_role("img")
    page.wait_for_function("() => document.querySelectorAll('#first-layer canvas').length === 16")
    body = page.evaluate("() => fetch('/api/models/mnist-mlp/first-layer').then(r => r.json())")
    shown = painted(page)
    assert shown["caption"] == "Model mnist-mlp: the 16 of 256 units with the largest weights."
    server = np.frombuffer(base64.b64decode(body["pixels"]), np.uint8).reshape(16, 784)
    for k in (0, 15):  # each picture is the server's bytes on the page's colour scale
        got = np.array(shown["pictures"][k], float).reshape(784, 3)
        assert np.abs(got - colours(server[k])).max() <= 1.5
    assert pictures.first.get_attribute("aria-label").startswith(f"Unit {body['units'][0]}: ")

    page.get_by_label("Architecture").select_option("tutorial_10_10")
    page.get_by_label("Epochs").fill("1000")  # full batch: up to 1,000 epochs
    page.get_by_role("button", name="Train").click()
    page.wait_for_function(
        "() => document.getElementById('first-layer-caption').textContent"
        ".startsWith('Training 784-10-10, epoch ')",
        timeout=30000,
    )
    assert pictures.count() == 10
    first = painted(page)
    page.wait_for_function(  # redrawn as it trains: two more pictures of other weights
        f"() => Number(document.getElementById('first-layer-region').dataset.updates) >= "
        f"{first['updates'] + 2}",
        timeout=30000,
    )
    later = painted(page)
    assert later["caption"] != first["caption"] and later["pictures"] != first["pictures"]
    assert page.locator("#train-error").inner_text() == ""  # 1,000 epochs were accepted
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Resume").wait_for()
    page.select_option("#model", "mnist-mlp")  # the chosen model, again
    page.wait_for_function(
        "() => document.getElementById('first-layer-caption').textContent.startsWith('Model')"
    )
    assert pictures.count() == 16
