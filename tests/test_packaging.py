"""The packages work anywhere: the wheel `pip wheel .` builds serves both pages from an empty
venv in an unrelated folder, every command of it starts, and the engine's own wheel
(``pip wheel ./nn_core``) installs and trains with NumPy alone.

Each venv starts empty and gets one wheel and the dependencies that wheel declares, from the
package index (uv's cache makes the second run fast). The checkout is never on the path.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import nn_core
from app.lessons.lesson import LESSON_DIR

ROOT = Path(__file__).resolve().parents[1]


def _uv() -> str:
    here = Path(sys.executable).parent / "uv"
    found = str(here) if here.exists() else shutil.which("uv")
    if found is None:
        pytest.fail("uv is missing: it comes with the test extra (pip install -e '.[test]')")
    return found


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that would put the checkout or this venv in reach."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(extra)
    return env


def _run(*args: str | Path, cwd: Path, timeout: float = 300) -> str:
    out = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert out.returncode == 0, f"{args}: {out.stdout}{out.stderr}"
    return out.stdout


def _venv(where: Path, wheel: Path) -> Path:
    """An empty venv with ``wheel`` and its declared dependencies; returns its python."""
    uv = _uv()
    _run(uv, "venv", "-q", "--python", sys.executable, where, cwd=where.parent)
    python = where / "bin" / "python"
    _run(uv, "pip", "install", "-q", "--python", python, wheel, cwd=where.parent)
    return python


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``pip wheel .`` and ``pip wheel ./nn_core``, as a user would build them."""
    out = tmp_path_factory.mktemp("wheels")
    for source in (ROOT, ROOT / "nn_core"):
        _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", out, source, cwd=ROOT)
    app = next(out.glob("backprop_lab-*.whl"))
    core = next(out.glob("backprop_lab_core-*.whl"))
    return {"app": app, "core": core}


def test_the_wheels_carry_their_files_and_one_version(wheels: dict[str, Path]) -> None:
    names = set(zipfile.ZipFile(wheels["app"]).namelist())
    for f in ("app/templates/playground.html", "app/templates/digits.html", "app/static/"):
        assert any(n.startswith(f) for n in names), f
    assert "app/digits/shipped/mnist-mlp.npz" in names
    lessons = {n for n in names if n.startswith("app/lessons/shipped/")}
    assert {f"app/lessons/shipped/{p.name}" for p in LESSON_DIR.glob("*.toml")} == lessons
    assert "nn_core/data/mnist_bundled.npz" in names
    assert {"app/py.typed", "nn_core/py.typed"} <= names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not any(n.startswith(("tests/", "templates/", "static/")) for n in names)
    assert "nn_core/pyproject.toml" not in names
    core = set(zipfile.ZipFile(wheels["core"]).namelist())
    assert {"nn_core/__init__.py", "nn_core/py.typed", "nn_core/data/mnist_bundled.npz"} <= core
    assert not any(n.startswith("app/") for n in core)
    for wheel in wheels.values():
        assert f"-{nn_core.__version__}-" in wheel.name


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read()


@pytest.fixture(scope="module")
def web_venv(wheels: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _venv(tmp_path_factory.mktemp("web") / "venv", wheels["app"])


@pytest.fixture(scope="module")
def server(web_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``backprop-lab serve`` from the wheel's venv, started in an empty folder."""
    tmp_path = tmp_path_factory.mktemp("serve")
    port = _free_port()
    env = _clean_env(BACKPROP_WORKERS="1", BACKPROP_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.Popen(
        [
            str(web_venv.parent / "backprop-lab"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(url + "/healthz")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    pytest.fail(
                        "the server did not start:\n" + (proc.stdout.read() if proc.stdout else "")
                    )
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


def test_the_wheel_serves_both_pages_and_their_files_from_anywhere(server: str) -> None:
    status, page = _get(server + "/")
    assert status == 200 and b'aria-label="Decision boundary"' in page
    status, digits = _get(server + "/digits")
    assert status == 200 and b'aria-label="Digit canvas"' in digits
    linked = set(re.findall(rb'(?:href|src)="(?:https?://[^/"]+)?(/static/[^"?]+)', page + digits))
    assert any(u.endswith(b".css") for u in linked) and any(u.endswith(b".js") for u in linked)
    for path in linked:
        status, body = _get(server + path.decode())
        assert status == 200 and body, path
    status, body = _get(server + "/api/options")
    listed = json.loads(body)["lessons"]
    assert status == 200 and len(listed) == len(list(LESSON_DIR.glob("*.toml")))
    status, body = _get(server + f"/api/lessons/{listed[0]['id']}")
    assert status == 200 and json.loads(body)["steps"]


def test_every_command_of_the_wheel_runs(web_venv: Path, server: str, tmp_path: Path) -> None:
    bin_ = web_venv.parent
    where = _run(
        web_venv, "-c", "import app, nn_core; print(app.__file__, nn_core.__file__)", cwd=tmp_path
    )
    assert "site-packages" in where and str(ROOT) not in where
    assert _run(bin_ / "backprop-lab", "--version", cwd=tmp_path).split() == [
        "backprop-lab",
        nn_core.__version__,
    ]
    for command, word in (
        ("serve", "--workers"),
        ("train-mnist", "--epochs"),
        ("loadtest", "--learners"),
    ):
        assert word in _run(bin_ / "backprop-lab", command, "--help", cwd=tmp_path)
    # a real (tiny) load test: training sessions and predictions, with the declared deps only
    report = _run(
        bin_ / "backprop-lab", "loadtest", server, "--learners", "1", "--seconds", "1", cwd=tmp_path
    )
    assert "1 / 0 / 0" in report  # training / busy / errors


def test_the_engine_installs_and_trains_with_numpy_alone(
    wheels: dict[str, Path], tmp_path: Path
) -> None:
    python = _venv(tmp_path / "venv", wheels["core"])
    listed = _run(_uv(), "pip", "list", "--python", python, "--format", "freeze", cwd=tmp_path)
    assert sorted(line.split("==")[0] for line in listed.split()) == ["backprop-lab-core", "numpy"]
    script = (
        "import sys, numpy as np\n"
        "from nn_core import Network, Trainer, Adam\n"
        "x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)\n"
        "y = np.array([[0], [1], [1], [0]], dtype=np.float32)\n"
        "net = Network([2, 8, 1], activation='tanh', output_activation='sigmoid',\n"
        "              loss='bce', seed=0)\n"
        "reports = Trainer(net, Adam(0.05), x, y, x, y, batch_size=4).fit(300)\n"
        "print(reports[0].train_loss, reports[-1].train_loss)\n"
        "web = {'fastapi', 'starlette', 'pydantic', 'uvicorn', 'app'} & set(sys.modules)\n"
        "assert not web, web\n"
    )
    first, last = map(float, _run(python, "-c", script, cwd=tmp_path).split())
    assert last < 0.5 * first
