"""The trace in real Chromium: its epoch, Refresh while training, the biases' numbers, an
update's digits and the keyboard, each checked against the server's trace message."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.browser.test_backprop_page import NUMBER, ready, value

pytestmark = pytest.mark.browser


def listen_traces(page: Any) -> list[dict[str, Any]]:
    """Every trace message the page receives, as the server sent it."""
    traces: list[dict[str, Any]] = []

    def socket(ws: Any) -> None:
        def got(payload: Any) -> None:
            if isinstance(payload, str) and payload.startswith('{"type":"trace"'):
                traces.append(json.loads(payload))

        ws.on("framereceived", got)

    page.on("websocket", socket)
    return traces


def step_to(page: Any, epochs: int) -> None:
    for _ in range(epochs):
        page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function(f"() => document.getElementById('epoch').textContent === '{epochs}'")


def trace(page: Any, traces: list[dict[str, Any]]) -> dict[str, Any]:
    seen = len(traces)
    page.get_by_role("button", name="Trace a point").click()
    page.wait_for_function("() => document.getElementById('trace-status').textContent")
    for _ in range(100):  # the socket's event reaches Python a moment after the page
        if len(traces) > seen:
            return traces[-1]
        page.wait_for_timeout(50)
    raise AssertionError("no trace message")


def go_to(page: Any, step: str) -> None:
    """Press Next step until the status names ``step``."""
    for _ in range(12):
        if page.locator("#trace-status").inner_text().endswith(step):
            return
        page.get_by_role("button", name="Next step").click()
    raise AssertionError(f"no step {step}")


def test_the_trace_names_its_epoch_and_refreshes_while_training(
    page: Any, live_server: str
) -> None:
    traces = listen_traces(page)
    ready(page, live_server, "#dataset=circle&seed=2")
    step_to(page, 3)
    t = trace(page, traces)
    assert t["epoch"] == 3
    assert page.locator(".trace-epoch").inner_text() == "traced at epoch 3"
    refresh = page.get_by_role("button", name="Refresh")
    assert refresh.is_hidden()  # paused at the traced epoch: nothing to refresh
    go_to(page, "loss")
    page.get_by_role("button", name="Play").click()
    refresh.wait_for(state="visible")
    page.wait_for_function("() => Number(document.getElementById('epoch').textContent) > 10")
    refresh.click()
    page.wait_for_function("() => !/ 3$/.test(document.querySelector('.trace-epoch').textContent)")
    again = traces[-1]
    assert again["epoch"] > 3 and again["index"] == t["index"]
    assert page.locator(".trace-epoch").inner_text() == f"traced at epoch {again['epoch']}"
    assert page.locator("#trace-status").inner_text().endswith("loss")  # the same step
    page.get_by_role("button", name="Pause").click()


def test_bias_gradients_and_updates_come_with_their_numbers(page: Any, live_server: str) -> None:
    traces = listen_traces(page)
    # a tiny learning rate: every update is millionths
    ready(page, live_server, "#dataset=circle&seed=2&learning_rate=0.00001")
    step_to(page, 2)
    t = trace(page, traces)
    out = t["layers"][-1]
    go_to(page, "backward, layer 3")
    grads = page.locator("#trace-body .grad-b").all_inner_texts()
    assert value(grads[0]) == pytest.approx(out["grad_b"][0], rel=1e-3)
    go_to(page, "update")
    body = page.locator("#trace-body")
    for cls, before, after in (
        ("step-b", out["biases"][0], out["new_biases"][0]),
        ("step-w", out["weights"][0][0], out["new_weights"][0][0]),
    ):
        text = body.locator(f".{cls}").first.inner_text().replace(" ", "")
        nums = re.findall(NUMBER, text.split(":", 1)[1])
        shown_before, shown_after, change = nums[0], nums[-2], nums[-1]
        assert abs(after - before) < 1e-4  # the case of the issue: an update of millionths
        assert shown_before != shown_after  # enough digits to see the step
        # four significant digits at least: within half a unit of the fourth
        assert value(shown_before) == pytest.approx(before, rel=5e-4)
        assert value(shown_after) == pytest.approx(after, rel=5e-4)
        assert (value(shown_after) - value(shown_before)) * (after - before) > 0
        assert value(change) == pytest.approx(after - before, rel=1e-3)
        assert "0.000" not in change


def test_focus_stays_in_the_trace_at_its_last_step(page: Any, live_server: str) -> None:
    traces = listen_traces(page)
    ready(page, live_server, "#dataset=circle&seed=2")
    step_to(page, 1)
    trace(page, traces)
    nxt = page.get_by_role("button", name="Next step")
    nxt.focus()
    for _ in range(10):  # more presses than steps
        page.keyboard.press("Enter")
    assert page.locator("#trace-status").inner_text() == "Step 8 of 8: update"
    # the last step: Next is disabled for a screen reader and does nothing, but holds focus
    assert nxt.evaluate("el => el === document.activeElement") and nxt.is_disabled()
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Previous step"
    page.keyboard.press("Enter")
    assert page.locator("#trace-status").inner_text() == "Step 7 of 8: backward, layer 1"
