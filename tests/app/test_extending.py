"""A new activation is one class plus one registry line: write exactly what the README's
Extending section says into a copy of nn_core, and every path of the app uses it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _readme_class() -> str:
    """The class exactly as README.md's Extending section writes it (its ONNX form is
    composite on purpose: onnxruntime has a Softsign operator, the composite path is the
    one to try)."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    (block,) = [b for b in blocks if "class Softsign(Activation):" in b]
    return "\n\n" + block + "\n"


REGISTRY_LINE = "        Softsign,\n"


def _with_softsign(dest: Path) -> Path:
    """A copy of nn_core with the class and the registry line added, nothing else."""
    copy = dest / "nn_core"
    shutil.copytree(ROOT / "nn_core", copy, ignore=shutil.ignore_patterns("__pycache__"))
    path = copy / "activations.py"
    text = path.read_text()
    head, sep, tail = text.partition("\n\nACTIVATIONS: dict[str, type[Activation]] = {")
    assert sep, "the registry moved: update this test and the README"
    tail, n = re.subn(r"(\n        Softmax,\n)", r"\1" + REGISTRY_LINE, tail, count=1)
    assert n == 1, "the registry's list of classes moved: update this test and the README"
    path.write_text(head.rstrip("\n") + _readme_class() + sep.lstrip("\n") + tail)
    return copy


def _env(copy: Path) -> dict[str, str]:
    # the copy first, then the project for app/ and tests/
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(copy.parent), str(ROOT)])}


def _run_in(copy: Path, cwd: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    """Python with ``args``, importing nn_core from ``copy`` (see :func:`_env`)."""
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=_env(copy), capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


def test_one_class_and_one_registry_line_reach_every_path(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    copy = _with_softsign(tmp_path)
    out = _run_in(copy, tmp_path, [str(ROOT / "tests" / "app" / "extension_probe.py"), str(copy)])
    assert out.returncode == 0, out.stderr[-3000:]
    checks = out.stdout.split()
    assert checks[0] == "ok"
    assert checks[1:] == ["registry", "options", "frame", "health", "trace", "verify", "onnx"]


def test_the_registry_parametrised_core_tests_check_the_new_class(tmp_path: Path) -> None:
    copy = _with_softsign(tmp_path)
    tests = [ROOT / "tests" / "core" / "test_activations.py"]
    pytest_args = ["-m", "pytest", "-vv", "-p", "no:cacheprovider", "--import-mode=append"]
    out = _run_in(copy, tmp_path, pytest_args + [str(t) for t in tests])
    assert out.returncode == 0, out.stdout[-3000:]
    passed = [line for line in out.stdout.splitlines() if "[softsign]" in line]
    assert len(passed) >= 3 and all("PASSED" in line for line in passed), passed
