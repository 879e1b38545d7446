"""A prediction never waits behind training: it has threads of its own, so it is answered
while every training chunk's limiter and every thread of the shared pool are taken."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import anyio.to_thread
import httpx
from fastapi.testclient import TestClient

from app.state import AppState
from tests.app.test_api import SEVEN

#: Seconds a prediction may take here; alone it takes a few hundredths.
BOUND = 10


def test_a_prediction_is_answered_while_training_holds_every_thread(client: TestClient) -> None:
    app = client.app
    state: AppState = app.state.backprop  # type: ignore[attr-defined]
    release = threading.Event()
    holding = 0

    async def hold(limiter: anyio.CapacityLimiter | None) -> None:
        nonlocal holding
        holding += 1
        await anyio.to_thread.run_sync(release.wait, limiter=limiter)

    async def predict_while_held() -> Any:
        pool = anyio.to_thread.current_default_thread_limiter()
        async with anyio.create_task_group() as tg:
            # a training chunk that runs on, and the shared pool full (page loads, model
            # lists and the playground's ticks all draw from it)
            for limiter in [state.limiter] * int(state.limiter.total_tokens) + [None] * int(
                pool.total_tokens
            ):
                tg.start_soon(hold, limiter)
            while state.limiter.borrowed_tokens < state.limiter.total_tokens or (
                pool.borrowed_tokens < pool.total_tokens
            ):
                await anyio.sleep(0.01)
            transport = httpx.ASGITransport(app=app)
            try:
                async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                    with anyio.fail_after(BOUND):
                        body = {"strokes": SEVEN, "width": 300, "height": 300}
                        return (await c.post("/api/predict", json=body)).json()
            finally:
                release.set()

    assert client.portal is not None
    answer = client.portal.call(predict_while_held)
    assert holding > 1
    assert answer["label"] == 7
