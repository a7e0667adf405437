# Two commands (README): `make run` sets up and starts the demo; `make test` sets up and runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test test-suites prerequisites test-fast lint typecheck bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV) || { echo "$(PYTHON) -m venv が使えません（Debian では apt-get install python3-venv）" >&2; exit 1; }
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

# The tests whose outcome can depend on the database backend run a second time on PostgreSQL: imports and
# their transactions and locks, change history and undo, national imports, consent and group membership,
# surveys' tokens and constraints, sign-in throttling, query counts (perf), backup/restore, the PostgreSQL-only
# tests, and every URL visited once by the administrator (each view's queries on PostgreSQL). Pages, words,
# documents and figures read the same ORM results on either backend and run on SQLite only; the whole suite on
# PostgreSQL took 17 minutes and CI must stay under 30.
PG_TESTS := tests/web/test_postgres.py tests/web/test_import.py tests/web/test_import_safety.py \
	tests/web/test_history_undo.py tests/web/test_national.py tests/web/test_consent.py tests/web/test_groups.py \
	tests/web/test_surveys.py tests/web/test_signin_security.py tests/perf tests/cli/test_backup.py \
	"tests/web/test_authorization.py::test_every_url_for_every_role[admin]"

# Tests run on every core (pytest-xdist): a test file stays on one worker, so a module's demo fixture is built
# once; each worker has its own data directory and test database. TEST_WORKERS=0 runs them in one process.
TEST_WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=15  # the slowest, to keep CI under 30 min

## make test — the Debian packages the suite needs (installed when root or sudo allows: scripts/test-prerequisites.sh),
## lint, types, layer contracts; every test on SQLite; the database tests again on PostgreSQL — on
## GUNMANE_TEST_DATABASE_URL when set, else on a throwaway cluster on loopback (scripts/with-postgres.sh)
test: prerequisites lint typecheck
	scripts/with-postgres.sh $(MAKE) --no-print-directory test-suites

prerequisites:
	scripts/test-prerequisites.sh

# the two pytest runs (called by `make test` with GUNMANE_TEST_DATABASE_URL set when PostgreSQL is installed)
test-suites: $(VENV)/.installed-dev
	$(PYTEST) -m "not postgres"
ifdef GUNMANE_TEST_DATABASE_URL
	GUNMANE_DATABASE_URL="$(GUNMANE_TEST_DATABASE_URL)" $(PYTEST) -m "not browser" $(PG_TESTS)
else
	$(PYTEST) -m postgres $(PG_TESTS)
endif

## make test-fast — lint and the engine and io tests (about two minutes; no database server, no browser)
test-fast: lint
	$(BIN)/python -m pytest -q tests/engine tests/io

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check gunmane tests benchmarks
	$(BIN)/lint-imports

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
