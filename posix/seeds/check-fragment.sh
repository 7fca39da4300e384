#!/usr/bin/env bash
# Checks that a completion keeps a published fragment line for line: `extract.sh SEEDS_DIR 003 |
# check-fragment.sh 003_server.cc`. From the completion's first line equal to the fragment's
# first line, each line must be the fragment's next line, unchanged, or an added line, which
# ends in `// added`, until the fragment's last line; lines before and after it are the
# completion's (its header comment lists them). Exit 1, naming the line, otherwise.
set -euo pipefail
completion=${1:?usage: extract.sh SEEDS_DIR 003 | check-fragment.sh COMPLETION}
awk -v marker='// added' '
  NR == FNR { frag[++nfrag] = $0; next }       # the fragment, from stdin
  next_line == 0 && $0 != frag[1] { next }     # the completion before the fragment
  next_line == 0 { next_line = 1 }
  next_line > nfrag { next }                   # after it
  $0 == frag[next_line] { ++next_line; next }
  substr($0, length($0) - length(marker) + 1) == marker { ++added; next }
  { printf "%s:%d: neither the fragment'"'"'s line %d (\"%s\") nor marked `%s`: \"%s\"\n",
           FILENAME, FNR, next_line, frag[next_line], marker, $0; bad = 1; exit 1 }
  END {
    if (bad) exit 1
    if (next_line <= nfrag) { printf "the fragment'"'"'s line %d (\"%s\") is missing\n", next_line, frag[next_line]; exit 1 }
    printf "fragment: %d lines kept in order; %d added lines inside it\n", nfrag, added
  }' /dev/stdin "$completion"
