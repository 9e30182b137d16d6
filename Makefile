# The two commands of the README's quick start, and the ones CI runs.
# Each creates the virtual environment on first use, so a fresh clone needs nothing else.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint bench servers fidelity

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/eventscope demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples

# The brokers, promtool and prometheus the integration tests use (idempotent: quick
# when everything is already there; installs from Debian and starts servers otherwise).
servers:
	bash .ci/services.sh
	bash .ci/prometheus.sh

# Everything but the fidelity run, then the fidelity run with its report.
test: lint servers
	$(BIN)/pytest --ignore=tests/fidelity
	$(MAKE) fidelity

# The whole stack on Redis and RabbitMQ with every fault (about three minutes): prints
# queries checked, empty ones, alerts expected / fired / unexpected per fault, time to fire.
fidelity: $(STAMP) servers
	$(BIN)/pytest -p no:cacheprovider -q -s tests/fidelity

bench: $(STAMP)
	$(BIN)/python bench/instrumentation.py
	$(BIN)/python bench/lag.py
	$(BIN)/python bench/compatibility.py
	$(BIN)/python bench/schema_inputs.py
	$(BIN)/python bench/imports.py
	$(BIN)/python bench/registry.py
	$(BIN)/python bench/outbox.py
