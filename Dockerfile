# Backprop Lab: docker build -t backprop-lab . && docker run -p 8000:8000 backprop-lab
#
# The base is pinned to a Python minor and a Debian release: plain python:3.11-slim moves to
# each new Debian release (bookworm, then trixie) under the same name.  For byte-for-byte
# rebuilds, append its digest (`docker buildx imagetools inspect python:3.11-slim-bookworm`).
# CI's stand-in daemon cannot pull; it builds its python:3.11-slim from Debian bookworm's own
# packages, and tests/docker_base.sh (run by .ci/run and the smoke test) tags that image
# with this name, which is what it is.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# Stage 1: build the wheel, exactly as `pip wheel .` does on a laptop.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY nn_core ./nn_core
COPY app ./app
COPY templates ./templates
COPY static ./static
RUN pip wheel -q --no-deps --wheel-dir /wheels . \
 && python -c "import email, glob, zipfile; \
w = zipfile.ZipFile(glob.glob('/wheels/*.whl')[0]); \
meta = email.message_from_bytes(w.read(next(n for n in w.namelist() if n.endswith('.dist-info/METADATA')))); \
print('\n'.join(r for r in meta.get_all('Requires-Dist') if 'extra ==' not in r))" > /wheels/requirements.txt

# Stage 2: the wheel installed, and nothing of the source tree.
FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BACKPROP_DATA_DIR=/data \
    BACKPROP_HOST=0.0.0.0 \
    BACKPROP_PORT=8000

# The wheel's dependencies first (read from its metadata), so a code change that leaves them
# alone reuses this layer; then the wheel itself, and pip check that nothing is missing.
COPY --from=build /wheels/requirements.txt /tmp/requirements.txt
RUN pip install -q -r /tmp/requirements.txt && rm /tmp/requirements.txt
COPY --from=build /wheels/*.whl /tmp/wheels/
RUN pip install -q --no-deps /tmp/wheels/*.whl && pip check && rm -r /tmp/wheels

# /classes: where deploy/compose.yaml mounts the class folder the replicas share (a new
# named volume takes the folder's owner, so the app can write it)
RUN useradd --create-home --uid 10001 lab \
 && mkdir -p /data /classes \
 && chown lab:lab /data /classes
USER lab
WORKDIR /home/lab
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['BACKPROP_PORT'], timeout=4)"

# One worker process per CPU of the quota (app/serving/supervisor.py); a session lives in the
# process that accepted it. BACKPROP_WORKERS overrides.
CMD ["backprop-lab", "serve"]
