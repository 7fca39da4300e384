#!/usr/bin/env bash
# cross_build.sh OTHER THIS: two builds of edgecase (say g++ and clang++) must run every case
# identically. Fails (exit 1) with the first differing line.
#   (a) `edgecase hashes` for the same 200 all-fault seeds prints the same hashes and line counts;
#   (a') `edgecase case --generated` writes the same file for seeds 1..300 (echo, hello);
#   (b) case files written and run (with a saved trace) by one build replay identically on the
#       other, in both directions.
# By hand: bash tests/determinism/cross_build.sh build/gcc-asan/edgecase build/clang/edgecase
set -euo pipefail

# The seeds compared by hash: the ones `edgecase hashes` covers in well under a minute even
# under AddressSanitizer.
readonly kHashSeeds=200
# The case files carried across in each direction, by seed (all faults on): a few seeds,
# including long runs (7 and 42 have several hundred trace lines).
readonly kCaseSeeds=(1 7 42 1000)
# The hunt's generated cases (`edgecase case --generated`, rapidcheck generators) compared
# byte for byte, per protocol: a few seconds.
readonly kGeneratedSeeds=300

fail() { echo "cross_build: FAILED: $*" >&2; exit 1; }

(($# == 2)) || fail "usage: cross_build.sh OTHER_EDGECASE THIS_EDGECASE"
other=$1 this=$2
for b in "$other" "$this"; do [[ -x $b ]] || fail "$b is not an executable"; done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# (a) the trace hashes of the same seeds.
"$other" hashes --first 1 --seeds "$kHashSeeds" --faults all >"$work/other.hashes" ||
  fail "$other hashes exited $?"
"$this" hashes --first 1 --seeds "$kHashSeeds" --faults all >"$work/this.hashes" ||
  fail "$this hashes exited $?"
for f in other this; do
  n=$(wc -l <"$work/$f.hashes")
  ((n == kHashSeeds)) || fail "$f build printed $n hash lines, expected $kHashSeeds"
  # "SEED HASH LINES": a run with an empty trace would hash equal on both builds.
  bad=$(awk 'NF != 3 || $3 < 10' "$work/$f.hashes" | head -1)
  [[ -z $bad ]] || fail "$f build printed a malformed or near-empty trace line: $bad"
done
if ! cmp -s "$work/other.hashes" "$work/this.hashes"; then
  first=$(diff "$work/other.hashes" "$work/this.hashes" | grep -m2 '^[<>]' || true)
  fail "trace hashes differ (seed hash lines; < $other, > $this):"$'\n'"$first"
fi
echo "cross_build: $kHashSeeds seeds give the same trace hashes on both builds"

# (a') the generator: the same seed gives the same case file on both builds.
for protocol in echo hello; do
  for ((seed = 1; seed <= kGeneratedSeeds; ++seed)); do
    for b in other this; do
      "${!b}" case --seed "$seed" --generated "$protocol" -o "$work/$b.gen" ||
        fail "${!b} case --seed $seed --generated $protocol exited $?"
    done
    cmp -s "$work/other.gen" "$work/this.gen" ||
      fail "generated $protocol case for seed $seed differs: $(diff "$work/other.gen" "$work/this.gen" | head -4)"
  done
done
echo "cross_build: generated cases of $kGeneratedSeeds seeds (echo, hello) are identical on both builds"

# (b) case files: written and run by FROM, replayed against that trace by TO.
carry() {
  local from=$1 to=$2 tag=$3 seed
  for seed in "${kCaseSeeds[@]}"; do
    local c="$work/$tag-$seed.case" t="$work/$tag-$seed.trace"
    "$from" case --seed "$seed" --faults all -o "$c" || fail "$from case --seed $seed exited $?"
    "$from" run "$c" --trace "$t" >"$work/run.out" || fail "$from run $c exited $?"
    local lines
    lines=$(wc -l <"$t")
    ((lines >= 10)) || fail "$from wrote a trace of $lines lines for seed $seed"
    if ! "$to" replay "$c" --trace "$t" >"$work/replay.out" 2>&1; then
      cat "$work/replay.out" >&2
      fail "case seed $seed written and run by $from does not replay on $to"
    fi
    grep -q '^replay: identical' "$work/replay.out" ||
      fail "$to replay printed no verdict: $(cat "$work/replay.out")"
  done
  echo "cross_build: ${#kCaseSeeds[@]} case files from $from replay identically on $to"
}
carry "$other" "$this" other-to-this
carry "$this" "$other" this-to-other
echo "cross_build: both builds agree"
