# The two commands of the README: `make demo` and `make test`. Everything else is a step they call.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup system-deps demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

system-deps:
	bash deploy/system-deps.sh --with-browser

demo: setup
	bash deploy/system-deps.sh
	$(BIN)/estatewatch demo

lint: setup
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest

test: setup system-deps lint typecheck unit

bench: setup system-deps
	$(BIN)/estatewatch bench ingest --json
	$(BIN)/estatewatch bench vision --cameras 8 --resolution 1080p --json
	$(BIN)/estatewatch bench vision --cameras 8 --resolution 720p --json
	$(BIN)/estatewatch bench alerts --json

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
