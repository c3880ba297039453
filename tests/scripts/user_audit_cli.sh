#!/usr/bin/env bash
# `patchwarden user` and `patchwarden audit` end to end on a SQLite
# database: users, roles, tokens, the audit trail they leave, and
# `audit verify` naming events edited or deleted behind its back with the
# sqlite3 shell (after dropping the append-only triggers, as anyone with
# write access to the file could).
set -uo pipefail
bin=${PW_BIN:?PW_BIN (the patchwarden binary) is not set; run under ctest}
. "$(dirname "$0")/lib/test-lib.sh"
test_require_cmd sqlite3 python3
tmp=$(mktemp -d /tmp/pw-user-audit.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export PATCHWARDEN_PWHASH=fast # minimum Argon2id cost: tests only
unset PATCHWARDEN_DB
db="$tmp/server.db"
me=$(id -un)

# run NAME EXPECTED_STATUS CMD...: stdout in $out, stderr in $errout.
run() {
  local name=$1 want=$2
  shift 2
  out=$("$@" 2>"$tmp/stderr")
  local got=$?
  errout=$(cat "$tmp/stderr")
  if [ "$got" -eq "$want" ]; then ok; else bad "$name: exit $got, expected $want; output: $out $errout"; fi
}
has() { # has NAME TEXT: stdout or stderr contains TEXT
  if grep -qF -- "$2" <<<"$out$errout"; then ok; else bad "$1: no '$2' in: $out $errout"; fi
}
json() { # json NAME PYTHON-EXPR-ON-d: true on $out
  if python3 -c "import json,sys; d=json.loads(sys.stdin.read()); sys.exit(0 if ($2) else 1)" <<<"$out"; then
    ok
  else
    bad "$1: JSON check '$2' failed on: $out"
  fi
}

# ---- users -----------------------------------------------------------
run "help" 0 "$bin" help user
has "help" "user token create NAME"
run "--help" 0 "$bin" audit --help
has "--help" "audit verify"
run "add alice" 0 "$bin" user add alice --role admin --password-stdin --db "$db" <<<"correct horse battery"
has "add alice" "added user alice (admin"
run "add bob" 0 "$bin" user add bob --role operator --no-password --db "sqlite:$db"
has "add bob" "API tokens only"
run "add bad role" 2 "$bin" user add carol --role root --no-password --db "$db"
has "add bad role" "unknown role 'root'"
run "add dup" 2 "$bin" user add bob --role operator --no-password --db "$db"
has "add dup" "exists already"
run "add bad name" 2 "$bin" user add "Bad Name" --role operator --no-password --db "$db"
has "add bad name" "is not valid"
run "add short pw" 2 "$bin" user add carol --role helpdesk --password-stdin --db "$db" <<<"short"
has "add short pw" "8 to 1024 characters"
run "add no tty" 2 "$bin" user add carol --role helpdesk --db "$db" </dev/null
run "add no role" 2 "$bin" user add carol --no-password --db "$db"
has "add no role" "needs --role"
run "option not here" 2 "$bin" user list --role admin --db "$db"
run "unknown sub" 2 "$bin" user frobnicate --db "$db"

# The default database: $PATCHWARDEN_DB.
PATCHWARDEN_DB="$db" run "list (env)" 0 "$bin" user list
has "list" "alice"
has "list" "operator"
run "list json" 0 "$bin" user list --json --db "$db"
json "list json" "[u['name'] for u in d] == ['alice', 'bob'] and d[0]['has_password'] and not d[1]['has_password']"

run "role" 0 "$bin" user role bob auditor --db "$db"
has "role" "bob is now auditor"
run "role unknown" 2 "$bin" user role bob wizard --db "$db"
run "disable" 0 "$bin" user disable bob --db "$db"
run "enable" 0 "$bin" user enable bob --db "$db"
run "last admin" 2 "$bin" user disable alice --db "$db"
has "last admin" "last enabled admin"
run "passwd" 0 "$bin" user passwd alice --password-stdin --db "$db" <<<"a new long password"
has "passwd" "password of alice changed"
run "passwd nobody" 2 "$bin" user passwd nobody --password-stdin --db "$db" <<<"whatever12345"
has "passwd nobody" "there is no user \"nobody\""

# ---- tokens ----------------------------------------------------------
run "token create" 0 "$bin" user token create bob --label "ci pipeline" --expires 30d --db "$db"
token=$(head -n1 <<<"$out")
if [[ "$token" =~ ^pwt_[0-9]+\.[0-9a-f]{64}$ ]]; then ok; else bad "token format: $token"; fi
has "token create" "shown only now"
secret=${token#*.}
if sqlite3 "$db" .dump | grep -q "$secret"; then bad "the token's secret is in the database"; else ok; fi
run "token create json" 0 "$bin" user token create alice --json --db "$db"
json "token create json" "d['user'] == 'alice' and d['token'].startswith('pwt_2.')"
run "token bad expiry" 2 "$bin" user token create bob --expires soon --db "$db"
run "token list" 0 "$bin" user token list bob --db "$db"
has "token list" "pwt_1"
has "token list" "ci pipeline"
run "token list json" 0 "$bin" user token list --json --db "$db"
json "token list json" "len(d) == 2 and d[0]['expires'] and d[1]['expires'] is None"
run "token revoke" 0 "$bin" user token revoke pwt_1 --db "$db"
run "token revoke again" 2 "$bin" user token revoke 1 --db "$db"
has "token revoke again" "revoked already"
run "token revoke junk" 2 "$bin" user token revoke x1 --db "$db"

run "enroll-token create" 0 "$bin" user enroll-token create --uses 3 --expires 2h --label rack-7 --db "$db"
if [[ "$(head -n1 <<<"$out")" =~ ^pwe_[0-9]+\.[0-9a-f]{64}$ ]]; then ok; else bad "enroll token format: $out"; fi
run "enroll-token list" 0 "$bin" user enroll-token list --json --db "$db"
json "enroll-token list" "d[0]['uses_left'] == 3 and d[0]['label'] == 'rack-7' and d[0]['created_by'] == 'cli:$me'"
run "enroll-token never" 2 "$bin" user enroll-token create --expires never --db "$db"
run "enroll-token revoke" 0 "$bin" user enroll-token revoke pwe_1 --db "$db"

# ---- the audit log -----------------------------------------------------
run "verify" 0 "$bin" audit verify --db "$db"
has "verify" "audit log intact:"
events=$(sqlite3 "$db" "SELECT COUNT(*) FROM audit_events")
has "verify" "intact: $events event(s)"
# Every change above, and nothing that was refused.
want="user.add user.add user.role user.disable user.enable user.passwd token.create token.create token.revoke enroll_token.create enroll_token.revoke"
got=$(sqlite3 "$db" "SELECT action FROM audit_events ORDER BY id" | tr '\n' ' ' | sed 's/ $//')
if [ "$got" = "$want" ]; then ok; else bad "audit actions: '$got', expected '$want'"; fi
run "list" 0 "$bin" audit list --db "$db"
has "list" "user.role"
has "list" "cli:$me"
run "list json" 0 "$bin" audit list --json --limit 2 --db "$db"
json "list json" "len(d) == 2 and d[1]['action'] == 'enroll_token.revoke' and d[0]['actor'] == 'cli:$me'"
run "list after" 0 "$bin" audit list --json --after 2 --limit 1 --db "$db"
json "list after" "[e['id'] for e in d] == [3] and d[0]['before']['role'] == 'operator' and d[0]['after']['role'] == 'auditor'"
if sqlite3 "$db" "SELECT after_json FROM audit_events" | grep -q 'argon2\|correct horse'; then
  bad "a password or its hash is in the audit log"
else
  ok
fi

# The triggers refuse edits made through SQL.
if sqlite3 "$db" "UPDATE audit_events SET actor = 'x' WHERE id = 1" 2>"$tmp/err"; then
  bad "UPDATE of an audit event was not refused"
else
  grep -q "append-only" "$tmp/err" && ok || bad "trigger message: $(cat "$tmp/err")"
fi

sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
tamper() { # tamper NAME SQL: a copy of the database, edited
  cp "$db" "$tmp/$1.db"
  sqlite3 "$tmp/$1.db" "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete; $2"
}

tamper edit "UPDATE audit_events SET actor = 'cli:mallory' WHERE id = 3"
run "verify edited" 1 "$bin" audit verify --db "$tmp/edit.db"
has "verify edited" "TAMPERED: audit event 3 was edited"
run "verify edited json" 1 "$bin" audit verify --json --db "$tmp/edit.db"
json "verify edited json" "not d['intact'] and d['fault'] == 'edited' and d['bad_id'] == 3"

tamper middle "DELETE FROM audit_events WHERE id = 5"
run "verify deleted" 1 "$bin" audit verify --db "$tmp/middle.db"
has "verify deleted" "audit event 5 was deleted: ids jump from 4 to 6"

tamper last "DELETE FROM audit_events WHERE id = $events"
run "verify deleted last" 1 "$bin" audit verify --json --db "$tmp/last.db"
json "verify deleted last" "d['fault'] == 'deleted' and d['bad_id'] == $events"

tamper swap "UPDATE audit_events SET id = -1 WHERE id = 6; UPDATE audit_events SET id = 6 WHERE id = 7; UPDATE audit_events SET id = 7 WHERE id = -1"
run "verify reordered" 1 "$bin" audit verify --db "$tmp/swap.db"
has "verify reordered" "audit event 6 was moved"

# The original is still intact.
run "verify again" 0 "$bin" audit verify --db "$db"
run "verify bad option" 2 "$bin" audit verify --limit 3 --db "$db"
run "audit no sub" 2 "$bin" audit

test_done
