"""The playground in real Chromium against the real server."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import screenshot

pytestmark = __import__("pytest").mark.browser


def epoch(page: Any) -> int:
    return int(page.get_by_label("Epoch", exact=True).inner_text().replace(",", ""))


def loss(page: Any, name: str) -> float:
    return float(page.get_by_label(name, exact=True).inner_text())


def heatmap_sum(page: Any) -> float:
    return float(
        page.evaluate(
            "() => { const d = document.getElementById('boundary').data; "
            "return d && d[0].z ? d[0].z.flat().reduce((a, b) => a + b, 0) : -1; }"
        )
    )


def wait_epoch(page: Any, at_least: int) -> None:
    page.wait_for_function(
        f"() => Number(document.getElementById('epoch').textContent) >= {at_least}", timeout=20000
    )


def test_play_trains_loss_falls_and_the_boundary_moves(page: Any, live_server: str) -> None:
    page.goto(live_server + "/#dataset=circle&seed=1")
    page.wait_for_function("() => document.getElementById('boundary').data?.[0]?.z?.length > 1")
    assert epoch(page) == 0
    before = heatmap_sum(page)
    page.get_by_role("button", name="Play").click()
    assert page.get_by_role("button", name="Pause").is_visible()
    wait_epoch(page, 30)
    first_loss = loss(page, "Training loss")
    wait_epoch(page, 300)
    screenshot(page, "playground")
    assert loss(page, "Training loss") < first_loss
    assert loss(page, "Test loss") < 0.3
    assert heatmap_sum(page) != before
    page.get_by_role("button", name="Pause").click()
    page.wait_for_timeout(300)
    stopped = epoch(page)
    page.wait_for_timeout(500)
    assert epoch(page) == stopped
    page.get_by_role("button", name="Step", exact=True).click()
    wait_epoch(page, stopped + 1)
    page.get_by_role("button", name="Reset").click()
    page.wait_for_function("() => document.getElementById('epoch').textContent === '0'")


def test_controls_change_the_run_and_the_url(page: Any, live_server: str) -> None:
    page.goto(live_server + "/")
    page.wait_for_function("() => document.getElementById('boundary').data?.[0]?.z?.length > 1")
    page.get_by_label("Activation", exact=True).select_option("relu")
    page.get_by_label("Dataset", exact=True).select_option("xor")
    page.get_by_label("Problem type", exact=True).select_option("classification")
    page.get_by_label("Regularization", exact=True).select_option("l2")
    page.wait_for_function("() => location.hash.includes('regularization=l2')")
    assert "activation=relu" in page.url and "dataset=xor" in page.url
    page.get_by_role("button", name="Add hidden layer").click()
    page.wait_for_function("() => location.hash.includes('hidden_layers=4,2,2')")
    page.get_by_role("button", name="Add a neuron in layer 1").click()
    page.wait_for_function("() => location.hash.includes('hidden_layers=5,2,2')")
    assert page.locator(".neuron.hidden").count() == 9
    # the URL round-trips: a fresh page from this link shows the same setup
    link = page.url
    page.goto("about:blank")
    page.goto(link)
    page.wait_for_function("() => document.querySelectorAll('.neuron.hidden').length === 9")
    assert page.get_by_label("Activation", exact=True).input_value() == "relu"
    assert page.get_by_label("Dataset", exact=True).input_value() == "xor"
    assert page.get_by_label("Regularization", exact=True).input_value() == "l2"


def test_live_controls_and_bad_values(page: Any, live_server: str) -> None:
    page.goto(live_server + "/")
    page.wait_for_function("() => document.getElementById('boundary').data?.[0]?.z?.length > 1")
    rate = page.get_by_label("Learning rate", exact=True)
    rate.fill("50")
    rate.press("Enter")
    rate.blur()
    alert = page.get_by_role("alert")
    page.wait_for_function("() => document.getElementById('alert').textContent.length > 0")
    assert re.search(
        r"Learning rate: 50 is outside the allowed range, 0\.000001 to 10", alert.inner_text()
    )
    assert rate.get_attribute("aria-invalid") == "true"
    assert "learning_rate=50" not in page.url  # a refused value never reaches the link
    rate.fill("0.1")
    rate.blur()
    page.wait_for_function("() => document.getElementById('alert').textContent === ''")
    page.get_by_role("button", name="Play").click()
    wait_epoch(page, 5)  # the run survived the bad value
    batch = page.get_by_label("Batch size")
    batch.fill("30")
    batch.dispatch_event("change")
    page.wait_for_function("() => location.hash.includes('batch_size=30')")  # once accepted
    assert "learning_rate=0.1&" in page.url


def test_presets_load_the_tutorial_systems(page: Any, live_server: str) -> None:
    page.goto(live_server + "/")
    page.wait_for_function("() => document.getElementById('preset').options.length > 3")
    page.get_by_label("Preset").select_option("xor_2_3_1")
    page.wait_for_function("() => location.hash.includes('hidden_layers=3&')")
    assert page.get_by_label("Dataset", exact=True).input_value() == "xor"
    assert page.get_by_label("Activation", exact=True).input_value() == "relu"
    assert page.get_by_text("1 hidden layer", exact=True).is_visible()
    page.get_by_label("Preset").select_option("flower_4_tanh")
    page.wait_for_function("() => location.hash.includes('dataset=flower')")
    page.get_by_role("button", name="Play").click()
    wait_epoch(page, 200)
    assert page.get_by_label("Test accuracy", exact=True).inner_text().endswith("%")


def test_divergence_is_shown_and_reset_recovers(page: Any, live_server: str) -> None:
    page.goto(
        live_server
        + "/#dataset=plane&learning_rate=10&activation=relu&hidden_layers=8,8&batch_size=1"
    )
    page.wait_for_function("() => document.getElementById('boundary').data?.[0]?.z?.length > 1")
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(
        "() => document.getElementById('alert').textContent.includes('diverged')", timeout=20000
    )
    assert page.get_by_role("button", name="Play").is_visible()
    rate = page.get_by_label("Learning rate", exact=True)
    rate.fill("0.01")
    rate.blur()
    page.get_by_role("button", name="Reset").click()
    page.wait_for_function("() => document.getElementById('epoch').textContent === '0'")
    page.get_by_role("button", name="Play").click()
    wait_epoch(page, 10)
    assert page.get_by_label("Training loss", exact=True).inner_text() != "NaN"


def test_own_points_by_clicking(page: Any, live_server: str) -> None:
    page.goto(live_server + "/")
    page.wait_for_function("() => document.getElementById('boundary').data?.[0]?.z?.length > 1")
    page.get_by_label("Dataset", exact=True).select_option("custom")
    page.get_by_text("Your own data").click()
    region = page.get_by_role("region", name="Decision boundary")
    for i, (fx, fy) in enumerate([(0.3, 0.3), (0.35, 0.25), (0.7, 0.7), (0.75, 0.65)]):
        page.get_by_label("class 1" if i >= 2 else "class 0").check()
        # the plot in the window (choosing the data or a class may have scrolled it out),
        # measured at each click: the page may have reflowed
        region.scroll_into_view_if_needed()
        box = region.bounding_box()
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    page.wait_for_function(
        "() => document.getElementById('boundary').data?.[1]?.x?.length >= 2", timeout=20000
    )
    page.get_by_role("button", name="Play").click()
    wait_epoch(page, 20)


def test_each_layer_can_have_its_own_activation(page: Any, live_server: str) -> None:
    page.goto(live_server + "/#hidden_layers=4,3&activation=tanh")
    page.wait_for_function("() => document.querySelectorAll('.neuron.hidden').length === 7")
    page.get_by_label("Activation of layer 2").select_option("relu")
    page.wait_for_function("() => location.hash.includes('activation=tanh,relu')")
    assert page.get_by_label("Activation", exact=True).input_value() == ""  # "per layer"
    page.get_by_label("Activation", exact=True).select_option("sigmoid")
    page.wait_for_function("() => location.hash.includes('activation=sigmoid&')")
    assert page.get_by_label("Activation of layer 1").input_value() == "sigmoid"


def test_space_plays_and_pauses(page: Any, live_server: str) -> None:
    page.goto(live_server + "/")
    page.wait_for_function("() => document.getElementById('boundary').data?.[0]?.z?.length > 1")
    page.locator("body").press(" ")
    assert page.get_by_role("button", name="Pause").is_visible()
    wait_epoch(page, 5)
    page.locator("body").press(" ")
    assert page.get_by_role("button", name="Play").is_visible()


def test_the_controls_follow_the_server_s_options(page: Any, live_server: str) -> None:
    """Menus, ranges and checks are made from /api/options: narrow the options on their way
    to the page and every control follows (a copied limit would not)."""

    def narrower(route: Any) -> None:
        response = route.fetch()
        options = response.json()
        props = options["schema"]["properties"]
        props["learning_rate"]["maximum"] = 5
        props["n_classes"]["maximum"] = 4
        props["n_samples"]["maximum"] = 1000
        props["hidden_layers"]["maxItems"] = 3
        props["init"]["enum"] = ["he", "xavier"]
        options["limits"]["value"] = [-7, 7]
        route.fulfill(response=response, json=options)

    page.route("**/api/options", narrower)
    page.goto(live_server + "/#hidden_layers=4,2")
    page.wait_for_function("() => document.getElementById('layer-count').textContent !== ''")
    assert page.locator("#learning-rate").get_attribute("max") == "5"
    assert page.locator("#n-classes").get_attribute("max") == "4"
    assert page.locator("#n-samples").get_attribute("max") == "1000"
    values = page.eval_on_selector_all("#init option", "os => os.map((o) => o.value)")
    assert values == ["he", "xavier"]
    # the typed-number check quotes the options' range
    rate = page.get_by_label("Learning rate", exact=True)
    rate.fill("7")
    rate.press("Enter")
    page.wait_for_function("() => document.getElementById('alert').textContent !== ''")
    assert "0.000001 to 5" in page.get_by_role("alert").inner_text()
    # at most three hidden layers, as the options say
    add = page.get_by_role("button", name="Add hidden layer")
    add.click()
    page.wait_for_function(
        "() => document.getElementById('layer-count').textContent === '3 hidden layers'"
    )
    assert add.get_attribute("aria-disabled") == "true"  # the options' limit, said on the button
    add.dispatch_event("click")
    page.wait_for_timeout(600)
    assert page.locator("#layer-count").inner_text() == "3 hidden layers"
    # the weight editor's range
    page.get_by_role("button", name="weight from x1 to h1.1").focus()
    page.keyboard.press("Enter")
    box = page.get_by_role("dialog").get_by_label("New value")
    assert box.get_attribute("min") == "-7" and box.get_attribute("max") == "7"
    box.fill("8")
    box.press("Enter")
    assert "between −7 and 7" in page.get_by_role("dialog").get_by_role("alert").inner_text()
