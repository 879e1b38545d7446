from __future__ import annotations

import fcntl
from collections.abc import Iterator
from pathlib import Path

import anyio
import anyio.abc
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests import docker_image as docker


def _import_anyio_now() -> None:
    """Import every part of anyio here, on the main thread, before any test runs.

    pytest rewrites the assertions of its plugins' packages (anyio is one) as they are
    imported, with ``ast.parse``; anyio imports its parts on first use, which may be on
    a TestClient's or a worker's thread (``anyio._core._fileio``, on the first file
    response). CPython 3.11.7 keeps the AST constructor's recursion counter in one place
    for all threads (gh-106905, fixed in 3.11.8), so a parse off the main thread while
    another runs fails with "SystemError: AST constructor recursion depth mismatch", in
    whichever test happens to import first.
    """
    for module in (anyio, anyio.abc):
        for name in dir(module):
            getattr(module, name)


_import_anyio_now()


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture()
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="session")
def docker_image(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The project's image, built for the Docker tests of the run: under pytest-xdist each
    worker that runs one asks, one at a time (the workers share the base temp folder's
    parent), and only the first build does any work."""
    lock = tmp_path_factory.getbasetemp().parent / "docker-image.lock"
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        return docker.build()
