"""Saved models on the digits page in real Chromium: two browsers, one name; delete with
the keyboard; a 40-character name on a phone, and everywhere a name is shown."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from app.digits.store import DEFAULT_MODEL, SHIPPED_DIR, ModelStore
from nn_core.model import Network
from tests.browser.test_digits_connection import MINE, Restartable, server
from tests.browser.test_digits_page import DIGITS, draw, prediction

pytestmark = pytest.mark.browser
__all__ = ["server"]  # the fixture: a server of this test's own, with its own models


@pytest.fixture()
def two_pages(browser: Any) -> Iterator[tuple[Any, Any]]:
    """Two browsers, as two learners have: each context keeps its own localStorage."""
    contexts = [browser.new_context(viewport={"width": 1366, "height": 768}) for _ in range(2)]
    errors: list[str] = []
    pages = []
    for context in contexts:
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        pages.append(page)
    yield pages[0], pages[1]
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def train_quickly(page: Any, url: str) -> None:
    page.goto(url + "/digits")
    page.get_by_label("Architecture").select_option("tutorial_10_10")
    page.get_by_label("Epochs").fill("1")
    page.get_by_role("button", name="Train").click()
    page.wait_for_function(
        "() => document.getElementById('train-status').textContent.includes('done')", timeout=60000
    )


def save_as(page: Any, name: str) -> None:
    page.get_by_label("Save as").fill(name)
    page.get_by_role("button", name="Save model").click()
    page.wait_for_function(
        "() => document.getElementById('train-status').textContent.startsWith('Saved')"
        " || document.getElementById('train-error').textContent",
        timeout=10000,
    )


def listed(page: Any) -> list[str]:
    body = page.evaluate("() => fetch('/api/models').then(r => r.json())")
    return [m["name"] for m in body["models"]]


def test_another_browser_cannot_take_a_name_and_the_owner_deletes_by_keyboard(
    two_pages: tuple[Any, Any], live_server: str
) -> None:
    alice, bob = two_pages
    train_quickly(alice, live_server)
    save_as(alice, "alices-digits")
    assert alice.locator("#train-error").inner_text() == ""
    mine = alice.locator("#my-models li")
    mine.first.wait_for()
    assert mine.count() == 1 and mine.first.locator(".model-name").inner_text() == "alices-digits"
    first = alice.evaluate("() => fetch('/api/models').then(r => r.json())")
    accuracy = next(m for m in first["models"] if m["name"] == "alices-digits")["accuracy"]

    train_quickly(bob, live_server)
    assert bob.locator("#my-models li").count() == 0  # not his
    assert not bob.get_by_role("button", name="Delete model alices-digits").count()
    save_as(bob, "alices-digits")
    assert bob.locator("#train-error").inner_text() == (
        "Save as: a model named “alices-digits” already belongs to someone else: pick another name."
    )
    assert "alices-digits" in listed(bob)
    # the server holds even for a browser that skips the page's own check
    answer = bob.evaluate(
        """() => fetch('/api/models/alices-digits', {method: 'DELETE',
              headers: {'X-Model-Owner': localStorage.getItem('backprop-model-owner')}})
            .then(async r => [r.status, (await r.json()).detail.message])"""
    )
    assert answer[0] == 403 and "belongs to someone else" in answer[1]
    again = alice.evaluate("() => fetch('/api/models').then(r => r.json())")
    assert next(m for m in again["models"] if m["name"] == "alices-digits")["accuracy"] == accuracy

    # Alice deletes hers with the keyboard only: Tab to its Delete button, Enter, confirm
    alice.once("dialog", lambda d: d.accept())
    delete = alice.get_by_role("button", name="Delete model alices-digits")
    alice.locator("#model").focus()
    for _ in range(10):
        alice.keyboard.press("Tab")
        if delete.evaluate("b => b === document.activeElement"):
            break
    assert delete.evaluate("b => b === document.activeElement"), "Delete is not reachable by Tab"
    alice.keyboard.press("Enter")
    alice.wait_for_function("() => !document.querySelector('#my-models li')", timeout=10000)
    assert alice.locator("#my-models-note").inner_text() == "Deleted “alices-digits”."
    assert "alices-digits" not in listed(alice)
    # and now the name is free for Bob
    save_as(bob, "alices-digits")
    assert bob.locator("#train-error").inner_text() == ""
    bob.locator("#my-models li").first.wait_for()


def test_a_long_name_fits_a_phone(browser: Any, live_server: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        train_quickly(page, live_server)
        name = "W" * 40  # the longest name allowed, in the widest letter
        save_as(page, name)
        assert page.locator("#train-error").inner_text() == ""
        page.wait_for_function(f"() => document.getElementById('model').value === '{name}'")
        item = page.locator("#my-models li .model-name").filter(has_text=name)
        assert item.get_attribute("title") == name
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth,"
            " Math.max(...[...document.querySelectorAll('#my-models li, #model, #model-download,"
            " #train-status')].map(e => e.getBoundingClientRect().right))]"
        )
        assert widths[0] <= widths[1] and widths[2] <= widths[1], widths
        # a name one longer is refused in words before anything is sent
        field = page.get_by_label("Save as")
        assert field.get_attribute("maxlength") == "40"
    finally:
        context.close()


#: Another browser's model token.
THEIRS = "t" * 32
#: Each element showing ``text``: does the page, the canvas and each of them fit the width?
FITS = """text => {
  const w = window.innerWidth, c = document.getElementById('digit-canvas').getBoundingClientRect();
  const shown = [...document.querySelectorAll('body *')].filter(e => e.getClientRects().length &&
    [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.includes(text)));
  const select = document.getElementById('model').getBoundingClientRect();
  return {width: w, scroll: document.documentElement.scrollWidth, canvas: [c.left, c.right],
    select: select.right, shown: shown.length,
    over: shown.filter(e => e.getBoundingClientRect().right > w + 0.5).map(e => e.id || e.tagName)};
}"""


def fits(page: Any, text: str) -> None:
    """At a phone's, a laptop's and a desktop's width, nothing that shows ``text`` (a model
    name) is wider than the window, the page does not scroll sideways and the canvas is
    whole; then back to the phone."""
    for width, height in ((1366, 768), (1920, 1080), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        with contextlib.suppress(PlaywrightTimeout):  # the charts follow the window's size
            page.wait_for_function(  # a moment later: the asserts say what did not fit
                "() => document.documentElement.scrollWidth <= window.innerWidth", timeout=10000
            )
        got = page.evaluate(FITS, text)
        assert got["scroll"] <= width and got["select"] <= width, got
        assert got["canvas"][0] >= 0 and got["canvas"][1] <= width, got
        assert got["shown"] > 0 and not got["over"], str(got)


def answer(page: Any, dialog: list[str], accept: bool) -> None:
    def handle(d: Any) -> None:
        dialog.append(d.message)
        d.accept() if accept else d.dismiss()

    page.once("dialog", handle)


@pytest.mark.parametrize("letter", ["W", "x"])
def test_a_long_name_fits_everywhere_it_is_shown(
    page: Any, server: Restartable, letter: str
) -> None:
    """The longest name, in the widest and in a narrow letter: the model list, its info and
    download link, "your saved models", a refusal, "not saved", "saved as", the delete
    confirmation and "deleted" fit a phone, a laptop and a desktop."""
    name, theirs = letter * 40, letter * 39 + "y"
    net, meta = Network.load_with_metadata(SHIPPED_DIR / f"{DEFAULT_MODEL}.npz")
    store = ModelStore(server.data)
    store.save(name, net, meta, MINE)
    store.save(theirs, net, meta, THEIRS)
    page.context.add_init_script(f"localStorage.setItem('backprop-model-owner', '{MINE}')")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server.url + "/digits")
    page.wait_for_function(f"() => document.querySelector('#model option[value={name}]')")
    page.select_option("#model", name)
    draw(page, DIGITS["7"])
    assert prediction(page) == "7"
    fits(page, name)  # the list, the info, the download link, "your saved models"
    page.get_by_label("Architecture").select_option("tutorial_10_10")
    page.get_by_label("Epochs").fill("1")
    page.get_by_role("button", name="Train").click()
    page.wait_for_function(
        "() => document.getElementById('train-status').textContent.includes('done')", timeout=60000
    )
    save_as(page, theirs)
    assert theirs in page.locator("#train-error").inner_text()
    fits(page, theirs)
    asked: list[str] = []
    answer(page, asked, accept=False)
    page.get_by_label("Save as").fill(name)
    page.get_by_role("button", name="Save model").click()
    page.wait_for_function(
        "() => document.getElementById('train-status').textContent.startsWith('Not saved')"
    )
    assert asked == [f"You already saved a model named “{name}”. Replace it?"]
    fits(page, name)
    answer(page, asked, accept=True)
    save_as(page, name)
    assert page.locator("#train-status").inner_text().startswith(f"Saved as {name}.")
    fits(page, name)
    answer(page, asked, accept=True)
    page.get_by_role("button", name=f"Delete model {name}").click()
    page.wait_for_function(
        "() => document.getElementById('my-models-note').textContent.startsWith('Deleted')"
    )
    assert asked[-1] == f"Delete your model “{name}”? This cannot be undone."
    fits(page, name)
