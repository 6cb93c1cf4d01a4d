#!/usr/bin/env bash
# Runs the multi-process concurrency stress test (integration/stress_test.go,
# issue 8 item 5) for DURATION per store instead of CI's 10 s: a `postern
# serve` daemon with several IMAP sessions, several imapd processes in inetd
# mode, an outside MDA and (mbox) UW's mailutil on one user's mail at once,
# the servers built with the race detector, then the ledger checks.
#
#   scripts/stress.sh DURATION [STORE]
#
# DURATION is a Go duration (5m, 1h). STORE, if given, is mbox or maildir
# (the other is not run). Needs root (the mbox run makes a system account),
# uw-mailutils and liblockfile-bin (scripts/test-deps.sh installs them).
# A failed run's mail files are kept under $POSTERN_STRESS_KEEP (default
# /tmp/postern-stress-keep) for a post-mortem; the figures (operations,
# messages delivered, slowest waits) are in the test's log line.
set -uo pipefail
cd "$(dirname "$0")/.."

# One function, read before it runs (the file may be edited meanwhile).
main() {
  if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 DURATION [mbox|maildir]" >&2
    return 2
  fi
  local run='^TestStress$'
  if [ $# -eq 2 ]; then
    case $2 in
      mbox|maildir) run="^TestStress\$/^$2\$" ;;
      *) echo "$0: STORE must be mbox or maildir, not $2" >&2; return 2 ;;
    esac
  fi
  # The package's timeout: both stores, their set-up and checks, and the
  # race build, with room to spare. DURATION as NUMBER and s, m or h.
  local n unit secs
  if [[ $1 =~ ^([0-9]+)(s|m|h)$ ]]; then
    n=${BASH_REMATCH[1]} unit=${BASH_REMATCH[2]}
  else
    echo "$0: DURATION must be a number and s, m or h (90s, 5m, 1h), not $1" >&2
    return 2
  fi
  case $unit in s) secs=$n ;; m) secs=$((n * 60)) ;; h) secs=$((n * 3600)) ;; esac
  export POSTERN_STRESS_DURATION=$1
  export POSTERN_STRESS_KEEP=${POSTERN_STRESS_KEEP:-/tmp/postern-stress-keep}
  go test ./integration -run "$run" -count=1 -v -timeout "$((secs * 3 + 900))s" 2>&1 |
    grep -E '^(=== RUN|--- |PASS|FAIL|ok |    )'
  return "${PIPESTATUS[0]}"
}
main "$@"; exit $?
