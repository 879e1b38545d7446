"""Lessons: a setup and a few steps a teacher can walk a class through.

Each lesson is one TOML file in ``app/lessons/shipped/`` (its name is the lesson's
``id``), checked against :class:`Lesson` when the server starts, so a broken file stops
the server with a message that names the file and the field.  A lesson:

- is on one page (``page``): the playground (the default) or the digits page;
- on the playground, starts from a preset (``preset``, a key of
  :data:`~app.playground.presets.PRESETS`) and/or a partial run config (``setup``),
  validated like the page's own start message; on the digits page, from one of its
  architectures (``architecture``) and the training form's fields (``setup``);
- has steps, each with its ``text``, an optional ``action`` (a button that pins the run,
  changes settings, plays or resets; on the digits page trains or pauses), an optional
  ``check`` the page evaluates on every update (every one of its conditions on the page's
  :data:`METRICS` must hold), and optionally a ``question`` whose ``answer`` the learner
  reveals (MLCC's exercises do this).

``/api/options`` lists the lessons under ``lessons``; the page reads the whole lesson from
``/api/lessons/<id>``.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from app.digits.training import ARCHITECTURES, MnistConfig, architecture_config
from app.playground.presets import PRESETS
from app.playground.schema import TrainConfig
from app.validation import Strict

LESSON_DIR = Path(__file__).with_name("shipped")

#: The pages a lesson may be on, and where each is.
PAGES = {"playground": "/", "digits": "/digits"}

#: What a check may test on the playground, and how the page reads each from the run.
METRICS: dict[str, str] = {
    "test_loss": "the test loss of the latest epoch",
    "train_loss": "the training loss of the latest epoch",
    "accuracy": "the test accuracy of the latest epoch (0 to 1)",
    "epoch": "the epochs trained",
    "neurons": "the hidden neurons in total",
    "hidden_layers": "the number of hidden layers",
    "dead_units": "the dead ReLU units the health panel counts",
    "pinned": "1 while a run is pinned, else 0",
}
#: ... and on the digits page, from its "Train your own" run.
DIGITS_METRICS: dict[str, str] = {
    "test_loss": "the test loss of the latest epoch",
    "train_loss": "the training loss of the latest epoch",
    "accuracy": "the held-out accuracy of the latest epoch (0 to 1)",
    "epoch": "the epochs trained",
    "learning_rate": "the learning rate of the run under way",
}
#: Each page's actions: what a step's button may do there.
ACTIONS = ("pin", "set", "play", "pause", "reset", "regenerate")
DIGITS_ACTIONS = ("set", "train", "pause")
PAGE_METRICS = {"playground": METRICS, "digits": DIGITS_METRICS}
PAGE_ACTIONS = {"playground": ACTIONS, "digits": DIGITS_ACTIONS}

Text = Annotated[str, Field(min_length=1, max_length=1200)]
Title = Annotated[str, Field(min_length=1, max_length=80)]


class Condition(Strict):
    """``metric op value``, e.g. ``test_loss < 0.1``."""

    metric: Literal[tuple(METRICS | DIGITS_METRICS)]  # type: ignore[valid-type]
    op: Literal["<", "<=", ">", ">=", "=="]
    value: float


class Check(Strict):
    """Every condition must hold; ``says`` is the check in the learner's words."""

    says: Text
    all: Annotated[list[Condition], Field(min_length=1, max_length=6)]


class Action(Strict):
    """A button on the step: ``label`` is its name; ``set`` changes the run's settings
    (``config``, a partial run config, then applied as the page's own controls would)."""

    label: Title
    do: Literal[tuple(dict.fromkeys(ACTIONS + DIGITS_ACTIONS))]  # type: ignore[valid-type]
    config: dict[str, Any] = {}

    @model_validator(mode="after")
    def _config_only_for_set(self) -> Action:
        if self.config and self.do != "set":
            raise ValueError("config: only a 'set' action changes settings")
        if self.do == "set" and not self.config:
            raise ValueError("config: a 'set' action needs the settings it changes")
        return self


class Step(Strict):
    text: Text
    action: Action | None = None
    check: Check | None = None
    question: Text | None = None
    answer: Text | None = None

    @model_validator(mode="after")
    def _answer_with_question(self) -> Step:
        if (self.question is None) != (self.answer is None):
            raise ValueError("answer: a question needs its answer, and an answer its question")
        return self


class Lesson(Strict):
    """One lesson file; ``id`` comes from the file name."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
    title: Title
    about: Text
    #: Which of the tutorials' systems or presets this lesson is about.
    system: Title
    page: Literal[tuple(PAGES)] = "playground"  # type: ignore[valid-type]
    preset: str | None = None
    #: The digits page's architecture (a key of its ``ARCHITECTURES``).
    architecture: str | None = None
    setup: dict[str, Any] = {}
    steps: Annotated[list[Step], Field(min_length=1, max_length=12)]

    @model_validator(mode="after")
    def _setup_is_a_run(self) -> Lesson:
        if self.page == "digits":
            self._digits_fits()
        else:
            if self.architecture is not None:
                raise ValueError("architecture: only a lesson on the digits page has one")
            if self.preset is not None and self.preset not in PRESETS:
                raise ValueError(
                    f"preset: no preset {self.preset!r}; choose one of {', '.join(PRESETS)}"
                )
        self.run_config(self.config())
        metrics, actions = PAGE_METRICS[self.page], PAGE_ACTIONS[self.page]
        for step in self.steps:
            for c in step.check.all if step.check else ():
                if c.metric not in metrics:
                    raise ValueError(f"metric: {c.metric} is not one of {', '.join(metrics)}")
            if step.action and step.action.do not in actions:
                raise ValueError(f"do: {step.action.do} is not one of {', '.join(actions)}")
            if step.action and step.action.config:
                self.run_config({**self.config(), **step.action.config})
        return self

    def _digits_fits(self) -> None:
        if self.preset is not None:
            raise ValueError("preset: a lesson on the digits page starts from an architecture")

    def run_config(self, config: dict[str, Any]) -> TrainConfig | MnistConfig:
        """``config`` (the lesson's, or with a step's settings) checked as the page's
        start message is: a playground run, or the digits page's architecture and form."""
        if self.page == "playground":
            return TrainConfig.model_validate(config)
        if config.get("architecture") not in ARCHITECTURES:
            raise ValueError(f"architecture: choose one of {', '.join(ARCHITECTURES)}")
        form = {k: v for k, v in config.items() if k != "architecture"}
        return MnistConfig.model_validate(architecture_config(config["architecture"], **form))

    def config(self) -> dict[str, Any]:
        """The run the lesson starts with: on the playground its preset's config, then its
        own setup; on the digits page its architecture, then the form's fields it sets."""
        if self.page == "digits":
            return {"architecture": self.architecture, **self.setup}
        base = PRESETS[self.preset]["config"] if self.preset else {}
        return {**base, **self.setup}


class LessonFileError(ValueError):
    """A lesson file that cannot be used: its name and what is wrong."""


def load(path: Path) -> Lesson:
    """One lesson file, validated."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return Lesson.model_validate({"id": path.stem, **data})
    except (tomllib.TOMLDecodeError, ValidationError, UnicodeDecodeError) as exc:
        raise LessonFileError(f"{path.name}: {exc}") from exc


@lru_cache(maxsize=1)
def lessons() -> dict[str, Lesson]:
    """Every shipped lesson by id, in file-name order."""
    return {lesson.id: lesson for lesson in map(load, sorted(LESSON_DIR.glob("*.toml")))}


def listing() -> list[dict[str, str]]:
    """The lessons as ``/api/options`` lists them: ``href`` opens each on its page."""
    return [
        {"id": k, "title": v.title, "system": v.system, "page": v.page, "href": href(v)}
        for k, v in lessons().items()
    ]


def href(lesson: Lesson) -> str:
    """The link that opens ``lesson`` on its page."""
    return f"{PAGES[lesson.page]}#lesson={lesson.id}"


def lesson_event(lesson_id: str) -> dict[str, Any] | None:
    """The whole lesson for the page (its config resolved), or None if there is none."""
    lesson = lessons().get(lesson_id)
    if lesson is None:
        return None
    return {**lesson.model_dump(exclude_none=True), "config": lesson.config(), "href": href(lesson)}
