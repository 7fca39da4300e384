#!/usr/bin/env bash
# Takes a screenshot of a timeline HTML file (edgecase run --timeline) with headless Chromium, and
# fails when the page logged a JavaScript error. Used to check the page and to make docs pictures.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: scripts/timeline-screenshot.sh HTML PNG [WIDTHxHEIGHT]

Opens HTML (a file on disk) in headless Chromium, waits for the page to draw, and writes a
screenshot of the first WIDTHxHEIGHT pixels (default 1600x900) to PNG. HTML may end in a
fragment that sets the page's state, e.g. run.html#axis=order&vio=0 (the hooks are listed in
harness/timeline_template.html: axis, view, vio, select, hover, bench).
Exit status: 0 written; 1 Chromium failed, wrote nothing, the page logged a JavaScript error
(the log is printed) or did not finish drawing; 2 usage error, missing file, or no Chromium (set CHROMIUM=/path/to/browser,
or install it: apt-get install -y --no-install-recommends chromium).
USAGE
}

case "${1:-}" in -h|--help) usage; exit 0 ;; esac
if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage >&2; exit 2; fi
html=$1 png=$2 size=${3:-1600x900} fragment=""
if [ ! -f "$html" ] && [[ $html == *'#'* ]]; then fragment="#${html#*#}"; html=${html%%#*}; fi
if ! [[ $size =~ ^[0-9]+x[0-9]+$ ]]; then echo "error: size '$size' is not WIDTHxHEIGHT (e.g. 1600x900)" >&2; exit 2; fi
if [ ! -f "$html" ]; then echo "error: $html: no such file" >&2; exit 2; fi

browser=""
for b in ${CHROMIUM:-} chromium chromium-browser google-chrome google-chrome-stable; do
  if command -v "$b" >/dev/null 2>&1; then browser=$(command -v "$b"); break; fi
done
if [ -z "$browser" ]; then
  echo "error: no Chromium found (install: apt-get install -y --no-install-recommends chromium; or set CHROMIUM)" >&2
  exit 2
fi

abs_html=$(cd "$(dirname "$html")" && pwd)/$(basename "$html")
case "$png" in /*) abs_png=$png ;; *) abs_png=$PWD/$png ;; esac
url="file://$(printf '%s' "$abs_html" | sed 's/%/%25/g; s/ /%20/g; s/#/%23/g; s/?/%3F/g')$fragment"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
rm -f "$abs_png"

# No network, no first-run work, a fresh profile; the virtual-time budget lets the page's script
# and its first animation frames run before the picture is taken.
status=0
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
  --user-data-dir="$profile" --window-size="${size/x/,}" --virtual-time-budget=3000 \
  --enable-logging=stderr --v=0 --screenshot="$abs_png" "$url" >"$profile/log" 2>&1 || status=$?

if [ "$status" -ne 0 ] || [ ! -s "$abs_png" ]; then
  echo "error: $browser wrote no screenshot (exit $status); its log:" >&2
  cat "$profile/log" >&2
  exit 1
fi
if grep -E 'Uncaught|CONSOLE.*[Ee]rror' "$profile/log" >&2; then
  echo "error: the page logged a JavaScript error (above); the screenshot is $abs_png" >&2
  exit 1
fi
# A page can fail silently (data that ends its script element early leaves no script to run): the
# page marks its body with data-load-ms after its first drawing, or data-fatal when it cannot draw.
dom=$("$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --window-size="${size/x/,}" --virtual-time-budget=3000 \
  --dump-dom "$url" 2>/dev/null | grep -o 'data-load-ms="[0-9]*"\|data-fatal="[^"]*"' || true)
case "$dom" in
  data-load-ms=*) ;;
  data-fatal=*) msg=${dom#data-fatal=\"}; echo "error: the page could not draw: ${msg%\"}; the screenshot is $abs_png" >&2; exit 1 ;;
  *) echo "error: the page did not finish drawing (its script did not run); the screenshot is $abs_png" >&2; exit 1 ;;
esac
echo "$abs_png"
