#!/usr/bin/env bash
# timeline_browser_test.sh EDGECASE: what a browser draws of a timeline (issue 12 item 5), where
# Chromium is installed (Debian's chromium; scripts/setup.sh does not install it, so CI skips
# this test: exit 77, ctest's SKIP_RETURN_CODE). Seed 002's lost read event, drawn by `edgecase
# run --timeline`: the page finishes drawing without a script error (scripts/timeline-screenshot.sh)
# and shows every lane's name, the verdict, the violation's red line at the oracle's time, its
# note and its trace line selected (tests/timeline/check_page.py).
set -uo pipefail
edgecase=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if ! command -v chromium >/dev/null 2>&1 && [[ -z ${CHROMIUM:-} ]]; then
  echo "timeline_browser_test: no chromium here: skipped (apt-get install chromium to run it)"
  exit 77
fi
expect_timeout=120
source "$here/lib.sh"
# The demo's case file for seed 002's lost read event (docs/DEMO.md), inline.
{
  printf 'edgecase-case 1\nkit 0.1.0\nhandler seed002\nprotocol echo\nlisten 127.0.0.1 6888\n'
  printf 'seed 0x0000000000000003\n'
  for f in split coalesce delay small-buffers short-write eintr accept-abort fd-limit half-close \
    peer-reset slow-reader; do printf 'fault %s off 0\n' "$f"; done
  printf 'peer start 0\n  connect\n  send 10241\n  expect 10241\n  close\nend\nend-case\n'
} >"$work/lre.case"
expect 1 'timeline: written to' "run --timeline" -- run "$work/lre.case" --timeline "$work/lre.html"
bash "$root/scripts/timeline-screenshot.sh" "$work/lre.html" "$work/lre.png" 1600x900 \
  >"$work/shot.out" 2>&1 || fail "the page did not draw cleanly: $(tail -5 "$work/shot.out")"
[[ -s $work/lre.png ]] || fail "no screenshot"
python3 "$root/tests/timeline/check_page.py" "$work/lre.html" >"$work/page.out" 2>&1 ||
  fail "what Chromium drew: $(tail -5 "$work/page.out")"
finish timeline_browser_test
