"""Every teaching item at the three screens a class meets, in real Chromium and through
accessible names: a 1366 x 768 laptop, a 1920 x 1080 projector in presenter mode and a
390 x 844 phone (touch). Each control is pressed where a learner sees it (inside the
screen, not under anything, big enough for a finger on the phone) and the page never
scrolls sideways. The items' own tests (test_teaching_page.py, test_class_page.py,
test_digits_page.py) check what each one computes; this checks that each is usable."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_backprop_page import ready
from tests.browser.test_teaching_page import FONT_SIZES

pytestmark = pytest.mark.browser
WAIT = 30_000  # ms: a busy machine
TARGET = 24  # px: the smallest finger target on the phone (WCAG 2.2 target size)

SIZES = {
    "1366x768": {"viewport": {"width": 1366, "height": 768}},
    "1920x1080-presenter": {"viewport": {"width": 1920, "height": 1080}},
    "390x844-phone": {
        "viewport": {"width": 390, "height": 844},
        "has_touch": True,
        "is_mobile": True,
    },
}

#: Where the control is once scrolled to, and whether the point at its middle is the
#: control itself (or inside it), not something drawn over it.
PLACE = """(el) => { const r = el.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, height: r.height,
    on_top: el.contains(hit) || (hit !== null && hit.contains(el) && hit.tagName === 'LABEL'),
    hit: hit ? (hit.id || hit.className || hit.tagName) : null}; }"""
NAMES = "#matrix-body caption, #matrix-body h4, #matrix-body td"  # the matrix form's words
PICTURES = ", ".join(f"#first-layer-region {e}" for e in ("h2", "p", "figcaption", ".sal-ends"))
#: How far the page scrolls sideways, and the widest of what sticks out past the screen.
SIDEWAYS = """() => { const out = [...document.querySelectorAll('body *')]
  .map((el) => [el.id || String(el.className) || el.tagName, el.getBoundingClientRect().right])
  .filter(([, right]) => right > innerWidth + 0.5).sort((a, b) => b[1] - a[1]).slice(0, 5);
  return [document.documentElement.scrollWidth - innerWidth, out]; }"""


class Screen:
    """One size's page: each control it uses is checked where it is, then pressed."""

    def __init__(self, page: Any, phone: bool) -> None:
        self.page, self.phone = page, phone
        self.width, self.height = page.viewport_size["width"], page.viewport_size["height"]

    def reach(self, target: Any) -> Any:
        self.page.bring_to_front()  # the tab in front: a hidden tab draws no frames
        target.scroll_into_view_if_needed(timeout=WAIT)
        at = target.evaluate(PLACE)
        name = target.evaluate("(el) => el.getAttribute('aria-label') || el.id || el.textContent")
        assert at["left"] >= 0 and at["right"] <= self.width + 0.5, (name, at)
        assert at["top"] >= 0 and at["bottom"] <= self.height + 0.5, (name, at)
        assert at["on_top"], f"{name!r} is under {at['hit']!r}"
        if self.phone:
            assert at["height"] >= TARGET, (name, at)
        return target

    def press(self, target: Any) -> None:
        self.reach(target)
        if self.phone:
            target.tap(timeout=WAIT)
        else:
            target.click(timeout=WAIT)
        self.flat()

    def type(self, target: Any, text: str) -> None:
        self.reach(target).fill(text)

    def flat(self) -> None:
        over, wide = self.page.evaluate(SIDEWAYS)
        assert over <= 0, f"the page scrolls sideways by {over} px at {self.width} px: {wide}"


@pytest.mark.parametrize("size", list(SIZES))
def test_every_teaching_item_works_at_this_size(browser: Any, live_server: str, size: str) -> None:
    ctx = browser.new_context(**SIZES[size])
    errors: list[str] = []
    page, teacher = ctx.new_page(), ctx.new_page()
    for pg in (page, teacher):
        pg.on("pageerror", lambda e: errors.append(str(e)))
    phone = "phone" in size
    me, them = Screen(page, phone), Screen(teacher, phone)
    try:
        # Class, the teacher's side: a class to join (on a phone it asks for a wider screen)
        teacher.goto(live_server + "/class", wait_until="domcontentloaded")
        them.press(teacher.get_by_role("button", name="Start a class"))
        expect(teacher.locator("#class-code")).to_have_text(
            re.compile(r"^[A-Z0-9]{6}$"), timeout=WAIT
        )
        code = teacher.locator("#class-code").inner_text()
        them.flat()
        assert teacher.locator(".class-narrow").is_visible() == phone

        page.bring_to_front()  # the learner's tab, as it loads
        ready(page, live_server, "#lesson=xor-2-3-1")
        me.flat()
        # Presenter mode: the projector's; a phone is not offered it
        presenter = page.get_by_role("button", name="Presenter mode")
        if "presenter" in size:
            me.press(presenter)
            assert presenter.get_attribute("aria-pressed") == "true"
        else:
            assert presenter.is_visible() == (not phone)

        # Lessons: the step's action, its check ticking, Next step
        lesson = page.get_by_role("region", name="Lesson")
        expect(lesson).to_contain_text("Step 1 of 4", timeout=WAIT)
        me.press(lesson.get_by_role("button", name="Play", exact=True))
        expect(lesson.locator("#lesson-check")).to_contain_text("✓ Done", timeout=WAIT)
        me.press(page.get_by_role("button", name="Pause", exact=True))
        me.press(lesson.get_by_role("button", name="Next step"))
        expect(lesson).to_contain_text("Step 2 of 4")
        me.press(lesson.get_by_role("button", name="Show the answer"))
        me.reach(lesson.locator("#lesson-answer"))

        # Matrix form: the trace panel's switch shows a layer's six tables
        me.press(page.get_by_role("switch", name="Matrix form"))
        tables = page.locator("#matrix-body table.matrix")
        expect(tables).to_have_count(12, timeout=WAIT)  # 2-3-1: two layers of six
        expect(page.locator("#matrix-status")).to_contain_text("Epoch ")
        me.flat()
        wider = page.locator("#matrix-body").evaluate("(el) => el.scrollWidth > el.clientWidth")
        assert page.get_by_text("swipe them sideways").is_visible() == wider  # cut: it says so
        if "presenter" in size:  # its names read from the back of the room, as its numbers do
            me.reach(tables.first)
            small = [(n, px) for n, px in page.evaluate(FONT_SIZES, NAMES) if px < 18]
            assert not small, small

        # Predict first: the step's result waits for a guess, then shows the true value
        me.press(page.get_by_role("switch", name="Predict first"))
        me.press(page.get_by_role("button", name="Trace a point"))
        guess = page.get_by_label(re.compile("^Your prediction"))
        expect(guess).to_be_visible(timeout=WAIT)
        hidden = page.locator("#trace-body b.z").first
        expect(hidden).to_have_text("?")
        me.type(guess, "12345")
        me.press(page.get_by_role("button", name="Check", exact=True))
        expect(page.locator("#predict-result")).to_contain_text("The true value is")
        assert hidden.inner_text() != "?"
        screenshot(page, f"sizes-trace-{size}")

        # Seeds: 16 at once, each a tile on the screen, and the summary
        seeds = page.get_by_role("region", name="Seeds")
        me.type(seeds.get_by_label("Epochs each"), "40")
        me.press(seeds.get_by_role("button", name="Run 16 seeds"))
        expect(seeds.locator("#seeds-summary")).to_contain_text(
            "of 16 seeds got stuck", timeout=WAIT
        )
        tiles = seeds.get_by_role("button", name=re.compile(r"^Seed \d+: test loss"))
        expect(tiles).to_have_count(16)
        for k in (0, 15):
            me.reach(tiles.nth(k))
        screenshot(page, f"sizes-seeds-{size}")

        # Class, the learner's side: the dialog with both fields, joined, on the tile
        me.press(page.get_by_role("button", name="Join a class"))
        dialog = page.get_by_role("dialog", name="Join a class")
        expect(dialog).to_be_visible()
        me.type(dialog.get_by_label("Class code"), code)
        me.type(dialog.get_by_label("Your name"), "Ada")
        me.press(dialog.get_by_role("button", name="Join", exact=True))
        expect(page.get_by_role("button", name="Leave class")).to_be_visible(timeout=WAIT)
        expect(teacher.get_by_role("article", name="Ada")).to_be_visible(timeout=WAIT)
        me.press(page.get_by_role("button", name="Leave class"))
        expect(page.get_by_role("button", name="Join a class")).to_be_visible(timeout=WAIT)
        them.press(teacher.get_by_role("button", name="End class"))
        expect(teacher.get_by_role("button", name="Start a class")).to_be_visible(timeout=WAIT)

        # Digits page: the first layer's pictures, inside the screen
        page.goto(live_server + "/digits")
        region = page.get_by_role("region", name="First-layer weights")
        pictures = region.get_by_role("img")
        expect(pictures).to_have_count(16, timeout=WAIT)
        for k in (0, 15):
            assert me.reach(pictures.nth(k)).bounding_box()["width"] >= TARGET
        me.flat()
        if "presenter" in size:  # still on in this tab: the pictures' words are large too
            assert (
                page.get_by_role("button", name="Presenter mode").get_attribute("aria-pressed")
                == "true"
            )
            small = [(n, px) for n, px in page.evaluate(FONT_SIZES, PICTURES) if px < 18]
            assert not small, small
        screenshot(page, f"sizes-digits-{size}")
    finally:
        ctx.close()
    assert not errors, f"JavaScript errors on the pages: {errors}"
