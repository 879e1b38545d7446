"""A playground run outlives a reload, in real Chromium: the page offers the run it kept in
its own storage, restores it only when asked, forgets it on "Start fresh", and says so when
the server refuses it (the restart cases: test_resume_page.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser import test_resume_page
from tests.browser.test_resume_page import (
    CURVE,
    EPOCH,
    LINK,
    Restartable,
    curve_epochs,
    epoch,
    open_page,
    pause,
    play_to,
    text,
)

server = test_resume_page.server  # the fixture: a server that can be restarted

pytestmark = pytest.mark.browser


def test_a_reload_offers_the_kept_run_and_restores_it(page: Any, server: Restartable) -> None:
    open_page(page, server)
    play_to(page, 120)
    paused_at = pause(page)
    page.reload()
    page.wait_for_selector("#restore-offer", state="visible")
    offer = text(page, "#restore-offer")
    assert f"kept your last run: Exclusive or, a 4-2 network, at epoch {paused_at:,}" in offer
    page.wait_for_function("() => document.getElementById('boundary').data?.[0]?.z?.length > 1")
    assert epoch(page) == 0  # nothing restored before the learner says so
    page.get_by_role("button", name="Restore run").click()
    page.wait_for_selector("#online-note", state="visible")
    assert f"Restored. Your run goes on from epoch {paused_at:,}" in text(page, "#online-note")
    page.wait_for_function(f"() => {EPOCH} === {paused_at}")
    assert page.locator("#restore-offer").is_hidden()
    page.wait_for_function(f"() => {CURVE}.at(-1) === {paused_at}")
    assert curve_epochs(page) == list(range(1, paused_at + 1))
    play_to(page, paused_at + 20)


def test_a_restore_chosen_before_the_first_start_is_ready_restores_the_run(
    page: Any, server: Restartable
) -> None:
    """A slow server: the page's own first start is answered only after the learner chose
    to restore. That answer is not taken for the restore's: the run and its curves are
    restored all the same."""
    open_page(page, server)
    play_to(page, 120)
    paused_at = pause(page)
    held: list[str | bytes] = []
    socket: dict[str, Any] = {"hold": True}

    def route(ws: Any) -> None:  # the server's messages wait in `held` until let through
        upstream = ws.connect_to_server()
        socket["page"] = ws
        upstream.on_message(lambda m: held.append(m) if socket["hold"] else ws.send(m))
        ws.on_message(upstream.send)

    page.route_web_socket("**/ws/train", route)
    page.reload()
    page.wait_for_selector("#restore-offer", state="visible")
    page.get_by_role("button", name="Restore run").click()
    for _ in range(300):  # both starts answered: the page's own, then the restore's
        if sum('"type":"ready"' in m for m in held if isinstance(m, str)) >= 2:
            break
        page.wait_for_timeout(100)
    while held:  # in order (messages that come meanwhile join the end)
        socket["page"].send(held.pop(0))
    socket["hold"] = False
    page.wait_for_selector("#online-note", state="visible")
    assert f"Restored. Your run goes on from epoch {paused_at:,}" in text(page, "#online-note")
    page.wait_for_function(f"() => {EPOCH} === {paused_at}")
    assert curve_epochs(page) == list(range(1, paused_at + 1))


def test_a_reload_can_start_fresh_and_forgets_the_kept_run(page: Any, server: Restartable) -> None:
    open_page(page, server)
    play_to(page, 60)
    page.reload()
    page.wait_for_selector("#restore-offer", state="visible")
    page.get_by_role("button", name="Start fresh").click()
    assert page.locator("#restore-offer").is_hidden()
    assert page.evaluate("() => localStorage.getItem('backprop-lab.playground-run')") is None
    page.reload()
    page.wait_for_function("() => document.getElementById('boundary').data?.[0]?.z?.length > 1")
    assert page.locator("#restore-offer").is_hidden()


def test_a_kept_run_the_server_refuses_starts_afresh_and_says_why(
    page: Any, server: Restartable
) -> None:
    """A kept run whose weights do not fit its network (another version of the page, a
    changed file): the server names the problem, and the page says it starts afresh."""
    kept = {
        "version": 1,
        "saved": 0,
        "playing": False,
        "config": {"dataset": "xor", "seed": 4, "hidden_layers": [4, 2]},
        "resume": {"epoch": 50, "weights": "AAAAAAAAAAAAAAAA", "biases": "AAAAAAAAAAA="},
        "losses": {"epochs": [1, 2], "train": [0.7, 0.6], "test": [0.7, 0.6], "acc": [0.5, 0.6]},
    }
    page.add_init_script(
        f"""if (!sessionStorage.getItem('kept')) {{ sessionStorage.setItem('kept', '1');
        localStorage.setItem('backprop-lab.playground-run', {json.dumps(json.dumps(kept))}); }}"""
    )
    page.goto(server.url + LINK)
    page.get_by_role("button", name="Restore run").click()
    page.wait_for_function(
        "() => document.getElementById('alert').textContent.includes('could not go on')"
    )
    assert text(page, "#alert") == (
        "The run could not go on where it was (its weights must hold the 18 weights of a "
        "2-4-2-1 network; this holds 3), so it starts again from its setup."
    )
    page.wait_for_function(f"() => {CURVE}.length === 0")
    assert epoch(page) == 0
    play_to(page, 20)
    assert text(page, "#alert").startswith("The run could not go on")  # no other error
