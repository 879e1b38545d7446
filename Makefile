# Backprop Lab — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
LOWEST := .venv-lowest

.PHONY: run test test-fast lint types pytest pytest-fast test-lowest wheel bench docker model screenshots fuzz-long load-long storm-long soak-long stalled-long clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -U pip
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	@$(VENV)/bin/backprop-lab serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	@$(VENV)/bin/ruff check --quiet nn_core app tests bench scripts
	@$(VENV)/bin/ruff format --check --quiet nn_core app tests bench scripts

types: $(STAMP)
	@$(VENV)/bin/mypy --no-error-summary nn_core app

# pytest-xdist: most tests wait on a server, a browser or the daemon, so three workers
# keep two cores busy; --dist loadfile keeps a module's tests (and its fixtures) on one.
PYTEST_WORKERS ?= 3
PYTEST := $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=12

pytest: $(STAMP)
	@$(PYTEST)

# The edit loop: no browser, no Docker.
pytest-fast: $(STAMP)
	@$(PYTEST) -m "not browser and not docker"

test: lint types pytest

test-fast: lint types pytest-fast

# The lower bounds in pyproject.toml, installed and tested: a fresh venv with the lowest
# version of every direct dependency that fits (uv's lowest-direct), and the fast tests.
test-lowest: $(STAMP)
	@rm -rf $(LOWEST)
	@$(VENV)/bin/uv venv -q --python $(PY) $(LOWEST)
	@$(VENV)/bin/uv pip install -q --python $(LOWEST)/bin/python --resolution lowest-direct -e '.[test]'
	@$(LOWEST)/bin/python -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadfile tests/core tests/app

# The two wheels into dist/: backprop-lab (the app) and backprop-lab-core (nn_core alone).
wheel: $(STAMP)
	@$(PY) -m pip wheel -q --disable-pip-version-check --no-deps -w dist . ./nn_core

bench: $(STAMP)
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[test,bench]'
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; echo; done

screenshots: $(STAMP)
	@SCREENSHOTS_DIR=docs/screenshots $(PY) -m pytest -q tests/browser -k "play_trains or off_centre or through_every_step or dead_relu_preset_shows"

load-long: $(STAMP)
	@LOAD_SECONDS=60 $(PY) -m pytest -q -s tests/app/test_reliability.py -k 32_sessions

# 60 workers SIGKILLed, one every 2 s, in a connection storm (docs/performance.md).
storm-long: $(STAMP)
	@STORM_KILLS=60 STORM_EVERY=2 $(PY) -m pytest -q -s tests/app/test_worker_faults.py -k kill_storm

# Waves of learners for five minutes on two workers: memory and descriptors stay bounded.
soak-long: $(STAMP)
	@SOAK_SECONDS=300 $(PY) -m pytest -q -s tests/app/test_soak.py -k soak

# 64 clients that start and never read, with the default bound (BACKPROP_UNREAD_SECONDS).
stalled-long: $(STAMP)
	@STALLED=64 STALLED_UNREAD=20 $(PY) -m pytest -q -s tests/app/test_clients.py -k never_read

fuzz-long: $(STAMP)
	@FUZZ_EXAMPLES=10000 $(PY) -m pytest -q tests/app/test_fuzz.py

model: $(STAMP)
	@$(VENV)/bin/backprop-lab train-mnist

docker:
	docker build -t backprop-lab .

clean:
	rm -rf $(VENV) $(LOWEST) dist .pytest_cache .mypy_cache .ruff_cache
