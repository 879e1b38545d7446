"""Serving: the uvicorn server, the supervisor of one worker process per core, the shared
worker table, the body limit, ``/api/stats`` and ``backprop-lab loadtest``."""
