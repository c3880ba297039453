#!/usr/bin/env bash
# patchwarden db backup|restore|check (issue 16). Expectations come from
# sqlite3(1) on the files, not from our own output: a backup taken while
# a server writes is intact (PRAGMA integrity_check) and holds every row
# acknowledged before it began; restore puts it back, keeps the previous
# database, and refuses a newer schema and a damaged file; check reports
# integrity, schema state and a tampered audit log (exit 1); a database
# about to be migrated is copied to DB.schema-N.bak first; PostgreSQL is
# pointed to pg_dump.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
trap pw_srv_cleanup EXIT
T=$PW_SRV_TMP
db=$T/server.db
not() { ! "$@"; }
q() { sqlite3 "$1" "$2"; }

"$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
admin=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
pw_srv_start A -c "$(pw_srv_plain_conf)" --db "$db" || { pw_srv_summary; exit 1; }
U=http://127.0.0.1:$PW_SRV_PORT_A/api/v1

# ---- backup while the server writes ----------------------------------------
for i in $(seq 1 40); do
  pw_http POST "$U/users" "$admin" "{\"name\":\"u$i\",\"role\":\"auditor\"}"
done
check "40 users added" test "$(q "$db" 'SELECT COUNT(*) FROM users')" = 41
(for i in $(seq 41 120); do
  curl -s -o /dev/null -X POST -H "Authorization: Bearer $admin" \
    --data-binary "{\"name\":\"u$i\",\"role\":\"auditor\"}" "$U/users"
done) &
writer=$!
out=$("$PW_BIN" db backup "$T/b1.db" --db "$db" 2>&1)
check "backup while writing: exit 0: $out" test $? -eq 0
wait "$writer"
check "the backup is intact" test "$(q "$T/b1.db" 'PRAGMA integrity_check')" = ok
n=$(q "$T/b1.db" 'SELECT COUNT(*) FROM users')
check "... holds every user acknowledged before it ($n >= 41)" test "$n" -ge 41
check "... and is one file (journal_mode delete)" test "$(q "$T/b1.db" 'PRAGMA journal_mode')" = delete
check "... mode 0600" test "$(stat -c %a "$T/b1.db")" = 600
check "no .tmp left" test ! -e "$T/b1.db.tmp"
ev=$(q "$T/b1.db" 'SELECT COUNT(*) FROM audit_events')
check "... its audit chain verifies" grep -qF "audit log intact: $ev event" \
  <("$PW_BIN" audit verify --db "$T/b1.db" 2>&1)
out=$("$PW_BIN" db backup "$T/nodir/b.db" --db "$db" 2>&1)
check "a backup into a missing directory: exit 2" test $? -eq 2
check "... naming it: $out" grep -qF "$T/nodir/b.db.tmp" <<<"$out"
pw_srv_stop A

# ---- check ------------------------------------------------------------------
out=$("$PW_BIN" db check --db "$db" 2>&1)
check "check: exit 0: $out" test $? -eq 0
check "... integrity ok" grep -qE '^integrity +ok$' <<<"$out"
ver=$(q "$db" "SELECT MAX(version) FROM schema_migrations WHERE component = 'server'")
check "... schema current ($ver)" grep -qE "^schema +$ver \(current" <<<"$out"
json=$("$PW_BIN" db check --json --db "$db")
check "--json: ok true, the schema, the audit count" python3 -c '
import json, sys
j = json.loads(sys.argv[1])
assert j["ok"] is True and j["integrity"] is True and j["schema"] == int(sys.argv[2])
assert j["schema_state"] == "current" and j["audit"]["events"] == int(sys.argv[3])' \
  "$json" "$ver" "$(q "$db" 'SELECT COUNT(*) FROM audit_events')"
cp "$db" "$T/tampered.db"
q "$T/tampered.db" "DROP TRIGGER IF EXISTS audit_events_no_update" >/dev/null 2>&1
for t in $(q "$T/tampered.db" "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'"); do
  q "$T/tampered.db" "DROP TRIGGER $t"
done
q "$T/tampered.db" "UPDATE audit_events SET actor = 'mallory' WHERE id = 2"
out=$("$PW_BIN" db check --db "$T/tampered.db" 2>&1)
check "check: a tampered audit log: exit 1" test $? -eq 1
check "... says TAMPERED: $out" grep -qE "^audit log +TAMPERED: audit event 2" <<<"$out"
prev=$(q "$db" "SELECT MAX(version) FROM schema_migrations WHERE component = 'server' AND version < $ver")
cp "$db" "$T/old.db"
# The version before the newest (numbers may skip one: helpers take theirs).
prev=$(q "$T/old.db" "SELECT MAX(version) FROM schema_migrations WHERE component = 'server' AND version < $ver")
q "$T/old.db" "DELETE FROM schema_migrations WHERE component = 'server' AND version = $ver"
out=$("$PW_BIN" db check --db "$T/old.db" 2>&1)
check "check: an older schema: exit 1, migrations pending: $out" \
  grep -qE "^schema +$prev \(migrations pending" <<<"$out"
check "... and check changed nothing" test \
  "$(q "$T/old.db" "SELECT MAX(version) FROM schema_migrations WHERE component = 'server'")" = $prev
out=$("$PW_BIN" db check --db "$T/absent.db" 2>&1)
check "check: no database: exit 2, none created" test $? -eq 2 -a ! -e "$T/absent.db"

# ---- migration takes a backup first -----------------------------------------
# old.db lost only the record of the newest migration, so applying it
# again fails on its existing columns: the copy is taken before, and the
# failed migration is rolled back.
out=$("$PW_BIN" audit verify --db "$T/old.db" 2>&1)
check "migrating old.db: refused as the migration fails: $out" grep -q "rolled back" <<<"$out"
check "... old.db.schema-$prev.bak taken first" test -s "$T/old.db.schema-$prev.bak"
check "... which is the old schema" test \
  "$(q "$T/old.db.schema-$prev.bak" "SELECT MAX(version) FROM schema_migrations WHERE component = 'server'")" = $prev
check "... and intact" test "$(q "$T/old.db.schema-$prev.bak" 'PRAGMA integrity_check')" = ok
check "... old.db still at the old schema" test \
  "$(q "$T/old.db" "SELECT MAX(version) FROM schema_migrations WHERE component = 'server'")" = $prev

# ---- restore ----------------------------------------------------------------
users_b1=$(q "$T/b1.db" 'SELECT COUNT(*) FROM users')
out=$("$PW_BIN" db restore "$T/b1.db" --db "$db" 2>&1)
check "restore: exit 0: $out" test $? -eq 0
check "... the database holds the backup's users" test "$(q "$db" 'SELECT COUNT(*) FROM users')" = "$users_b1"
kept=$(ls "$T"/server.db.before-restore-* 2>/dev/null | head -1)
check "... the previous one kept ($kept)" test "$(q "$kept" 'SELECT COUNT(*) FROM users')" = 121
check "... says so" grep -qF "the previous database is kept as $kept" <<<"$out"
out=$("$PW_BIN" db restore "$T/b1.db" --db "$T/fresh.db" 2>&1)
check "restore into a new file: exit 0: $out" test $? -eq 0 -a -s "$T/fresh.db"
cp "$T/b1.db" "$T/future.db"
q "$T/future.db" "INSERT INTO schema_migrations VALUES ('server', 999, 'future', 'x')"
out=$("$PW_BIN" db restore "$T/future.db" --db "$db" 2>&1)
check "restore of a newer schema: refused" test $? -eq 2
check "... saying so: $out" grep -qF "holds schema 999, newer than" <<<"$out"
head -c 8192 "$T/b1.db" >"$T/cut.db"
out=$("$PW_BIN" db restore "$T/cut.db" --db "$db" 2>&1)
check "restore of a cut file: refused: $out" grep -qF "$T/cut.db is not a usable backup" <<<"$out"
check "... the database untouched" test "$(q "$db" 'SELECT COUNT(*) FROM users')" = "$users_b1"
echo "not sqlite" >"$T/junk.db"
out=$("$PW_BIN" db restore "$T/junk.db" --db "$db" 2>&1)
check "restore of junk: refused: $out" grep -qF "$T/junk.db is not a usable backup" <<<"$out"

# ---- PostgreSQL: the recipe -------------------------------------------------
out=$("$PW_BIN" db backup "$T/x" --db "postgresql://u:secret@127.0.0.1:1/none" 2>&1)
check "backup of a PostgreSQL URL: exit 2" test $? -eq 2
check "... names pg_dump and hides the password: $out" \
  grep -q "pg_dump -Fc.*" <<<"$out"
check "... the password hidden" not grep -q secret <<<"$out"
pw_srv_summary
