#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run): installs the Debian packages, builds with
# g++ under AddressSanitizer + UndefinedBehaviorSanitizer and with clang++ (plus the libFuzzer
# targets), and runs every ctest label on both builds (label package installs each build's kit
# to a prefix in its build tree and builds tests/package against it). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc)
status=0
run_suite() {
  local dir=$1
  echo "=== ctest in $dir"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600 || status=1
}
bash scripts/build.sh build/gcc-asan g++ -DEDGECASE_SANITIZE=ON -DEDGECASE_BENCH=OFF
run_suite build/gcc-asan
# The clang++ build also checks that both builds run every case identically
# (tests/determinism/cross_build.sh, ctest label determinism), and builds the libFuzzer
# targets with their instrumented copy of the library (fuzz/, ctest label fuzz).
bash scripts/build.sh build/clang clang++ -DEDGECASE_BENCH=ON -DEDGECASE_FUZZ=ON \
  -DEDGECASE_OTHER_EDGECASE="$PWD/build/gcc-asan/edgecase"
run_suite build/clang
if ((status)); then echo "test.sh: FAILED"; else echo "test.sh: all suites passed"; fi
exit $status
