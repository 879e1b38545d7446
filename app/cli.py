"""The ``backprop-lab`` command: ``serve``, ``train-mnist`` and ``loadtest``."""

from __future__ import annotations

import argparse
import sys

from app import __version__


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="backprop-lab", description="Watch a neural network learn."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the web app")
    serve.add_argument("--host", default=None, help="address (default: BACKPROP_HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="default: BACKPROP_PORT, 8000")
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
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
        from app.config import load_settings

        settings = load_settings()
        serve_app(
            args.host or settings.host,
            args.port if args.port is not None else settings.port,
            args.workers if args.workers is not None else settings.workers,
        )
    elif args.command == "loadtest":
        from app.serving.loadtest import main as loadtest

        report = loadtest(args.url, args.learners, args.seconds, sys.stdout)
        sys.exit(0 if report.training() else 1)
    else:
        from app.digits.recipe import train_shipped_model

        train_shipped_model(
            args.epochs, args.seed, args.out, augment=not args.no_augment, stream=sys.stderr
        )


def serve_app(host: str, port: int, workers: int = 0) -> None:
    """Serve on every core (:mod:`app.serving.supervisor`), or in this process when one
    worker is asked for (``workers`` 0: as many as the CPU quota or the cores)."""
    from app.config import default_workers
    from app.serving.server import run_server
    from app.serving.supervisor import serve_workers

    n = default_workers(workers)
    if n <= 1:
        run_server(host, port)
    else:
        serve_workers(host, port, n)


if __name__ == "__main__":
    main()
