"""The playground page, what it offers (``/api/options``) and ``/ws/train``."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import HTMLResponse

from app.classroom import store as classes
from app.lessons import lesson
from app.pages import templates
from app.playground.presets import PRESETS
from app.playground.schema import TrainConfig
from app.playground.session import PlaygroundSession
from app.playground.words import WORDS, power_of_ten
from app.session.host import serve_session
from app.validation import LIMITS
from nn_core.activations import HIDDEN_ACTIVATIONS
from nn_core.boundary import grid_points, quantize
from nn_core.datasets import DATASETS, make_dataset
from nn_core.features import FEATURE_LABELS, FEATURES, transform
from nn_core.health import HEALTHY_BAND
from nn_core.losses import LOSSES
from nn_core.optimizers import OPTIMIZERS

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def playground(request: Request) -> HTMLResponse:
    """The playground: build a network, press play, watch it learn."""
    band = [power_of_ten(v) for v in HEALTHY_BAND]  # the health hint's green band
    return templates.TemplateResponse(
        request, "playground.html", {"page": "playground", "band": band}
    )


@router.websocket("/ws/train")
async def train_socket(websocket: WebSocket) -> None:
    """One playground training session per connection."""
    state = websocket.app.state
    engine, classroom = state.backprop.engine, state.classroom
    await serve_session(websocket, PlaygroundSession, engine=engine, classroom=classroom)


@router.get("/api/options")
async def options(request: Request) -> dict[str, Any]:
    """What the playground offers: the run config's JSON schema (every control's type,
    default, range and choices), data sets, activations, optimizers, which output each loss
    needs, limits and presets; the saved models' name rule and quotas; and the update
    ratios of healthy training (the health chart's green band)."""
    return {
        "schema": config_schema(),
        "datasets": {
            k: {"problem": v.problem, "multiclass": v.multiclass, "description": v.description}
            for k, v in DATASETS.items()
        },
        "features": FEATURE_LABELS,
        "activations": list(HIDDEN_ACTIVATIONS),
        "optimizers": list(OPTIMIZERS),
        "losses": {name: {"requires": list(loss.requires)} for name, loss in LOSSES.items()},
        "limits": LIMITS,
        "presets": PRESETS,
        "lessons": lesson.listing(),
        "lesson_metrics": lesson.METRICS,
        "samples": dataset_samples(),
        "feature_maps": feature_maps(),
        "words": WORDS,
        "models": request.app.state.backprop.models.rules(),
        "classes": classes.rules(request.app.state.backprop.settings),
        "health": {"healthy_band": list(HEALTHY_BAND)},
    }


@lru_cache(maxsize=1)
def config_schema() -> dict[str, Any]:
    """:class:`TrainConfig` as JSON schema, the page's one source for its controls."""
    return TrainConfig.model_json_schema()


@lru_cache(maxsize=1)
def dataset_samples() -> dict[str, Any]:
    """120 points of each data set, for the picker's thumbnails."""
    out: dict[str, Any] = {}
    for name in DATASETS:
        x, y = make_dataset(name, 120, 0.0, np.random.default_rng(0), 3)
        out[name] = np.round(np.c_[x, y], 2).tolist()
    return out


@lru_cache(maxsize=1)
def feature_maps(side: int = 16) -> dict[str, list[int]]:
    """Each feature over the plane, ``side`` x ``side`` (rows follow x2 upwards), scaled to
    its largest magnitude and quantised to 0..255: the diagram's previews of unused inputs."""
    x = transform(grid_points(side), list(FEATURES), np.float64)
    scaled = x / np.maximum(np.abs(x).max(axis=0), 1e-9)
    return {name: quantize(scaled[:, j], -1.0, 1.0).tolist() for j, name in enumerate(FEATURES)}
