"""``/ws/mnist``: train an MNIST network from the digits page, then save it by name."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, WebSocket

from app.mnist_run import MnistConfig, MnistRun
from app.routes.train_ws import serve_session
from app.schemas import Strict, make_parser

router = APIRouter()


class MnistStartRequest(Strict):
    type: Literal["start"]
    config: MnistConfig = MnistConfig()
    paused: bool = False


parse_mnist = make_parser(MnistStartRequest)


@router.websocket("/ws/mnist")
async def mnist_socket(websocket: WebSocket) -> None:
    """One MNIST training session per connection (same protocol as /ws/train)."""
    store = websocket.app.state.backprop.models

    def save(run: Any, name: str) -> Any:
        return run.save(store, name)

    await serve_session(websocket, parse=parse_mnist, build=MnistRun, save=save)
