#!/usr/bin/env bash
# Prints a seed server's code as published, from ../shared/seeds/NNN_*.txt. Nothing else
# changes: main is renamed on the compiler's command line (edgecase_add_handler ENTRY main).
#   002 (default): lines 122 to the end (the code block after the post's link), each without
#        the one tab that indents the post's code block.
#   001: lines 17 to 326, between the post's ```cpp fence and its closing fence, as they are
#        (main starts at column 0; its body's tabs are the code's own).
#   003: lines 150 to the end, the loop fragment ("几乎所有的epoll程序都使用下面的框架"), as
#        it is. It does not compile alone: check-fragment.sh checks that 003_server.cc keeps
#        it line for line.
#   000h, 000, 000main: seed 000's server, its three code blocks: the header cepollserver.h
#        (lines 168 to 202), the class's code cepollserver.cpp (204 to 351), the server's
#        main (702 to 714). Each line loses the four spaces that indent the post's code blocks,
#        and the post's ideographic spaces (U+3000, in the indentation of lines 236 to 351 and
#        of its main) become plain ones: whitespace only, which g++ rejects as a stray byte.
# `extract.sh SEEDS_DIR 001 > 001_server.cc` wrote posix/seeds/001_server.cc;
# `extract.sh SEEDS_DIR 001 | cmp - 001_server.cc` checks it (ctest, label posix).
set -euo pipefail
seeds=${1:?usage: extract.sh SEEDS_DIR [000h|000|000main|001|002|003]}
seed=${2:-002}
file=$(ls "$seeds"/"${seed:0:3}"_*.txt)
unindent() { sed -n "$1p" "$file" | sed 's/\xe3\x80\x80/ /g; s/^    //'; }
case $seed in
  002) sed -n '122,$p' "$file" | sed 's/^\t//'; echo ;;
  001) sed -n '17,326p' "$file" ;;
  # The post's last line has no newline: sed prints it without one; echo ends it.
  003) sed -n '150,$p' "$file"; echo ;;
  000h) unindent 168,202 ;;
  000) unindent 204,351 ;;
  000main) unindent 702,714 ;;
  *) echo "extract.sh: no extraction for seed $seed" >&2; exit 2 ;;
esac
