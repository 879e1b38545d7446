"""A parameter's card in real Chromium: an edit while paused updates the read-outs, the
card sits beside its neuron, and the keyboard meets the features before the weights."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser.test_backprop_page import ready

pytestmark = pytest.mark.browser

SIZES = [(1366, 768), (1920, 1080), (390, 844)]


def step_to(page: Any, epochs: int) -> None:
    for _ in range(epochs):
        page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function(
        f"() => document.getElementById('epoch').textContent === '{epochs}'"
        " && document.getElementById('loss-curve').data"
        f".find(t => t.name === 'Test loss').y.length === {epochs}"
    )


def test_an_edit_while_paused_updates_the_readouts_and_the_curves_last_point(
    page: Any, live_server: str
) -> None:
    edited: list[dict[str, Any]] = []

    def listen(ws: Any) -> None:
        def got(payload: Any) -> None:
            if isinstance(payload, str) and '"edited":true' in payload:
                edited.append(json.loads(payload))

        ws.on("framereceived", got)

    page.on("websocket", listen)
    ready(page, live_server, "#dataset=circle&seed=4")
    step_to(page, 5)
    old = page.locator("#test-loss").inner_text()
    page.get_by_role("button", name="output neuron").click()
    card = page.get_by_role("dialog", name="Bias of output")
    card.get_by_role("button", name="Verify").click()
    page.wait_for_function(
        "() => document.querySelector('.verify-out .matches, .verify-out .differs')"
    )
    card.get_by_label("New value").fill("5")
    card.get_by_role("button", name="Set").click()
    page.wait_for_function(f"() => document.getElementById('test-loss').textContent !== '{old}'")
    page.wait_for_function(
        "() => document.querySelector('.param-card dd')?.textContent === '5.0000'"
    )
    # the read-outs show the server's figures for the edited network, at the same epoch
    page.wait_for_function("() => document.querySelector('.verify-out .verify-stale')")
    assert len(edited) == 1 and edited[0]["epochs"] == [5]
    msg = edited[0]
    assert page.locator("#epoch").inner_text() == "5"
    assert page.locator("#test-loss").inner_text() == f"{msg['test_loss'][0]:.3f}"
    assert page.locator("#train-loss").inner_text() == f"{msg['train_loss'][0]:.3f}"
    assert page.locator("#accuracy").inner_text() == f"{100 * msg['accuracy'][0]:.1f}%"
    # the curve's point at epoch 5 was replaced, no epoch was added
    page.wait_for_function(
        "() => { const t = document.getElementById('loss-curve').data"
        ".find(t => t.name === 'Test loss'); return t.y.at(-1) === "
        f"{msg['test_loss'][0]}; }}"
    )
    curve = page.evaluate(
        "() => document.getElementById('loss-curve').data.find(t => t.name === 'Test loss')"
    )
    assert curve["x"] == [1, 2, 3, 4, 5]
    # the Verify result from before the edit is gone: it said nothing of the new value
    out = card.locator(".verify-out")
    assert out.locator(".matches, .differs").count() == 0
    assert "press Verify" in out.inner_text()


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_a_neurons_card_never_covers_the_neuron(
    page: Any, live_server: str, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    ready(page, live_server, "#dataset=circle&hidden_layers=4,2&seed=1")
    for name in ("output neuron", "neuron h1.1", "neuron h2.2"):
        neuron = page.get_by_role("button", name=name, exact=True)
        neuron.scroll_into_view_if_needed()
        neuron.click()
        card = page.locator(".param-card")
        assert card.is_visible()
        a, b = card.bounding_box(), neuron.bounding_box()
        assert not overlap(a, b), (name, a, b)
        # and it stays on the page, beside its diagram
        assert a["x"] >= 0 and a["x"] + a["width"] <= width, (name, a)
        page.keyboard.press("Escape")


def test_tab_meets_the_feature_switches_before_the_weights(page: Any, live_server: str) -> None:
    ready(page, live_server, "#dataset=circle&seed=1")
    page.get_by_role("button", name="Remove hidden layer").focus()
    names = []
    for _ in range(30):
        page.keyboard.press("Tab")
        names.append(page.evaluate("() => document.activeElement.getAttribute('aria-label')"))
        if page.evaluate(
            "() => !document.getElementById('network').contains(document.activeElement)"
        ):
            break
    features = [k for k, n in enumerate(names) if n and n.startswith("Feature ")]
    weights = [k for k, n in enumerate(names) if n and n.startswith("weight from")]
    assert len(features) == 7 and weights, names
    assert max(features) < min(weights), names
    assert features == list(range(7))  # the features are the diagram's first stops
