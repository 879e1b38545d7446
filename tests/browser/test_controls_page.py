"""The playground's controls in real Chromium: what is typed is what runs, a refused value
leaves its box, the presets wait for Enter, the layer buttons stop at the server's limits."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def ready(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => document.getElementById('boundary').data?.[0]?.z?.length > 1")
    page.wait_for_function("() => document.getElementById('preset').options.length > 3")


def wait_link(page: Any, key: str, value: str, timeout: int = 15000) -> None:
    page.wait_for_function(
        "([k, v]) => new URLSearchParams(location.hash.slice(1)).get(k) === v",
        arg=[key, value],
        timeout=timeout,
    )


def link(page: Any, key: str) -> str | None:
    return page.evaluate("(k) => new URLSearchParams(location.hash.slice(1)).get(k)", key)  # type: ignore[no-any-return]


def options(live_server: str) -> dict[str, Any]:
    with urllib.request.urlopen(live_server + "/api/options", timeout=10) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


def type_into(page: Any, label: str, value: str) -> Any:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    return box


# typed values the run refuses, and long ones it takes
REFUSED = [
    ("Learning rate", "learning_rate", "1e9"),
    ("Learning rate", "learning_rate", "1e-30"),
    ("Regularization rate", "regularization_rate", "1e9"),
    ("Stop after", "max_epochs", "2.5"),
]
LONG = [
    ("Learning rate", "learning_rate", "0.000001"),
    ("Learning rate", "learning_rate", "0.0000015"),
    ("Learning rate", "learning_rate", "0.00012345"),
    ("Regularization rate", "regularization_rate", "0.0000015"),
    ("Stop after", "max_epochs", "1000000"),
]


def sent(page: Any) -> list[dict[str, Any]]:
    """Every JSON message the page sends on its training socket, as it sends it."""
    out: list[dict[str, Any]] = []
    page.on(
        "websocket",
        lambda ws: ws.on(
            "framesent", lambda f: out.append(json.loads(f)) if isinstance(f, str) else None
        ),
    )
    return out


@pytest.mark.parametrize(
    ("label", "key", "values"),
    [
        ("Learning rate", "learning_rate", ["0.1", "0.3", "0.01", "1", "0.003", "0.05", "3"]),
        ("Regularization rate", "regularization_rate", ["0.3", "0.01", "1", "0.003", "0.1"]),
    ],
)
def test_a_typed_rate_is_never_lost_wherever_the_box_is_clicked(
    page: Any, live_server: str, label: str, key: str, values: list[str]
) -> None:
    messages = sent(page)
    ready(page, live_server + "/")
    box = page.get_by_label(label, exact=True)
    width = box.bounding_box()["width"]
    # across the box: the text, where the suggestion list's arrow sat, the spinner's place
    offsets = [5, 20, 35, 45, 52, 60, width - 4]
    for x, value in zip(offsets, values * 2, strict=False):
        box.evaluate("el => el.blur()")
        b = box.bounding_box()  # measured at each click: the box may have widened
        page.mouse.click(b["x"] + x, b["y"] + b["height"] / 2)
        page.keyboard.press("Control+A")
        page.keyboard.type(value)
        page.keyboard.press("Enter")
        try:  # the server trains at it: its "set" reply writes the link
            wait_link(page, key, value, timeout=10000)
        except Exception:
            raise AssertionError(
                f"typed {value} after a click {x} px in: box {box.input_value()!r}, "
                f"link {link(page, key)!r}"
            ) from None
        assert box.input_value() == value
        assert messages[-1] == {"type": "set", key: float(value)}, (x, messages[-3:])


def test_arrows_move_through_the_presets_and_enter_applies_one(page: Any, live_server: str) -> None:
    messages = sent(page)
    ready(page, live_server + "/#dataset=circle")
    presets = options(live_server)["presets"]
    keys = list(presets)
    menu = page.get_by_label("Preset", exact=True)
    menu.focus()
    starts = len([m for m in messages if m["type"] == "start"])
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    assert menu.input_value() == keys[2]
    about = page.locator("#preset-about")
    expect(about).to_have_text(re.compile("^Press Enter to load this preset."))
    assert presets[keys[2]]["about"] in about.inner_text()
    page.keyboard.press("Enter")
    wait_link(page, "dataset", presets[keys[2]]["config"]["dataset"])
    loaded = [m for m in messages if m["type"] == "start"][starts:]
    # one start, for the preset Enter chose: none for the two the arrows passed
    assert len(loaded) == 1, [m["config"]["dataset"] for m in loaded]
    assert loaded[0]["config"]["dataset"] == presets[keys[2]]["config"]["dataset"]
    expect(about).to_have_text(presets[keys[2]]["about"])
    assert menu.evaluate("el => el === document.activeElement")
    # moving on and leaving the menu applies the preset it was left on
    page.keyboard.press("ArrowUp")
    assert menu.input_value() == keys[1]
    page.keyboard.press("Tab")
    wait_link(page, "dataset", presets[keys[1]]["config"]["dataset"])
    assert len([m for m in messages if m["type"] == "start"][starts:]) == 2


@pytest.mark.parametrize(("label", "key", "bad"), REFUSED)
def test_a_refused_value_leaves_its_box_and_the_message_stays(
    page: Any, live_server: str, label: str, key: str, bad: str
) -> None:
    ready(page, live_server + "/#max_epochs=100000")
    running = link(page, key)
    box = type_into(page, label, bad)
    alert = page.get_by_role("alert").filter(has_text=label)
    expect(alert).to_be_visible()
    assert re.search(r"\d to [\d,]+|whole number", alert.inner_text()), alert.inner_text()
    # the box shows what runs, not the refused value
    expect(box).to_have_value(str(running))
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => Number(document.getElementById('epoch').textContent) > 20")
    expect(alert).to_be_visible()
    expect(box).to_have_value(str(running))
    assert link(page, key) == running


@pytest.mark.parametrize(("label", "key", "value"), LONG)
def test_a_long_number_is_shown_whole(
    page: Any, live_server: str, label: str, key: str, value: str
) -> None:
    ready(page, live_server + "/")
    box = type_into(page, label, value)
    wait_link(page, key, value)
    box.evaluate("el => el.blur()")
    assert box.input_value() == value
    fits = box.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert fits[0] <= fits[1], fits  # none of it hidden past the box's edge


def test_the_layer_and_neuron_buttons_stop_at_the_server_s_limits(
    page: Any, live_server: str
) -> None:
    schema = options(live_server)["schema"]["properties"]["hidden_layers"]
    most_layers, most_neurons = schema["maxItems"], schema["items"]["maximum"]
    fewest_neurons = schema["items"]["minimum"]
    layers = [most_neurons] + [fewest_neurons] + [2] * (most_layers - 2)
    ready(page, live_server + "/#hidden_layers=" + ",".join(map(str, layers)))
    add_layer = page.get_by_role("button", name="Add hidden layer")
    expect(add_layer).to_be_disabled()
    expect(add_layer).to_have_accessible_description(
        f"The network has the most hidden layers allowed, {most_layers}."
    )
    expect(page.get_by_role("button", name="Remove hidden layer")).to_be_enabled()
    full = page.get_by_role("button", name="Add a neuron in layer 1")
    expect(full).to_be_disabled()
    expect(full).to_have_accessible_description(
        f"Layer 1 has the most neurons allowed, {most_neurons}."
    )
    single = page.get_by_role("button", name="Remove a neuron in layer 2")
    expect(single).to_be_disabled()
    expect(single).to_have_accessible_description(
        f"Layer 2 has the fewest neurons allowed, {fewest_neurons}."
    )
    expect(page.get_by_role("button", name="Add a neuron in layer 2")).to_be_enabled()
    # at a limit a key press does nothing, and the focus stays
    full.focus()
    page.keyboard.press("Enter")
    assert full.evaluate("el => el === document.activeElement")
    page.get_by_role("button", name="Remove hidden layer").click()
    wait_link(page, "hidden_layers", ",".join(map(str, layers[:-1])))
    assert link(page, "hidden_layers") == ",".join(map(str, layers[:-1]))
    expect(add_layer).to_be_enabled()
    expect(add_layer).to_have_accessible_description("Add a hidden layer")
    ready(page, live_server + "/#hidden_layers=")
    expect(page.get_by_role("button", name="Remove hidden layer")).to_be_disabled()
