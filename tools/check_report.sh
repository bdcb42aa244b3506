#!/usr/bin/env bash
# Render results/report.html with headless Chromium to results/check/report.png, so a person
# can look at the report as a reader would. Usage: tools/check_report.sh [report.html] [out.png]
# Installs Chromium with apt-get when /usr/bin/chromium is missing (needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
report="${1:-results/report.html}"
out="${2:-results/check/report.png}"
width="${WIDTH:-1280}"
height="${HEIGHT:-4000}"

if [[ ! -f "$report" ]]; then
    echo "no $report: run the workflow first (make run)" >&2
    exit 1
fi
if [[ ! -x /usr/bin/chromium ]]; then
    apt-get install -y chromium >/dev/null
fi

mkdir -p "$(dirname "$out")"
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
/usr/bin/chromium --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --hide-scrollbars \
    --screenshot="$(realpath -m "$out")" --window-size="$width,$height" \
    "file://$(realpath "$report")" >/dev/null 2>&1
echo "wrote $out (${width}x${height})"
