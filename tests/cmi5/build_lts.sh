#!/usr/bin/env bash
# Build ADL's cmi5 LMS Test Suite for tests/cmi5: copy it (its source stays read-only), install
# its Node packages without Puppeteer's own browser (Debian's /usr/bin/chromium runs it), and
# build its package library. Output stays under tests/cmi5/build/, which git ignores.
set -euo pipefail
src="$1"
dest="$(dirname "$0")/build/lts"
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
cp -r "$src" "$dest"
chmod -R u+w "$dest"
cd "$dest"
PUPPETEER_SKIP_CHROMIUM_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --silent
(cd pkg && NODE_OPTIONS=--openssl-legacy-provider npx webpack >/dev/null)
touch pkg/dist/.built
