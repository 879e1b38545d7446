"""The ``backprop-lab`` command: ``serve``, ``train-mnist`` and ``loadtest``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="backprop-lab", description="Watch a neural network learn."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the web app")
    serve.add_argument("--host", default=os.environ.get("BACKPROP_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("BACKPROP_PORT", "8000")))
    serve.add_argument(
        "--workers", type=int, default=None,
        help="processes (default: BACKPROP_WORKERS, else the CPU quota or the cores)",
    )
    train = sub.add_parser("train-mnist", help="train the shipped MNIST model on the bundled data")
    train.add_argument("--epochs", type=int, default=100)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--out", default=None, help="where to write the .npz (default: the shipped model)"
    )
    train.add_argument(
        "--no-augment", action="store_true", help="train without rotations and shifts"
    )
    load = sub.add_parser(
        "loadtest", help="simulate a class: real training sessions and predictions against URL"
    )
    load.add_argument("url", help="the server or deployment, e.g. http://127.0.0.1:8000")
    load.add_argument("--learners", type=int, default=30)
    load.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve_app(args.host, args.port, args.workers)
    elif args.command == "loadtest":
        from app.loadtest import main as loadtest

        report = loadtest(args.url, args.learners, args.seconds, sys.stdout)
        sys.exit(0 if report.training() else 1)
    else:
        from app.train_mnist import train_shipped_model

        train_shipped_model(
            args.epochs, args.seed, args.out, augment=not args.no_augment, stream=sys.stderr
        )


def serve_app(host: str, port: int, workers: int | None = None) -> None:
    """Serve on every core (app.workers), or in this process when one worker is asked for."""
    from app.workers import default_workers, serve_workers

    n = workers if workers is not None else default_workers()
    if n <= 1:
        run_server(host, port)
    else:
        serve_workers(host, port, n)


def run_server(
    host: str, port: int, *, table: Any = None, sockets: list[Any] | None = None
) -> None:
    """One uvicorn server in this process; on SIGTERM/SIGINT, sessions first get a last
    status.  ``table`` and ``sockets``: a worker's shared table and its own listener."""
    import asyncio
    import functools
    from types import FrameType

    import uvicorn

    from app.config import Settings
    from app.main import create_app

    settings = Settings()
    app = create_app(settings)
    state = app.state.backprop
    state.table = table
    # Our own log lines (one per ended session), formatted like uvicorn's.
    ours = logging.getLogger("backprop_lab")
    if not ours.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        ours.addHandler(handler)
        ours.setLevel(logging.INFO)
        ours.propagate = False

    class Server(uvicorn.Server):
        draining = False

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if self.draining or state.sessions == 0 or state.loop is None:
                super().handle_exit(sig, frame)
                return
            self.draining = True
            state.begin_shutdown()
            finish = functools.partial(uvicorn.Server.handle_exit, self, sig, frame)
            state.loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self.drain(finish)))

        async def drain(self, finish: functools.partial[None]) -> None:
            for _ in range(30):  # up to 3 s for sessions to say goodbye and close
                if state.sessions == 0:
                    break
                await asyncio.sleep(0.1)
            finish()

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        ws_max_size=settings.max_message_bytes,
        log_level="info",
        timeout_graceful_shutdown=5,
    )
    Server(config).run(sockets=sockets)


if __name__ == "__main__":
    main()
