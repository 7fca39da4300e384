#!/usr/bin/env bash
# Prints seed 002's server as published: lines 122 to the end of ../shared/seeds/002_*.txt (the
# code block after the post's link), each without the one tab that indents the post's code
# block. Nothing else changes: main is renamed on the compiler's command line
# (edgecase_add_handler ENTRY main). `extract.sh SEEDS_DIR > 002_server.c` wrote
# posix/seeds/002_server.c; `extract.sh SEEDS_DIR | cmp - 002_server.c` checks it (ctest, posix).
set -euo pipefail
seeds=${1:?usage: extract.sh SEEDS_DIR}
file=$(ls "$seeds"/002_*.txt)
first=122
sed -n "${first},\$p" "$file" | sed 's/^\t//'
echo
