#!/usr/bin/env bash
# Runs every fuzz target (func FuzzX in a *_test.go file) for a bounded
# time each: FUZZTIME (default 10s; a count such as 5000x also works).
# Arguments narrow the run to targets whose name matches one of them, e.g.
#   FUZZTIME=1m scripts/fuzz.sh FuzzParseManifest
# A failing input is written by Go to <package>/testdata/fuzz/<FuzzX>/ and
# fails the run. Go 1.26 can also end a duration-bounded run with a bare
# "context deadline exceeded" and no input (golang/go#75804); that is
# reported as a toolchain hiccup, not a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-10s}"

targets=$(grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' . |
  while read -r file; do
    grep -oE '^func Fuzz[A-Za-z0-9_]*' "$file" | sed "s|^func |$(dirname "$file") |"
  done | sort)

failed=0 ran=0
while read -r dir name; do
  [ -n "$name" ] || continue
  if [ $# -gt 0 ]; then
    keep=0
    for want in "$@"; do [[ "$name" == *"$want"* ]] && keep=1; done
    [ $keep -eq 1 ] || continue
  fi
  corpus="$dir/testdata/fuzz/$name"
  before=$(ls "$corpus" 2>/dev/null | sort)
  echo "== $name ($dir, $fuzztime)" >&2
  out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$dir" 2>&1)
  rc=$?
  ran=$((ran + 1))
  if [ $rc -eq 0 ]; then
    continue
  fi
  after=$(ls "$corpus" 2>/dev/null | sort)
  if [ "$before" = "$after" ] && grep -q 'context deadline exceeded' <<<"$out"; then
    echo "   (toolchain deadline hiccup, no failing input: not counted)" >&2
    continue
  fi
  echo "$out" >&2
  failed=$((failed + 1))
done <<<"$targets"

echo "== fuzz: $ran target(s) run, $failed failed" >&2
[ "$ran" -gt 0 ] && [ "$failed" -eq 0 ]
