"""Lessons across pages in real Chromium: /lessons lists every shipped lesson and each
link opens it beside its page; a lesson of the digits page drives the page's own form, its
checks tick on the run's real epochs, and its link keeps the step."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser
STATUS = "document.getElementById('train-status').textContent"
TICKED = "() => document.getElementById('lesson-check').textContent.includes('Done')"


def lessons(live_server: str) -> list[dict[str, str]]:
    with urllib.request.urlopen(live_server + "/api/options", timeout=10) as r:
        return list(json.loads(r.read())["lessons"])


def test_every_lesson_is_listed_and_opens_beside_its_page(page: Any, live_server: str) -> None:
    shipped = lessons(live_server)
    assert {item["page"] for item in shipped} == {"playground", "digits"}
    page.goto(live_server + "/lessons")
    page.get_by_role("link", name="Lessons").first.wait_for()
    assert page.get_by_role("link", name="Lessons").first.get_attribute("aria-current") == "page"
    for item in shipped:
        page.goto(live_server + "/lessons")
        page.get_by_role("link", name=item["title"], exact=True).click()
        lesson = page.get_by_role("region", name="Lesson")
        lesson.wait_for(timeout=15000)
        assert item["title"] in lesson.inner_text() and "Step 1 of" in lesson.inner_text()
        path = "/digits" if item["page"] == "digits" else "/"
        assert page.evaluate("location.pathname") == path, item["id"]
        assert f"lesson={item['id']}" in page.evaluate("location.hash")


def test_a_digits_lesson_drives_the_form_and_ticks_on_the_runs_epochs(
    page: Any, live_server: str
) -> None:
    # a link to the playground with a digits lesson opens the digits page at that step
    page.goto(live_server + "/#lesson=mnist-784-10-10&step=1")
    page.wait_for_url("**/digits#lesson=mnist-784-10-10*", timeout=15000)
    lesson = page.get_by_role("region", name="Lesson")
    lesson.wait_for(timeout=15000)
    assert "Step 1 of 4" in lesson.inner_text()
    assert page.locator("#architecture").input_value() == "tutorial_10_10"
    assert page.locator("#train-epochs").input_value() == "300"  # the lesson's setup
    assert page.locator("#train-batch").input_value() == "8000"  # the architecture's
    check = lesson.locator("#lesson-check")
    assert check.inner_text() == "○ To do: at least 50 epochs trained"
    lesson.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_function(TICKED, timeout=60000)
    epoch = int(page.evaluate(STATUS).split(":")[0].removeprefix("Epoch "))
    assert epoch >= 50 and check.inner_text() == "✓ Done: at least 50 epochs trained"
    lesson.get_by_role("button", name="Next step").click()
    assert "step=2" in page.evaluate("location.hash")  # the link keeps the step
    assert lesson.get_by_role("button", name="Show the answer").is_visible()
    screenshot(page, "digits-lesson")
    # the last step: its action sets the rate and trains again; the check waits for the
    # new run (the first one's accuracy does not count for it)
    page.goto(live_server + "/digits#lesson=mnist-784-10-10&step=4")
    page.reload()
    lesson.wait_for(timeout=15000)
    assert "Step 4 of 4" in lesson.inner_text()
    assert check.inner_text().startswith("○ To do: learning rate 0.1")
    lesson.get_by_role("button", name="Use learning rate 0.1").click()
    assert page.locator("#train-lr").input_value() == "0.1"
    page.wait_for_function(TICKED, timeout=90000)
    accuracy = float(page.evaluate(STATUS).split("accuracy ")[1].split(" %")[0])
    assert accuracy >= 88.0


def test_a_link_to_a_lesson_there_is_not_says_so_on_the_digits_page(
    page: Any, live_server: str
) -> None:
    page.goto(live_server + "/digits#lesson=no-such-lesson")
    page.wait_for_function("() => document.getElementById('train-error').textContent")
    assert (
        "“no-such-lesson” is not one of this server's lessons"
        in page.locator("#train-error").inner_text()
    )
    assert page.get_by_role("region", name="Lesson").count() == 0
    assert "lesson=" not in page.evaluate("location.hash")  # not kept in the link


# the focused element: whether it is inside the window and on top at its centre
FOCUSED = """() => { const e = document.activeElement; const r = e.getBoundingClientRect();
  const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return { id: e.id || e.tagName, inside: r.top >= 0 && r.bottom <= innerHeight,
    onTop: top === e || e.contains(top), under: top ? top.closest('[id]')?.id : null }; }"""


@pytest.mark.parametrize("size", [(1366, 768), (390, 844)], ids=["1366x768", "390x844"])
def test_with_the_keyboard_alone_no_control_hides_under_the_docked_lesson(
    browser: Any, live_server: str, size: tuple[int, int]
) -> None:
    """Tab goes through the digits page to the lesson's buttons; each control it reaches
    is scrolled into the window above the lesson panel docked at the foot, not under it."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    try:
        page.goto(live_server + "/digits#lesson=mnist-784-10-10")
        page.wait_for_selector("#lesson:not([hidden])")
        page.wait_for_function("() => document.getElementById('lesson-text').textContent")
        seen = []
        for _ in range(80):
            page.keyboard.press("Tab")
            seen.append(page.evaluate(FOCUSED))
            if seen[-1]["id"] == "lesson-next":
                break
        ids = [s["id"] for s in seen]
        for control in ("train-batch", "train-augment", "train-start", "lesson-action"):
            assert control in ids, ids
        hidden = [s for s in seen if not (s["inside"] and s["onTop"])]
        assert not hidden, hidden
    finally:
        context.close()
