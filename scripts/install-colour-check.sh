#!/bin/sh
# Debian's ffmpeg, for the colour tests only: its zscale filter (zimg) converts every proxy the way a
# colour-managed tool does, honouring the tags, and its ffprobe reads them back independently of the
# engine's build. proxx itself never uses it (the bundled build comes first).
set -eu
if /usr/bin/ffmpeg -hide_banner -filters 2>/dev/null | grep -q " zscale "; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-colour-check: no ffmpeg with zscale; run as root or 'apt-get install ffmpeg'" >&2
  exit 0
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null 2>&1 || {
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null
}
