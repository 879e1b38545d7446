"""The core is pure: importing it loads no web module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEB = (
    "fastapi",
    "starlette",
    "pydantic",
    "anyio",
    "uvicorn",
    "jinja2",
    "app",
    "PIL",
    "threadpoolctl",
)


def test_nn_core_imports_only_numpy_and_the_standard_library() -> None:
    code = (
        "import sys, nn_core, nn_core.mnist, nn_core.images, nn_core.boundary\n"
        "import nn_core.backprop, nn_core.gradcheck, nn_core.health\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {WEB!r})\n"
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_core_modules_stay_small() -> None:
    for path in (ROOT / "nn_core").glob("*.py"):
        assert len(path.read_text().splitlines()) <= 400, path.name
