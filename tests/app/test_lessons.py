"""Lessons: every shipped file passes the schema, a broken one is named with its field,
the server lists and serves them, and each lesson's checks can be met by following it."""

from __future__ import annotations

import operator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.playground.lesson import (
    LESSON_DIR,
    METRICS,
    Lesson,
    LessonFileError,
    lessons,
    load,
)
from app.playground.presets import PRESETS
from app.playground.run import PlaygroundRun
from app.playground.schema import TrainConfig
from nn_core.health import health

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq}
#: The most epochs a check may take in :func:`test_following_each_lesson_meets_its_checks`.
MAX_EPOCHS = 1500


def test_every_shipped_lesson_passes_the_schema() -> None:
    files = sorted(LESSON_DIR.glob("*.toml"))
    assert files and list(lessons()) == [p.stem for p in files]
    for lesson in lessons().values():
        assert any(step.check for step in lesson.steps), lesson.id


def test_each_backprop_preset_and_tutorial_system_has_a_lesson() -> None:
    used = {lesson.preset for lesson in lessons().values()}
    for key, preset in PRESETS.items():
        if preset["title"].startswith("Backprop:") or key in (
            "xor_2_3_1",
            "sigmoid_mse",
            "flower_4_tanh",
        ):
            assert key in used, key


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('title = "t"\nsystem = "s"\nabout = "a"\n', "steps"),
        (
            'title = "t"\nsystem = "s"\nabout = "a"\n[[steps]]\ntext = "x"\n'
            '[steps.check]\nsays = "x"\nall = [{ metric = "speed", op = "<", value = 1 }]\n',
            "metric",
        ),
        (
            'title = "t"\nsystem = "s"\nabout = "a"\n[[steps]]\ntext = "x"\nquestion = "why?"\n',
            "answer",
        ),
        (
            'title = "t"\nsystem = "s"\nabout = "a"\n[[steps]]\ntext = "x"\n'
            '[steps.action]\nlabel = "Go"\ndo = "set"\nconfig = { learning_rate = 1e9 }\n',
            "learning_rate",
        ),
        (
            'title = "t"\nsystem = "s"\nabout = "a"\npreset = "nope"\n[[steps]]\ntext = "x"\n',
            "preset",
        ),
        ('title = "t"\nsystem = "s"\nabout = "a"\nsteps = [\n', "Invalid value"),
    ],
)
def test_a_broken_lesson_file_is_named_with_its_field(
    tmp_path: Path, text: str, field: str
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(text)
    with pytest.raises(LessonFileError) as err:
        load(path)
    assert str(err.value).startswith("broken.toml: ") and field in str(err.value)


def test_the_server_lists_and_serves_the_lessons(client: TestClient) -> None:
    options = client.get("/api/options").json()
    assert [item["id"] for item in options["lessons"]] == list(lessons())
    assert set(options["lesson_metrics"]) == set(METRICS)
    for item in options["lessons"]:
        whole = client.get(f"/api/lessons/{item['id']}").json()
        assert whole["title"] == item["title"] and whole["steps"]
        assert TrainConfig.model_validate(whole["config"])  # the page starts it as is
        if whole.get("preset"):
            assert whole["config"].items() >= {
                k: v for k, v in PRESETS[whole["preset"]]["config"].items()
                if k not in whole.get("setup", {})
            }.items()  # fmt: skip
    missing = client.get("/api/lessons/no-such-lesson")
    assert missing.status_code == 404 and "no-such-lesson" in missing.json()["detail"]


def _metrics(run: PlaygroundRun, report: Any, pinned: bool) -> dict[str, float]:
    h = health(run.network, run.trainer.x_train, run.trainer.y_train)
    return {
        "test_loss": report.test_loss,
        "train_loss": report.train_loss,
        "accuracy": report.accuracy,
        "epoch": report.epoch,
        "neurons": sum(run.cfg.hidden_layers),
        "hidden_layers": len(run.cfg.hidden_layers),
        "dead_units": len(h.dead_units),
        "pinned": float(pinned),
    }


@pytest.mark.parametrize("lesson", list(lessons().values()), ids=list(lessons()))
def test_following_each_lesson_meets_its_checks(lesson: Lesson) -> None:
    """Every step's action done as the page does it (a changed setting starts the run
    again from its seed, as Reset does), then training until the check holds."""
    config = lesson.config()
    run = PlaygroundRun(TrainConfig.model_validate({**config, "max_epochs": None}))
    pinned = False
    for n, step in enumerate(lesson.steps):
        if step.action and step.action.do == "set":
            config = {**config, **step.action.config}
        if step.action and step.action.do == "regenerate":  # a new seed, as the page draws
            config = {**config, "seed": config.get("seed", 0) + 1}
        if step.action and step.action.do in ("set", "reset", "regenerate"):
            run = PlaygroundRun(TrainConfig.model_validate({**config, "max_epochs": None}))
        pinned = pinned or bool(step.action and step.action.do == "pin")
        if step.check is None:
            continue
        for _ in range(MAX_EPOCHS):
            values = _metrics(run, run.trainer.step(), pinned)
            if all(OPS[c.op](values[c.metric], c.value) for c in step.check.all):
                break
        else:
            pytest.fail(
                f"step {n + 1} ({step.check.says}) not met in {MAX_EPOCHS} epochs: {values}"
            )
