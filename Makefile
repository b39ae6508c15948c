# Dermifi: `make run` serves the API, `make test` runs the whole suite. Nothing else is needed
# on a fresh machine with Python 3.11+.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DERMIFI_DATA_DIR ?= $(CURDIR)/data

.PHONY: run test lint typecheck bench wrk install lock migrate clean help

help:
	@echo "make run    - set up, migrate the embedded database, create demo users, serve on 127.0.0.1:8000"
	@echo "make test   - set up and run the whole suite (needs PostgreSQL and Redis on loopback)"
	@echo "make lint   - ruff, mypy and the layer contracts (import-linter)"
	@echo "make bench  - load-test the real server with wrk against bare baselines; fails on a missed target"
	@echo "make lock   - re-resolve requirements.lock from pyproject.toml"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the lock file or the project metadata changes.
$(STAMP): requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-virtualenv -r requirements.lock
	$(BIN)/python -m pip install --quiet --require-virtualenv --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/dermifi migrate

run: migrate
	$(BIN)/dermifi seed-demo --if-empty
	$(BIN)/dermifi serve --host 127.0.0.1 --port 8000

# One pytest worker per core (pytest-xdist); TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= auto

test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

typecheck: lint

# The load generator is wrk (Debian package `wrk`): installed here when missing if we are root
# with apt-get, else the command to install it is printed and the bench does not start.
bench: install wrk
	$(BIN)/python -m bench $(BENCH_ARGS)

wrk:
	@command -v wrk >/dev/null && exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing wrk (apt-get install -y wrk) ..."; \
		apt-get install -y --no-install-recommends wrk >/dev/null \
			|| { apt-get update -qq && apt-get install -y --no-install-recommends wrk >/dev/null; }; \
	else \
		echo "make bench needs wrk, the HTTP load generator. Install it with:"; \
		echo "    sudo apt-get install -y wrk        # Debian, Ubuntu"; \
		echo "    brew install wrk                   # macOS"; \
		exit 2; \
	fi

lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info src/*.egg-info
