# The two commands of the README: `make run` and `make test`.
# Both create .venv and install what is missing, then serve or test.
# `make run` serves the live exchange, or the built-in emulator when the exchange cannot
# be reached at start-up (--fallback-offline); `make run-offline` always the emulator.
# `make run PORT=8080` (either target) serves on another port.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
PORT_OPTION = $(if $(PORT),--port $(PORT))
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run run-offline test test-deploy lint typecheck install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/marketcache serve --fallback-offline $(PORT_OPTION)

run-offline: $(STAMP)
	$(BIN)/marketcache serve --offline $(PORT_OPTION)

lint: $(STAMP)
	$(BIN)/ruff format --check src tests bench cache_test_suite.py
	$(BIN)/ruff check src tests bench cache_test_suite.py

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP)
	bash scripts/ensure-redis.sh
	bash scripts/ensure-promtool.sh
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-nginx-wrk.sh
	$(BIN)/ruff format --check src tests
	$(BIN)/ruff check src tests
	$(BIN)/mypy
	$(BIN)/pytest

# The deployment checklist on the Docker stack (needs root and apt-get where Docker is
# missing); removes everything it started. See CACHE_IMPLEMENTATION_GUIDE.md.
test-deploy: $(STAMP)
	bash scripts/test-deploy.sh

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
