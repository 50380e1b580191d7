#!/usr/bin/env bash
# Renders the demo run's report.html in headless Chromium to docs/report.png (the README's
# picture). Run `make demo` first.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=$(mktemp -d); trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$profile" \
  --window-size=1000,760 --screenshot="$PWD/docs/report.png" "file://$PWD/out/demo/report.html" 2>/dev/null
echo "wrote docs/report.png"
