#!/usr/bin/env bash
# Runs the kill -9 crash test (integration/crash_test.go, TestCrashKill9)
# with N kills per store (Maildir and mbox) instead of the bounded count
# `go test` uses, and prints the kills survived per store.
#
#   scripts/crash.sh N [SEED]
#
# SEED (default: the time) is logged and makes the command sequence and
# kill delays of a failing run repeatable: scripts/crash.sh N SEED. Needs
# root (the mbox store is served to a system account made for the run).
set -uo pipefail
cd "$(dirname "$0")/.."

# One function, read whole before it runs (a long run outlives edits).
main() {
  if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 N [SEED]" >&2
    return 2
  fi
  export POSTERN_CRASH_KILLS=$1
  export POSTERN_CRASH_SEED=${2:-$(( $(date +%s) % 1000000000 ))}
  echo "crash test: $POSTERN_CRASH_KILLS kills per store, POSTERN_CRASH_SEED=$POSTERN_CRASH_SEED"
  local log
  log=$(mktemp)
  go test ./integration -run '^TestCrashKill9$' -count=1 -v -timeout 0 2>&1 | tee "$log" |
    grep -E 'kills survived|--- (PASS|FAIL)|fsck status|lost|twice|reused|must not|UIDVALIDITY|UIDNEXT'
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ]; then
    echo "FAILED (full log: $log); repeat with: $0 $1 $POSTERN_CRASH_SEED"
    return 1
  fi
  rm -f "$log"
  return 0
}
main "$@"; exit $?
