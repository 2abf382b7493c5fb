#!/bin/sh
# The whole check, as CI runs it: install, lint, type-check, then every test.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install.sh
# Test tools, and the example third-party engine installed as a studio installs its own.
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
  -e ".[dev,web-test]" \
  -e examples/inhouse-engine
sh scripts/install-chromium.sh  # Debian's chromium for the web UI's browser tests
sh scripts/install-redis.sh  # a real Redis server for the farm tests
sh scripts/install-colour-check.sh  # Debian's ffmpeg with zscale: the colour tests' independent conversion
.venv/bin/ruff check proxx plugins tests benchmarks examples
.venv/bin/ruff format --check proxx plugins tests benchmarks examples
.venv/bin/mypy
# Two test processes: most tests wait on ffmpeg, a Redis server, a worker or a browser, and the
# suite takes a little over half the time it takes in one (benchmarks/HISTORY.md, eighteenth session).
.venv/bin/python -m pytest -n 2 "$@"
