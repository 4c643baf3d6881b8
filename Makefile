# Khai Báo — the two commands are `make demo` (run the app with demo data on SQLite) and
# `make test` (every check: ruff, types, tests on SQLite and PostgreSQL, browser tests in
# Chromium).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
PORT ?= 8000

.PHONY: demo test setup lint unit test-sqlite test-postgres test-e2e messages migration bench clean guides

# The install's own output (pip, build warnings) goes to a log, shown only if it fails.
$(VENV)/.installed: pyproject.toml
	@echo "Installing Khai Báo and what it needs into $(VENV) (log: $(VENV)/install.log)…"
	@python3 -m venv $(VENV)
	@($(PY) -m pip install --upgrade pip && $(PY) -m pip install -e ".[test]") \
		> $(VENV)/install.log 2>&1 || { tail -n 30 $(VENV)/install.log; exit 1; }
	@touch $@

setup: $(VENV)/.installed

demo: setup
	@$(VENV)/bin/khaibao demo --port $(PORT)

test: setup
	bash scripts/test.sh

lint: setup
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/lint-imports --no-cache
	bash scripts/types.sh

test-sqlite: setup
	$(PY) -m pytest -m "not e2e" -q

test-postgres: setup
	KHAIBAO_TEST_DATABASE_URL=$(PG_TEST_URL) $(PY) -m pytest -m "not e2e" -q

test-e2e: setup
	$(PY) -m pytest -m e2e -q

# Refresh the screenshots the in-app guides (/huong-dan) show, from the running app.
guides: setup
	KHAIBAO_GUIDE_SCREENSHOTS=1 $(PY) -m pytest -m e2e -q tests/e2e/test_dashboard_e2e.py

# Update the English catalog after changing Vietnamese texts (keeps every translation, sorted;
# prints the entries that still need English).
messages: setup
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ -k _ -o src/locale/messages.pot --no-location --omit-header .
	$(PY) scripts/fill_catalog.py

# Generate a migration after changing tables (Piccolo diffs against PostgreSQL).
migration: setup
	PICCOLO_CONF=khaibao.piccolo_conf KHAIBAO_DATABASE_URL=$(PG_TEST_URL) $(VENV)/bin/piccolo migrations new khaibao --auto && sed -i "s/^DESCRIPTION = .*/DESCRIPTION = \"$(DESC)\"/" $$(ls src/piccolo_migrations/khaibao_*.py | tail -1)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .types khaibao.sqlite3*
