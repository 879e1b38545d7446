"""JSON API: health, digit prediction, models, and what the playground offers."""

from __future__ import annotations

import json
import os
import threading
from functools import lru_cache
from typing import Any

import anyio.to_thread
import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import ValidationError

from app.digits import ImageError, PredictRequest, explain, is_tiny, to_input
from app.models import DEFAULT_MODEL, LoadedModel, ModelNotFound, model_path, predict
from app.onnx_export import to_onnx
from app.presets import PRESETS
from app.schemas import LIMITS
from app.state import AppState
from nn_core.activations import HIDDEN_ACTIVATIONS
from nn_core.datasets import DATASETS, make_dataset
from nn_core.features import FEATURE_LABELS
from nn_core.model import ModelFileError
from nn_core.optimizers import OPTIMIZERS

router = APIRouter()


def error(status: int, field: str, message: str) -> JSONResponse:
    return JSONResponse({"detail": {"field": field, "message": message}}, status_code=status)


async def load_model(state: AppState, name: str, field: str) -> LoadedModel | JSONResponse:
    """The named model, or the error response that names ``field``."""
    try:
        return await anyio.to_thread.run_sync(state.models.get, name)
    except ValueError as exc:
        return error(422, field, str(exc))
    except ModelNotFound:
        return error(404, field, f"no model named {name!r}; see GET /api/models")
    except (ModelFileError, OSError) as exc:
        return error(422, field, f"model {name!r} cannot be used: {exc}")


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.post("/api/predict")
async def predict_digit(request: Request) -> Any:
    """Classify a digit given as pixels, a canvas image, or pen strokes."""
    state: AppState = request.app.state.backprop
    body = await request.body()
    try:
        raw = json.loads(body)
    except (ValueError, RecursionError):
        return error(400, "body", "must be a JSON object")
    if not isinstance(raw, dict):
        return error(400, "body", "must be a JSON object")
    try:
        req = PredictRequest.model_validate(raw)
    except ValidationError as exc:
        return error(422, *explain(exc))
    except RecursionError:
        return error(422, "body", "is nested too deeply")
    model = await load_model(state, req.model or DEFAULT_MODEL, "model")
    if isinstance(model, JSONResponse):
        return model
    try:
        x = await anyio.to_thread.run_sync(to_input, req)
    except ImageError as exc:
        return error(422, "image", str(exc))
    return await anyio.to_thread.run_sync(predict, model, x, req.saliency, is_tiny(req))


@router.get("/api/stats")
async def stats(request: Request) -> dict[str, Any]:
    """The whole server: its live training sessions and capacity, and each worker
    process's pid, sessions and resident memory (this process's threads too)."""
    state: AppState = request.app.state.backprop
    if state.table is not None:
        workers = [
            {"pid": r[0], "sessions": r[1], "rss_mb": round(r[2] * 1024 / 1e6, 1)}
            for _, r in state.table.live_rows()
        ]
    else:
        workers = [
            {"pid": os.getpid(), "sessions": state.sessions, "rss_mb": round(_rss_bytes() / 1e6, 1)}
        ]
    return {
        "sessions": sum(w["sessions"] for w in workers),
        "max_sessions": state.settings.max_sessions,
        "workers": workers,
        "threads": threading.active_count(),
        "rss_mb": round(sum(w["rss_mb"] for w in workers), 1),
    }


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


@router.get("/api/models")
async def list_models(request: Request) -> dict[str, Any]:
    """The models available for prediction, with architecture, data set and accuracy."""
    state: AppState = request.app.state.backprop
    models = await anyio.to_thread.run_sync(state.models.list)
    return {"default": DEFAULT_MODEL, "models": models}


@router.get("/api/models/{name}/download", response_model=None)
async def download_model(name: str, request: Request) -> FileResponse | JSONResponse:
    """The model's ``.npz`` file, for ``nn_core.Network.load``."""
    state: AppState = request.app.state.backprop
    try:
        path = model_path(state.models, name)
    except ValueError as exc:
        return error(422, "name", str(exc))
    except ModelNotFound:
        return error(404, "name", f"no model named {name!r}; see GET /api/models")
    return FileResponse(path, media_type="application/octet-stream", filename=f"{name}.npz")


@router.get("/api/models/{name}/onnx", response_model=None)
async def download_onnx(name: str, request: Request) -> Response | JSONResponse:
    """The model as ONNX: input ``pixels`` ``(n, 784)`` float32 (the ``input`` that
    /api/predict returns), output ``probabilities`` ``(n, 10)``."""
    state: AppState = request.app.state.backprop
    model = await load_model(state, name, "name")
    if isinstance(model, JSONResponse):
        return model
    data = await anyio.to_thread.run_sync(
        lambda: to_onnx(
            model.network, input_name="pixels", output_name="probabilities", normalize=True,
            doc=f"Backprop Lab model {name}: 28x28 MNIST-style pixels in [0, 1], row-major, "
            "ink high (what /api/predict returns as input); output: 10 class probabilities.",
        )
    )
    headers = {"Content-Disposition": f'attachment; filename="{name}.onnx"'}
    return Response(data, media_type="application/octet-stream", headers=headers)


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
