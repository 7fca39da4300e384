#!/usr/bin/env bash
# timeline_test.sh EDGECASE: `edgecase run|replay CASE --timeline F.html --perfetto F.json`
# (issue 12) through the built binary. For seed 002's lost read event, seed 003's seven
# violations (lost-accept, fd leaks, bad fds), a clean echo run and an echo run under every
# fault, check_timeline.py checks the page against the trace and the printed report (well-formed
# HTML, one data element, every trace line once, one mark per line, violations at the oracle's
# time, nothing loaded from the network) and the Perfetto JSON likewise. Bad input: exit 2 and
# a message before anything runs.
set -uo pipefail
edgecase=$1
here=$(cd "$(dirname "$0")" && pwd)
expect_timeout=120
source "$here/lib.sh"

# The cases `edgecase demo` finds seed 002's and seed 003's bugs with, inline: the demo takes
# 30 s to find them again, and these are its files.
faults_off() {
  local f
  for f in split coalesce delay small-buffers short-write eintr accept-abort fd-limit half-close \
    peer-reset slow-reader; do
    echo "fault $f off 0"
  done
}
{
  printf 'edgecase-case 1\nkit 0.1.0\nhandler seed002\nprotocol echo\nlisten 127.0.0.1 6888\n'
  printf 'seed 0x0000000000000003\n'
  faults_off
  printf 'peer start 0\n  connect\n  send 10241\n  expect 10241\n  close\nend\nend-case\n'
} >"$work/seed002.case"
{
  printf 'edgecase-case 1\nkit 0.1.0\nhandler seed003\nprotocol echo\nlisten 127.0.0.1 8003\n'
  printf 'seed 0x0000000000000005\n'
  faults_off
  for _ in 1 2 3; do printf 'peer start 0\n  connect\n  close\nend\n'; done
  printf 'end-case\n'
} >"$work/seed003.case"
# An echo of markup: the trace's quoted bytes hold "</script>", a comment and an ampersand,
# which the page's data element must hold without ending early.
{
  printf 'edgecase-case 1\nkit 0.1.0\nhandler echo\nprotocol echo\nlisten 127.0.0.1 7000\n'
  printf 'seed 0x0000000000000001\n'
  faults_off
  printf 'peer start 0\n  connect\n'
  printf '  send-data "</script><!-- a \\"b\\" & \\xff --></body></html>\\n"\n'
  printf '  expect-line\n  close\nend\nend-case\n'
} >"$work/markup.case"
"$edgecase" case --seed 1 --faults none -o "$work/clean.case" || fail "edgecase case --seed 1"
"$edgecase" case --seed 42 -o "$work/faults.case" || fail "edgecase case --seed 42"
grep -q '^fault accept-abort on' "$work/faults.case" || fail "seed 42's case is not under every fault"

# timeline NAME CODE VIOLATIONS COMMAND...: runs edgecase COMMAND CASE with the three files,
# wants exit CODE and the files written, and checks them (VIOLATIONS: how many the run has).
timeline() {
  local name=$1 code=$2 violations=$3
  shift 3
  local out=$work/$name status=0
  timeout 120 "$edgecase" "$@" --timeline "$out.html" --perfetto "$out.json" >"$out.out" 2>"$out.err" ||
    status=$?
  if ((status != code)); then
    fail "$name: edgecase $* exited $status (want $code)"
    tail -20 "$out.out" "$out.err" >&2
    return
  fi
  grep -q "^timeline: written to $out.html" "$out.out" || fail "$name: no 'timeline: written to' line"
  grep -q "^perfetto: written to $out.json" "$out.out" || fail "$name: no 'perfetto: written to' line"
  python3 "$here/check_timeline.py" "$out.html" "$out.json" "$out.trace" "$out.out" "$violations" ||
    fail "$name: check_timeline.py (edgecase $*)"
}

timeline seed002 1 1 run "$work/seed002.case" --trace "$work/seed002.trace"
grep -q 'The server holds 1 unread byte (byte 10240) on fd 5, registered EPOLLIN|EPOLLET' \
  "$work/seed002.out" || fail "seed002: the report's 'what happened' does not tell the unread byte"
timeline seed003 1 7 run "$work/seed003.case" --trace "$work/seed003.trace"
timeline markup 0 0 run "$work/markup.case" --trace "$work/markup.trace"
grep -q '</script>' "$work/markup.trace" || fail "markup: the trace does not hold the markup"
timeline clean 0 0 run "$work/clean.case" --trace "$work/clean.trace"
timeline faults 0 0 run "$work/faults.case" --trace "$work/faults.trace"
# replay: the same files from the case file that records the violation (and the saved trace).
sed -n '/^edgecase-case 1$/,/^end-case$/p' "$work/seed002.out" >"$work/seed002-found.case"
grep -q '^# violation: lost-read-event' "$work/seed002-found.case" ||
  fail "seed002: the run printed no case file with its violation"
cp "$work/seed002.trace" "$work/replay.trace"
timeline replay 0 1 replay "$work/seed002-found.case" --trace "$work/replay.trace"
# The same picture as the run's (the title names the case file, which differs).
python3 - "$work/seed002.html" "$work/replay.html" <<'PY' || fail "replay: a different timeline from run's"
import json, re, sys
def data(path):
    text = open(path, encoding="utf-8").read()
    d = json.loads(re.search(r'id="edgecase-data">(.*?)</script>', text, re.S).group(1))
    d.pop("title")
    return d
sys.exit(data(sys.argv[1]) != data(sys.argv[2]))
PY

# --- bad input: exit 2 and a message, before the case runs -------------------------------------
# expect, and nothing ran before the input was rejected.
expect_rejected() {
  expect "$@"
  if grep -q 'on sim:\|on live:' "$work/out"; then fail "$3: the case ran before the input was rejected"; fi
}
expect_rejected 2 '--timeline /nonexistent/dir/x.html: cannot write there' "unwritable --timeline" -- \
  run "$work/seed002.case" --timeline /nonexistent/dir/x.html
expect_rejected 2 '--perfetto /nonexistent/dir/x.json: cannot write there' "unwritable --perfetto" -- \
  run "$work/seed002.case" --perfetto /nonexistent/dir/x.json
expect_rejected 2 'cannot write there' "unwritable --timeline on replay" -- \
  replay "$work/seed002-found.case" --timeline /nonexistent/dir/x.html
expect_rejected 2 'simulation' "--timeline on the live backend" -- \
  run "$work/clean.case" --backend live --timeline "$work/live.html"
expect_rejected 2 'simulation' "--perfetto on the live backend" -- \
  run "$work/clean.case" --backend live --perfetto "$work/live.json"
[[ ! -s $work/live.html ]] || fail "--backend live wrote a timeline"
cp "$work/seed002.case" "$work/keep.case"
expect_rejected 2 'input of this command' "--timeline over the case file" -- \
  run "$work/keep.case" --timeline "$work/keep.case"
expect_rejected 2 'input of this command' "--perfetto over the trace file" -- \
  run "$work/keep.case" --trace "$work/keep.trace" --perfetto "$work/keep.trace"
cmp -s "$work/seed002.case" "$work/keep.case" || fail "the case file was overwritten"
expect_rejected 2 'both name' "one file for --timeline and --perfetto" -- \
  run "$work/keep.case" --timeline "$work/both" --perfetto "$work/both"
expect_rejected 2 'give a file name' "--timeline \"\"" -- run "$work/keep.case" --timeline ""
# Output that cannot be written (a full disk here; a reader that went away, `| head`, is the
# same error but a race to test): exit 2 and one line, never an abort.
status=0
"$edgecase" run "$work/keep.case" --timeline "$work/full.html" >/dev/full 2>"$work/full.err" ||
  status=$?
((status == 2)) && grep -q 'cannot write' "$work/full.err" ||
  fail "run >/dev/full exited $status (want 2): $(cat "$work/full.err")"

finish timeline_test
