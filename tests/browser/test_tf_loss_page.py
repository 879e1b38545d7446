"""The Loss menu's TensorFlow Playground loss, in real Chromium against the real server: the
figures it shows are on TF Playground's scale (0.5 at chance), as its tooltip says."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def first_loss(page: Any, choice: str, hash_value: str) -> float:
    """Choose ``choice`` in the Loss menu, take one step and read the training loss."""
    page.get_by_label("Loss", exact=True).select_option(label=choice)
    page.wait_for_function(f"() => location.hash.includes('loss={hash_value}')", timeout=30000)
    page.wait_for_function("() => document.getElementById('epoch').textContent === '0'")
    page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function("() => document.getElementById('epoch').textContent === '1'")
    return float(page.get_by_label("Training loss", exact=True).inner_text())


def test_tf_playground_s_loss_reads_a_half_at_chance_and_trains(
    page: Any, live_server: str
) -> None:
    page.goto(live_server + "/#dataset=circle&seed=3")
    page.wait_for_function("() => document.getElementById('boundary').data?.[0]?.z?.length > 1")
    ours = first_loss(page, "Squared error", "mse")
    tf = first_loss(page, "Squared error (TF Playground)", "tf_square")
    assert 0.2 < ours < 0.3 and 0.4 < tf < 0.6
    caption = page.locator("#loss-name").inner_text()
    assert caption == "½ squared error, ±1 targets (TF Playground)"
    tip = page.locator(".field:has(#loss)").get_attribute("title")
    assert "0.5 at chance" in tip and "0.25" in tip
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(
        "() => Number(document.getElementById('epoch').textContent) >= 150", timeout=30000
    )
    assert float(page.get_by_label("Training loss", exact=True).inner_text()) < 0.3
    assert float(page.get_by_label("Test accuracy", exact=True).inner_text().rstrip("%")) > 80
