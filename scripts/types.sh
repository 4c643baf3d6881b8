#!/usr/bin/env bash
# The type check: mypy on the khaibao package (settings in pyproject.toml, [tool.mypy]).
# pyproject.toml installs src/ as khaibao, which mypy cannot follow: .types/khaibao links to
# src/ so that `-p khaibao` finds it under its real name.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .types
ln -sfn ../src .types/khaibao
MYPYPATH=.types .venv/bin/mypy -p khaibao
