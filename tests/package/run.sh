#!/usr/bin/env bash
# run.sh KIT_BUILD_DIR WORK_DIR CXX [CXX_FLAGS]: installs the kit from its build tree to
# WORK_DIR/prefix, then configures, builds and runs tests/package (an outside project that
# find_package()s the kit) against that prefix alone. ctest label package.
set -euo pipefail
build=$1 work=$2 cxx=$3 flags=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$here" -B "$work/build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" -j 2
"$work/build/package_test"
