#!/usr/bin/env bash
# Runs the server store's unit tests (test_users, test_audit, test_agents,
# test_campaign, test_web, test_notify) against a real PostgreSQL 15 started for this run
# (lib/pg.sh), after the
# same tests on SQLite: one binary each, the same test functions for both
# backends. Every binary must have run its PostgreSQL group.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/pg.sh"

build=${PW_BUILD_DIR:?PW_BUILD_DIR (the build directory) is not set; run under ctest}
bins=(test_users test_audit test_agents test_campaign test_web test_notify)
for b in "${bins[@]}"; do
  [ -x "$build/$b" ] || { echo "server_store_postgres.sh: $build/$b not built" >&2; exit 1; }
done

pw_pg_start
echo "PostgreSQL 15 up on 127.0.0.1:$PW_PG_PORT in ${PW_PG_START_MS} ms"
export PATCHWARDEN_PWHASH=fast

bad=0
pw_pg_unit_tests "${bins[@]/#/$build/}" || bad=1
echo "$PW_PG_PASSED passed, $PW_PG_FAILED failed"
[ "$bad" -eq 0 ] && [ "$PW_PG_FAILED" -eq 0 ]
