#!/bin/sh
# The whole check, as CI runs it: install, lint, type-check, then every test.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install.sh
# The example third-party engine, installed as a studio installs its own; pytest runs its tests too.
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e examples/inhouse-engine
.venv/bin/ruff check proxx plugins tests benchmarks examples
.venv/bin/ruff format --check proxx plugins tests benchmarks examples
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
