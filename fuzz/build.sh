#!/usr/bin/env bash
# Builds the fuzz targets the way OSS-Fuzz and ClusterFuzzLite call a project's build.sh
# (.clusterfuzzlite/build.sh is this script): from the environment they set, CC, CXX,
# CFLAGS, CXXFLAGS (the sanitizer and coverage flags), LIB_FUZZING_ENGINE (the engine's link
# flags), SRC (where the sources are), WORK (scratch space) and OUT (where the targets go).
# Every target lands in $OUT with its seed corpus as <target>_seed_corpus.zip and its
# dictionary as <target>.dict (fuzz/dict/; comments only for targets without keywords).
#
# Try it without docker (fuzz/README.md):
#   CC=clang CXX=clang++ CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address,fuzzer-no-link" \
#   CXXFLAGS="$CFLAGS" LIB_FUZZING_ENGINE=-fsanitize=fuzzer SRC=$PWD/.. WORK=/tmp/work OUT=/tmp/out \
#   bash fuzz/build.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${CXX:=clang++}" "${CXXFLAGS:=}" "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${OUT:?set OUT, where the targets go}" "${WORK:=$(mktemp -d)}"
build="$WORK/edgecase-fuzz"
# The engine's C++ library may not be the one the system's libfmt was built with (OSS-Fuzz
# builds with -stdlib=libc++): {fmt} is used header-only. Build type None: the engine's flags
# alone decide the optimisation. Warnings stay warnings: the engine's compiler is newer than
# the one the project's -Werror is kept clean for.
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=None \
  -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
  -DBUILD_TESTING=OFF -DEDGECASE_BENCH=OFF -DEDGECASE_WERROR=OFF -DEDGECASE_FMT_HEADER_ONLY=ON \
  -DEDGECASE_FUZZ=ON -DEDGECASE_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE"
cmake --build "$build" --target edgecase_fuzzers -j "$(nproc)"
mkdir -p "$OUT"
for exe in "$build"/fuzz/fuzz_*; do
  [[ -x $exe && -f $exe ]] || continue
  t=$(basename "$exe")
  cp "$exe" "$OUT/$t"
  rm -f "$OUT/${t}_seed_corpus.zip"
  (cd "$here/fuzz/corpus/$t" && zip -q -r "$OUT/${t}_seed_corpus.zip" .)
  cp "$here/fuzz/dict/$t.dict" "$OUT/$t.dict"  # every target has one (fuzz/dict/)
done
echo "fuzz/build.sh: $(ls "$OUT" | grep -c '_seed_corpus.zip$') targets in $OUT"
