#!/bin/sh
# The whole check, as CI runs it: install, lint, type-check, then every test.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install.sh
sh scripts/install-redis.sh
.venv/bin/ruff check proxx plugins tests benchmarks
.venv/bin/ruff format --check proxx plugins tests benchmarks
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
