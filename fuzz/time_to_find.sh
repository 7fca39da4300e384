#!/usr/bin/env bash
# time_to_find.sh TARGET ORACLE SEED...: for each libFuzzer seed, runs TARGET (a scenario fuzz
# target) from an empty corpus for at most 60 s with every oracle but ORACLE ignored
# (EDGECASE_FUZZ_IGNORE), and prints the wall time until it stopped and what stopped it: the
# oracle of the case file it wrote, "asan:..." for a sanitizer's report (which cannot be
# ignored), "none" if nothing did. docs/SEARCH.md, "Time to find, per seed bug", is its output.
#   bash fuzz/time_to_find.sh build/fuzz/fuzz/fuzz_seed002 lost-accept 1 2 3 4 5
set -uo pipefail
bin=$(realpath "$1") oracle=$2; shift 2
all=lost-read-event,lost-accept,disarmed-forever,stuck-output,busy-loop,stream-corrupt,reply-lost-after-half-close,event-for-closed-fd,use-after-close,ctl-error,bad-fd,handler-exited,handler-blocked,handler-threw,fd-leak,stall,handler-crashed
ignore=$(tr ',' '\n' <<<"$all" | grep -vx "$oracle" | paste -sd,)
for s in "$@"; do
  w=$(mktemp -d); mkdir "$w/corpus" "$w/out"
  t0=$(date +%s.%N)
  ( cd "$w/out" && EDGECASE_FUZZ_IGNORE=$ignore EDGECASE_FUZZ_OUT=$w/out "$bin" -seed="$s" \
      -max_total_time=60 -artifact_prefix="$w/out/" "$w/corpus" >"$w/log" 2>&1 )
  rc=$?; t1=$(date +%s.%N)
  got=$(ls "$w/out" | grep -oP '^fuzz-[a-z0-9_]+-\K[a-z-]+(?=-[0-9a-f]{16}\.case)' | head -1)
  grep -q "ERROR: AddressSanitizer\|runtime error:" "$w/log" && got="asan:$got"
  runs=$(grep -oP '^#\K[0-9]+' "$w/log" | tail -1)
  printf '%s %s seed=%s exit=%s %.1f s stopped-by=%s runs~%s\n' "$(basename "$bin")" "$oracle" "$s" \
    "$rc" "$(echo "$t1 - $t0" | bc)" "${got:-none}" "${runs:-1}"
  rm -rf "$w"
done
