# The two commands of the README's quick start, and the ones CI runs.
# Each creates the virtual environment on first use, so a fresh clone needs nothing else.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/eventscope demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/instrumentation.py
	$(BIN)/python bench/compatibility.py
