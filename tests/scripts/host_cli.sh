#!/usr/bin/env bash
# `patchwarden host` end to end on a SQLite database: importing the
# sample fleet, filters, show/add/set with their audit trail, --json,
# a CSV round trip, and bad CSV refused with FILE:LINE:COLUMN and exit 2
# with nothing written.
set -uo pipefail
bin=${PW_BIN:?PW_BIN (the patchwarden binary) is not set; run under ctest}
data=${PW_TEST_DATA:?PW_TEST_DATA is not set; run under ctest}/hosts
. "$(dirname "$0")/lib/test-lib.sh"
test_require_cmd sqlite3 python3
tmp=$(mktemp -d /tmp/pw-host-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
unset PATCHWARDEN_DB
db="$tmp/server.db"

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
lacks() {
  if grep -qF -- "$2" <<<"$out$errout"; then bad "$1: '$2' unexpected in: $out $errout"; else ok; fi
}
json() { # json NAME PYTHON-EXPR-ON-d: true on $out
  if python3 -c "import json,sys; d=json.loads(sys.stdin.read()); sys.exit(0 if ($2) else 1)" <<<"$out"; then
    ok
  else
    bad "$1: JSON check '$2' failed on: $out"
  fi
}
rows() { # rows NAME N: the table in $out has N hosts
  local n
  n=$(($(wc -l <<<"$out") - 1))
  if [ "$n" -eq "$2" ]; then ok; else bad "$1: $n rows, expected $2: $out"; fi
}
sql() { sqlite3 "$db" "$1"; }
today=$(date -u +%F)

# ---- help and usage ---------------------------------------------------
run "help" 0 "$bin" help host
has "help" "host import-csv FILE"
run "no subcommand" 2 "$bin" host
run "bad subcommand" 2 "$bin" host frob --db "$db"
has "bad subcommand" "'frob' is not a host subcommand"
run "bad option" 2 "$bin" host show x --overdue --db "$db"
has "bad option" "unexpected option '--overdue'"
run "bad stale" 2 "$bin" host list --stale soon --db "$db"
has "bad stale" "option '--stale' needs a number from 1 to 100000, not 'soon'"

# ---- import the sample fleet -------------------------------------------
run "import" 0 "$bin" host import-csv "$data/fleet.csv" --db "$db"
has "import" "20 rows, 20 added, 0 updated, 0 unchanged"
run "import again" 0 "$bin" host import-csv "$data/fleet.csv" --db "sqlite:$db"
has "import again" "20 unchanged"
[ "$(sql "SELECT COUNT(*) FROM audit_events WHERE action = 'host.import'")" = 20 ] && ok ||
  bad "one audit event per imported host"

# ---- list and filters --------------------------------------------------
run "list" 0 "$bin" host list --db "$db"
rows "list" 20
has "list" "FINDINGS E/H/N/L"
run "list web" 0 "$bin" host list --category web --db "$db"
rows "list web" 4
run "list web internet" 0 "$bin" host list --category=web --exposure internet --db "$db"
rows "list web internet" 2
run "list test env" 0 "$bin" host list --environment test --db "$db"
rows "list test env" 3
run "list owner" 0 "$bin" host list --owner dba --db "$db"
rows "list owner" 3
run "list crit" 0 "$bin" host list --criticality 5 --db "$db"
rows "list crit" 5
# Overdue: never patched or before the 90-day policy; make the recent
# ones recent whatever today is.
for h in www01 www02 vpn01 mail01 mail02; do
  "$bin" host set "$h.corp.example.org" "last_patched=$today" --db "$db" >/dev/null || bad "set $h"
done
run "overdue web" 0 "$bin" host list --category web --overdue --db "$db"
has "overdue web" "intranet01.corp.example.org"
has "overdue web" "web-test01.corp.example.org"
lacks "overdue web" "www01"
rows "overdue web" 2
run "stale" 0 "$bin" host list --stale 7 --db "$db"
rows "stale (never seen)" 20
sql "UPDATE hosts SET last_seen = '$(date -u +%Y-%m-%dT%H:%M:%S.000Z)' WHERE hostname LIKE 'db-%'"
run "stale 7" 0 "$bin" host list --stale 7 --db "$db"
rows "stale 7" 17
run "bad category" 2 "$bin" host list --category printer --db "$db"
has "bad category" "category: 'printer' is not one of core, security, file-print"

# ---- --json ------------------------------------------------------------
run "list json" 0 "$bin" host list --json --category database --db "$db"
json "list json" "len(d) == 3 and all(h['category'] == 'database' for h in d)"
json "list json types" "d[0]['criticality'] == 5 and d[0]['open_findings']['emergency'] == 0"
run "show json" 0 "$bin" host show DB-ERP01.corp.example.org --json --db "$db"
json "show json" "d['hostname'] == 'db-erp01.corp.example.org' and d['app_owner'] == 'Maria Lopez' and d['kernel'] is None"
run "show" 0 "$bin" host show intranet01.corp.example.org --db "$db"
has "show" 'intranet wiki, "Staff Pages"'
run "show missing" 2 "$bin" host show nope.example.org --db "$db"
has "show missing" "no host named 'nope.example.org'"

# ---- add and set -------------------------------------------------------
run "add" 0 "$bin" host add new01.corp.example.org category=web criticality=2 \
  "maintenance-window=sat 01:00-02:00" --db "$db"
has "add" "added host new01.corp.example.org"
run "add dup" 2 "$bin" host add NEW01.corp.example.org --db "$db"
has "add dup" "exists already"
run "add bad name" 2 "$bin" host add "new_02" --db "$db"
has "add bad name" "not a valid host name"
run "set" 0 "$bin" host set new01.corp.example.org exposure=internet "location=HQ DC1" ticket=CHG-9 --db "$db"
has "set" "updated host new01.corp.example.org"
run "set same" 0 "$bin" host set new01.corp.example.org exposure=internet --db "$db"
has "set same" "nothing changed"
run "set bad crit" 2 "$bin" host set new01.corp.example.org criticality=7 --db "$db"
has "set bad crit" "criticality: '7' is not 1 (least) to 5"
run "set bad window" 2 "$bin" host set new01.corp.example.org "maintenance_window=Sun 1-4" --db "$db"
has "set bad window" "is not DAYS HH:MM-HH:MM"
run "set agent field" 2 "$bin" host set new01.corp.example.org kernel=6.1 --db "$db"
has "set agent field" "reported by the host's agent"
run "set unknown field" 2 "$bin" host set new01.corp.example.org colour=red --db "$db"
has "set unknown field" "'colour' is not a host field"
run "set no value" 2 "$bin" host set new01.corp.example.org --db "$db"
run "show after set" 0 "$bin" host show new01.corp.example.org --json --db "$db"
json "show after set" "d['exposure'] == 'internet' and d['maintenance_window'] == 'Sat 01:00-02:00' and d['ticket'] == 'CHG-9' and d['criticality'] == 2"
before=$(sql "SELECT before_json FROM audit_events WHERE action = 'host.set' ORDER BY id DESC LIMIT 1")
after=$(sql "SELECT after_json FROM audit_events WHERE action = 'host.set' ORDER BY id DESC LIMIT 1")
[ "$before" = '{"location":null,"exposure":null,"ticket":null}' ] && ok || bad "audit before: $before"
[ "$after" = '{"location":"HQ DC1","exposure":"internet","ticket":"CHG-9"}' ] && ok || bad "audit after: $after"
run "audit verify" 0 "$bin" audit verify --db "$db"

# ---- CSV round trip ----------------------------------------------------
run "export" 0 "$bin" host export-csv "$tmp/one.csv" --db "$db"
"$bin" host export-csv --db "$db" >"$tmp/stdout.csv" && cmp -s "$tmp/one.csv" "$tmp/stdout.csv" && ok ||
  bad "export to FILE and to stdout differ"
run "export filtered" 0 "$bin" host export-csv --category mail --db "$db"
[ "$(grep -c . <<<"$out")" -eq 3 ] && ok || bad "export filtered: $out"
db2="$tmp/two.db"
run "import export" 0 "$bin" host import-csv "$tmp/one.csv" --db "$db2"
has "import export" "21 rows, 21 added"
run "export again" 0 "$bin" host export-csv "$tmp/two.csv" --db "$db2"
cmp -s "$tmp/one.csv" "$tmp/two.csv" && ok || bad "CSV round trip differs: $(diff "$tmp/one.csv" "$tmp/two.csv")"
# Every row of the sample comes back as written (apart from the dates
# moved above).
python3 - "$data/fleet.csv" "$tmp/one.csv" <<'PY' && ok || bad "the sample fleet does not round-trip"
import csv, sys
a = {r["hostname"]: r for r in csv.DictReader(open(sys.argv[1], newline=""))}
b = {r["hostname"]: r for r in csv.DictReader(open(sys.argv[2], newline=""))}
for h, r in a.items():
    for k, v in r.items():
        if k != "last_patched" and b[h][k] != v:
            sys.exit(f"{h} {k}: {v!r} became {b[h][k]!r}")
PY

# ---- bad CSV: exit 2, FILE:LINE:COLUMN, nothing written ----------------
count_before=$(sql "SELECT COUNT(*) FROM hosts")
events_before=$(sql "SELECT COUNT(*) FROM audit_events")
printf 'hostname,category,criticality\r\nbrand-new.example.org,web,3\r\nwww01.corp.example.org,web,9\r\n' >"$tmp/bad.csv"
run "bad csv" 2 "$bin" host import-csv "$tmp/bad.csv" --db "$db"
has "bad csv" "$tmp/bad.csv:3:28: criticality: '9' is not 1"
has "bad csv" "nothing was imported"
printf 'hostname,ticket\nok.example.org,"CHG\n' >"$tmp/bad2.csv"
run "bad csv quote" 2 "$bin" host import-csv "$tmp/bad2.csv" --db "$db"
has "bad csv quote" "$tmp/bad2.csv:2:16: this quoted field never ends"
printf 'hostname,colour\nx.example.org,red\n' >"$tmp/bad3.csv"
run "bad csv header" 2 "$bin" host import-csv "$tmp/bad3.csv" --db "$db"
has "bad csv header" "$tmp/bad3.csv:1:10: column 'colour' is not a host field"
run "missing csv" 2 "$bin" host import-csv "$tmp/none.csv" --db "$db"
[ "$(sql "SELECT COUNT(*) FROM hosts")" = "$count_before" ] && ok || bad "a bad import added hosts"
[ "$(sql "SELECT COUNT(*) FROM audit_events")" = "$events_before" ] && ok || bad "a bad import wrote audit events"
run "unchanged after bad" 0 "$bin" host show www01.corp.example.org --json --db "$db"
json "unchanged after bad" "d['criticality'] == 4"

# ---- hosts sharing a name (agents that enrolled apart) -----------------
sql "INSERT INTO hosts (hostname, created) VALUES ('twin.example.org', 'x'), ('twin.example.org', 'y')"
twin=$(sql "SELECT MAX(id) FROM hosts WHERE hostname = 'twin.example.org'")
run "ambiguous" 2 "$bin" host show twin.example.org --db "$db"
has "ambiguous" "is ambiguous"
run "rename by id" 0 "$bin" host set "id:$twin" hostname=twin2.example.org --db "$db"
run "show by name" 0 "$bin" host show twin2.example.org --json --db "$db"
json "show by name" "d['id'] == $twin"

# ---- default database: $PATCHWARDEN_DB -----------------------------------
PATCHWARDEN_DB="$db" run "env db" 0 "$bin" host list --category mail
rows "env db" 2

test_done
