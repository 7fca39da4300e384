# lib.sh: what the command-line tests share. A test sets `edgecase` (the binary) and sources it:
#   edgecase=$1
#   source "$(dirname "$0")/lib.sh"
# It makes $work (removed at exit) and gives:
#   fail MESSAGE            count a failure and say it
#   expect CODE PATTERN DESCRIPTION -- ARGS...
#                           run `edgecase ARGS` (stdout in $work/out, stderr in $work/err); a
#                           failure unless it exits CODE and its output matches PATTERN
#                           (grep -E); never longer than $expect_timeout seconds (default 300)
#   finish NAME             exit 1 with the count of failures, or say all passed
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
expect_timeout=${expect_timeout:-300}

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

expect() {
  local code=$1 pattern=$2 what=$3
  shift 4
  local status=0
  timeout "$expect_timeout" "$edgecase" "$@" >"$work/out" 2>"$work/err" || status=$?
  if ((status != code)) || ! cat "$work/out" "$work/err" | grep -qE -- "$pattern"; then
    fail "$what: edgecase $* exited $status (want $code), output:"
    cat "$work/out" "$work/err" | tail -20 >&2
  fi
}

finish() {
  if ((failures > 0)); then
    echo "$1: $failures failure(s)" >&2
    exit 1
  fi
  echo "$1: every check passed"
}
