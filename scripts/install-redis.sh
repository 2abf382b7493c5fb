#!/bin/sh
# redis-server for the farm tests (the tests start their own on a free loopback port).
# Idempotent: does nothing when redis-server is already on PATH.
set -eu
command -v redis-server >/dev/null 2>&1 && exit 0
if ! apt-cache show redis-server >/dev/null 2>&1; then
  apt-get update -qq
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
# Debian's package starts a system service; the tests never use it, so stop it where possible.
(command -v service >/dev/null 2>&1 && service redis-server stop >/dev/null 2>&1) || true
