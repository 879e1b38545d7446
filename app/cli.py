"""The ``backprop-lab`` command: ``serve`` and ``train-mnist``."""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="backprop-lab", description="Watch a neural network learn."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the web app")
    serve.add_argument("--host", default=os.environ.get("BACKPROP_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("BACKPROP_PORT", "8000")))
    train = sub.add_parser("train-mnist", help="train the shipped MNIST model on the bundled data")
    train.add_argument("--epochs", type=int, default=100)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--out", default=None, help="where to write the .npz (default: the shipped model)"
    )
    train.add_argument(
        "--no-augment", action="store_true", help="train without rotations and shifts"
    )
    args = parser.parse_args(argv)
    if args.command == "serve":
        import uvicorn

        from app.config import Settings

        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            ws_max_size=Settings().max_message_bytes,
            workers=1,
            log_level="info",
        )
    else:
        from app.train_mnist import train_shipped_model

        train_shipped_model(
            args.epochs, args.seed, args.out, augment=not args.no_augment, stream=sys.stderr
        )


if __name__ == "__main__":
    main()
