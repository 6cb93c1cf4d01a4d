#!/usr/bin/env bash
# Runs every Go fuzz target in the tree, one at a time, for DURATION each, and
# prints a summary table. Targets are discovered from `func FuzzXxx(f
# *testing.F)` in *_test.go files, so a new target needs no change here.
#
#   scripts/fuzz.sh DURATION [REGEXP]
#
# DURATION is a -fuzztime value (20s, 5m, 100000x). REGEXP, if given, keeps
# only the targets whose "package/FuzzName" matches it (grep -E), e.g.
# 'imapwire|message/' to give the wire and MIME parsers a longer run.
#
# A crash makes `go test` write the failing input to the package's
# testdata/fuzz/FuzzXxx/ (Go's native corpus format); it is left there for
# the developer to rename into a regression case, and the script exits 1
# after running the remaining targets. New interesting inputs the fuzzer
# finds go to Go's cache ($(go env GOCACHE)/fuzz), not to the tree.
#
# Plain `go test` (CI) runs only the seeds: f.Add values and testdata/fuzz.
set -uo pipefail
cd "$(dirname "$0")/.."

# The whole script is one function, read before it runs, and the call and
# the exit share a line: bash reads a script as it goes, and a run lasts
# long enough for the file to be edited meanwhile.
main() {
  if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 DURATION [REGEXP]" >&2
    return 2
  fi
  duration=$1
  filter=${2:-.}

  # The test binary's -timeout counts while fuzzing too: give each target its
  # fuzz time plus 10 minutes (setup, the seed corpus, a slow minimisation),
  # so a hang still ends. A count (100000x) or compound duration gets none.
  limit=0
  if [[ $duration =~ ^([0-9]+)(s|m|h)$ ]]; then
    n=${BASH_REMATCH[1]}
    case ${BASH_REMATCH[2]} in
      s) limit=$((n + 600))s ;;
      m) limit=$((n * 60 + 600))s ;;
      h) limit=$((n * 3600 + 600))s ;;
    esac
  fi

  logdir=$(mktemp -d "${TMPDIR:-/tmp}/postern-fuzz.XXXXXX")

  # "dir name" pairs, sorted so runs are comparable.
  targets=$(grep -rE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' . |
    sed -E 's|^\./(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]+)\(.*|\1 \2|' |
    sort -u | grep -E -- "$filter" || true)
  if [ -z "$targets" ]; then
    echo "fuzz: no target matches $filter" >&2
    return 2
  fi

  rows=()
  failed=0
  total=$(printf '%s\n' "$targets" | wc -l)
  i=0
  while read -r dir name; do
    i=$((i + 1))
    log="$logdir/$(echo "$dir" | tr / _)_$name.log"
    echo "== [$i/$total] $dir $name ($duration)" >&2
    start=$(date +%s)
    go test -run '^$' -fuzz "^${name}\$" -fuzztime "$duration" -timeout "$limit" "./$dir" >"$log" 2>&1
    rc=$?
    wall=$(($(date +%s) - start))
    # The last progress line: "fuzz: elapsed: 20s, execs: 123 (6/sec), new interesting: 4 (total: 30)".
    last=$(grep -E '^fuzz: elapsed: .*execs: ' "$log" | tail -n 1)
    elapsed=$(echo "$last" | sed -nE 's/^fuzz: elapsed: ([0-9a-z.]+),.*/\1/p')
    execs=$(echo "$last" | sed -nE 's/.*execs: ([0-9]+) .*/\1/p')
    newi=$(echo "$last" | sed -nE 's/.*new interesting: ([0-9]+).*/\1/p')
    if [ $rc -eq 0 ]; then
      result=ok
    else
      failed=1
      crasher=$(sed -nE 's|.*Failing input written to (testdata/fuzz/[^ ]+).*|\1|p' "$log" | head -n 1)
      if [ -n "$crasher" ]; then
        result="CRASH $dir/$crasher"
      else
        result="FAIL (see $log)"
      fi
      tail -n 30 "$log" >&2
    fi
    rows+=("$(printf '%-34s %-24s %6ss %6s %12s %6s  %s' "$dir" "$name" "${wall}" "${elapsed:--}" "${execs:--}" "${newi:--}" "$result")")
  done <<<"$targets"

  echo
  printf '%-34s %-24s %7s %6s %12s %6s  %s\n' package target wall fuzzed execs new result
  for r in "${rows[@]}"; do
    echo "$r"
  done
  echo "logs: $logdir"
  return $failed
}

main "$@"; exit # one line: bash has read the exit before main returns
