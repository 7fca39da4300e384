#!/usr/bin/env bash
# time_to_find.sh [--past-crashes] TARGET ORACLE SEED...: for each libFuzzer seed, runs TARGET
# (a scenario fuzz target) from an empty corpus for at most 60 s with every oracle but ORACLE
# ignored (EDGECASE_FUZZ_IGNORE), and prints the wall time until it stopped and what stopped it:
# the oracle of the case file it wrote, "asan:..." for a sanitizer's report (which cannot be
# ignored), "none" if nothing did. docs/SEARCH.md, "Time to find, per seed bug", is its output.
#   bash fuzz/time_to_find.sh build/fuzz/fuzz/fuzz_seed002 lost-accept 1 2 3 4 5
# --past-crashes: for a bug behind a crash of the same server (seed 001's lost reply behind its
# strcpy overflow), libFuzzer runs in fork mode with -ignore_crashes=1 and the time is until the
# first case file naming ORACLE appears; crashes on the way are passed, not stopped at.
set -uo pipefail
if [[ ${1:-} == -h || ${1:-} == --help ]]; then sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0; fi
past=0
if [[ ${1:-} == --past-crashes ]]; then past=1; shift; fi
if (($# < 3)); then
  echo "usage: time_to_find.sh [--past-crashes] TARGET ORACLE SEED..." >&2
  exit 2
fi
target=$1 oracle=$2; shift 2
bin=$(realpath -e "$target" 2>/dev/null) && [[ -x $bin && -f $bin ]] ||
  { echo "time_to_find.sh: not an executable: $target" >&2; exit 2; }
all=lost-read-event,lost-accept,disarmed-forever,stuck-output,busy-loop,stream-corrupt,reply-lost-after-half-close,event-for-closed-fd,use-after-close,ctl-error,bad-fd,handler-exited,handler-blocked,handler-threw,fd-leak,stall,handler-crashed,killed-by-sigpipe
tr ',' '\n' <<<"$all" | grep -qx -- "$oracle" ||
  { echo "time_to_find.sh: unknown oracle: $oracle (one of: $all)" >&2; exit 2; }
for s in "$@"; do
  [[ $s =~ ^[0-9]+$ ]] || { echo "time_to_find.sh: a seed is a number: $s" >&2; exit 2; }
done
ignore=$(tr ',' '\n' <<<"$all" | grep -vx "$oracle" | paste -sd,)
# The oracles (or "crash") named by the case files the target wrote into $1.
written() { ls "$1" | grep -oP '^fuzz-[a-z0-9_]+-\K[a-z-]+(?=-[0-9a-f]{16}\.case)'; }
found() { written "$1" | grep -vx crash | head -1; }
for s in "$@"; do
  w=$(mktemp -d); mkdir "$w/corpus" "$w/out"
  t0=$(date +%s.%N)
  if ((past)); then
    ( cd "$w/out" && EDGECASE_FUZZ_IGNORE=$ignore EDGECASE_FUZZ_OUT=$w/out exec "$bin" -seed="$s" \
        -fork=1 -ignore_crashes=1 -max_total_time=60 -artifact_prefix="$w/out/" "$w/corpus" \
        >"$w/log" 2>&1 ) &
    pid=$!
    while kill -0 "$pid" 2>/dev/null && [[ -z $(found "$w/out") ]]; do sleep 0.05; done
    t1=$(date +%s.%N)
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    rc=-; got=$(found "$w/out")
    runs="? (fork mode)"
  else
    ( cd "$w/out" && EDGECASE_FUZZ_IGNORE=$ignore EDGECASE_FUZZ_OUT=$w/out "$bin" -seed="$s" \
        -max_total_time=60 -artifact_prefix="$w/out/" "$w/corpus" >"$w/log" 2>&1 )
    rc=$?; t1=$(date +%s.%N)
    got=$(written "$w/out" | head -1)
    grep -q "ERROR: AddressSanitizer\|runtime error:" "$w/log" && got="asan:$got"
    runs=$(grep -oP '^#\K[0-9]+' "$w/log" | tail -1)
  fi
  printf '%s %s seed=%s exit=%s %.1f s stopped-by=%s runs~%s\n' "$(basename "$bin")" "$oracle" "$s" \
    "$rc" "$(echo "$t1 - $t0" | bc)" "${got:-none}" "${runs:-1}"
  rm -rf "$w"
done
