"""Backprop Lab's web application: FastAPI routes around the ``nn_core`` engine.

By feature: :mod:`app.playground` (the playground page and its runs), :mod:`app.digits`
(the digits page, prediction and models), :mod:`app.session` (one WebSocket's training
session, shared by both), :mod:`app.serving` (processes, capacity, stats, load tests).
"""

from nn_core import __version__

__all__ = ["__version__"]
