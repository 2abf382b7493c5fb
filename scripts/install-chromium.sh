#!/bin/sh
# Debian's Chromium for the web UI's browser tests (Playwright drives it through `executable_path`;
# `playwright install` downloads browsers from elsewhere and is never used). Idempotent.
set -eu
CHROMIUM="${PROXX_CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-chromium: $CHROMIUM is missing; run as root or 'apt-get install chromium'" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || {
  apt-get update >/dev/null
  apt-get install -y --no-install-recommends chromium >/dev/null
}
