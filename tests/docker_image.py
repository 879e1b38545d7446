"""The project's Docker image, built once per test run for the Docker tests that use it
(tests/test_docker.py's smoke test and tests/test_compose.py's stack)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IMAGE = "backprop-lab"
#: The Docker tests' mark: ``-m "not docker"`` leaves them out (``make test-fast``). Under
#: pytest-xdist, ``--dist loadfile`` keeps each module on one worker (the compose stack is
#: a module fixture), and ``docker_image`` builds under a lock, so the image is built once.
MARKS = [pytest.mark.docker]


def daemon_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


def required() -> bool:
    return os.environ.get("REQUIRE_DOCKER") == "1"


def build() -> str:
    """``docker build`` of the real Dockerfile (``--network=host``: the stand-in daemon CI
    uses has no bridge network); the conftest's ``docker_image`` calls it once a worker,
    one worker at a time, so every build after the first finds its layers cached."""
    out = subprocess.run(
        ["docker", "build", "--network=host", "-q", "-t", IMAGE, "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return IMAGE
