"""Teaching with the playground in real Chromium: a lesson end to end with its checks
ticking, presets and lessons that keep their text in a link, 16 seeds side by side, and
the backward pass in matrix form against the card's gradient."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_backprop_page import play_for, ready, value
from tests.browser.test_trace_page import listen_traces

pytestmark = pytest.mark.browser
EPOCH = "Number(document.getElementById('epoch').textContent)"


def link_keys(page: Any) -> dict[str, list[str]]:
    return parse_qs(page.evaluate("location.hash").lstrip("#"))


def test_a_lesson_runs_end_to_end_with_its_checks_ticking(page: Any, live_server: str) -> None:
    page.goto(live_server + "/#lesson=xor-2-3-1")
    lesson = page.get_by_role("region", name="Lesson")
    lesson.wait_for(timeout=15000)
    assert "Step 1 of 4" in lesson.inner_text() and "XOR with three neurons" in lesson.inner_text()
    check = lesson.locator("#lesson-check")
    assert check.inner_text().startswith("○ To do: at least 200 epochs trained")
    assert page.locator("#dataset").input_value() == "xor"  # the lesson's setup runs
    lesson.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function(f"() => {EPOCH} >= 200", timeout=30000)
    page.wait_for_function(
        "() => document.getElementById('lesson-check').textContent.includes('Done')"
    )
    assert check.inner_text() == "✓ Done: at least 200 epochs trained"
    lesson.get_by_role("button", name="Next step").click()
    assert "Step 2 of 4" in lesson.inner_text()
    answer = lesson.locator("#lesson-answer")
    assert not answer.is_visible()
    lesson.get_by_role("button", name="Show the answer").click()
    assert answer.is_visible() and "corner" in answer.inner_text()
    assert link_keys(page)["lesson"] == ["xor-2-3-1"] and link_keys(page)["step"] == ["2"]
    screenshot(page, "lesson")
    # the shared link brings the lesson back at its step, with the run's settings
    link = page.evaluate("location.href")
    other = page.context.new_page()
    other.goto(link)
    again = other.get_by_role("region", name="Lesson")
    again.wait_for(timeout=15000)
    assert "Step 2 of 4" in again.inner_text()
    other.close()
    # the last step's action changes the network, and its check ticks on the new one
    lesson.get_by_role("button", name="Next step").click()
    lesson.get_by_role("button", name="Next step").click()
    lesson.get_by_role("button", name="Use 4 hidden neurons").click()
    page.wait_for_function("() => location.hash.includes('hidden_layers=4&')", timeout=15000)
    if page.get_by_role("button", name="Play", exact=True).count():
        page.get_by_role("button", name="Play", exact=True).first.click()
    page.wait_for_function(
        "() => document.getElementById('lesson-check').textContent.startsWith('✓')", timeout=30000
    )
    assert float(page.locator("#accuracy").inner_text().rstrip(" %")) >= 95
    lesson.get_by_role("button", name="Leave lesson").click()
    assert not lesson.is_visible() and "lesson" not in link_keys(page)


def test_a_preset_keeps_its_title_and_text_in_a_shared_link(page: Any, live_server: str) -> None:
    ready(page, live_server)
    page.locator("#preset").select_option("flower_4_tanh")
    page.wait_for_function("() => location.hash.includes('dataset=flower')", timeout=15000)
    about = page.locator("#preset-about").inner_text()
    assert about and link_keys(page)["preset"] == ["flower_4_tanh"]
    other = page.context.new_page()
    other.goto(page.evaluate("location.href"))
    other.wait_for_function("() => document.getElementById('preset-about').textContent.length > 0")
    assert other.locator("#preset-about").inner_text() == about
    assert other.locator("#preset").input_value() == "flower_4_tanh"
    other.close()


def test_sixteen_seeds_side_by_side_and_one_becomes_the_run(page: Any, live_server: str) -> None:
    ready(page, live_server, "#dataset=xor&hidden_layers=3&activation=relu&learning_rate=0.1")
    seeds = page.get_by_role("region", name="Seeds")
    seeds.get_by_label("Epochs each").fill("120")
    seeds.get_by_role("button", name="Run 16 seeds").click()
    page.wait_for_function(
        "() => /got stuck/.test(document.getElementById('seeds-summary').textContent)",
        timeout=60000,
    )
    tiles = seeds.locator(".seed-tile")
    assert tiles.count() == 16
    losses = [float(t.split("· ")[1]) for t in seeds.locator(".seed-text").all_inner_texts()]
    stuck = sum(v > 0.3 for v in losses)
    summary = seeds.locator("#seeds-summary").inner_text()
    assert summary == f"{stuck} of 16 seeds got stuck above a test loss of 0.3."
    assert seeds.locator(".seed-tile.stuck").count() == stuck
    screenshot(page, "seeds")
    assert page.locator("#epoch").inner_text() == "0"  # the learner's own run did not move
    pick = seeds.get_by_role("button", name=re.compile(r"^Seed 4: test loss"))
    pick.click()
    page.wait_for_function(
        "() => /your run now/.test(document.getElementById('seeds-summary').textContent)"
    )
    page.wait_for_function(f"() => {EPOCH} === 120")
    assert page.locator("#seed").inner_text() == "4" and link_keys(page)["seed"] == ["4"]
    assert page.locator("#test-loss").inner_text() == f"{losses[4]:.3f}"
    assert page.evaluate("document.getElementById('loss-curve').data[0].x.length") >= 100


def test_the_matrix_form_of_the_training_set_is_the_cards_gradient(
    page: Any, live_server: str
) -> None:
    ready(page, live_server, "#dataset=circle&seed=4")
    play_for(page, 10)
    page.get_by_role("switch", name="Matrix form").click()
    page.get_by_label("The whole training set").check()
    page.wait_for_function(
        "() => /whole training set/.test(document.getElementById('matrix-status').textContent)"
    )
    status = page.locator("#matrix-status").inner_text()
    assert f"Epoch {page.locator('#epoch').inner_text()}," in status
    captions = page.locator("#matrix-body caption").all_inner_texts()
    assert "dW1 = (1/m)·dZ1·A0ᵀ (4 × 2)" in captions  # W is n_out × n_in
    assert "Z1 = W1·A0 + b1 (4 × 250)" in captions
    dw1 = page.locator("#matrix-body table.matrix").nth(3)  # Z, A, dZ, then dW
    cell = dw1.locator("tr").nth(2).locator("td").nth(1)
    title = cell.get_attribute("title")
    assert title and title.startswith("dW[3, 2] = ")
    screenshot(page, "matrix-form")
    page.get_by_role("button", name="weight from x2 to h1.3").focus()
    card = page.get_by_role("dialog", name="Weight from x2 to h1.3")
    terms, values = card.locator("dt").all_inner_texts(), card.locator("dd").all_inner_texts()
    rows = {t.strip(): v for t, v in zip(terms, values, strict=True)}
    data_part = value(rows["data part"])
    assert float(title.split(" = ")[1]) == pytest.approx(data_part, abs=6e-5)


def test_predict_first_hides_each_result_until_the_guess_and_names_a_missed_term(
    page: Any, live_server: str
) -> None:
    traces = listen_traces(page)
    ready(page, live_server, "#dataset=circle&seed=3")
    play_for(page, 5)
    page.get_by_role("switch", name="Predict first").click()
    page.get_by_role("button", name="Trace a point").click()
    guess = page.get_by_label(re.compile("^Your prediction"))
    guess.wait_for(timeout=15000)
    page.wait_for_function("() => document.querySelector('#trace-body b.z')?.textContent === '?'")
    assert page.locator("#trace-body b.a").first.inner_text() == "?"
    t = traces[-1]
    first = t["layers"][0]
    z = first["z"][0]
    guess.fill(f"{z - first['biases'][0]:.6g}")  # the sum without its bias
    guess.press("Enter")
    result = page.locator("#predict-result")
    page.wait_for_function("() => document.getElementById('predict-result').textContent !== ''")
    text = result.inner_text()
    assert "The true value is" in text and "without the bias b" in text
    shown = page.locator("#trace-body b.z").first.inner_text()
    assert shown != "?" and value(shown) == pytest.approx(z, rel=1e-3, abs=1e-4)
    # the next step hides its own result; a right guess is called right
    page.get_by_role("button", name="Next step").click()
    page.wait_for_function("() => document.getElementById('predict-result')?.textContent === ''")
    guess.fill("about a half")  # words are refused in words, and nothing is revealed
    guess.press("Enter")
    assert result.inner_text() == "Type a number, e.g. 0.42 or -1.3e-2."
    assert page.locator("#trace-body b.z").first.inner_text() == "?"
    guess.fill(f"{t['layers'][1]['z'][0]:.8g}")
    guess.press("Enter")
    page.wait_for_function("() => document.getElementById('predict-result').textContent !== ''")
    assert result.inner_text().startswith("Right: ")
    page.get_by_role("button", name="Previous step").click()
    assert "The true value is" in result.inner_text()  # a checked step stays revealed
    page.get_by_role("switch", name="Predict first").click()
    assert page.get_by_label(re.compile("^Your prediction")).count() == 0


LABELS = (
    "label, .label, h2, legend, caption, .loss-caption, .layer-buttons, .neuron .tag, "
    "#lesson p, #lesson button, .controls button, .controls select, .controls input"
)
FONT_SIZES = """(sel) => [...document.querySelectorAll(sel)]
  .filter((e) => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
  .filter((e) => e.textContent.trim() || e.value)  /* words, not icons */
  .filter((e) => e.getBoundingClientRect().top < innerHeight)
  .map((e) => [e.id || e.className || e.tagName, parseFloat(getComputedStyle(e).fontSize)])"""
IN_VIEW = """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
  return [r.top, r.bottom, r.left, r.right]; }"""


@pytest.mark.parametrize(
    ("size", "scale"), [((1920, 1080), 1), ((1280, 720), 1.5)], ids=["1920x1080", "150% zoom"]
)
def test_presenter_mode_is_large_and_keeps_the_run_and_the_lesson_on_one_screen(
    browser: Any, live_server: str, size: tuple[int, int], scale: float
) -> None:
    """150 % zoom of a 1920 x 1080 screen is a 1280 x 720 CSS-pixel window at scale 1.5."""
    ctx = browser.new_context(
        viewport={"width": size[0], "height": size[1]}, device_scale_factor=scale
    )
    page = ctx.new_page()
    page.goto(live_server + "/#lesson=he-vs-xavier")
    page.get_by_role("region", name="Lesson").wait_for(timeout=15000)
    page.wait_for_function("() => document.getElementById('boundary').data?.[0]?.z?.length > 1")
    button = page.get_by_role("button", name="Presenter mode")
    button.click()
    assert button.get_attribute("aria-pressed") == "true"
    page.get_by_role("region", name="Lesson").get_by_role("button", name="Play").click()
    page.wait_for_function(f"() => {EPOCH} > 5", timeout=30000)
    small = [(n, px) for n, px in page.evaluate(FONT_SIZES, LABELS) if px < 18]
    assert not small, small
    readouts = page.evaluate(FONT_SIZES, "#epoch, #test-loss, #train-loss, #accuracy")
    assert len(readouts) == 4 and min(px for _, px in readouts) >= 28, readouts
    height = page.evaluate("innerHeight")
    caption_top = page.evaluate(IN_VIEW, "#lesson")[0]
    assert page.evaluate(IN_VIEW, "#lesson")[1] <= height + 1  # the step is a caption
    for sel in ("#play", "#boundary", "#loss-curve", "#test-loss", "#accuracy"):
        top, bottom, left, right = page.evaluate(IN_VIEW, sel)
        assert top >= 0 and bottom <= caption_top + 1 and right <= size[0], (sel, bottom)
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    screenshot(page, f"presenter-{size[0]}")
    page.get_by_role("button", name="Trace a point").click()
    page.wait_for_function("() => document.querySelector('#trace-body .formula') !== null")
    sizes = page.evaluate(
        "() => [...document.querySelectorAll('#trace-body .formula b')]"
        ".map((e) => parseFloat(getComputedStyle(e).fontSize))"
    )
    assert sizes and min(sizes) >= 20, sizes
    button.click()
    assert button.get_attribute("aria-pressed") == "false"
    assert page.evaluate(FONT_SIZES, "#epoch")[0][1] < 28  # and back to the page's own type
    ctx.close()
