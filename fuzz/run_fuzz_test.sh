#!/usr/bin/env bash
# run_fuzz_test.sh TARGET CORPUS RUNS clean|finding: the fuzz label's test of one target
# (fuzz/CMakeLists.txt). Runs TARGET for RUNS inputs from libFuzzer seed 1, starting from a
# copy of its checked-in corpus CORPUS (new inputs go to a scratch directory, never into the
# source tree), in a scratch directory that also receives crash files and case files.
#   clean:   the target must finish its runs without a crash (exit 0).
#   finding: the target must stop on a finding (libFuzzer's crash exit) within its runs, and
#            say what it found: an oracle's report ("violation(s)") or a sanitizer's.
set -uo pipefail
target=$1 corpus=$2 runs=$3 expect=$4
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/corpus" "$scratch/out"
cp -r "$corpus"/. "$scratch/corpus/" 2>/dev/null || true
cd "$scratch/out"
EDGECASE_FUZZ_OUT="$scratch/out" "$target" -runs="$runs" -seed=1 -print_final_stats=1 \
  -artifact_prefix="$scratch/out/" "$scratch/corpus" >"$scratch/log" 2>&1
rc=$?
tail -n 40 "$scratch/log"
case $expect in
  clean)
    ((rc == 0)) && { echo "run_fuzz_test: $runs runs, clean"; exit 0; }
    echo "run_fuzz_test: FAILED: a finding (exit $rc) where none was expected"
    exit 1 ;;
  finding)
    if ((rc != 0)) && grep -qE "violation\(s\)|ERROR: (AddressSanitizer|UndefinedBehaviorSanitizer)|runtime error:" "$scratch/log"; then
      echo "run_fuzz_test: found, as expected: $(grep -m1 -E '^  [a-z-]+: |ERROR: |runtime error:' "$scratch/log" || true)"
      ls "$scratch/out"
      exit 0
    fi
    echo "run_fuzz_test: FAILED: expected a finding within $runs runs (exit $rc)"
    exit 1 ;;
  *) echo "run_fuzz_test: expectation must be clean or finding, not '$expect'"; exit 2 ;;
esac
