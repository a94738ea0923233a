# Two commands from a fresh clone: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install install-test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## Build the shipped knowledge base and serve it on http://$(HOST):$(PORT)
run: install
	$(BIN)/kb validate
	$(BIN)/kb build
	$(BIN)/kb stats
	$(BIN)/kb serve --host $(HOST) --port $(PORT)

## The whole suite, on SQLite and on a throwaway PostgreSQL cluster when one can be started.
test: install-test
	scripts/with-postgres $(BIN)/python -m pytest

## Benchmarks (not part of the suite): figures go in docs/performance.md.
bench: install-test
	$(BIN)/python benchmarks/bench_core.py

clean:
	rm -rf $(VENV) .kb .pytest_cache
