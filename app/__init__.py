"""Backprop Lab's web application: FastAPI routes around the ``nn_core`` engine."""
