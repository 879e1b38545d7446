"""The playground page, what it offers (``/api/options``) and ``/ws/train``."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import HTMLResponse

from app.pages import templates
from app.playground.presets import PRESETS
from app.playground.session import PlaygroundSession
from app.session.host import serve_session
from app.validation import LIMITS
from nn_core.activations import HIDDEN_ACTIVATIONS
from nn_core.datasets import DATASETS, make_dataset
from nn_core.features import FEATURE_LABELS
from nn_core.optimizers import OPTIMIZERS

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def playground(request: Request) -> HTMLResponse:
    """The playground: build a network, press play, watch it learn."""
    return templates.TemplateResponse(request, "playground.html", {"page": "playground"})


@router.websocket("/ws/train")
async def train_socket(websocket: WebSocket) -> None:
    """One playground training session per connection."""
    await serve_session(websocket, PlaygroundSession)


@router.get("/api/options")
async def options() -> dict[str, Any]:
    """What the playground offers: data sets, activations, optimizers, limits, presets."""
    return {
        "datasets": {
            k: {"problem": v.problem, "multiclass": v.multiclass, "description": v.description}
            for k, v in DATASETS.items()
        },
        "features": FEATURE_LABELS,
        "activations": list(HIDDEN_ACTIVATIONS),
        "optimizers": list(OPTIMIZERS),
        "limits": LIMITS,
        "presets": PRESETS,
        "samples": dataset_samples(),
    }


@lru_cache(maxsize=1)
def dataset_samples() -> dict[str, Any]:
    """120 points of each data set, for the picker's thumbnails."""
    out: dict[str, Any] = {}
    for name in DATASETS:
        x, y = make_dataset(name, 120, 0.0, np.random.default_rng(0), 3)
        out[name] = np.round(np.c_[x, y], 2).tolist()
    return out
