#!/usr/bin/env bash
# build.sh DIR COMPILER [cmake args...]: configures and builds one build tree with Ninja.
set -euo pipefail
dir=$1 cxx=$2
shift 2
cmake -S "$(dirname "$0")/.." -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
