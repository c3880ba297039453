#!/usr/bin/env bash
# Runs the host inventory and findings unit tests (test_hosts,
# test_findings) against a real PostgreSQL 15 started for this run
# (lib/pg.sh), after the same tests on SQLite: one binary each, the same
# test functions for both backends.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/pg.sh"

build=${PW_BUILD_DIR:?PW_BUILD_DIR (the build directory) is not set; run under ctest}
tests="test_hosts test_findings"
for t in $tests; do
  [ -x "$build/$t" ] || { echo "hosts_postgres.sh: $build/$t not built" >&2; exit 1; }
done

pw_pg_start
echo "PostgreSQL 15 up on 127.0.0.1:$PW_PG_PORT in ${PW_PG_START_MS} ms"

out=$(mktemp)
status=0
for t in $tests; do
  timeout 600 "$build/$t" >>"$out" 2>&1 || status=$?
done
cat "$out"
# cmocka prints "[  PASSED  ] N test(s)." per group; each binary
# announces each backend, and every PostgreSQL group must have run.
passed=$(grep -Eo '^\[  PASSED  \] [0-9]+' "$out" | awk '{s += $4} END {print s + 0}' || true)
failed=$(grep -Eo '^\[  FAILED  \] [0-9]+ test' "$out" | awk '{s += $4} END {print s + 0}' || true)
ran_pg=$(grep -c '^== backend: PostgreSQL' "$out" || true)
rm -f "$out"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$ran_pg" -ne 2 ]; then
  echo "$passed passed, $failed failed (exit status $status, PostgreSQL groups ran: $ran_pg of 2)"
  exit 1
fi
echo "$passed passed, 0 failed"
