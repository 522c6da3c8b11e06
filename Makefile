# The two commands of the README: `make run` and `make test`.
# Both create .venv and install what is missing, then serve or test.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
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
	$(BIN)/marketcache serve

run-offline: $(STAMP)
	$(BIN)/marketcache serve --offline

lint: $(STAMP)
	$(BIN)/ruff format --check src tests bench cache_test_suite.py
	$(BIN)/ruff check src tests bench cache_test_suite.py

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP)
	bash scripts/ensure-redis.sh
	bash scripts/ensure-promtool.sh
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
