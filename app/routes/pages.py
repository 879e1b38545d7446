"""The two pages and plotly.js, served from the installed ``plotly`` wheel."""

from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

import plotly
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from app.config import ROOT

router = APIRouter()
templates = Jinja2Templates(directory=ROOT / "templates")
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@lru_cache(maxsize=1)
def plotly_bundle() -> tuple[bytes, bytes, str]:
    """plotly.min.js, its gzip, and an ETag; compressed once per process."""
    raw = PLOTLY_JS.read_bytes()
    return raw, gzip.compress(raw, 6), hashlib.sha256(raw).hexdigest()[:16]


@router.get("/static/vendor/plotly.min.js", include_in_schema=False)
async def plotly_js(request: Request) -> Response:
    raw, packed, etag = plotly_bundle()
    headers = {
        "ETag": f'"{etag}"',
        "Cache-Control": "public, max-age=86400",
        "Vary": "Accept-Encoding",
    }
    if request.headers.get("if-none-match") == f'"{etag}"':
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(
            packed, media_type="text/javascript", headers={**headers, "Content-Encoding": "gzip"}
        )
    return Response(raw, media_type="text/javascript", headers=headers)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def playground(request: Request) -> HTMLResponse:
    """The playground: build a network, press play, watch it learn."""
    return templates.TemplateResponse(request, "playground.html", {"page": "playground"})


@router.get("/digits", response_class=HTMLResponse, include_in_schema=False)
async def digits(request: Request) -> HTMLResponse:
    """Draw a digit; train your own MNIST model."""
    from app.mnist_run import ARCHITECTURES
    from nn_core.mnist import fashion_available

    context = {"page": "digits", "architectures": ARCHITECTURES, "fashion": fashion_available()}
    return templates.TemplateResponse(request, "digits.html", context)
