"""Pin run in real Chromium: the table compares the pinned runs with the run as it is now."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_backprop_page import ready

pytestmark = pytest.mark.browser

NOW = "#pins tr.now-row"


def cells(page: Any, row: str) -> list[str]:
    """A table row's cells, the row's name first."""
    return [c.strip() for c in page.locator(f"{row} > *").all_inner_texts()]


def play_until_done(page: Any, epochs: int) -> None:
    """Play until the run stops at ``epochs`` (its Stop after), waiting in two halves: a
    busy machine trains a few hundred epochs in tens of seconds."""
    page.get_by_role("button", name="Play").click()
    for part in (epochs // 2, epochs):
        page.wait_for_function(
            f"() => Number(document.getElementById('epoch').textContent) >= {part}",
            timeout=30000,
        )
    page.wait_for_function("() => document.getElementById('play').ariaLabel === 'Play'")


def test_the_now_row_and_the_differing_settings_follow_the_current_run(
    page: Any, live_server: str
) -> None:
    # the steps: preset "He vs Xavier", Stop after 300, Play, Pin run, then
    # Initialization -> He and Play to 300
    ready(page, live_server)
    page.get_by_label("Preset").select_option("he_vs_xavier")
    page.wait_for_function("() => location.hash.includes('init=xavier')")
    stop = page.get_by_label("Stop after", exact=True)
    stop.fill("300")
    stop.press("Enter")
    page.wait_for_function("() => location.hash.includes('max_epochs=300')")
    play_until_done(page, 300)
    page.get_by_role("button", name="Pin run", exact=True).click()
    table = page.locator("#pins")
    assert "the same settings" in table.locator("caption").inner_text()
    run1 = cells(page, "#pins tbody tr:first-child")
    assert run1[0] == "Run 1" and run1[1] == "300"
    page.get_by_label("Initialization", exact=True).select_option("he")
    # the new run's setup is the current one: the table says how the two differ
    page.wait_for_function(
        "() => !document.querySelector('#pins caption').textContent.includes('same settings')"
    )
    head = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    assert head[:2] == ["Run", "initialization"]
    assert cells(page, "#pins tbody tr:first-child")[1] == "xavier"
    assert cells(page, NOW)[:3] == ["Now", "he", "0"]  # a new run: no epochs yet
    play_until_done(page, 300)
    # the Now row shows the current run's latest figures, the read-outs' numbers
    page.wait_for_function(
        f"() => document.querySelector('{NOW} td.fig').textContent === '300'"
        f" && document.querySelectorAll('{NOW} td.fig')[2].textContent"
        " === document.getElementById('test-loss').textContent"
    )
    now = cells(page, NOW)
    assert now[3] == page.locator("#train-loss").inner_text()
    assert now[4] == page.locator("#test-loss").inner_text()
    # and they are the He run's, not the pinned Xavier run's
    assert now[3:5] != run1[2:4]
    assert cells(page, "#pins tbody tr:first-child")[:4] == ["Run 1", "xavier", *run1[1:3]]


def test_the_now_row_follows_each_epoch_and_a_live_setting(page: Any, live_server: str) -> None:
    ready(page, live_server, "#dataset=circle&seed=0")
    for _ in range(3):
        page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function("() => document.getElementById('epoch').textContent === '3'")
    page.get_by_role("button", name="Pin run", exact=True).click()
    rate = page.get_by_label("Learning rate", exact=True)
    rate.fill("0.3")
    rate.press("Enter")
    # a live setting: the run goes on, and the column appears at once
    page.wait_for_function(
        "() => document.querySelector('#pins thead').textContent.includes('learning rate')"
    )
    assert cells(page, NOW)[:3] == ["Now", "0.3", "3"]
    page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function(f"() => document.querySelector('{NOW} td.fig').textContent === '4'")
    assert cells(page, NOW)[4] == page.locator("#test-loss").inner_text()
    assert cells(page, "#pins tbody tr:first-child")[2] == "3"
    # while the run plays, the Now row follows it under a focused Unpin button
    unpin = page.get_by_role("button", name="Unpin run 1")
    page.get_by_role("button", name="Play").click()
    unpin.focus()
    page.wait_for_function(f"() => Number(document.querySelector('{NOW} td.fig').textContent) > 20")
    assert unpin.evaluate("el => el === document.activeElement")
    unpin.press("Enter")
    assert page.locator("#pins").is_hidden()
    assert page.evaluate("() => document.activeElement.id") == "pin-run"
