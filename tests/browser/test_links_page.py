"""A shared link with values the page cannot use: the message names each one as the link
wrote it, on the scale its control shows, with what is allowed (real Chromium, real server)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import pytest

pytestmark = pytest.mark.browser

HEAD = "The link had values we could not use, so these start at their defaults: "


def message(page: Any, url: str) -> str:
    """Open ``url`` and the message the page shows once its run is ready."""
    page.goto(url)
    page.wait_for_function("() => document.getElementById('boundary').data?.[0]?.z?.length > 1")
    page.wait_for_function("() => document.getElementById('alert').textContent !== ''")
    return str(page.get_by_role("alert").inner_text())


def link(page: Any) -> dict[str, str]:
    page.wait_for_function("() => location.hash.includes('dataset=')")
    return {k: v[0] for k, v in parse_qs(page.evaluate("location.hash")[1:]).items()}


def test_text_where_a_number_belongs_is_quoted_not_null(page: Any, live_server: str) -> None:
    text = message(page, live_server + "/#learning_rate=fast&hidden_layers=4,x&activation=")
    assert text.startswith(HEAD)
    assert "learning rate “fast” (allowed 0.000001 to 10)" in text
    assert "hidden layers “4,x” (up to 8 layers of 1 to 64 neurons, as 4,2)" in text
    assert "activation left empty (one of sigmoid, tanh, relu" in text
    assert "null" not in text and '""' not in text
    assert link(page)["learning_rate"] == "0.03"


def test_noise_is_quoted_on_the_page_s_zero_to_fifty(page: Any, live_server: str) -> None:
    text = message(page, live_server + "/#dataset=circle&noise=7&train_ratio=50")
    assert "noise 700 (allowed 0 to 50; a link writes it as 0 to 0.5)" in text
    ratio = "ratio of training data 5000% (allowed 10% to 90%; a link writes it as 0.1 to 0.9)"
    assert ratio in text
    assert page.locator("#noise-value").inner_text() == "0"  # the default, on the same scale


def test_the_grid_is_read_from_a_link_like_the_other_keys(page: Any, live_server: str) -> None:
    page.goto(live_server + "/#dataset=circle&grid=40")
    page.wait_for_function(
        "() => document.getElementById('boundary').data?.[0]?.z?.length === 40", timeout=30000
    )
    assert link(page)["grid"] == "40"  # the run took it, and the link keeps it
    assert page.get_by_role("alert").inner_text() == ""
    text = message(page, live_server + "/#dataset=circle&grid=5")
    assert text == HEAD + "boundary grid 5 (allowed 10 to 200)."
    assert link(page)["grid"] == "100"


def test_a_loss_that_does_not_fit_the_data_is_named_with_the_other_refusals(
    page: Any, live_server: str
) -> None:
    text = message(page, live_server + "/#dataset=plane&loss=bce&colour=red")
    assert text.startswith(HEAD)
    assert "loss “bce” (bce does not fit a linear output; try mse)" in text
    assert "“colour” (not a setting)" in text
    got = link(page)
    assert got["loss"] == "auto" and got["dataset"] == "plane"
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => Number(document.getElementById('epoch').textContent) > 3")
