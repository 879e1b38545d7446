"""The health panel in real Chromium: a verdict that stays put and quotes its own table,
and a table that scrolls inside the panel on a phone."""

from __future__ import annotations

import re
from typing import Any

import pytest

from nn_core.health import HEALTHY_BAND

pytestmark = pytest.mark.browser

# every change of the verdict, with the table's ratio column at that moment
RECORD = """() => {
  window.verdicts = [];
  const v = document.getElementById('verdict');
  const note = () => window.verdicts.push({
    text: v.textContent,
    ratios: [...document.querySelectorAll('#health-table tbody tr')]
      .map((r) => r.cells[3].textContent),
  });
  new MutationObserver(note).observe(v, { childList: true, characterData: true, subtree: true });
}"""


def ready(page: Any, live_server: str) -> None:
    page.goto(live_server + "/")
    page.wait_for_function("() => document.querySelector('#health-table tbody tr') !== null")


def test_a_high_rate_keeps_one_verdict_whose_figure_is_in_the_table(
    page: Any, live_server: str
) -> None:
    ready(page, live_server)
    page.get_by_label("Preset").select_option("learning_rate_too_high")
    page.wait_for_function("() => location.hash.includes('learning_rate=3')")
    page.evaluate(RECORD)
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(
        "() => Number(document.getElementById('epoch').textContent) >= 120", timeout=30000
    )
    page.get_by_role("button", name="Pause").click()
    seen = page.evaluate("() => window.verdicts")
    stepped = [s for s in seen if s["text"] and "still at chance" not in s["text"]]
    assert stepped, seen
    assert {s["text"].split(":")[0] for s in stepped} == {"Steps too large"}
    for s in stepped:
        quoted = re.search(r"moves layer (\d)'s weights by (\S+) of their size", s["text"])
        assert quoted, s["text"]
        assert s["ratios"][int(quoted[1]) - 1] == quoted[2], s  # the same cell, alike
    assert page.locator("#verdict").get_attribute("class") == "verdict warn"


def test_on_a_phone_the_health_table_scrolls_inside_the_panel(
    browser: Any, live_server: str
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        ready(page, live_server)
        table = page.locator("#health-table")
        table.scroll_into_view_if_needed()
        box = table.evaluate(
            """(t) => { const lower = t.closest('.health-lower');
            return { overflow: getComputedStyle(t).overflowX, width: t.clientWidth,
              scroll: t.scrollWidth, lower: lower.scrollWidth - lower.clientWidth,
              page: document.documentElement.scrollWidth }; }"""
        )
        # the table is its own horizontal scroller; the panel and the page do not scroll
        assert box["overflow"] == "auto" and box["scroll"] > box["width"], box
        assert box["lower"] == 0 and box["page"] <= 390, box
        edges = table.evaluate(
            """(t) => { t.scrollLeft = t.scrollWidth;
            const last = [...t.querySelectorAll('thead th')].at(-1).getBoundingClientRect();
            const r = t.getBoundingClientRect();
            return { last: last.right, right: r.right, left: r.left, at: t.scrollLeft }; }"""
        )
        # scrolled to its end, the last column is whole inside the table's box
        assert edges["at"] > 0 and edges["last"] <= edges["right"] + 1, edges
        assert page.locator("#health-table thead th").last.is_visible()
    finally:
        context.close()


def test_a_stuck_xor_net_says_stuck_quoting_its_all_off_cell(
    browser: Any, live_server: str
) -> None:
    """XOR 2-3-1, seed 1: half the points have every ReLU off, a quadrant of them of the
    other class; the verdict quotes the table's cell, and the wider table still fits."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    try:
        page.goto(live_server + "/#seed=1")
        page.wait_for_function("() => document.querySelector('#health-table tbody tr') !== null")
        page.get_by_label("Preset").select_option("xor_2_3_1")
        page.wait_for_function("() => location.hash.includes('dataset=xor')")
        assert "seed=1&" in page.url + "&"  # the preset keeps the seed
        page.get_by_role("button", name="Play").click()
        page.wait_for_function(
            "() => document.getElementById('verdict').textContent.startsWith('Stuck')",
            timeout=60000,
        )
        page.get_by_role("button", name="Pause").click()
        page.wait_for_selector("#epoch[data-state=paused]")
        page.wait_for_timeout(300)  # the paused frame's health
        text = page.locator("#verdict").inner_text()
        said = re.search(r"is off on (\d+) of the (\d+) training points.* (\d+) of them", text)
        assert said, text
        headers = page.locator("#health-table thead th").all_inner_texts()
        column = headers.index("All units off")
        cell = page.locator("#health-table tbody tr").first.locator("td, th").nth(column)
        assert cell.inner_text().split("\n") == [
            f"{said[1]} of {said[2]}",
            f"{said[3]} of another class",
        ]
        output = page.locator("#health-table tbody tr").last.locator("td, th").nth(column)
        assert output.inner_text() == "–"  # the output layer has no "off"
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 1366
        band = page.evaluate("() => document.getElementById('health-ratio').layout.shapes[0]")
        assert [band["y0"], band["y1"]] == list(HEALTHY_BAND)  # the green band's one source
    finally:
        context.close()
