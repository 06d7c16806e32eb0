# Two entry points for a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint check-format typecheck unit bench fakes clean lock

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

## Install everything and run the bot (settings from the environment or .env).
run: $(STAMP)
	$(BIN)/python -m bot

## Install everything, lint, type-check and run the whole test suite.
test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench

## Re-resolve requirements.lock (the image's exact runtime versions) in a clean temporary venv.
lock:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT \
	&& $(PYTHON) -m venv "$$tmp/venv" \
	&& $(PYTHON) -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > "$$tmp/deps.txt" \
	&& "$$tmp/venv/bin/pip" install -q --disable-pip-version-check -r "$$tmp/deps.txt" \
	&& { grep '^#' requirements.lock; "$$tmp/venv/bin/pip" freeze --all --exclude-editable | grep -v -E '^(pip|setuptools|wheel)=='; } > "$$tmp/lock" \
	&& mv "$$tmp/lock" requirements.lock && echo "requirements.lock updated"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
