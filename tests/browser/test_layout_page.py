"""The playground's layout on a phone and on a laptop, measured in real Chromium."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser

# every kind of target a learner taps or clicks (the weights' SVG lines are the diagram's own)
TARGETS = (
    "a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], "
    "[role=switch], [role=link], [role=checkbox], [role=radio], [tabindex]:not([tabindex='-1'])"
)


def ready(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => document.getElementById('boundary').data?.[0]?.z?.length > 1")


def test_every_target_on_a_phone_is_at_least_24_px(browser: Any, live_server: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    page = context.new_page()
    ready(page, live_server + "/")
    # open what hides targets: your own data, a pinned run, a traced point
    page.get_by_text("Your own data").click()
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => Number(document.getElementById('epoch').textContent) > 5")
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Pin run").click()
    page.get_by_role("button", name="Unpin run 1").wait_for()
    page.get_by_role("button", name="Trace a point").click()
    page.locator("#trace-body h3").first.wait_for()
    targets = page.evaluate(
        """(css) => [...document.querySelectorAll(css)]
        .filter((e) => !e.closest('svg') && e.checkVisibility({ visibilityProperty: true }))
        .map((e) => { const r = e.getBoundingClientRect();
          return [e.id || e.getAttribute('aria-label') || e.textContent.trim().slice(0, 24)
                  || e.tagName, r.width, r.height]; })
        .filter(([, w, h]) => w > 0 && h > 0)""",
        TARGETS,
    )
    assert len(targets) > 60  # the controls, the diagram, the output, the trace, the health
    small = [t for t in targets if t[1] < 24 - 0.01 or t[2] < 24 - 0.01]
    assert not small, small
    context.close()


def laptop(browser: Any) -> Any:
    return browser.new_context(viewport={"width": 1366, "height": 768})


def test_pin_run_and_copy_link_are_on_a_laptop_s_first_screen(
    browser: Any, live_server: str
) -> None:
    context = laptop(browser)
    page = context.new_page()
    ready(page, live_server + "/")
    page.get_by_role("button", name="Play").click()  # the curves and the accuracy axis drawn
    page.wait_for_function("() => Number(document.getElementById('epoch').textContent) > 20")
    page.wait_for_function("() => document.getElementById('loss-curve').data?.length >= 3")
    assert page.evaluate("window.scrollY") == 0
    for name in ("Pin run", "Copy link"):
        box = page.get_by_role("button", name=name).bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 768, (name, box)
    context.close()


def test_the_bar_with_play_stays_in_view_on_a_laptop(browser: Any, live_server: str) -> None:
    context = laptop(browser)
    page = context.new_page()
    ready(page, live_server + "/")
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_function("() => window.scrollY > 300")
    play = page.get_by_role("button", name="Play")
    box = play.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 768, box
    # nothing covers it: the point at its middle is the button
    on_top = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).closest('#play') !== null",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert on_top
    play.click()
    page.wait_for_function("() => Number(document.getElementById('epoch').textContent) > 3")
    # a control reached by the keyboard is scrolled into view below the bar, not under it
    page.get_by_role("button", name="Regenerate").focus()
    bar = page.locator(".controls").bounding_box()
    regenerate = page.get_by_role("button", name="Regenerate").bounding_box()
    assert regenerate["y"] >= bar["y"] + bar["height"] - 1, (bar, regenerate)
    context.close()
