#!/usr/bin/env bash
# check_test.sh EDGECASE: `edgecase check` (issue 11 item 9) through the built binary: exit 0
# clean, 1 found, 2 usage or input error (before any case runs), 3 undecided; a case file per
# finding that `edgecase replay` reproduces; JUnit XML and JSON that real parsers accept
# (xmllint, jq) and that agree with each other; the fault profiles reach the generator.
set -uo pipefail
edgecase=$1
source "$(dirname "$0")/lib.sh"
nothing_ran() {
  if grep -q '^edgecase check .* cases run' "$work/out"; then fail "$1: cases ran before the input was rejected"; fi
}

# --- usage and input errors: exit 2, a message naming the input, nothing run -------------------
expect 2 'name a handler' "no handler" -- check
expect 2 'no handler named `nope`.*seed002' "unknown handler" -- check nope
nothing_ran "unknown handler"
expect 2 '`bogus` is not a fault.*slow-reader' "unknown fault" -- check echo --faults eintr,bogus
expect 2 'backend must be sim or live' "unknown backend" -- check echo --backend qemu
expect 2 'protocol named `smtp`' "unknown protocol" -- check echo --protocol smtp
expect 2 'listens on its own port 6888' "port of a seed server" -- check seed002 --port 7000
expect 2 'cases' "zero cases" -- check echo --cases 0
expect 2 'not a seed' "negative seed" -- check echo --seed -1
expect 2 'past the last seed' "seed range overflow" -- check echo --seed 18446744073709551615 --cases 2
expect 2 'trace is for the simulation' "live trace" -- check echo --backend live --trace "$work/t"
expect 2 'cannot write there' "unwritable --out" -- check echo --out /dev/null/cases
nothing_ran "unwritable --out"
expect 2 'cannot write there' "unwritable --junit" -- check echo --junit /nonexistent/j.xml
expect 2 'time-limit' "negative time limit" -- check echo --time-limit -1

# --- clean, found, undecided ---------------------------------------------------------------------
expect 0 'verdict: CLEAN' "a fixed server is clean" -- check seed002-fixed --cases 40 --junit "$work/clean.xml" --json "$work/clean.json"
xmllint --noout "$work/clean.xml" || fail "clean JUnit is not well-formed XML"
[[ $(jq '.exit, .clean, (.findings | length)' "$work/clean.json" | tr '\n' ' ') == "0 40 0 " ]] ||
  fail "clean JSON: $(jq -c '{exit, clean, findings: (.findings | length)}' "$work/clean.json")"
[[ $(xmllint --xpath 'count(//testcase[failure])' "$work/clean.xml") == 0 ]] || fail "clean JUnit has failures"

expect 1 'verdict: FOUND .*lost-read-event' "seed 002 is found out" -- check seed002 --cases 10 --out "$work/cases" --junit "$work/found.xml" --json "$work/found.json" --trace "$work/found.trace"
xmllint --noout "$work/found.xml" || fail "JUnit is not well-formed XML"
jq -e . "$work/found.json" >/dev/null || fail "JSON does not parse"
json_findings=$(jq '.findings | length' "$work/found.json")
xml_failures=$(xmllint --xpath 'count(//testcase[failure])' "$work/found.xml")
((json_findings > 0 && json_findings == xml_failures)) ||
  fail "JSON has $json_findings findings, JUnit $xml_failures failures"
[[ -s "$work/found.trace" ]] || fail "no trace written for the first finding"
for f in $(jq -r '.findings[].case_file' "$work/found.json"); do
  [[ -f "$f" ]] || { fail "case file $f missing"; continue; }
  oracle=$(jq -r --arg f "$f" '.findings[] | select(.case_file == $f) | .oracle' "$work/found.json")
  "$edgecase" replay "$f" >"$work/replay.out" 2>&1 || fail "replay of $f: $(tail -1 "$work/replay.out")"
  grep -q "reproduces the recorded violations (.*$oracle" "$work/replay.out" || fail "$f does not record $oracle"
done

expect 3 'verdict: UNDECIDED' "a time limit that runs out" -- check seed002-fixed --cases 100000 --time-limit 0.001 -q

# --- fault profiles reach the generator (the first generated case's fault count) ------------------
faults_of_first() {  # PROFILE: the faults on in each finding's first generated case
  "$edgecase" check seed002 --cases 3 -q --faults "$1" --json "$work/f.json" >/dev/null 2>&1
  jq -r '[.findings[].first_size.faults] | unique | join(",")' "$work/f.json"
}
[[ $(faults_of_first all) == 11 ]] || fail "--faults all: first cases with $(faults_of_first all) faults, want 11"
[[ $(faults_of_first none) == 0 ]] || fail "--faults none: first cases with $(faults_of_first none) faults"
[[ $(faults_of_first eintr) =~ ^[01](,1)?$ ]] || fail "--faults eintr: first cases with $(faults_of_first eintr) faults"

expect 0 'seed002 .*own port 6888' "--list" -- check --list
expect 0 'exit 0 clean, 1 found, 2 usage or input error, 3 undecided' "check --help" -- check --help

finish check_test
