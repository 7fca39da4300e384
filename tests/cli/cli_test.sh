#!/usr/bin/env bash
# cli_test.sh EDGECASE: the command's exit codes and messages for bad input (issue 9 items 4,
# 10, 11). Every bad input is rejected with exit 2 and a message naming it, before any case
# runs; `run` judges (0 pass, 1 violation, 2 bad input or case error, 3 undecided); `replay`
# compares (0 reproduced as recorded, 1 not, 2 bad input).
set -uo pipefail
edgecase=$1
expect_timeout=120
source "$(dirname "$0")/lib.sh"
# Nothing ran: no report header on stdout.
nothing_ran() {
  if grep -q '^handler ' "$work/out"; then
    echo "FAIL: $1: the case ran before the input was rejected" >&2
    failures=$((failures + 1))
  fi
}

"$edgecase" case --seed 54 -o "$work/s54.case" || { echo "cannot write a case" >&2; exit 1; }
"$edgecase" case --seed 7 --peers 1 --messages 2 --faults none -o "$work/clean.case"

# --- commands and options ---------------------------------------------------------------------
expect 2 'unknown command `frobnicate`' "unknown command" -- frobnicate
expect 2 'not a seed' "negative seed" -- case --seed -1
expect 2 'not a seed' "overlong seed" -- case --seed 99999999999999999999999
expect 2 'not a seed' "seed with junk" -- case --seed 12abc
expect 0 'seed 0xffffffffffffffff' "largest seed" -- case --seed 18446744073709551615
expect 0 'seed 0x0000000000000036' "hex seed" -- case --seed 0x36
expect 2 'not a seed' "negative first seed" -- hashes --first -1
expect 2 'past the last seed' "seed range overflow" -- hashes --first 18446744073709551615 --seeds 2
expect 2 'peers' "peers out of range" -- case --peers 0
expect 2 'peers' "peers negative" -- case --peers -1
expect 2 'messages' "messages overlong" -- case --messages 99999999999999999999
expect 2 'faults' "unknown fault plan" -- case --faults some
expect 2 'cannot run as written' "a case no run could hold" -- case --peers 64 --messages 2048 --max-message 1048576
expect 2 'backend' "unknown backend" -- run "$work/clean.case" --backend qemu
expect 2 'seeds' "demo seeds out of range" -- demo --seeds 0
expect 2 'cannot write there' "demo output directory" -- demo --out /dev/null/cases

# --- inputs checked before the case runs -----------------------------------------------------
expect 2 'trace is for the simulation' "live trace" -- run "$work/s54.case" --backend live --trace "$work/t"
nothing_ran "live trace"
[[ ! -e "$work/t" ]] || { echo "FAIL: live trace: the trace file was created" >&2; failures=$((failures + 1)); }
expect 2 '/nonexistent/x: cannot write the trace file' "unwritable trace" -- run "$work/s54.case" --trace /nonexistent/x
nothing_ran "unwritable trace"
expect 2 'missing: cannot read the trace file' "missing trace" -- replay "$work/s54.case" --trace "$work/missing"
nothing_ran "missing trace"
expect 2 'cannot read' "missing case" -- run "$work/nonexistent.case"

# --- cases that cannot run as written ---------------------------------------------------------
# peer#2's connect deleted: its first send (the line where the connect was) cannot run.
awk '/^  connect$/ && ++n == 2 { next } { print }' "$work/s54.case" >"$work/noconnect.case"
line=$(awk '/^  connect$/ && ++n == 2 { print NR; exit }' "$work/s54.case")
expect 2 "noconnect.case: line $line: peer#2 step 1 \(send\) needs a connection" "deleted connect" -- run "$work/noconnect.case"
nothing_ran "deleted connect"
expect 2 "noconnect.case: line $line" "deleted connect (in process)" -- run "$work/noconnect.case" --in-process
expect 2 "noconnect.case: line $line" "deleted connect (replay)" -- replay "$work/noconnect.case"
sed '0,/^peer start .*/s//peer start 3600000000000/' "$work/s54.case" >"$work/late.case"
line=$(grep -n '^peer start 3600000000000' "$work/late.case" | cut -d: -f1)
expect 2 "late.case: line $line: peer#1 starts at 3600000000000 ns, at or past the run's time limit" "late start" -- run "$work/late.case"
nothing_ran "late start"
sed 's/^  send 1380$/  send 1073741824/; s/^  expect 1380$/  expect 1073741824/' "$work/s54.case" >"$work/big.case"
expect 2 "big.case: line [0-9]+: the peers send more than 268435456 bytes" "too many bytes" -- run "$work/big.case"

# --- run judges, replay compares ---------------------------------------------------------------
expect 0 'on sim: PASS' "clean run" -- run "$work/clean.case"
expect 0 'case file \(replays this run\):' "report with its case" -- run "$work/clean.case"
expect 0 '^replay: reproduces the recorded violations \(none\)' "clean replay" -- replay "$work/clean.case"
{ cat "$work/clean.case"; echo "# violation: stall: peer#1 waits"; } >"$work/claims.case"
expect 1 '^replay: DOES NOT reproduce the recorded violations \(recorded: stall; found: none\)' "replay of a violation not found" -- replay "$work/claims.case"
"$edgecase" run "$work/clean.case" --trace "$work/clean.trace" >/dev/null
expect 0 '^replay: identical trace' "replay against a saved trace" -- replay "$work/clean.case" --trace "$work/clean.trace"
sed -i '5s/.*/changed line/' "$work/clean.trace"
expect 1 '^replay: ' "replay against a different trace" -- replay "$work/clean.case" --trace "$work/clean.trace"

# --- found by a new user's try-out ------------------------------------------------------------
sed '0,/^peer start .*/s//peer start 60000000000/' "$work/clean.case" >"$work/at_limit.case"
expect 2 "at or past the run's time limit" "a start at the time limit" -- run "$work/at_limit.case"
mkfifo "$work/fifo"
expect 2 'not a regular file' "a FIFO as the case (no hang)" -- run "$work/fifo"
expect 2 'not a regular file' "a device as the case (not read whole)" -- run /dev/zero
expect 2 'not a regular file' "replay --trace a directory" -- replay "$work/clean.case" --trace "$work"
expect 2 'cannot write' "case -o a full device" -- case --seed 1 -o /dev/full
status=0
"$edgecase" case --seed 1 >/dev/full 2>/dev/null || status=$?
if ((status != 2)); then echo "FAIL: case > /dev/full exited $status (want 2)" >&2; failures=$((failures + 1)); fi
# A failing run's report ends with a case file that replays to the same violations.
sed 's/^protocol echo$/protocol hello/' "$work/clean.case" >"$work/hello.case"
"$edgecase" run "$work/hello.case" >"$work/hello.out" 2>&1
sed -n '/^case file (replays this run):$/,$p' "$work/hello.out" | tail -n +2 >"$work/hello.replay.case"
expect 0 '^replay: reproduces the recorded violations \(stream-corrupt\)' "a report's case file replays" -- replay "$work/hello.replay.case"

# --- help says what the exit codes mean --------------------------------------------------------
expect 0 '3 undecided' "run --help" -- run --help
expect 0 'Exit 0 reproduced as recorded, 1 not' "replay --help" -- replay --help

finish cli_test
