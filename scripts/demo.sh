#!/usr/bin/env bash
# The main job: installs the Debian packages, builds, and runs `edgecase demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh build/release g++ -DEDGECASE_BENCH=OFF -DBUILD_TESTING=OFF
exec build/release/edgecase demo "$@"
