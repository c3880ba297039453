#!/usr/bin/env bash
# Liveness and readiness (issue 16): /health/live answers without the
# database, /health/ready only when the database takes writes and holds
# this build's schema; HEAD works on every GET route. A server whose
# SQLite database another user created refuses to start, naming the file
# and its uid, instead of answering healthy while every write fails.
# The read-only PostgreSQL case is in server_pg_readonly.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
trap pw_srv_cleanup EXIT
test_require root
T=$PW_SRV_TMP
conf=$(pw_srv_plain_conf)
chmod 755 "$T"
chmod 644 "$conf"

# ---- a database root created, a server run as nobody ----------------------
"$PW_BIN" user add root --role admin --no-password --db "$T/root.db" >/dev/null 2>&1
check "root made a database" test -s "$T/root.db"
chmod 644 "$T/root.db"
out=$(runuser -u nobody -- timeout 10 "$PW_BIN" server --listen 127.0.0.1:0 -c "$conf" \
  --db "$T/root.db" 2>&1)
rc=$?
check "as nobody on root's database: refused (exit $rc)" test "$rc" -eq 2
check "... naming the file and the uid" grep -qF "$T/root.db (uid $(id -u nobody))" <<<"$out"
check "... and what to do" grep -qF "give the server's user write access" <<<"$out"

# ---- live, ready and HEAD ---------------------------------------------------
pw_srv_start A -c "$conf" --db "$T/a.db" || { pw_srv_summary; exit 1; }
U=http://127.0.0.1:$PW_SRV_PORT_A/api/v1
pw_http GET "$U/health/live"
expect_status 200 "live" && check "live says so" test "$(json 'j["status"]')" = live
pw_http GET "$U/health/ready"
expect_status 200 "ready"
check "ready names the schema" test "$(json 'j["schema"]')" = \
  "$(sqlite3 "$T/a.db" "SELECT MAX(version) FROM schema_migrations WHERE component = 'server'")"
for p in health health/live health/ready; do
  head=$(curl -s -I "$U/$p")
  check "HEAD $p: 200" grep -q '^HTTP/1.1 200' <<<"$head"
  len=$(curl -s -o /dev/null -w '%{size_download}' -I "$U/$p")
  check "HEAD $p: no body" test "$len" = 0
done
check "HEAD needs the same credential as GET" \
  test "$(curl -s -I -o /dev/null -w '%{http_code}' "$U/hosts")" = 401
pw_http DELETE "$U/health/ready"
expect_status 405 "DELETE on health/ready"
check "Allow lists GET and HEAD" grep -qi '^Allow: GET, HEAD' <(curl -s -i -X DELETE "$U/health/ready")

# The schema moved on behind the node's back (a newer node migrated it):
# not ready, and the message says what to do.
sqlite3 "$T/a.db" "INSERT INTO schema_migrations VALUES ('server', 999, 'from the future', 'x')"
pw_http GET "$U/health/ready"
expect_status 503 "ready with a newer schema"
check "... says a newer patchwarden migrated it" grep -qF "upgrade this node" <<<"$HTTP_BODY"
pw_http GET "$U/health/live"
expect_status 200 "live all the same"
test_done
