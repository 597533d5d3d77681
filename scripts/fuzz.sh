#!/usr/bin/env bash
# Runs every Go fuzz target briefly (FUZZTIME, default 5s): CI's smoke run.
# Longer runs: FUZZTIME=10m scripts/fuzz.sh, or one target with
#   go test -run '^$' -fuzz '^FuzzName$' ./internal/…
set -euo pipefail
fuzztime=${FUZZTIME:-5s}
n=0
while IFS= read -r file; do
  dir=$(dirname "$file")
  for name in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/'); do
    echo "-- $name ($dir)"
    go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime 2s "./$dir" >/tmp/vigil-fuzz.log 2>&1 || { cat /tmp/vigil-fuzz.log; exit 1; }
    n=$((n+1))
  done
done < <(grep -rlE '^func Fuzz' --include='*_test.go' internal cmd 2>/dev/null | sort)
echo "fuzzed $n targets for $fuzztime each"
