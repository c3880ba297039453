#!/usr/bin/env bash
# Runs the store's unit tests (test_db) against a real PostgreSQL 15
# started for this run (lib/pg.sh), after the same tests on SQLite: one
# binary, the same test functions for both backends.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/pg.sh"

bin=${PW_BUILD_DIR:?PW_BUILD_DIR (the build directory) is not set; run under ctest}/test_db
[ -x "$bin" ] || { echo "db_postgres.sh: $bin not built" >&2; exit 1; }

pw_pg_start
echo "PostgreSQL 15 up on 127.0.0.1:$PW_PG_PORT in ${PW_PG_START_MS} ms"

status=0
pw_pg_unit_tests "$bin" || status=1
echo "$PW_PG_PASSED passed, $PW_PG_FAILED failed"
exit "$status"
