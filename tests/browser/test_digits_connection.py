"""The digits page when the server goes away, in real Chromium: the connection line says
so with the next try, a training run that was cut says where and why and offers to start
again, and a drawing that cannot be classified says so and is classified once the server
is back. The server is killed (SIGKILL, its whole process group) or stopped (SIGTERM) and
started again on the same port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.digits.store import DEFAULT_MODEL, SHIPPED_DIR, ModelStore
from nn_core.model import Network
from tests.browser.conftest import ROOT, free_port
from tests.browser.test_digits_page import DIGITS, draw, prediction

pytestmark = pytest.mark.browser

#: Seconds to wait for the page to notice a change (a guard against a hang).
WAIT_MS = 20000


class Restartable:
    """``backprop-lab serve`` on a fixed port in its own process group, to kill and start."""

    def __init__(self, data: Path) -> None:
        self.port, self.data = free_port(), data
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "app", "--port", str(self.port), "--workers", "1"]
        env = {**os.environ, "BACKPROP_DATA_DIR": str(self.data)}
        with open(self.data / "server.log", "ab") as log:
            self.proc = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + 30  # a loaded machine may take a while to start it
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError((self.data / "server.log").read_text()) from None
                time.sleep(0.05)
        raise RuntimeError("the server did not come up")

    def stop(self, sig: int) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, sig)
        self.proc.wait(15)


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[Restartable]:
    s = Restartable(tmp_path)
    s.start()
    yield s
    if s.proc is not None and s.proc.poll() is None:
        s.stop(signal.SIGKILL)


def text(page: Any, element_id: str) -> str:
    return str(page.locator(f"#{element_id}").inner_text())


def wait_epochs(page: Any, n: int) -> None:
    page.wait_for_function(
        "n => (document.getElementById('mnist-curve').data?.[0]?.x.length ?? 0) >= n",
        arg=n,
        timeout=WAIT_MS,
    )


def wait_text(page: Any, element_id: str, part: str) -> None:
    page.wait_for_function(
        "([id, part]) => document.getElementById(id).textContent.includes(part)",
        arg=[element_id, part],
        timeout=WAIT_MS,
    )


@pytest.mark.parametrize(
    ("sig", "why"),
    [
        (signal.SIGKILL, "the connection to the server was lost"),
        (signal.SIGTERM, "the server was shutting down"),
    ],
)
def test_a_run_cut_by_a_restart_says_where_and_why_and_starts_again(
    page: Any, server: Restartable, sig: int, why: str
) -> None:
    page.goto(server.url + "/digits")
    page.get_by_label("Architecture").select_option("mlp_256_128")
    page.get_by_label("Epochs").fill("30")
    page.get_by_role("button", name="Train").click()
    wait_epochs(page, 2)
    server.stop(sig)
    wait_text(page, "train-cut-text", "Training stopped at epoch")
    epochs = page.evaluate("() => document.getElementById('mnist-curve').data[0].x")
    cut = text(page, "train-cut-text")
    assert cut.startswith(f"Training stopped at epoch {epochs[-1]} of 30 because {why}.")
    assert 2 <= epochs[-1] < 30
    wait_text(page, "connection", "Reconnecting in")  # the next try, in words
    assert page.get_by_role("button", name="Pause").is_disabled()
    assert page.get_by_role("button", name="Save model").is_disabled()
    again = page.get_by_role("button", name="Start it again")
    assert again.is_visible()
    server.start()
    page.wait_for_function(
        "() => document.getElementById('connection').textContent === ''", timeout=WAIT_MS
    )
    again.click()
    wait_text(page, "train-status", "Epoch 1:")  # the same setup, from the start
    assert page.locator("#train-cut").is_hidden()
    assert page.get_by_role("button", name="Pause").is_enabled()


def test_a_drawing_made_while_the_server_is_down_says_so_then_is_classified(
    page: Any, server: Restartable
) -> None:
    page.goto(server.url + "/digits")
    draw(page, DIGITS["1"])
    assert prediction(page) == "1"
    page.get_by_role("button", name="Clear").click()
    server.stop(signal.SIGKILL)
    draw(page, DIGITS["7"])
    wait_text(page, "confidence", "Can't reach the server to classify your drawing; trying again")
    assert text(page, "prediction") == ""  # not the 1 of the drawing before
    server.start()
    assert prediction(page) == "7"  # asked again by itself once the server is back
    assert "%" in text(page, "confidence")


#: The model token this test's browser keeps (as localStorage would).
MINE = "m" * 32


def test_every_request_made_while_the_server_is_down_says_so_in_words(
    page: Any, server: Restartable
) -> None:
    """A prediction for another model and a delete, asked of a server that is gone: each
    says so in words (never the browser's "Failed to fetch"), and no promise is left
    unhandled (the page fixture fails on any page error)."""
    net, meta = Network.load_with_metadata(SHIPPED_DIR / f"{DEFAULT_MODEL}.npz")
    ModelStore(server.data).save("mine", net, meta, MINE)
    page.context.add_init_script(f"localStorage.setItem('backprop-model-owner', '{MINE}')")
    page.goto(server.url + "/digits")
    page.get_by_role("button", name="Delete model mine").wait_for()
    draw(page, DIGITS["1"])
    assert prediction(page) == "1"
    server.stop(signal.SIGKILL)
    page.select_option("#model", "mine")  # asks again, for this model
    wait_text(page, "confidence", "Can't reach the server to classify your drawing; trying again")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Delete model mine").click()
    wait_text(page, "my-models-note", "Not deleted: the server did not answer. Try again in a")
    assert "fetch" not in page.locator("body").inner_text().lower()
    server.start()
    assert prediction(page) == "1"  # asked again by itself once the server is back
    assert page.get_by_role("button", name="Delete model mine").is_visible()  # not deleted
