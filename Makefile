# Linge: `make run` starts the demo city, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/linge
PYTEST_ARGS ?=

VENDOR := src/linge/cockpit/static/cockpit/vendor
API_VENDOR := src/linge/api/static/api/vendor

.PHONY: setup setup-run run test test-tools test-sqlite test-postgres lint bench bench-figures \
	mutate screenshots clean

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

# Swagger UI for the API's docs page (/api/v1/docs), served from our static files.
$(API_VENDOR)/.copied: node_modules/.installed
	mkdir -p $(API_VENDOR)
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
		$(API_VENDOR)/
	touch $@

setup-run: $(VENV)/.installed-run $(VENDOR)/.copied $(API_VENDOR)/.copied

setup: $(VENV)/.installed $(VENDOR)/.copied $(API_VENDOR)/.copied

run: setup-run
	$(BIN)/linge migrate --no-input
	$(BIN)/linge collectstatic --no-input --verbosity 0
	$(BIN)/linge demo --if-empty
	$(BIN)/linge insights catch-up
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

bench-figures: setup
	$(BIN)/python bench/bench_figures.py

# Mutation testing of the case core: the files are listed under [tool.mutmut] in
# pyproject.toml. mutmut works in ./mutants/ (ignored by git); the tests' database and
# files go under var/mutate/.
mutate: setup
	$(BIN)/pip install --quiet -e '.[test,mutate]'
	rm -f var/mutate/template.sqlite3*
	LINGE_VAR_DIR=$(CURDIR)/var/mutate \
	LINGE_DATABASE_URL=sqlite:///$(CURDIR)/var/mutate/template.sqlite3 $(BIN)/linge migrate -v0
	LINGE_VAR_DIR=$(CURDIR)/var/mutate LINGE_TEST_DB_TEMPLATE=$(CURDIR)/var/mutate/template.sqlite3 \
		$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut export-cicd-stats >/dev/null
	@$(BIN)/python scripts/mutation_score.py
	@echo "survivors: $(BIN)/mutmut results; one of them: $(BIN)/mutmut show <name>"

# The browser tests write their screenshots under var/test/screenshots/; this copies
# them over the ones the user guides show.
screenshots: setup
	LINGE_VAR_DIR=$(CURDIR)/var/test $(BIN)/pytest -m browser $(PYTEST_ARGS)
	cp var/test/screenshots/*.png docs/screenshots/

clean:
	rm -rf $(VENV) var node_modules $(VENDOR) $(API_VENDOR)
