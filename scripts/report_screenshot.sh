#!/usr/bin/env bash
# Renders a sweep's report.html in a real browser (headless Chromium from Debian's packages, which
# this installs when missing) at a laptop's width and saves a PNG of the page, to look at.
# Usage: scripts/report_screenshot.sh SWEEP_DIR [OUT.png] [WIDTH]   (defaults: DIR/report.png, 1366)
set -euo pipefail
dir=${1:?usage: scripts/report_screenshot.sh SWEEP_DIR [OUT.png] [WIDTH]}
out=${2:-$dir/report.png}
width=${3:-1366}
if [[ ! -f "$dir/report.html" ]]; then
  echo "report_screenshot: $dir/report.html does not exist; make it with: locus report $dir" >&2
  exit 2
fi
if ! command -v chromium >/dev/null; then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium \
    fonts-dejavu-core
fi
page="file://$(cd "$dir" && pwd)/report.html"
# Tall enough for the whole page of a 13-method sweep; the PNG keeps the browser's layout.
chromium --headless --disable-gpu --no-sandbox --hide-scrollbars --window-size="$width,4000" \
  --screenshot="$out" "$page" 2>/dev/null
echo "report_screenshot: $out ($width px wide)"
