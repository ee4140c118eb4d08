# Two commands a newcomer needs: `make demo` and `make test`. Both build .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The suite runs in JOBS pytest-xdist workers (each with its own scratch PostgreSQL
# database and temporary directory); loadgroup keeps tests marked xdist_group together.
JOBS ?= 2
PYTEST := $(BIN)/pytest -q -n $(JOBS) --dist loadgroup

.PHONY: demo test unit integration e2e lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/pointshall serve --demo

test: $(STAMP)
	deploy/system-packages
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(PYTEST)

unit: $(STAMP)  # one process: ~20 s of pure functions, less than two workers take to start
	$(BIN)/pytest -q tests/unit

integration: $(STAMP)
	$(PYTEST) tests/integration

e2e: $(STAMP)
	deploy/system-packages
	$(PYTEST) tests/e2e

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench.sms_webhook --db both
	$(BIN)/python -m bench.redeem --both
	$(BIN)/python -m bench.accrual --rss-compare
	$(BIN)/python -m bench.accrual --rss-compare --pg
	$(BIN)/python -m bench.settle --both

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
