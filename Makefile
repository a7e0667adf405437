# Two commands (README): `make run` sets up and starts the demo; `make test` sets up and runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint typecheck bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

## make run — database, reference data, demo region (Nara model region, synthetic facilities), demo users, web app
run: $(VENV)/.installed
	$(BIN)/gunmane demo load
	$(BIN)/gunmane serve --host $(HOST) --port $(PORT)

## make test — unit, integration, browser; and PostgreSQL when GUNMANE_TEST_DATABASE_URL is set
test: $(VENV)/.installed-dev
	$(BIN)/ruff check gunmane tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -m "not postgres"
ifdef GUNMANE_TEST_DATABASE_URL
	GUNMANE_DATABASE_URL="$(GUNMANE_TEST_DATABASE_URL)" $(BIN)/python -m pytest -m "not browser"
else
	$(BIN)/python -m pytest -m postgres
endif

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check gunmane tests benchmarks

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

## make bench — benchmarks; each writes its own section of docs/benchmarks.md (several minutes)
bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/import_ledger.py
	$(BIN)/python benchmarks/indicators.py --engine --web --write
	$(BIN)/python benchmarks/deterioration.py --write
	$(BIN)/python benchmarks/lcc.py --write
	$(BIN)/python benchmarks/effects.py --lots 2000
	$(BIN)/python benchmarks/nenpo.py

clean:
	rm -rf $(VENV) var
