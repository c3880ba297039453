#!/usr/bin/env bash
# Runs the server store's unit tests (test_users, test_audit, test_agents)
# against a real PostgreSQL 15 started for this run (lib/pg.sh), after the
# same tests on SQLite: one binary each, the same test functions for both
# backends. Every binary must have run its PostgreSQL group.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/pg.sh"

build=${PW_BUILD_DIR:?PW_BUILD_DIR (the build directory) is not set; run under ctest}
bins=(test_users test_audit test_agents)
for b in "${bins[@]}"; do
  [ -x "$build/$b" ] || { echo "server_store_postgres.sh: $build/$b not built" >&2; exit 1; }
done

pw_pg_start
echo "PostgreSQL 15 up on 127.0.0.1:$PW_PG_PORT in ${PW_PG_START_MS} ms"
export PATCHWARDEN_PWHASH=fast

total_pass=0 total_fail=0 bad=0
out=$(mktemp)
for b in "${bins[@]}"; do
  status=0
  timeout 600 "$build/$b" >"$out" 2>&1 || status=$?
  cat "$out"
  # cmocka prints "[  PASSED  ] N test(s)." per group, and the binaries
  # announce each backend.
  passed=$(grep -Eo '^\[  PASSED  \] [0-9]+' "$out" | awk '{s += $4} END {print s + 0}' || true)
  failed=$(grep -Eo '^\[  FAILED  \] [0-9]+ test' "$out" | awk '{s += $4} END {print s + 0}' || true)
  ran_pg=$(grep -c '^== backend: PostgreSQL' "$out" || true)
  total_pass=$((total_pass + passed))
  total_fail=$((total_fail + failed))
  if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$ran_pg" -ne 1 ]; then
    echo "$b: exit status $status, $failed failed, PostgreSQL group ran: $ran_pg"
    bad=1
  fi
done
rm -f "$out"
echo "$total_pass passed, $total_fail failed"
[ "$bad" -eq 0 ] && [ "$total_fail" -eq 0 ]
