#!/usr/bin/env bash
# A server on a PostgreSQL 15 (lib/pg.sh) that has become read-only
# (issue 10): a write answers 503 `unavailable` saying the database is
# read-only, not 500; reads go on; once writable again, writes succeed.
# test_api_hardening covers SQLite's full disk and read-only database.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/pg.sh"
trap 'pw_pg_stop; pw_srv_cleanup' EXIT
pw_pg_start || { echo "FAIL: PostgreSQL did not start"; exit 1; }
db=$PW_TEST_PG_URL
conf=$(pw_srv_plain_conf)
sql() { # a session of its own is writable whatever the database's default
  PGOPTIONS='-c default_transaction_read_only=off' \
    timeout 30 "$PW_PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 "$db" -c "$1" >/dev/null
}

pw_srv_start A -c "$conf" --db "$db" || { pw_srv_summary; exit 1; }
"$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
admin=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
check "the CLI made a token" test -n "$admin"

# Sessions opened from now on are read-only: the server's worker threads
# open theirs on their first request (the start-up migration needed a
# writable one).
sql "ALTER DATABASE pwtest SET default_transaction_read_only = on"
U=http://127.0.0.1:$PW_SRV_PORT_A/api/v1
pw_http POST "$U/users" "$admin" '{"name":"carol","role":"auditor"}'
expect_status 503 "a write to a read-only database"
check "saying it is read-only: $HTTP_BODY" grep -q "read-only" <<<"$HTTP_BODY"
check "the log has PostgreSQL's own message" grep -q "25006" "$PW_SRV_TMP/A.log"
pw_http GET "$U/users" "$admin"
expect_status 200 "a read meanwhile (the token's last use cannot be recorded)"
# A node started now cannot take writes: it refuses to start (issue 16)
# rather than answer healthy, and says why.
out=$(timeout 20 "$PW_BIN" server --listen 127.0.0.1:0 -c "$conf" --db "$db" 2>&1)
rc=$?
check "a node started on the read-only database refuses (exit $rc)" test "$rc" -eq 2
check "... saying it is read-only: $out" grep -q "read-only" <<<"$out"
pw_srv_stop A
sql "ALTER DATABASE pwtest SET default_transaction_read_only = off"
pw_srv_start C -c "$conf" --db "$db" || { pw_srv_summary; exit 1; }
pw_http POST "http://127.0.0.1:$PW_SRV_PORT_C/api/v1/users" "$admin" \
  '{"name":"carol","role":"auditor"}'
expect_status 201 "the same write once the database is writable"
pw_http GET "http://127.0.0.1:$PW_SRV_PORT_C/api/v1/health/ready"
expect_status 200 "ready once writable"
pw_srv_stop C
pw_srv_summary
