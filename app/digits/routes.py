"""The digits page and its API: prediction, the models, their files, and ``/ws/mnist``."""

from __future__ import annotations

import json
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import ValidationError

from app.digits.inputs import HINTS, LIMITS, ImageError, PredictRequest, is_tiny, to_input
from app.digits.memory import release_freed_memory
from app.digits.predict import predict
from app.digits.session import MnistSession
from app.digits.store import (
    DEFAULT_MODEL,
    LoadedModel,
    ModelNotFound,
    ModelRefused,
    ModelStore,
    model_path,
)
from app.digits.training import ARCHITECTURES, MnistConfig
from app.digits.weights import first_layer
from app.onnx_export import to_onnx
from app.pages import templates
from app.session.host import serve_session
from app.state import AppState
from app.validation import NAME_LENGTH, explain_error
from nn_core.mnist import fashion_available
from nn_core.model import ModelFileError

router = APIRouter()


def error(status: int, field: str, message: str) -> JSONResponse:
    return JSONResponse(problem(field, message), status_code=status)


def problem(field: str, message: str) -> dict[str, Any]:
    return {"detail": {"field": field, "message": message}}


def find_model(store: ModelStore, name: str, field: str) -> LoadedModel | tuple[int, str, str]:
    """The named model, or the status, field and message of the error that names ``field``."""
    try:
        return store.get(name)
    except (ModelFileError, OSError) as exc:  # before ValueError, which ModelFileError is
        return 422, field, f"model {name!r} cannot be used: {exc}"
    except ValueError as exc:
        return 422, field, str(exc)
    except ModelNotFound:
        return 404, field, f"no model named {name!r}; see GET /api/models"


async def load_model(state: AppState, name: str, field: str) -> LoadedModel | JSONResponse:
    """The named model, or the error response that names ``field``."""
    found = await anyio.to_thread.run_sync(find_model, state.models, name, field)
    return error(*found) if isinstance(found, tuple) else found


@router.post("/api/predict")
async def predict_digit(request: Request) -> Response:
    """Classify a digit given as pixels, a canvas image, or pen strokes."""
    state: AppState = request.app.state.backprop
    body = await request.body()
    # One trip to the prediction threads does it all, the JSON included: under a class's
    # load the event loop is the scarce part, and training holds neither those threads
    # nor their limiter.
    status, content = await anyio.to_thread.run_sync(
        answer, state.models, body, limiter=state.predict_limiter
    )
    return Response(content, status_code=status, media_type="application/json")


def answer(store: ModelStore, body: bytes) -> tuple[int, bytes]:
    """On a prediction thread: the status and JSON of one /api/predict request."""
    status, result = _answer(store, body)
    text = json.dumps(result, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return status, text.encode()


def _answer(store: ModelStore, body: bytes) -> tuple[int, dict[str, Any]]:
    try:
        raw = json.loads(body)
    except (ValueError, RecursionError):
        return 400, problem("body", "must be a JSON object")
    if not isinstance(raw, dict):
        return 400, problem("body", "must be a JSON object")
    try:
        req = PredictRequest.model_validate(raw)
    except ValidationError as exc:
        field, message = explain_error(exc, hints=HINTS, limits=LIMITS, whole="body", known="field")
        return 422, problem(field, message)
    except RecursionError:
        return 422, problem("body", "is nested too deeply")
    model = find_model(store, req.model or DEFAULT_MODEL, "model")
    if isinstance(model, tuple):
        return model[0], problem(*model[1:])
    try:
        x = to_input(req)
    except ImageError as exc:
        return 422, problem("image", str(exc))
    return 200, predict(model, x, req.saliency, is_tiny(req))


#: The header that carries a browser's model token (``localStorage`` on the page).
OWNER_HEADER = "X-Model-Owner"


@router.get("/api/models", response_model=None)
async def list_models(request: Request) -> dict[str, Any] | JSONResponse:
    """The models available for prediction, with architecture, data set and accuracy;
    ``yours`` marks those saved with the token in the ``X-Model-Owner`` header."""
    state: AppState = request.app.state.backprop
    owner = request.headers.get(OWNER_HEADER)
    try:
        models = await anyio.to_thread.run_sync(state.models.list, owner)
    except ModelRefused as exc:
        return error(exc.status, exc.field, str(exc))
    return {"default": DEFAULT_MODEL, "models": models}


@router.delete("/api/models/{name}", response_model=None)
async def delete_model(name: str, request: Request) -> dict[str, Any] | JSONResponse:
    """Delete a saved model: only with the token it was saved with (``X-Model-Owner``)."""
    state: AppState = request.app.state.backprop
    owner = request.headers.get(OWNER_HEADER)
    if not owner:
        return error(401, "owner", f"send the token the model was saved with ({OWNER_HEADER})")
    try:
        await anyio.to_thread.run_sync(state.models.delete, name, owner)
    except ModelRefused as exc:
        return error(exc.status, exc.field, str(exc))
    except ValueError as exc:
        return error(422, "name", str(exc))
    except ModelNotFound:
        return error(404, "name", f"no model named {name!r}; see GET /api/models")
    return {"deleted": name}


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


@router.get("/api/models/{name}/first-layer", response_model=None)
async def model_first_layer(name: str, request: Request) -> dict[str, Any] | JSONResponse:
    """The model's first-layer weights as 28 x 28 pictures: every unit up to 16, else the
    16 of largest norm; bytes by the rule of :mod:`app.digits.weights`."""
    state: AppState = request.app.state.backprop
    model = await load_model(state, name, "name")
    if isinstance(model, JSONResponse):
        return model
    return first_layer(model.network)


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
            model.network,
            input_name="pixels",
            output_name="probabilities",
            normalize=True,
            doc=f"Backprop Lab model {name}: 28x28 MNIST-style pixels in [0, 1], row-major, "
            "ink high (what /api/predict returns as input); output: 10 class probabilities.",
        )
    )
    headers = {"Content-Disposition": f'attachment; filename="{name}.onnx"'}
    return Response(data, media_type="application/octet-stream", headers=headers)


@router.get("/digits", response_class=HTMLResponse, include_in_schema=False)
async def digits_page(request: Request) -> HTMLResponse:
    """Draw a digit; train your own MNIST model."""
    context = {
        "page": "digits",
        "architectures": ARCHITECTURES,
        "fashion": fashion_available(),
        # the training form's ranges and defaults, from the config the socket validates
        "mnist": MnistConfig.model_json_schema()["properties"],
        "name_length": NAME_LENGTH,
    }
    return templates.TemplateResponse(request, "digits.html", context)


@router.websocket("/ws/mnist")
async def mnist_socket(websocket: WebSocket) -> None:
    """One MNIST training session per connection (same protocol as /ws/train)."""
    store = websocket.app.state.backprop.models
    await serve_session(websocket, MnistSession, store=store)
    # The run's arrays were freed as the session ended: give their pages back.
    await anyio.to_thread.run_sync(release_freed_memory)
