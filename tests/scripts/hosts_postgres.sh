#!/usr/bin/env bash
# Runs the host inventory, findings and host identity unit tests (test_hosts,
# test_findings, test_host_identity, test_host_lifecycle, test_upgrades)
# against a real PostgreSQL 15 started for this run (lib/pg.sh), after the
# same tests on SQLite: one binary each, the same test functions for both
# backends.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/pg.sh"

build=${PW_BUILD_DIR:?PW_BUILD_DIR (the build directory) is not set; run under ctest}
bins=()
for t in test_hosts test_findings test_host_identity test_host_lifecycle test_upgrades; do
  [ -x "$build/$t" ] || { echo "hosts_postgres.sh: $build/$t not built" >&2; exit 1; }
  bins+=("$build/$t")
done

pw_pg_start
echo "PostgreSQL 15 up on 127.0.0.1:$PW_PG_PORT in ${PW_PG_START_MS} ms"

status=0
pw_pg_unit_tests "${bins[@]}" || status=1
echo "$PW_PG_PASSED passed, $PW_PG_FAILED failed"
exit "$status"
