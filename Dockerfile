# Backprop Lab: docker build -t backprop-lab . && docker run -p 8000:8000 backprop-lab
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BACKPROP_DATA_DIR=/data \
    BACKPROP_HOST=0.0.0.0 \
    BACKPROP_PORT=8000

WORKDIR /srv/backprop-lab

# Dependencies first (read from pyproject.toml), so code changes do not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

COPY README.md ./
COPY nn_core ./nn_core
COPY app ./app
COPY templates ./templates
COPY static ./static
# Install the project itself, editable so it finds its templates and static files here
# (its dependencies are above), so the backprop-lab command
# exists: docker run backprop-lab backprop-lab train-mnist
RUN pip install --no-deps -e .

RUN useradd --create-home --uid 10001 lab \
 && mkdir -p /data \
 && chown lab:lab /data
USER lab
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['BACKPROP_PORT'], timeout=4)"

# One worker process per CPU of the quota (app/serving/supervisor.py); a session lives in the process
# that accepted it. BACKPROP_WORKERS overrides.
CMD ["python", "-m", "app"]
