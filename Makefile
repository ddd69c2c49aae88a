# Linge: `make run` starts the demo city, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/linge
PYTEST_ARGS ?=

VENDOR := src/linge/cockpit/static/cockpit/vendor

.PHONY: setup run test test-sqlite test-postgres lint bench bench-figures screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# ECharts and Leaflet for the leaders' screens: pinned in package-lock.json, installed
# with npm ci and copied into a gitignored static folder (never committed, never
# fetched by the browser from elsewhere).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

$(VENDOR)/.copied: node_modules/.installed
	mkdir -p $(VENDOR)/images
	cp node_modules/echarts/dist/echarts.min.js node_modules/leaflet/dist/leaflet.js \
		node_modules/leaflet/dist/leaflet.css $(VENDOR)/
	cp node_modules/leaflet/dist/images/*.png $(VENDOR)/images/
	touch $@

setup: $(VENV)/.installed $(VENDOR)/.copied

run: setup
	$(BIN)/linge migrate --no-input
	$(BIN)/linge collectstatic --no-input --verbosity 0
	$(BIN)/linge demo --if-empty
	$(BIN)/linge insights catch-up
	$(BIN)/linge demo --logins
	@echo "Linge 岭格: http://127.0.0.1:8000/  (admin: http://127.0.0.1:8000/admin/)"
	$(BIN)/linge serve

test: setup lint test-sqlite test-postgres

lint: setup
	$(BIN)/ruff check src tests $(wildcard bench)

test-sqlite: setup
	@echo "== tests on SQLite =="
	LINGE_VAR_DIR=$(CURDIR)/var/test $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: setup
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

bench-figures: setup
	$(BIN)/python bench/bench_figures.py

# The browser tests write the cockpit's screenshots under build/screenshots/; this
# copies them next to the guides (docs/guide-leader.md) when they should change.
screenshots: setup
	LINGE_VAR_DIR=$(CURDIR)/var/test $(BIN)/pytest tests/cockpit -k browser
	mkdir -p docs/screenshots
	cp build/screenshots/cockpit-*.png docs/screenshots/

clean:
	rm -rf $(VENV) var node_modules $(VENDOR)
