"""Serving: the uvicorn server, the supervisor that places each connection on one of its
worker processes (one per core) and a worker's end of that handoff, the shared worker
table, the body limit, ``/api/stats`` and ``backprop-lab loadtest``."""
