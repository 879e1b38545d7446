"""A playground run outlives its server and its page, in real Chromium: the server is
killed (SIGKILL) or stopped (SIGTERM) mid-training and started again on the same port, and
the page is reloaded."""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.wire import decode_frame
from tests.app.test_reliability import Server, start_server

pytestmark = pytest.mark.browser

LINK = "/#dataset=xor&seed=4&learning_rate=0.1&hidden_layers=4,2"
SIGNALS = [pytest.param(signal.SIGKILL, id="sigkill"), pytest.param(signal.SIGTERM, id="sigterm")]
EPOCH = "Number(document.getElementById('epoch').textContent)"
# the epochs the loss curve draws (every one up to 1,500, evenly thinned beyond)
CURVE = "document.getElementById('loss-curve').data.find((t) => t.name === 'Training loss').x"


@dataclass
class Wire:
    """Every message of every socket the page opened, in order, per socket."""

    sockets: list[dict[str, list[Any]]] = field(default_factory=list)

    def watch(self, ws: Any) -> None:
        mine: dict[str, list[Any]] = {"in": [], "out": []}
        self.sockets.append(mine)
        ws.on("framereceived", lambda payload: mine["in"].append(payload))
        ws.on("framesent", lambda payload: mine["out"].append(json.loads(payload)))

    def frames(self, k: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        return [decode_frame(m) for m in self.sockets[k]["in"] if isinstance(m, bytes)]

    def events(self, k: int, kind: str) -> list[dict[str, Any]]:
        texts = [json.loads(m) for m in self.sockets[k]["in"] if isinstance(m, str)]
        return [e for e in texts if e["type"] == kind]


class Restartable:
    """A one-process server that stops by a signal and starts again on its port."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.server: Server = start_server(tmp_path)
        self.port = int(self.server.url.rsplit(":", 1)[1])

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self, sig: int) -> None:
        self.server.proc.send_signal(sig)
        self.server.proc.wait(15)

    def start(self) -> None:
        self.server = start_server(self.tmp_path, port=self.port)


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[Restartable]:
    s = Restartable(tmp_path)
    yield s
    if s.server.proc.poll() is None:
        s.stop(signal.SIGTERM)


@pytest.fixture()
def wire(page: Any) -> Wire:
    w = Wire()
    page.on("websocket", w.watch)
    return w


def open_page(page: Any, server: Restartable, link: str = LINK) -> None:
    page.goto(server.url + link)
    page.wait_for_function("() => document.getElementById('boundary').data?.[0]?.z?.length > 1")
    # every epoch the read-out shows from now on, to see that it never goes back
    page.evaluate(
        """() => { const el = document.getElementById('epoch'); window.epochsShown = [];
        new MutationObserver(() => window.epochsShown.push(Number(el.textContent))).observe(
            el, { childList: true, characterData: true, subtree: true }); }"""
    )


def epoch(page: Any) -> int:
    return int(page.locator("#epoch").inner_text())


def play_to(page: Any, at_least: int) -> None:
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function(f"() => {EPOCH} >= {at_least}", timeout=30000)


def text(page: Any, selector: str) -> str:
    return str(page.locator(selector).inner_text())


def label(page: Any) -> str:
    return str(page.locator("#play").get_attribute("aria-label"))


def wait_label(page: Any, want: str) -> None:
    """Until the Play button's label is ``want``."""
    page.wait_for_function(f"() => document.querySelector('#play').ariaLabel === {want!r}")


def pause(page: Any) -> int:
    """Pause; the epoch it paused at, once the curve has it too."""
    page.get_by_role("button", name="Pause").click()
    wait_label(page, "Play")
    page.wait_for_function(f"() => {CURVE}.at(-1) === {EPOCH}")
    shown = epoch(page)
    for _ in range(10):  # epochs already on the way when the pause arrived still come in
        page.wait_for_timeout(500)
        if (now := epoch(page)) == shown:
            break
        shown = now
    page.wait_for_function(f"() => {CURVE}.at(-1) === {EPOCH}")
    return epoch(page)


def curve_epochs(page: Any) -> list[int]:
    return [int(e) for e in page.evaluate(f"() => {CURVE}")]


def go_offline(page: Any, server: Restartable, sig: int) -> None:
    server.stop(sig)
    page.wait_for_selector("#offline", state="visible", timeout=15000)
    page.evaluate("() => { window.epochsShown = []; }")  # from the drop on
    # the problem in words, read out at once; the next try as a timer (not read every second)
    assert page.get_by_role("alert").filter(has_text="Lost the connection to the server.").count()
    timer = text(page, "#offline [role=timer]")
    assert re.fullmatch(r"Trying again (in \d+ s|now)…", timer), timer
    # the run is not training, and the button says so
    assert "running" not in (page.locator("#play").get_attribute("class") or "")
    assert label(page) != "Pause"


def come_back(page: Any, server: Restartable) -> str:
    server.start()
    # rather than wait for the next try (unless that try got in already)
    page.evaluate(
        "() => { if (!document.getElementById('offline').hidden) "
        "document.getElementById('offline-try').click(); }"
    )
    page.wait_for_selector("#online-note", state="visible", timeout=30000)
    assert page.locator("#offline").is_hidden()
    return str(text(page, "#online-note"))


@pytest.mark.parametrize("sig", SIGNALS)
def test_a_playing_run_goes_on_playing_from_its_last_frame(
    page: Any, server: Restartable, wire: Wire, sig: int
) -> None:
    open_page(page, server)
    play_to(page, 150)
    go_offline(page, server, sig)
    before = epoch(page)
    assert "when the connection is back, it goes on playing" in text(page, "#offline")
    last_header, last = wire.frames(0)[-1]
    note = come_back(page, server)
    assert f"Back online. Your run goes on from epoch {last_header['epoch']:,}" in note
    page.wait_for_function(f"() => {EPOCH} > {before + 50}", timeout=30000)
    assert label(page) == "Pause"
    header, first = wire.frames(len(wire.sockets) - 1)[0]
    # the same weights, the same boundary, the same epoch
    assert header["epoch"] == last_header["epoch"]
    np.testing.assert_array_equal(first["weights"], last["weights"])
    np.testing.assert_array_equal(first["biases"], last["biases"])
    np.testing.assert_array_equal(first["output"], last["output"])
    assert min(page.evaluate("() => window.epochsShown")) >= last_header["epoch"]  # never 0
    page.wait_for_function(f"() => {CURVE}.at(-1) > {before}")
    kept = curve_epochs(page)
    assert kept[0] == 1 and kept == sorted(set(kept))  # the history stays, nothing twice
    assert kept[-1] > before


@pytest.mark.parametrize("sig", SIGNALS)
def test_a_paused_run_stays_paused_at_its_epoch(
    page: Any, server: Restartable, wire: Wire, sig: int
) -> None:
    open_page(page, server, LINK + "&optimizer=adam&learning_rate=0.01")
    play_to(page, 80)
    paused_at = pause(page)
    go_offline(page, server, sig)
    assert "it stays paused" in text(page, "#offline")
    note = come_back(page, server)
    assert f"Your run goes on from epoch {paused_at:,}" in note
    assert "Adam's running averages start again" in note  # what was not kept, said
    k = len(wire.sockets) - 1
    page.wait_for_function(f"() => {EPOCH} === {paused_at}")
    status = wire.events(k, "status")[0]
    assert status["state"] == "paused" and status["epoch"] == paused_at
    assert label(page) == "Play"
    page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function(f"() => {EPOCH} === {paused_at + 1}")
    assert [p["epochs"] for p in wire.events(k, "progress")] == [[paused_at + 1]]
    page.wait_for_function(f"() => {CURVE}.at(-1) === {paused_at + 1}")
    assert curve_epochs(page) == list(range(1, paused_at + 2))


def test_changes_made_offline_are_applied_once_in_order(
    page: Any, server: Restartable, wire: Wire
) -> None:
    open_page(page, server)
    play_to(page, 100)
    go_offline(page, server, signal.SIGKILL)
    rate = page.locator("#learning-rate")
    rate.fill("0.3")
    rate.press("Tab")  # the change is made as the learner leaves the field
    page.get_by_role("button", name="Add a neuron in layer 1").click()
    play = page.locator("#play")
    assert play.get_attribute("aria-label") == "Stay paused when back"
    play.click()  # pause
    assert play.get_attribute("aria-label") == "Play when back"
    assert "it stays paused" in text(page, "#offline")
    play.click()  # and play again
    assert "running" not in (play.get_attribute("class") or "")  # still offline: not training
    assert "Your 4 changes made meanwhile will be applied then" in text(page, "#offline")
    come_back(page, server)
    wait_label(page, "Pause")
    k = len(wire.sockets) - 1
    # The resumed run is past epoch 30 at once: first wait for the edited start's ready
    # (the wire's events arrive while the page is waited on), then for its epochs.
    for _ in range(300):
        if len(wire.events(k, "ready")) >= 2:
            break
        page.wait_for_timeout(100)
    page.wait_for_function(f"() => {EPOCH} > 30", timeout=30000)
    sent = [m for m in wire.sockets[k]["out"]]
    kinds = [(m["type"], "resume_from" in m) for m in sent[:5]]
    assert kinds == [
        ("start", True),
        ("set", False),
        ("start", False),
        ("pause", False),
        ("resume", False),
    ], sent
    assert sent[1]["learning_rate"] == 0.3
    assert sent[2]["config"]["hidden_layers"] == [5, 2]
    assert sent[2]["config"]["learning_rate"] == 0.3
    assert not any(m["type"] in ("set", "pause", "resume") for m in sent[5:])  # once
    readies = wire.events(k, "ready")
    assert [r["config"]["hidden_layers"] for r in readies] == [[4, 2], [5, 2]]
    assert readies[1]["config"]["learning_rate"] == 0.3
    assert wire.events(k, "status")[-1]["state"] == "running"
    assert label(page) == "Pause"
