"""What a screen reader hears of the playground's charts: fixed names, live descriptions."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def ready(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => document.getElementById('boundary').data?.[0]?.z?.length > 1")


def description(page: Any, css: str) -> str:
    """The text of the elements the chart's aria-describedby names."""
    return str(
        page.eval_on_selector(
            css,
            "el => el.getAttribute('aria-describedby').split(' ')"
            ".map((id) => document.getElementById(id).textContent).join(' ').trim()",
        )
    )


def test_the_charts_keep_their_names_and_describe_the_latest_losses(
    page: Any, live_server: str
) -> None:
    ready(page, live_server + "/#dataset=circle&seed=3")
    boundary = page.get_by_role("region", name="Decision boundary", exact=True)
    curve = page.get_by_role("img", name="Loss curve", exact=True)
    expect(boundary).to_have_count(1)
    expect(curve).to_have_count(1)
    page.get_by_role("button", name="Play").click()
    seen: set[str] = set()
    start = time.monotonic()
    while time.monotonic() - start < 12:  # past two of the 5 s summaries
        # found by their names at every moment of the run
        expect(boundary).to_have_count(1, timeout=1000)
        expect(curve).to_have_count(1, timeout=1000)
        seen.add(description(page, "#boundary"))
        page.wait_for_timeout(500)
    assert len(seen) >= 3, seen  # the description follows the run
    page.get_by_role("button", name="Pause").click()
    # once paused, the description holds the figures the read-outs show (a progress still
    # on its way when Pause was pressed moves both: read them again then)
    for attempt in range(5):
        want = re.compile(
            rf"After {page.locator('#epoch').inner_text()} epochs: "
            rf"training loss {re.escape(page.locator('#train-loss').inner_text())}, "
            rf"test loss {re.escape(page.locator('#test-loss').inner_text())}, "
            rf"test accuracy {re.escape(page.locator('#accuracy').inner_text())}\."
        )
        try:
            expect(boundary).to_have_accessible_description(want, timeout=3000)
            expect(curve).to_have_accessible_description(want, timeout=3000)
            break
        except AssertionError:
            if attempt == 4:
                raise
    expect(boundary).to_have_accessible_name("Decision boundary")


def test_a_neuron_s_preview_is_described_not_renamed(page: Any, live_server: str) -> None:
    ready(page, live_server + "/#dataset=circle&seed=2")
    page.get_by_role("button", name="neuron h1.2").hover()
    page.wait_for_function("() => document.getElementById('boundary').dataset.preview === 'h1.2'")
    boundary = page.get_by_role("region", name="Decision boundary", exact=True)
    expect(boundary).to_have_count(1)
    expect(boundary).to_have_accessible_description(
        re.compile("Showing what h1.2 outputs over the plane")
    )
