"""The FastAPI application: settings, shared state, each feature's routes, static files."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app import __version__, pages
from app.classroom import routes as classroom
from app.classroom.learners import Publisher
from app.classroom.store import ClassStore
from app.config import Settings, load_settings, resource
from app.digits import routes as digits
from app.digits.quota import Quota
from app.digits.store import DEFAULT_MODEL, ModelStore
from app.lessons import routes as lessons
from app.playground import routes as playground
from app.serving import stats
from app.serving.body_limit import BodyLimit
from app.serving.headers import SecurityHeaders
from app.session.engine import Engine
from app.state import AppState


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _limit_blas_threads()
        # Training threads hold the GIL between NumPy calls; a shorter switch interval
        # lets the event loop and predictions in sooner (measured: bench_concurrency.py).
        sys.setswitchinterval(settings.switch_interval)
        state: AppState = app.state.backprop
        state.loop, state.stopping = asyncio.get_running_loop(), asyncio.Event()
        # Fit the shipped model's "is this a digit?" check now (about a second), not on the
        # first learner's first stroke.
        threading.Thread(target=_warm, args=(state,), daemon=True).start()
        yield

    app = FastAPI(
        title="Backprop Lab",
        description="Watch a neural network learn. Protocol: docs/protocol.md; API: docs/api.md.",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # served below from local files: the page must work offline
        redoc_url=None,
    )
    app.state.backprop = AppState(
        settings=settings,
        limiter=anyio.CapacityLimiter(settings.train_threads),
        models=ModelStore(settings.data_dir, quota=Quota.of(settings)),
        predict_limiter=anyio.CapacityLimiter(settings.predict_threads),
        engine=Engine(settings),
    )
    #: Every joined learner of this process, and the class directory (app/classroom).
    app.state.classroom = Publisher(ClassStore(settings), settings.class_tile_seconds)
    for feature in (pages, playground, digits, lessons, stats, classroom):
        app.include_router(feature.router)
    _offline_docs(app)  # before /static, which would otherwise answer its paths
    app.mount("/static", StaticFiles(directory=resource("static")), name="static")
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)  # outermost: a refused body gets them too
    return app


def _warm(state: AppState) -> None:
    with contextlib.suppress(Exception):  # a missing or broken model shows up when used
        model = state.models.get(DEFAULT_MODEL)
        model.novelty()


def _offline_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from the assets the ``fastapi-offline`` package bundles, instead
    of a CDN (FastAPI's "Self-hosting JavaScript and CSS for docs" recipe)."""
    import fastapi_offline
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse

    assets = Path(fastapi_offline.__file__).resolve().parent / "static"
    app.mount("/static/swagger-ui", StaticFiles(directory=str(assets)), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )


def _limit_blas_threads() -> None:
    """One BLAS thread per run: with several sessions on few cores, a multi-threaded BLAS
    in each run slows everyone about 3x; parallelism comes from the sessions instead."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
