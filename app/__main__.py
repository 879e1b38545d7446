"""``python -m app`` serves the app (same as ``backprop-lab serve``)."""

from app.cli import main

main(["serve", *__import__("sys").argv[1:]])
