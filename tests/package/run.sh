#!/usr/bin/env bash
# run.sh KIT_BUILD_DIR WORK_DIR CXX CC [FLAGS]: installs the kit from its build tree to
# WORK_DIR/prefix, then, against that prefix alone, configures, builds and runs two outside
# projects that find_package() the kit: tests/package (the README's "Check your own server",
# every installed header) and example/ (a plain C server through edgecase_add_handler, its
# generated property test and its `edgecase check`, under its own ctest), and a handler whose
# ENTRY does not exist (its build must fail, naming it). ctest label package.
set -euo pipefail
build=$1 work=$2 cxx=$3 cc=$4 flags=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
prefix=$work/prefix
rm -rf "$work"
cmake --install "$build" --prefix "$prefix" >/dev/null
configure() {  # configure SOURCE BUILD [-D...]
  cmake -S "$1" -B "$2" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS="$flags" \
    -DCMAKE_PREFIX_PATH="$prefix" "${@:3}" >/dev/null
}

# The README's example, as a user copies it into their project.
cmake -DREADME="$src/README.md" -DOUT="$work/readme_test.cc" -P "$src/scripts/readme_example.cmake"
configure "$here" "$work/package" -DREADME_TEST="$work/readme_test.cc" \
  -DREADME_SERVER="$src/examples/readme/my_server.cc"
cmake --build "$work/package" -j 2
"$work/package/package_test"

# example/: its tests run on the installed layer and command, not the build tree's.
"$prefix/bin/edgecase" --version
configure "$src/example" "$work/example" -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$flags"
cmake --build "$work/example" -j 2
for program in "$work/example/echo_test" "$prefix/bin/edgecase"; do
  libs=$(ldd "$program")
  if [[ $libs != *"libedgecase_posix.so => $prefix/"*lib/libedgecase_posix.so* ]]; then
    echo "run.sh: $program does not load the installed libedgecase_posix.so:"$'\n'"$libs" >&2
    exit 1
  fi
done
ctest --test-dir "$work/example" --output-on-failure --no-tests=error

# A wrong ENTRY stops the build at the handler, naming it.
configure "$here/wrong_entry" "$work/wrong_entry" -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$flags"
if out=$(cmake --build "$work/wrong_entry" 2>&1); then
  echo "run.sh: a handler with ENTRY serve (no such function) built" >&2
  exit 1
fi
if [[ $out != *"ENTRY serve: no function serve in SOURCES or LIBRARIES"* ]]; then
  echo "run.sh: a wrong ENTRY failed without naming it:"$'\n'"$out" >&2
  exit 1
fi
