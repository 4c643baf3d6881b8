#!/usr/bin/env bash
# The whole test suite: lint and types, then every test on SQLite and on PostgreSQL, then the
# browser tests in Chromium. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PG_TEST_URL=${PG_TEST_URL:-postgresql://postgres@127.0.0.1:5432/test}

bash scripts/system-deps.sh
bash scripts/services.sh

echo "== ruff"
.venv/bin/ruff check src tests bench scripts

echo "== layers (import-linter contracts in pyproject.toml)"
.venv/bin/lint-imports --no-cache

echo "== types (mypy, [tool.mypy] in pyproject.toml)"
bash scripts/types.sh

echo "== unit tests with the clock moved 400 days ahead (no test may depend on today's date)"
faketime -f '+400d' $PY -m pytest tests/unit -m "not slow" -q -p no:cacheprovider

echo "== tests on SQLite"
$PY -m pytest -m "not e2e" -q -p no:cacheprovider

echo "== tests on PostgreSQL ($PG_TEST_URL)"
KHAIBAO_TEST_DATABASE_URL=$PG_TEST_URL $PY -m pytest -m "not e2e" -q -p no:cacheprovider

echo "== browser tests (Chromium $(chromium --version 2>/dev/null | awk '{print $2}'))"
$PY -m pytest -m e2e -q -p no:cacheprovider

echo "== fault and backup tests on PostgreSQL"
KHAIBAO_TEST_DATABASE_URL=$PG_TEST_URL $PY -m pytest -m e2e -q -p no:cacheprovider \
    tests/e2e/test_faults_e2e.py tests/e2e/test_backup_drill_e2e.py \
    -k "postgres or database_unavailable"
