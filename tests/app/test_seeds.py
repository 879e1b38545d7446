"""Many seeds at once over /ws/train: each seed's numbers are those of training it alone,
the summary counts the stuck ones, and a picked seed becomes the learner's run."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.playground.presets import PRESETS
from app.playground.run import PlaygroundRun
from app.playground.schema import TrainConfig
from app.playground.seeds import SEED_GRID, STUCK_LOSS
from tests.app.test_backprop_protocol import start
from tests.app.wsutil import next_json

XOR = {**PRESETS["xor_2_3_1"]["config"], "n_samples": 120, "seed": 5, "grid": 20}


def alone(seed: int, epochs: int) -> PlaygroundRun:
    run = PlaygroundRun(TrainConfig.model_validate({**XOR, "seed": seed}))
    run.trainer.fit(epochs)
    return run


def until_done(ws: Any) -> tuple[dict[str, Any], int]:
    events = 0
    while True:
        event = next_json(ws, "seeds")
        events += 1
        if event["done"]:
            return event, events


def test_each_seed_trains_as_it_would_alone_and_the_summary_counts_the_stuck(
    client: TestClient,
) -> None:
    with client.websocket_connect("/ws/train") as ws:
        start(ws, XOR)
        ws.send_json({"type": "seeds", "seeds": 6, "seed_epochs": 150})
        final, events = until_done(ws)
        ws.send_json({"type": "pause"})  # the learner's own run never moved
        status = next_json(ws, "status")
    assert status["epoch"] == 0 and events >= 1
    assert [s["seed"] for s in final["seeds"]] == list(range(5, 11))
    stuck = 0
    for s in final["seeds"]:
        run = alone(s["seed"], 150)
        last = run.trainer.history[-1]
        assert s["epoch"] == 150 and s["state"] == "done"
        assert s["test_loss"] == last.test_loss and s["accuracy"] == last.accuracy  # bit for bit
        stuck += last.test_loss > STUCK_LOSS
        assert len(base64.b64decode(s["boundary"])) == SEED_GRID**2
    assert final["stuck"] == stuck
    assert final["summary"] == f"{stuck} of 6 seeds got stuck above a test loss of {STUCK_LOSS}"


def test_a_picked_seed_becomes_the_learners_run_as_trained(client: TestClient) -> None:
    with client.websocket_connect("/ws/train") as ws:
        start(ws, XOR)
        ws.send_json({"type": "seeds", "seeds": 3, "seed_epochs": 40})
        until_done(ws)
        ws.send_json({"type": "pick_seed", "seed": 6})
        history = next_json(ws, "seed_history")
        ready = next_json(ws, "ready")
        ws.send_json({"type": "step"})
        progress = next_json(ws, "progress")
        ws.send_json({"type": "pick_seed", "seed": 6})  # taken already
        again = next_json(ws, "error")
    run = alone(6, 41)
    reports = list(run.trainer.history)
    assert history["epochs"] == list(range(1, 41))
    assert history["test_loss"] == [r.test_loss for r in reports[:40]]
    assert ready["epoch"] == 40 and ready["config"]["seed"] == 6 and ready["config"]["grid"] == 20
    assert progress["epochs"][-1] == 41  # progress events carry 6 significant digits
    assert progress["test_loss"][-1] == pytest.approx(reports[40].test_loss, rel=1e-5)
    assert again["field"] == "seed" and "5 to 7" in again["message"]


@pytest.mark.parametrize(
    ("message", "field", "words"),
    [
        ({"type": "pick_seed", "seed": 3}, "seed", "run the seeds first"),
        ({"type": "seeds", "seeds": 17}, "seeds", "between 2 and 16"),
        ({"type": "seeds", "seed_epochs": 0}, "seed_epochs", "between 1 and 5000"),
    ],
)
def test_seed_requests_that_cannot_be_used_say_why(
    client: TestClient, message: dict[str, Any], field: str, words: str
) -> None:
    with client.websocket_connect("/ws/train") as ws:
        start(ws, XOR)
        ws.send_json(message)
        err = next_json(ws, "error")
    assert err["field"] == field and words in err["message"]
