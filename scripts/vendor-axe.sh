#!/bin/sh
# Vendors axe-core's axe.min.js (the accessibility engine the browser tests inject into each page)
# into tests/web/vendor/, fetched with npm from the npm registry at a pinned version, with its
# licence. Run it again to move to another version: AXE_VERSION=4.x.y sh scripts/vendor-axe.sh
set -eu
VERSION="${AXE_VERSION:-4.14.1}"
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "axe-core@$VERSION" >/dev/null && tar -xzf "axe-core-$VERSION.tgz" package/axe.min.js package/LICENSE)
mkdir -p "$root/tests/web/vendor"
cp "$work/package/axe.min.js" "$root/tests/web/vendor/axe.min.js"
cp "$work/package/LICENSE" "$root/tests/web/vendor/axe-core.LICENSE"
echo "$VERSION" > "$root/tests/web/vendor/axe-core.version"
echo "axe-core $VERSION vendored into tests/web/vendor/"
