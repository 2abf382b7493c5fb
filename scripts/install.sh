#!/bin/sh
# Set up everything proxx needs in ./.venv, on a machine that has only Python 3.11+.
# Idempotent: re-running it only installs what changed.
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "proxx needs Python 3.11 or newer")'
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# The distribution is "proxx-media" (the name "proxx" on the public index is another project); an
# environment made before the rename holds it as "proxx": remove that so one distribution owns the package.
.venv/bin/python -m pip uninstall --quiet --yes --disable-pip-version-check proxx 2>/dev/null || true
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
  -e ".[web,openjd]" \
  -e plugins/ffmpeg \
  -e plugins/fabric \
  -e plugins/resolve \
  -e plugins/farm
# Byte-compile the editable sources now: with PYTHONDONTWRITEBYTECODE set (common in containers and
# CI) Python would otherwise recompile them on every start: 25-35 ms of each `proxx` command.
.venv/bin/python -m compileall -q -j 0 proxx plugins/*/proxx_* >/dev/null
