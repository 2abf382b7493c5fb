#!/bin/sh
# Set up everything proxx needs in ./.venv, on a machine that has only Python 3.11+.
# Idempotent: re-running it only installs what changed.
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "proxx needs Python 3.11 or newer")'
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
  -e ".[web,farm]" \
  -e plugins/ffmpeg \
  -e plugins/fabric \
  -e plugins/resolve
# Byte-compile the editable sources now: with PYTHONDONTWRITEBYTECODE set (common in containers and
# CI) Python would otherwise recompile them on every start: 25-35 ms of each `proxx` command.
.venv/bin/python -m compileall -q -j 0 proxx plugins/*/proxx_* >/dev/null
