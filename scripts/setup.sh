#!/usr/bin/env bash
# Installs the Debian 12 packages edgecase builds with (ARCHITECTURE.md). Nothing else is
# downloaded. Safe to run again: apt-get skips what is already there.
set -euo pipefail
packages=(g++ clang libclang-rt-14-dev cmake ninja-build catch2 librapidcheck-dev libfmt-dev
          libcli11-dev libbenchmark-dev nlohmann-json3-dev
          libxml2-utils jq libuv1-dev python3)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
