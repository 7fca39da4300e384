#!/usr/bin/env bash
# handler_test_replay.sh NAME_TEST: a test binary edgecase_add_handler(NAME ... TEST) generated,
# for a server with bugs (seed 002 as published). It exits 1 on a finding and prints the command
# that replays it; that command, run as printed from another directory, replays the case file
# (EDGECASE_REPLAY) and fails again with the same oracle.
set -uo pipefail
bin=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/run" "$work/elsewhere"
status=0
(cd "$work/run" && "$bin") >"$work/out" 2>&1 || status=$?
if ((status != 1)); then
  echo "FAIL: $bin exited $status (want 1, a finding):" >&2
  tail -20 "$work/out" >&2
  exit 1
fi
cmd=$(sed -n 's/^replay this case: //p' "$work/out" | head -1)
case_file=$(ls "$work/run"/*.case 2>/dev/null | head -1)
if [[ -z $case_file || $cmd != "EDGECASE_REPLAY=$case_file $bin" ]]; then
  echo "FAIL: the replay command is \`$cmd\`, want \`EDGECASE_REPLAY=$case_file $bin\`" >&2
  exit 1
fi
oracle=$(basename "$case_file" .case)
oracle=${oracle#*-}
status=0
(cd "$work/elsewhere" && eval "$cmd") >"$work/replay" 2>&1 || status=$?
if ((status != 1)) || ! grep -q "replayed $case_file: FAILS" "$work/replay" ||
  ! grep -q "^  $oracle: " "$work/replay"; then
  echo "FAIL: \`$cmd\` exited $status (want 1, replaying $oracle):" >&2
  tail -20 "$work/replay" >&2
  exit 1
fi
if ls "$work/elsewhere"/*.case >/dev/null 2>&1; then
  echo "FAIL: the replay generated cases instead of replaying the file" >&2
  exit 1
fi
echo "handler_test_replay: \`$cmd\` replays $oracle"
