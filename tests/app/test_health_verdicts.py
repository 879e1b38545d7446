"""The health verdict of real runs on a real server: for each backprop preset and the
cases of issue 16, every health message for a few hundred epochs names the root cause,
changes seldom, says "healthy" only below chance, and quotes figures of its own table."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from typing import Any

import pytest
import websockets

from app.playground.presets import PRESETS
from app.playground.verdicts import sci
from nn_core.diagnosis import CHANCE_MARGIN, HOLD
from tests.app.test_reliability import Server, start_server

EPOCHS = 300


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    s = start_server(tmp_path_factory.mktemp("verdicts"))
    yield s
    s.proc.terminate()
    s.proc.wait(10)


async def _healths(
    server: Server, config: dict[str, Any], epochs: int, later: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Every health message of a run until ``epochs``; ``later``: a set request sent
    when the run passes a third of them (a learner typing a rate)."""
    out: list[dict[str, Any]] = []
    applied = False
    async with websockets.connect(server.ws + "/ws/train", max_size=None) as ws:
        await ws.send(json.dumps({"type": "start", "config": config}))
        while not out or out[-1]["epoch"] < epochs:
            msg = await asyncio.wait_for(ws.recv(), 60)
            if isinstance(msg, bytes):
                continue
            event = json.loads(msg)
            if event["type"] == "set":
                applied = True  # health from here on is of the run at the new rate
            if event["type"] == "health":
                event["after_set"] = applied
                out.append(event)
                if later and event["epoch"] >= epochs // 3:
                    await ws.send(json.dumps({"type": "set", **later}))
                    later = None
    return out


def healths(server: Server, preset: str, epochs: int = EPOCHS, **over: Any) -> list[Any]:
    later = over.pop("later", None)
    config = {**PRESETS[preset]["config"], **over} if preset else over
    return asyncio.run(_healths(server, config, epochs, later))


def changes(events: list[dict[str, Any]]) -> int:
    codes = [e["code"] for e in events]
    return sum(a != b for a, b in zip(codes, codes[1:], strict=False))


def check_every_message(events: list[dict[str, Any]]) -> None:
    """Never healthy at chance, and every number in the verdict is one of its table's
    (the same message's figures written as the table writes them)."""
    assert len(events) >= 5
    for e in events:
        if e["code"] == "healthy":
            assert e["loss"] < e["chance"] * (1 - CHANCE_MARGIN), e
        cells = {sci(e["loss"]), sci(e["chance"]), str(e["n_points"])}
        for layer in e["layers"]:
            cells |= {sci(layer[k]) for k in ("grad_norm", "weight_norm", "recent_ratio")}
            cells |= {str(layer["dead"]), str(layer["saturated"]), str(layer["units"])}
            if layer["silent"] is not None:
                cells |= {str(layer["silent"]), str(layer["silent_other"])}
        text = re.sub(r"layer \d+|10⁻\S+|0\.001|\(\d+ in all\)", "", e["verdict"])
        for number in re.findall(r"-?\d[\d.]*(?:e[+-]\d+)?", text):
            assert number in cells, (number, e["verdict"], cells)


def test_learning_rate_too_high_says_steps_too_large_all_along(server: Server) -> None:
    """At rate 3 the tanh units saturate within 30 epochs and layer 1's gradient falls to
    10^-7 of the output's: the cause is the step, which the verdict keeps naming."""
    events = healths(server, "learning_rate_too_high")
    check_every_message(events)
    codes = {e["code"] for e in events[1:]}  # (the first: epoch 0, no step taken yet)
    assert codes == {"steps_too_large"}, codes
    late = [e for e in events if e["epoch"] > 100]
    assert all("lower the learning rate" in e["verdict"] for e in late)
    assert any(e["also"] for e in late)  # what the steps did is said too


@pytest.mark.parametrize("rate", [3.0, 10.0])
def test_a_rate_typed_by_hand_is_named_as_the_cause(server: Server, rate: float) -> None:
    """The same network at a sane rate, then 3 or 10 typed in while it runs."""
    events = healths(server, "learning_rate_too_high", learning_rate=0.03,
                     later={"learning_rate": rate})  # fmt: skip
    check_every_message(events)
    before = [e["code"] for e in events if not e["after_set"]]
    after = [e for e in events if e["after_set"]]
    assert set(before) <= {"not_learning", "healthy"}
    # Once the new rate is applied, the verdict names it: steps too large, or (when the
    # frames are far apart, on a busy machine, and the units saturated between two of
    # them, so the steps they still take are small) saturation, whose words say to lower
    # the rate; never a vanishing gradient, never "healthy".
    seen = [(e["epoch"], e["code"]) for e in events]
    assert {e["code"] for e in after[3:]} <= {"steps_too_large", "saturated"}, seen
    assert "steps_too_large" in {e["code"] for e in after}, seen
    for e in after[3:]:
        if e["code"] == "saturated":
            assert e["verdict"].endswith("with a lower learning rate"), e["verdict"]


def test_learning_rate_too_high_at_30_epochs_a_second(server: Server) -> None:
    """The issue's own setting: a frame every epoch or so."""
    events = healths(server, "learning_rate_too_high", epochs=90, speed=30)
    check_every_message(events)
    assert len(events) > 30 and {e["code"] for e in events[1:]} == {"steps_too_large"}


def test_vanishing_preset_never_flips_to_healthy_at_chance(server: Server) -> None:
    """Layer 1's share of the gradient is about 10⁻³ but climbs to a few 10⁻² for a stretch
    of epochs (then "not learning yet" is the truer verdict); how many frames that stretch
    spans depends on the machine's speed. Whatever it spans, no verdict flickers: each one
    shown between two changes stays for HOLD frames at least."""
    events = healths(server, "vanishing_gradients", epochs=200)
    check_every_message(events)
    assert {e["code"] for e in events} <= {"vanishing", "not_learning"}
    assert events[-1]["code"] == "vanishing" and changes(events) <= 2
    codes = [e["code"] for e in events]
    spans = [len(list(g)) for _, g in itertools.groupby(codes)]
    assert all(n >= HOLD for n in spans[1:-1]), codes


def test_dead_relus_preset_says_dead_all_along(server: Server) -> None:
    events = healths(server, "dead_relus")
    check_every_message(events)
    assert {e["code"] for e in events[1:]} == {"dead"}
    assert all(e["verdict"].endswith("Reset") for e in events[1:])


def test_he_vs_xavier_preset_says_dead_all_along(server: Server) -> None:
    events = healths(server, "he_vs_xavier", epochs=150)
    check_every_message(events)
    assert {e["code"] for e in events[1:]} <= {"dead", "not_learning"}
    assert changes(events) <= 1 and events[-1]["code"] == "dead"


def test_a_stuck_xor_net_says_stuck_and_why(server: Server) -> None:
    """Seed 1 stalls at 75 %: on about half the points all three relu units are off, so
    those points get one output though a quadrant of them is of the other class (it once
    read "healthy", and before that "steps too small: 0.0e+00": the epoch's last batch
    often moves no weight at all)."""
    events = healths(server, "xor_2_3_1", seed=1)
    check_every_message(events)
    last = events[-1]
    assert last["loss"] > 0.3  # stuck at about 75 %, not solved (0.004)
    assert changes(events[1:]) <= 1 and last["code"] == "stuck"
    assert {e["code"] for e in events[len(events) // 3 :]} == {"stuck"}
    relu = last["layers"][0]
    assert last["figures"] == {
        "layer": 0, "silent": relu["silent"], "silent_other": relu["silent_other"],
        "points": last["n_points"],
    }  # fmt: skip
    assert relu["silent_other"] >= 0.2 * last["n_points"]  # a quadrant's worth
    assert min(min(x["recent_ratio"] for x in e["layers"]) for e in events[1:]) > 1e-5


def test_xor_nets_that_solve_it_stay_healthy(server: Server) -> None:
    """Seeds 0 and 4 reach 100 %: a quadrant is all off there too, but all of one class,
    which the one output they get is right for."""
    for seed in (0, 4):
        events = healths(server, "xor_2_3_1", seed=seed)
        check_every_message(events)
        assert {e["code"] for e in events[1:]} == {"healthy"}, seed
        assert events[-1]["layers"][0]["silent"] > 0.15 * events[-1]["n_points"]
        assert events[-1]["layers"][0]["silent_other"] == 0


def test_two_learners_in_one_stack_keep_their_own_verdicts(server: Server) -> None:
    """Same shape, so one stack: the window belongs to each run."""
    high = {**PRESETS["learning_rate_too_high"]["config"]}
    sane = {**high, "learning_rate": 0.03}

    async def both() -> list[list[dict[str, Any]]]:
        return list(await asyncio.gather(_healths(server, high, 200), _healths(server, sane, 200)))

    fast, slow = asyncio.run(both())
    check_every_message(fast)
    check_every_message(slow)
    # a frame's step is its epoch's last batch's, so the first few alone may look sane or
    # only saturated: within a few frames the large steps are found, and named from then on
    codes = [e["code"] for e in fast]
    first = codes.index("steps_too_large")
    assert first <= 6 and set(codes[first:]) == {"steps_too_large"}, codes
    assert "steps_too_large" not in {e["code"] for e in slow}
