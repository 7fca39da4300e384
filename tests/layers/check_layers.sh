#!/usr/bin/env bash
# check_layers.sh SRC_DIR: fails, printing file:line for each, when a file includes a header of
# a higher layer than its own, or of the other backend (docs/DESIGN.md "Layers in the folders",
# shared/design/ARCHITECTURE.md "Layers"). A folder's files and the public headers it owns
# (include/edgecase/) have the folder's layer; an include of a header no layer owns (the system's,
# a dependency's) is not checked. tests/, bench/ and examples/ use every layer and are not checked.
set -euo pipefail
src=${1:?usage: check_layers.sh SRC_DIR}
cd "$src"

# Layer of each folder, and of each public header: a file may include a header of a lower
# layer, or of its own group (sim and real share layer 2 but must not include each other).
# tools/ (the edgecase command) sits above every library: `--so` loads a handler through posix/.
declare -A rank=(
  [interface]=1 [sim]=2 [real]=2 [world]=3 [harness]=4 [props]=5
  [handlers]=5 [fuzz]=6 [posix]=6 [tools]=7)
declare -A header_group=(
  [kernel.h]=interface [inspect.h]=interface [kernel_calls.def]=interface [kernel_layer.h]=interface
  [sim_kernel.h]=sim [real_kernel.h]=real
  [scenario.h]=world [strace.h]=world
  [case_file.h]=harness [report.h]=harness [protocol.h]=harness [runner.h]=harness [timeline.h]=harness
  [live_match.h]=harness
  [gen.h]=props [property.h]=props [fuzz.h]=fuzz [posix.h]=posix)
# The built-in handlers (handlers/) are examples under test, not part of any library a user
# links: only the kit's own programs include them (tests/ and bench/ are not checked).
handler_users=" tools fuzz "

# group_of PATH: the group a header or a file belongs to ("" when no layer owns it).
group_of() {
  local p=$1
  case $p in
    include/edgecase/*|edgecase/*)
      local h=${p##*/}
      [[ -n ${header_group[$h]+x} ]] || { echo "unknown-public-header"; return; }
      echo "${header_group[$h]}" ;;
    */*) local top=${p%%/*}; [[ -n ${rank[$top]+x} ]] && echo "$top" || echo "" ;;
    *) echo "" ;;
  esac
}

status=0
files=$(find include/edgecase sim real world harness props fuzz tools posix handlers \
             \( -name '*.h' -o -name '*.cc' -o -name '*.c' \) ! -name '*_test.cc' 2>/dev/null | sort)
for f in $files; do
  from=$(group_of "$f")
  if [[ $from == unknown-public-header ]]; then
    echo "$f:1: a public header no layer owns: add it to header_group in $0"
    status=1
    continue
  fi
  while IFS=: read -r line text; do
    inc=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1/' <<<"$text")
    to=$(group_of "$inc")
    [[ -z $to || $to == "$from" ]] && continue
    if [[ $to == unknown-public-header ]]; then
      echo "$f:$line: includes $inc, a public header no layer owns"
      status=1
    elif [[ $to == handlers ]]; then
      if [[ $handler_users != *" $from "* ]]; then
        echo "$f:$line: $from includes $inc: the built-in handlers are not part of the library"
        status=1
      fi
    elif (( ${rank[$to]} >= ${rank[$from]} )); then
      echo "$f:$line: $from (layer ${rank[$from]}) includes $inc ($to, layer ${rank[$to]})"
      status=1
    fi
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" || true)
done
if ((status)); then echo "check_layers: a lower layer includes a higher one (above)"; fi
exit $status
