# Linge: `make run` starts the demo city, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/linge
PYTEST_ARGS ?=

.PHONY: setup setup-run run test test-tools test-sqlite test-postgres lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# What the site needs to run; `make run` installs only this.
$(VENV)/.installed-run: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

# The test tools on top (pytest, playwright, ruff, import-linter).
$(VENV)/.installed: $(VENV)/.installed-run
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup-run: $(VENV)/.installed-run

setup: $(VENV)/.installed

run: setup-run
	$(BIN)/linge migrate --no-input
	$(BIN)/linge collectstatic --no-input --verbosity 0
	$(BIN)/linge demo --if-empty
	$(BIN)/linge demo --logins
	@bind=$${LINGE_BIND:-127.0.0.1:8000}; echo "Linge 岭格: http://$$bind/  (admin: http://$$bind/admin/)"
	$(BIN)/linge serve

test: test-tools setup lint test-sqlite test-postgres

# Chromium, a Chinese font and poppler-utils, or stop now with the apt-get command.
test-tools:
	@$(PYTHON) scripts/check_test_tools.py

lint: setup
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/lint-imports --no-cache

test-sqlite: setup test-tools
	@echo "== tests on SQLite =="
	LINGE_VAR_DIR=$(CURDIR)/var/test $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: setup test-tools
	@echo "== tests on PostgreSQL ($(PG_URL)) =="
	@if $(BIN)/python scripts/pg_ready.py "$(PG_URL)"; then \
		LINGE_VAR_DIR=$(CURDIR)/var/test LINGE_DATABASE_URL=$(PG_URL) $(BIN)/pytest $(PYTEST_ARGS); \
	elif [ -n "$$CI" ]; then \
		echo "PostgreSQL does not answer at $(PG_URL) and CI is set: failing."; exit 1; \
	else \
		echo "SKIPPED: PostgreSQL does not answer at $(PG_URL); the PostgreSQL run did not happen."; \
	fi

bench: setup
	$(BIN)/python bench/bench_locate.py
	$(BIN)/python bench/bench_demo.py

clean:
	rm -rf $(VENV) var
