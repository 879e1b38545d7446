"""What both pages share: the Jinja templates, plotly.js from the installed ``plotly``
wheel, and the liveness check."""

from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

import plotly
from fastapi import APIRouter, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from app.config import resource

router = APIRouter()
templates = Jinja2Templates(directory=resource("templates"))
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


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}
