"""The Docker image builds, serves both pages and predicts (needs a Docker daemon)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.docker_image import MARKS, ROOT, daemon_answers, required

pytestmark = [
    *MARKS,
    pytest.mark.skipif(
        not daemon_answers() and not required(),
        reason="no Docker daemon answers (CI starts one with ../shared/tools/docker-standin.sh)",
    ),
]


def test_docker_image_serves_the_app(docker_image: str) -> None:
    out = subprocess.run(
        ["bash", str(ROOT / "tests" / "docker_smoke.sh")],
        env={**os.environ, "SMOKE_IMAGE": docker_image},
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "docker-smoke: ok" in out.stdout
