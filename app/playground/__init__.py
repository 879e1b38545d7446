"""The playground: its start config, the run it builds, the backward-pass views, export,
presets and routes (``/``, ``/api/options``, ``/ws/train``)."""
