"""The backward pass on the playground, driven by accessible names in real Chromium."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

NUMBER = r"[−-]?\d+\.\d+(?:·10-?\d+)?"


def ready(page: Any, live_server: str, hash_: str = "") -> None:
    page.goto(live_server + "/" + hash_)
    page.wait_for_function("() => document.getElementById('boundary').data?.[0]?.z?.length > 1")
    page.wait_for_function("() => document.querySelector('#health-table tbody tr') !== null")


def play_for(page: Any, epochs: int) -> None:
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(
        f"() => Number(document.getElementById('epoch').textContent) >= {epochs}", timeout=20000
    )
    page.get_by_role("button", name="Pause").click()
    page.wait_for_timeout(300)


def value(text: str) -> float:
    """A number as the page writes it: 1.23, −0.5 or 2.52·10-4."""
    text = text.replace("−", "-").replace("(", "").replace(")", "")
    if "·10" in text:
        mantissa, exponent = text.split("·10")
        return float(mantissa) * 10 ** int(exponent)
    return float(text)


def test_show_gradients_recolours_links_and_shows_deltas(page: Any, live_server: str) -> None:
    ready(page, live_server, "#dataset=circle&seed=2")
    play_for(page, 20)
    switch = page.get_by_role("switch", name="Show gradients")
    assert switch.get_attribute("aria-checked") == "false"
    strokes = (
        "() => [...document.querySelectorAll('#network path.link')]"
        ".map(p => p.getAttribute('stroke'))"
    )
    before = page.evaluate(strokes)
    switch.click()
    assert switch.get_attribute("aria-checked") == "true"
    after = page.evaluate(strokes)
    assert set(after) <= {"#b0287a", "#1b8a6b"} and set(before) <= {"#0877bd", "#f59322"}
    legend = page.locator("#grad-legend")
    assert legend.is_visible()
    assert re.fullmatch(r"\+\d\.\d+(e-\d+)?", page.locator("#grad-hi").inner_text())
    deltas = page.locator(".delta-tag").all_inner_texts()
    assert any(t.startswith("δ ") for t in deltas)
    switch.click()
    assert not legend.is_visible()


def test_focus_a_weight_edit_it_and_verify_it(page: Any, live_server: str) -> None:
    ready(page, live_server, "#dataset=circle&seed=4")
    play_for(page, 10)
    link = page.get_by_role("button", name="weight from x2 to h1.3")
    link.focus()
    card = page.get_by_role("dialog", name="Weight from x2 to h1.3")
    assert card.is_visible()
    text = card.inner_text()
    for label in ("weight w", "∂L/∂w", "data part", "regularisation part", "last update Δw"):
        assert label in text
    # the keyboard moves between parameters with arrows; Enter opens the editor
    link.press("ArrowDown")
    assert page.get_by_role("dialog", name="Weight from x2 to h1.4").is_visible()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    box = card.get_by_label("New value")
    assert box.evaluate("el => el === document.activeElement")
    box.fill("200")
    box.press("Enter")
    assert "between −100 and 100" in card.get_by_role("alert").inner_text()
    box.fill("2.5")
    box.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('.param-card dd')?.textContent === '2.5000'"
    )
    page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function(
        "() => document.querySelector('.param-card dd')?.textContent !== '2.5000'"
    )
    moved = value(card.locator("dd").first.inner_text())
    assert moved != 2.5 and abs(moved - 2.5) < 0.5  # training went on from the edited value
    card.get_by_role("button", name="Verify").click()
    page.wait_for_function(
        "() => document.querySelector('.verify-out .matches, .verify-out .differs')"
    )
    out = card.locator(".verify-out").inner_text()
    assert "✓ matches" in out
    error = re.search(r"relative error\s+([\d.]+e-\d+)", out)
    assert error and float(error.group(1)) < 1e-6
    analytic = re.search(r"analytic \(backprop\)\s+(\S+)", out)
    numeric = re.search(r"numeric \(finite difference\)\s+(\S+)", out)
    assert analytic and numeric
    assert value(analytic.group(1)) == pytest.approx(value(numeric.group(1)), rel=1e-5)
    page.keyboard.press("Escape")
    assert not card.is_visible()


def test_edit_a_bias_from_its_neuron(page: Any, live_server: str) -> None:
    ready(page, live_server, "#dataset=xor&hidden_layers=3&seed=1")
    page.get_by_role("button", name="neuron h1.2").click()
    card = page.get_by_role("dialog", name="Bias of h1.2")
    assert "∂L/∂b (mean δ)" in card.inner_text()
    card.get_by_label("New value").fill("-1.25")
    card.get_by_role("button", name="Set").click()
    page.wait_for_function(
        "() => document.querySelector('.param-card dd')?.textContent === '-1.2500'"
    )


def test_trace_a_point_through_every_step(page: Any, live_server: str) -> None:
    ready(page, live_server, "#dataset=circle&hidden_layers=4,2&seed=5")
    play_for(page, 30)
    page.get_by_role("button", name="Trace a point").click()
    status = page.locator("#trace-status")
    page.wait_for_function("() => document.getElementById('trace-status').textContent !== ''")
    assert status.get_attribute("aria-live") == "polite"
    expected = [
        "forward, layer 1",
        "forward, layer 2",
        "forward, layer 3",
        "loss",
        "backward, layer 3",
        "backward, layer 2",
        "backward, layer 1",
        "update",
    ]
    previous = page.get_by_role("button", name="Previous step")
    nxt = page.get_by_role("button", name="Next step")
    assert previous.is_disabled()
    for k, name in enumerate(expected, start=1):
        assert status.inner_text() == f"Step {k} of 8: {name}"
        body = page.locator("#trace-body")
        if name == "forward, layer 1":
            # z = w·x1 + w·x2 + b, with the sample's own numbers: check the arithmetic shown
            first = body.locator(".formula").first.inner_text().split("\n")[0]
            nums = [value(n) for n in re.findall(NUMBER, first.replace(" ", ""))]
            w1, a1, w2, a2, b, z = nums[-6:]
            assert w1 * a1 + w2 * a2 + b == pytest.approx(z, abs=1e-3)  # 4 decimals shown
            lit = page.locator("#network .neuron.lit").count()
            assert lit == 2 + 4  # the layer's inputs and units are highlighted
        if name == "backward, layer 2":
            line = body.locator(".formula").first.inner_text().replace(" ", "").split("\n")[0]
            nums = [value(n) for n in re.findall(NUMBER, line)]
            slope, back, delta = nums[-3:]  # ... = f'(z) · (sum) = delta
            assert slope * back == pytest.approx(delta, rel=5e-3, abs=1e-6)  # 3-4 digits shown
        if name == "update":
            change = body.locator(".loss-change").inner_text()
            before, after = (value(n) for n in re.findall(NUMBER, change.replace(" ", ""))[:2])
            assert before > 0 and after > 0 and "after this step" in change
        if k < len(expected):
            nxt.click()
    assert nxt.is_disabled()
    previous.click()
    assert status.inner_text() == "Step 7 of 8: backward, layer 1"
    screenshot(page, "backprop")


def test_clicking_a_training_point_traces_it(page: Any, live_server: str) -> None:
    ready(page, live_server, "#dataset=gaussian&seed=3")
    page.wait_for_timeout(500)
    target = page.evaluate(
        """() => { const el = document.getElementById('boundary');
        const full = el._fullLayout; const d = el.data[1];
        const r = el.getBoundingClientRect();
        return [r.left + full.xaxis._offset + full.xaxis.l2p(d.x[0]),
                r.top + full.yaxis._offset + full.yaxis.l2p(d.y[0])]; }"""
    )
    page.mouse.click(*target)
    page.wait_for_function(
        "() => document.getElementById('trace-status').textContent.startsWith('Step 1 of')"
    )
    assert "Training point 1 at" in page.locator(".trace-sample").inner_text()


def test_pin_run_compares_two_runs(page: Any, live_server: str) -> None:
    ready(page, live_server, "#dataset=circle&seed=0")
    play_for(page, 40)
    page.get_by_role("button", name="Pin run", exact=True).click()
    table = page.locator("#pins")
    assert table.is_visible() and "Run 1" in table.inner_text()
    rate = page.get_by_label("Learning rate", exact=True)
    rate.fill("0.3")
    rate.press("Enter")
    page.wait_for_function("() => location.hash.includes('learning_rate=0.3&')")
    page.get_by_role("button", name="Reset").click()
    play_for(page, 40)
    page.get_by_role("button", name="Pin run", exact=True).click()
    text = table.inner_text()
    assert "learning rate" in text and "0.03" in text and "0.3" in text
    assert "seed" not in text  # only the settings that differ are listed
    names = page.evaluate("() => document.getElementById('loss-curve').data.map(t => t.name)")
    assert "Run 1 training" in names and "Run 2 test" in names
    page.get_by_role("button", name="Unpin run 1").click()
    assert "Run 1" not in table.inner_text()


def test_same_setup_and_seed_give_the_same_curve_in_the_page(page: Any, live_server: str) -> None:
    ready(page, live_server, "#dataset=xor&seed=9&batch_size=25")
    curves = []
    for _ in range(2):
        for _ in range(5):
            page.get_by_role("button", name="Step", exact=True).click()
            page.wait_for_timeout(120)
        page.wait_for_function("() => document.getElementById('epoch').textContent === '5'")
        page.wait_for_function(
            "() => document.getElementById('loss-curve').data"
            ".find(t => t.name === 'Test loss').y.length === 5"
        )
        curves.append(
            page.evaluate(
                "() => document.getElementById('loss-curve').data"
                ".find(t => t.name === 'Test loss').y.slice()"
            )
        )
        page.get_by_role("button", name="Reset").click()
        page.wait_for_function("() => document.getElementById('epoch').textContent === '0'")
    assert curves[0] == curves[1] and len(curves[0]) == 5


def test_dead_relu_preset_shows_a_badge_and_a_verdict(page: Any, live_server: str) -> None:
    ready(page, live_server)
    page.get_by_label("Preset").select_option("dead_relus")
    about = page.locator("#preset-about")
    assert "dead" in about.inner_text()
    page.wait_for_function("() => location.hash.includes('seed=3')")
    play_for(page, 30)
    page.wait_for_function("() => document.querySelector('.dead-badge') !== null")
    verdict = page.locator("#verdict").inner_text()
    assert verdict.startswith("Dead ReLUs: 1 of 3 units")
    dead = page.get_by_role("button", name=re.compile(r"dead: inactive on all 250 training points"))
    assert dead.count() == 1
    rows = page.locator("#health-table tbody tr")
    assert rows.count() == 2 and "1 of 3" in rows.first.inner_text()
    screenshot(page, "health")


def test_vanishing_preset_says_so(page: Any, live_server: str) -> None:
    ready(page, live_server)
    page.get_by_label("Preset").select_option("vanishing_gradients")
    page.wait_for_function("() => location.hash.includes('hidden_layers=8,8,8,8,8,8')")
    for k in range(1, 6):  # five epochs, one at a time: the same numbers every run
        page.get_by_role("button", name="Step", exact=True).click()
        page.wait_for_function(f"() => document.getElementById('epoch').textContent === '{k}'")
    page.wait_for_function(
        "() => document.getElementById('verdict').textContent.startsWith('Vanishing')"
    )
    assert re.search(
        r"layer 1's gradient norm is \S+e-\d, the output layer's",
        page.locator("#verdict").inner_text(),
    )
    assert page.locator("#health-table tbody tr").count() == 7
    assert page.locator("#histograms .bars, #histograms .trace.bars").count() >= 1
