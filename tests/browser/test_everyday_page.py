"""What a class trips over: presets and controls, links, the diagram, keyboard, words,
phones, screen readers, offline docs. Each test would have caught one reported bug."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

import pytest

from app.validation import MNIST_LIMITS

pytestmark = pytest.mark.browser

PRESETS = [
    "xor_2_3_1",
    "flower_4_tanh",
    "sigmoid_mse",
    "spiral_deep",
    "circle_features",
    "blobs_softmax",
    "vanishing_gradients",
    "dead_relus",
    "learning_rate_too_high",
    "he_vs_xavier",
]


def ready(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => document.getElementById('boundary').data?.[0]?.z?.length > 1")
    page.wait_for_function("() => document.getElementById('preset').options.length > 3")


def link(page: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(page.evaluate("location.hash.slice(1)")).items()}


def wait_link(page: Any, key: str, value: str) -> None:
    page.wait_for_function(
        "([k, v]) => new URLSearchParams(location.hash.slice(1)).get(k) === v", arg=[key, value]
    )


def set_range(page: Any, label: str, value: int) -> None:
    page.get_by_label(label, exact=True).evaluate(
        "(el, v) => { el.value = v; el.dispatchEvent(new Event('input')); "
        "el.dispatchEvent(new Event('change')); }",
        value,
    )


def test_every_preset_leaves_every_control_connected(page: Any, live_server: str) -> None:
    ready(page, live_server + "/")
    for preset in PRESETS:
        page.get_by_label("Preset").select_option(preset)
        page.wait_for_function("() => document.getElementById('preset-about').textContent !== ''")
        page.wait_for_timeout(150)
        steps: list[tuple[str, Any, str, str]] = [
            ("select", "Activation", "tanh", "activation=tanh"),
            ("select", "Dataset", "circle", "dataset=circle"),
            ("select", "Optimizer", "adam", "optimizer=adam"),
            ("select", "Initialization", "he", "init=he"),
            ("select", "Regularization", "l2", "regularization=l2"),
            ("number", "Regularization rate", "0.001", "regularization_rate=0.001"),
            ("number", "Learning rate", "0.05", "learning_rate=0.05"),
            ("range", "Noise", 25, "noise=0.25"),
            ("range", "Ratio of training to test data", 70, "train_ratio=0.7"),
            ("range", "Points", 300, "n_samples=300"),
            ("range", "Batch size", 7, "batch_size=7"),
            ("number", "Stop after", "5000", "max_epochs=5000"),
        ]
        for kind, name, value, expected in steps:
            control = page.get_by_label(name, exact=True)
            if kind == "select":
                control.select_option(value)
            elif kind == "number":
                control.fill(value)
                control.press("Enter")
            else:
                set_range(page, name, value)
            key, want = expected.split("=")
            wait_link(page, key, want)
        # the run really uses them: the server's ready event echoed them into the link
        got = link(page)
        assert got["activation"] == "tanh" and got["dataset"] == "circle", preset
        assert got["optimizer"] == "adam" and got["noise"] == "0.25", preset
        # a typed learning rate survives the next restart
        page.get_by_role("button", name="Regenerate").click()
        page.wait_for_timeout(300)
        wait_link(page, "learning_rate", "0.05")
        assert page.get_by_label("Activation", exact=True).input_value() == "tanh"
        assert page.locator("#noise-value").inner_text() == "25"


def test_a_refused_value_never_reaches_the_link(page: Any, live_server: str) -> None:
    ready(page, live_server + "/")
    rate = page.get_by_label("Learning rate", exact=True)
    rate.fill("100")
    rate.press("Enter")
    alert = page.get_by_role("alert")
    page.wait_for_function("() => document.getElementById('alert').textContent !== ''")
    assert "Learning rate" in alert.inner_text() and "0.000001 to 10" in alert.inner_text()
    assert link(page)["learning_rate"] == "0.03"
    page.get_by_label("Activation", exact=True).select_option("relu")  # a restart
    wait_link(page, "activation", "relu")
    assert link(page)["learning_rate"] == "0.03"
    rate.fill("")
    rate.press("Enter")
    page.wait_for_function("() => document.getElementById('alert').textContent.includes('type')")
    assert alert.inner_text() == "Learning rate: type a number from 0.000001 to 10."


def test_a_bad_link_opens_a_working_page_that_names_what_it_dropped(
    page: Any, live_server: str
) -> None:
    page.goto(
        live_server + "/#learning_rate=100&activation=banana&hidden_layers=4,99&noise=7"
        "&dataset=circle&colour=red"
    )
    page.wait_for_function("() => document.getElementById('alert').textContent !== ''")
    text = page.get_by_role("alert").inner_text()
    for part in (
        "learning rate 100 (allowed 0.000001 to 10)",
        "activation",
        "hidden layers",
        "noise",
        "“colour” (not a setting)",
    ):
        assert part in text
    got = link(page)
    assert got["learning_rate"] == "0.03" and got["activation"] == "tanh"
    assert got["hidden_layers"] == "4,2" and "colour" not in got
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => Number(document.getElementById('epoch').textContent) > 5")
    assert page.locator("#network .neuron.hidden").count() == 6


def test_enter_on_a_feature_or_a_neuron_button_keeps_the_focus(page: Any, live_server: str) -> None:
    ready(page, live_server + "/")
    feature = page.get_by_role("switch", name="Feature X₁X₂")
    feature.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => location.hash.includes('x1_x2')")
    page.wait_for_timeout(200)
    focused = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
    assert focused == "Feature X₁X₂"
    page.get_by_role("button", name="Add a neuron in layer 1").focus()
    page.keyboard.press("Enter")
    wait_link(page, "hidden_layers", "5,2")
    page.wait_for_timeout(200)
    focused = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
    assert focused == "Add a neuron in layer 1"
    page.keyboard.press("Enter")
    wait_link(page, "hidden_layers", "6,2")


def test_skip_link_shortcuts_and_focus_tooltips(page: Any, live_server: str) -> None:
    ready(page, live_server + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the network")
    assert skip.evaluate("el => el === document.activeElement") and skip.is_visible()
    assert page.get_by_text("space").is_visible()  # the shortcuts are on the page
    page.get_by_label("Learning rate", exact=True).focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    tip = page.get_by_role("tooltip")
    assert tip.is_visible() and "weight update" in tip.inner_text()


def test_unused_features_read_and_focus_clearly(page: Any, live_server: str) -> None:
    ready(page, live_server + "/")
    contrast = page.evaluate(
        """() => {
        const el = document.querySelector('.neuron.feature.off .tag');
        const rgb = getComputedStyle(el).color.match(/\\d+/g).map(Number);
        const lum = ([r, g, b]) => { const f = (c) => { c /= 255;
          return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
          return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
        const op = Number(getComputedStyle(el.closest('.neuron')).opacity);
        return op * (1.05 / (lum(rgb) + 0.05)); }"""
    )
    assert contrast >= 4.5
    preview = page.evaluate(
        """() => { const c = document.querySelector('.neuron.feature.off canvas');
        const d = c.getContext('2d').getImageData(0, 0, 16, 16).data;
        return new Set(Array.from(d)).size; }"""
    )
    assert preview > 10  # a dimmed picture of the feature, not an empty box


def test_messages_do_not_move_the_layout(page: Any, live_server: str) -> None:
    ready(page, live_server + "/")
    top = page.locator("#boundary").bounding_box()["y"]
    rate = page.get_by_label("Learning rate", exact=True)
    rate.fill("-1")
    rate.press("Enter")
    page.wait_for_function("() => document.getElementById('alert').textContent !== ''")
    assert page.locator("#boundary").bounding_box()["y"] == top


@pytest.mark.parametrize(
    "layers", ["8,8,8,8,8,8,8,8", "16,16,16,16,16,16,16,16", "64,64", "64,64,64,64,64,64,64,64"]
)
def test_deep_and_wide_networks_stay_readable(page: Any, live_server: str, layers: str) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    ready(page, live_server + f"/#hidden_layers={layers}&activation=relu")
    n_hidden = sum(int(n) for n in layers.split(","))
    page.wait_for_function(
        f"() => document.querySelectorAll('#network .neuron.hidden').length === {n_hidden}",
        timeout=30000,
    )
    page.wait_for_timeout(300)
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('#network .layer-ctl')].map(e => {
        const r = e.getBoundingClientRect(); return [r.left, r.right, r.top, r.bottom]; })"""
    )
    boxes.sort()
    for (_, right, _, _), (left, _, _, _) in zip(boxes, boxes[1:], strict=False):
        assert right <= left + 1, boxes  # layer labels and menus never overlap
    panel = page.locator(".network-panel").bounding_box()
    diagram = page.locator("#network").bounding_box()
    assert diagram["x"] + diagram["width"] <= panel["x"] + panel["width"] + 1
    links = page.evaluate("() => document.querySelectorAll('#network path.link-hit').length")
    if links:
        widths = page.evaluate(
            "() => [...document.querySelectorAll('#network path.link-hit')].slice(0, 50)"
            ".map(p => parseFloat(getComputedStyle(p).strokeWidth))"
        )
        assert min(widths) >= 8  # every link has a hit area of about 8 px or more
    else:  # thousands of weights: drawn together on a canvas, and the page says so
        assert page.locator("#network .links-canvas").count() == 1
        assert "cannot be picked one by one" in page.locator(".large-note").inner_text()
        sizes = layers.split(",")
        last = f"h{len(sizes)}.{sizes[-1]}"
        page.get_by_role("button", name=f"neuron {last}").focus()
        assert page.get_by_role("dialog", name=f"Bias of {last}").is_visible()
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')].filter(e =>
        e.getBoundingClientRect().right > 1367 && !e.closest('[hidden]'))
        .slice(0, 5).map(e => `${e.tagName}#${e.id}.${e.className}`)"""
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366, wide


def test_widening_the_window_lays_the_diagram_out_again(page: Any, live_server: str) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    ready(page, live_server + "/#hidden_layers=8,8,8,8,8,8,8,8")
    last = lambda: page.evaluate(  # noqa: E731
        "() => Math.max(...[...document.querySelectorAll('#network .neuron.output')]"
        ".map(e => e.getBoundingClientRect().right))"
    )
    before = last()
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.wait_for_timeout(500)
    assert last() > before + 200


def test_own_points_are_all_shown(page: Any, live_server: str) -> None:
    ready(page, live_server + "/")
    page.get_by_label("Dataset", exact=True).select_option("custom")
    page.wait_for_timeout(300)
    page.locator("#boundary").scroll_into_view_if_needed()  # choosing the data may scroll
    box = page.locator("#boundary").bounding_box()
    for k in range(16):
        page.mouse.click(box["x"] + 60 + 17 * k, box["y"] + 80 + 11 * (k % 5))
        page.wait_for_timeout(30)
    wait_link(page, "dataset", "custom")  # the run restarted on the learner's points
    count = (
        "() => (document.getElementById('boundary').data[1]?.x.length || 0)"
        " + (document.getElementById('boundary').data[2]?.x.length || 0)"
    )
    try:
        page.wait_for_function(count + " === 16", timeout=10000)
    except Exception:
        raise AssertionError(page.evaluate(count)) from None
    assert page.get_by_label("Show test data").is_checked()
    assert re.search(r"\d+ of your points train", page.locator("#own-points-note").inner_text())


def test_copy_link_shows_the_link_without_a_clipboard(page: Any, live_server: str) -> None:
    ready(page, live_server + "/")
    page.evaluate("() => { Object.defineProperty(navigator, 'clipboard', { value: undefined }); }")
    page.get_by_role("button", name="Copy link").click()
    field = page.get_by_label("Link to this setup")
    assert field.is_visible() and field.input_value().startswith(live_server + "/#dataset=")
    assert page.locator("#copy-status").inner_text() in ("Copied", "Selected: press Ctrl+C to copy")


def test_read_outs_are_quiet_and_a_summary_is_announced(page: Any, live_server: str) -> None:
    ready(page, live_server + "/")
    for name in ("epoch", "train-loss", "test-loss", "accuracy"):
        assert page.locator(f"#{name}").get_attribute("aria-live") == "off"
    page.evaluate(
        """() => { window.heard = []; window.epochs = 0;
        new MutationObserver(() => window.heard.push(
        document.getElementById('announcer').textContent)).observe(
        document.getElementById('announcer'),
        { childList: true, characterData: true, subtree: true });
        new MutationObserver(() => window.epochs++).observe(
        document.getElementById('epoch'),
        { childList: true, characterData: true, subtree: true }); }"""
    )
    page.get_by_role("button", name="Play").click()
    # Two summaries, 5 s apart: the first may come at any moment after Play (the page's
    # summary clock ticks from its load), the second a whole interval later.
    page.wait_for_function(
        "() => window.heard.filter((h) => h.includes('training loss')).length >= 2",
        timeout=20000,
    )
    heard, epochs = page.evaluate("[window.heard, window.epochs]")
    # "started", then a summary every 5 s, while the epoch read-out changed with every
    # progress (how many times depends on the machine's load; that it is many does not)
    summaries = [h for h in heard if "training loss" in h]
    assert len(summaries) == 2 and len(heard) <= 4 and epochs >= 10, (heard, epochs)
    assert any("training loss" in h for h in heard)
    curve = page.get_by_role("img", name="Loss curve", exact=True)  # the name stays put
    assert "training loss" in curve.evaluate(
        "el => document.getElementById(el.getAttribute('aria-describedby')).textContent"
    )
    assert "hidden layers of 4, 2 tanh" in page.locator("#network").get_attribute("aria-label")
    # a pause is said at once, and its epoch once the server has paused there: the epoch the
    # read-out then holds (epochs trained before the request arrived count)
    page.get_by_role("button", name="Pause").click()
    page.wait_for_selector("#epoch[data-state=paused]")
    page.wait_for_function("() => window.heard.at(-1).startsWith('Training paused')")
    heard = page.evaluate("window.heard")
    assert heard[-2:] == [
        "Pausing…",
        f"Training paused at epoch {page.locator('#epoch').inner_text()}.",
    ]


def test_loss_control_and_the_loss_name(page: Any, live_server: str) -> None:
    ready(page, live_server + "/")
    assert page.locator("#loss-name").inner_text() == "binary cross-entropy"
    page.get_by_label("Loss", exact=True).select_option("mse")
    wait_link(page, "loss", "mse")
    page.wait_for_function(
        "() => document.getElementById('loss-name').textContent === 'squared error'"
    )
    assert page.locator("#loss option[value=cross_entropy]").is_disabled()
    # a preset's loss does not stick to the next data set
    page.get_by_label("Preset").select_option("sigmoid_mse")
    wait_link(page, "loss", "mse")
    page.get_by_label("Dataset", exact=True).select_option("xor")
    wait_link(page, "loss", "auto")


@pytest.mark.parametrize("path", ["/", "/digits"])
def test_phones_never_scroll_sideways(browser: Any, live_server: str, path: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    page = context.new_page()
    page.goto(live_server + path)
    page.wait_for_timeout(1200)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    if path == "/":
        play = page.get_by_role("button", name="Play").bounding_box()
        board = page.locator("#boundary").bounding_box()
        assert play["y"] >= 0 and board["y"] + board["height"] <= 844  # one screen
        small = page.evaluate(
            """() => [...document.querySelectorAll(
            '.controls button, .controls select, .controls input, .output-panel button')]
            .filter(e => {
            const r = e.getBoundingClientRect(); return r.width && r.height < 44; }).length"""
        )
        assert small == 0
    nav = page.locator(".topbar").bounding_box()
    assert nav["height"] < 70  # the navigation stays on one line
    context.close()


def test_api_docs_work_offline(page: Any, live_server: str) -> None:
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(live_server + "/docs")
    page.get_by_text("/api/predict").first.wait_for(timeout=15000)
    assert all(u.startswith(live_server) or u.startswith("data:") for u in requested), requested


def test_digit_form_speaks_plainly_and_asks_before_replacing(page: Any, live_server: str) -> None:
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text) if m.type == "error" else None)
    page.goto(live_server + "/digits")
    page.wait_for_timeout(500)
    assert not [m for m in messages if "pattern" in m]
    most = int(MNIST_LIMITS["epochs"][1])
    assert page.get_by_label("Epochs").get_attribute("max") == str(most)
    page.get_by_label("Epochs").fill(str(most + 1))
    page.get_by_role("button", name="Train").click()
    said = f"Epochs: type a whole number from 1 to {most:,}."
    assert page.locator("#train-error").inner_text() == said
    pause = page.get_by_role("button", name="Pause")
    assert pause.is_disabled()
    assert float(pause.evaluate("el => getComputedStyle(el).opacity")) < 0.6


def test_hovering_a_neuron_shows_its_output_large(page: Any, live_server: str) -> None:
    ready(page, live_server + "/#dataset=circle&seed=2")
    page.wait_for_timeout(300)
    page.get_by_role("button", name="neuron h1.2").hover()
    page.wait_for_function("() => document.getElementById('boundary').dataset.preview === 'h1.2'")
    assert page.locator("#preview-note").inner_text() == "Showing what h1.2 outputs over the plane."
    side = page.evaluate("() => document.getElementById('boundary').data[0].z.length")
    assert side == 16
    page.mouse.move(5, 5)
    page.wait_for_function("() => !document.getElementById('boundary').dataset.preview")
    assert page.evaluate("() => document.getElementById('boundary').data[0].z.length") == 100


def test_a_relu_layer_that_dies_at_a_high_rate_is_named(page: Any, live_server: str) -> None:
    ready(page, live_server + "/#activation=relu&learning_rate=3&seed=0")
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(
        "() => document.getElementById('alert').textContent.startsWith('Layer 2 has died')",
        timeout=20000,
    )
    assert "cannot revive it" in page.get_by_role("alert").inner_text()
