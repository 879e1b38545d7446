"""A class in real Chromium, on a server with two worker processes: a teacher's page and two
learners' pages in three browser contexts, one learner joined (on a phone) and one not."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.app.test_reliability import Server
from tests.app.test_workers import stop, workers_server
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser
WAIT = 30_000  # ms: a busy machine


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[Server]:
    srv = workers_server(tmp_path, BACKPROP_CLASS_DIR=str(tmp_path / "classes"))
    yield srv
    stop(srv)


def context(browser: Any, width: int, height: int, errors: list[str]) -> Any:
    pg = browser.new_context(viewport={"width": width, "height": height}).new_page()
    pg.on("pageerror", lambda e: errors.append(str(e)))
    return pg


def epoch_of(tile: Any) -> int:
    return int(tile.locator("dd").first.inner_text())


def test_a_teacher_watches_the_joined_learner_live_and_sends_it_a_setup(
    browser: Any, server: Server
) -> None:
    errors: list[str] = []
    teacher = context(browser, 1920, 1080, errors)
    learner = context(browser, 390, 844, errors)  # "Join a class" works on a phone
    outsider = context(browser, 1366, 768, errors)
    try:
        teacher.goto(server.url + "/class", wait_until="domcontentloaded")
        teacher.get_by_role("button", name="Start a class").click()
        code_box = teacher.locator("#class-code")
        expect(code_box).to_have_text(re.compile(r"^[A-Z0-9]{6}$"), timeout=WAIT)
        code = code_box.inner_text()

        for pg in (learner, outsider):
            pg.goto(server.url + "/", wait_until="domcontentloaded")
            expect(pg.get_by_role("button", name="Play")).to_be_visible(timeout=WAIT)
        outsider.get_by_role("button", name="Play").click()  # trains, never joins

        learner.get_by_role("button", name="Join a class").click()
        learner.get_by_label("Class code").fill("NOPE")
        learner.get_by_label("Your name").fill("Ada O'Neil")
        learner.get_by_role("button", name="Join", exact=True).click()
        expect(learner.locator("#join-error")).to_contain_text(
            "Class code must be the 6 letters and digits", timeout=WAIT
        )
        learner.get_by_label("Class code").fill(code.lower())
        learner.get_by_role("button", name="Join", exact=True).click()
        expect(learner.get_by_role("button", name="Leave class")).to_be_visible(timeout=WAIT)
        expect(learner.locator("#class-joined")).to_contain_text(f"In class {code} as Ada O'Neil")
        learner.get_by_role("button", name="Play").click()

        # the teacher sees one tile, the joined learner's, live; the outsider is invisible
        tile = teacher.get_by_role("article", name="Ada O'Neil")
        expect(tile).to_be_visible(timeout=WAIT)
        expect(teacher.get_by_role("article")).to_have_count(1)
        expect(tile.locator("h3")).to_have_text("Ada O'Neil")
        teacher.wait_for_function(
            "() => Number(document.querySelector('.tile dd')?.textContent) > 0", timeout=WAIT
        )
        first = epoch_of(tile)
        teacher.wait_for_function(
            f"() => Number(document.querySelector('.tile dd').textContent) > {first}",
            timeout=WAIT,
        )
        expect(tile.locator("dd").nth(1)).to_have_text(re.compile(r"^\d"))
        expect(tile.locator(".tile-verdict")).not_to_be_empty(timeout=WAIT)
        assert tile.locator("canvas").evaluate("c => c.width") == 16
        screenshot(teacher, "class-view")

        teacher.get_by_label("Setup to send").select_option(label="XOR with a 2-3-1 net")
        teacher.get_by_role("button", name="Send setup to class").click()
        expect(teacher.locator("#setup-status")).to_contain_text("Sent", timeout=WAIT)
        learner.get_by_role("button", name="Load setup").click(timeout=WAIT)
        expect(learner.get_by_label("Dataset", exact=True)).to_have_value("xor", timeout=WAIT)
        expect(learner.locator("#layer-count")).to_have_text("1 hidden layer", timeout=WAIT)
        # the one who did not join was offered nothing and shows no class
        expect(outsider.get_by_role("button", name="Load setup")).to_be_hidden()
        expect(outsider.get_by_role("button", name="Join a class")).to_be_visible()

        # a lesson: the learner's page opens it beside the playground, with its setup
        teacher.get_by_label("Setup to send").select_option(label="Lesson: Dead ReLUs")
        teacher.get_by_role("button", name="Send setup to class").click()
        expect(teacher.locator("#setup-status")).to_contain_text(
            "Sent the lesson “Dead ReLUs”", timeout=WAIT
        )
        expect(learner.locator("#class-offer-text")).to_contain_text(
            "Your teacher sent a lesson: Dead ReLUs", timeout=WAIT
        )
        learner.get_by_role("button", name="Open lesson").click()
        lesson = learner.get_by_role("region", name="Lesson")
        expect(lesson).to_contain_text("Step 1 of", timeout=WAIT)
        expect(lesson).to_contain_text("Dead ReLUs")
        assert "lesson=dead-relus" in learner.evaluate("location.hash")
        expect(learner.locator("#learning-rate")).to_have_value("0.7", timeout=WAIT)
        expect(outsider.get_by_role("region", name="Lesson")).to_have_count(0)

        learner.get_by_role("button", name="Leave class").click()
        expect(teacher.get_by_role("article")).to_have_count(0, timeout=WAIT)
        expect(learner.get_by_role("button", name="Join a class")).to_be_visible()
        teacher.get_by_role("button", name="End class").click()
        expect(teacher.get_by_role("button", name="Start a class")).to_be_visible(timeout=WAIT)
        assert not [p for p in (server.data / "classes").iterdir() if p.is_dir()]
    finally:
        for pg in (teacher, learner, outsider):
            pg.context.close()
    assert not errors, f"JavaScript errors on the pages: {errors}"


def test_presenter_mode_shows_the_code_and_tiles_in_large_type_for_the_room(
    browser: Any, server: Server
) -> None:
    """At 1920 the class code and the tiles grow for a projector; the choice is a toggle
    (aria-pressed) and the view still fits the screen with several learners."""
    import json

    from websockets.sync.client import connect

    errors: list[str] = []
    teacher = context(browser, 1920, 1080, errors)
    teacher.goto(server.url + "/class")
    teacher.get_by_role("button", name="Start a class").click()
    expect(teacher.locator("#class-code")).to_have_text(re.compile(r"^[A-Z0-9]{6}$"), timeout=WAIT)
    code = teacher.locator("#class-code").inner_text()
    sockets = contextlib.ExitStack()
    try:
        for i, name in enumerate(["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald"]):
            ws = sockets.enter_context(connect(server.ws + "/ws/train", max_size=None))
            ws.send(json.dumps({"type": "join", "code": code, "name": name}))
            ws.send(json.dumps({"type": "start", "paused": True, "config": {"seed": i}}))
        expect(teacher.locator(".tile")).to_have_count(6, timeout=WAIT)

        def sizes() -> dict[str, float]:
            return teacher.evaluate(
                """() => { const px = (sel) => parseFloat(getComputedStyle(
                  document.querySelector(sel)).fontSize);
                  const tile = document.querySelector('.tile').getBoundingClientRect();
                  return { code: px('#class-code'), name: px('.tile h3'),
                    figures: px('.tile dl'), verdict: px('.tile-verdict'), tile: tile.width,
                    page: document.documentElement.scrollWidth }; }"""
            )

        before = sizes()
        button = teacher.get_by_role("button", name="Presenter mode")
        expect(button).to_have_attribute("aria-pressed", "false")
        button.focus()
        teacher.keyboard.press("Enter")  # the keyboard does it too
        expect(button).to_have_attribute("aria-pressed", "true")
        after = sizes()
        assert after["code"] >= 1.5 * before["code"] and after["name"] >= 20, (before, after)
        assert after["figures"] >= 18 and after["verdict"] >= 16, after
        assert after["tile"] > before["tile"] and after["page"] <= 1920, (before, after)
        button.click()
        expect(button).to_have_attribute("aria-pressed", "false")
        assert sizes()["code"] == before["code"]
        assert not errors, errors
    finally:
        sockets.close()
        teacher.context.close()
