"""Lessons: every shipped file passes the schema, a broken one is named with its field,
the server lists and serves them, and each lesson's checks can be met by following it."""

from __future__ import annotations

import operator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.digits.training import (
    ARCHITECTURES,
    MnistConfig,
    architecture_config,
    build_trainer,
    load_digits,
)
from app.lessons.lesson import (
    DIGITS_METRICS,
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

DIGITS_HEAD = (
    'title = "t"\nsystem = "s"\nabout = "a"\npage = "digits"\narchitecture = "nielsen_100"\n'
)
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
        (
            'title = "t"\nsystem = "s"\nabout = "a"\npage = "digits"\n[[steps]]\ntext = "x"\n',
            "architecture",
        ),
        (
            DIGITS_HEAD + '[[steps]]\ntext = "x"\n[steps.check]\nsays = "x"\n'
            'all = [{ metric = "neurons", op = "<", value = 1 }]\n',
            "neurons is not one of test_loss",
        ),
        (
            DIGITS_HEAD + '[[steps]]\ntext = "x"\n[steps.action]\nlabel = "Go"\ndo = "play"\n',
            "play is not one of set, train, pause",
        ),
        (
            DIGITS_HEAD + 'setup = { epochs = 5000 }\n[[steps]]\ntext = "x"\n',
            "epochs",
        ),
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
        assert whole["href"] == ("/digits" if item["page"] == "digits" else "/") + (
            f"#lesson={item['id']}"
        )
        if item["page"] == "digits":  # the form's architecture and fields, as Train sends
            form = {k: v for k, v in whole["config"].items() if k != "architecture"}
            assert MnistConfig.model_validate(architecture_config(whole["architecture"], **form))
            continue
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


PLAYGROUND = {k: v for k, v in lessons().items() if v.page == "playground"}
DIGITS = {k: v for k, v in lessons().items() if v.page == "digits"}


@pytest.mark.parametrize("lesson", list(PLAYGROUND.values()), ids=list(PLAYGROUND))
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


def test_each_digits_page_tutorial_system_has_a_lesson() -> None:
    """MNIST [784, 10, 10], [784, 256, 128, 64, 10] and Nielsen's 784-100-10."""
    used = {lesson.architecture for lesson in DIGITS.values()}
    assert used == set(ARCHITECTURES) - {"mlp_256_128"}


@pytest.mark.parametrize("lesson", list(DIGITS.values()), ids=list(DIGITS))
def test_following_each_digits_lesson_meets_its_checks(lesson: Lesson) -> None:
    """As the page does it: a step's Train (or changed settings) starts the form's run
    again; each check must hold within the run's own epochs."""
    digits = load_digits("mnist")
    config = lesson.config()

    def start(config: dict[str, Any]) -> tuple[Any, MnistConfig]:
        form = {k: v for k, v in config.items() if k != "architecture"}
        cfg = MnistConfig.model_validate(architecture_config(config["architecture"], **form))
        return build_trainer(cfg, digits), cfg

    trainer: Any = None
    cfg: MnistConfig | None = None
    report: Any = None
    values: dict[str, float] = {}
    for n, step in enumerate(lesson.steps):
        if step.action and step.action.do == "set":
            config = {**config, **step.action.config}
        if step.action and step.action.do in ("set", "train"):
            (trainer, cfg), report = start(config), None
        if step.check is None:
            continue
        assert trainer is not None and cfg is not None, "a check before any run"
        while True:
            if report is not None:
                values = {
                    "test_loss": report.test_loss,
                    "train_loss": report.train_loss,
                    "accuracy": report.accuracy,
                    "epoch": report.epoch,
                    "learning_rate": cfg.learning_rate,
                }
                assert set(values) == set(DIGITS_METRICS)
                if all(OPS[c.op](values[c.metric], c.value) for c in step.check.all):
                    break
            if trainer.epoch >= cfg.epochs:
                pytest.fail(f"step {n + 1} ({step.check.says}) not met in the run: {values}")
            report = trainer.step()
