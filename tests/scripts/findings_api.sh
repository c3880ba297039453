#!/usr/bin/env bash
# The stored findings over the API and the CLI (issue 11): the sample feeds
# imported, three hosts given the sample inventories (two Debian 10 web
# servers, one internet-facing; an internet-facing AlmaLinux 8 host) as a
# check-in stores them, `host recompute`; then GET /api/v1/findings and
# /hosts/{id}/findings give the same JSON as `patchwarden findings --json`
# and `host findings HOST --json`, each record says what `patchwarden scan
# --json` says of that finding, and every filter narrows to the count jq
# finds in the scans of the same inventories.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
trap pw_srv_cleanup EXIT
test_require_cmd jq sqlite3
T=$PW_SRV_TMP
S=${PW_SOURCE_DIR:?PW_SOURCE_DIR is not set; run under ctest}/share/sample
dbf=$T/server.db
db=sqlite:$dbf
feeds=$T/feeds.db
conf=$(pw_srv_plain_conf)
unset PATCHWARDEN_DB PATCHWARDEN_STORE

"$PW_BIN" feed import --store "$feeds" "$S/feeds" >/dev/null 2>&1
check "the sample feeds imported" test $? -eq 0
"$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
"$PW_BIN" user add hd --role helpdesk --no-password --db "$db" >/dev/null 2>&1
admin=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
helpdesk=$("$PW_BIN" user token create hd --db "$db" 2>/dev/null)
"$PW_BIN" host add web-a exposure=internet category=web --db "$db" >/dev/null 2>&1
"$PW_BIN" host add web-b exposure=internal category=web --db "$db" >/dev/null 2>&1
"$PW_BIN" host add app-1 exposure=internet category=application --db "$db" >/dev/null 2>&1
# An inventory as a check-in stores it: its JSON under its hash, the host
# pointing at it.
give() { # HOST HASH FILE
  sqlite3 "$dbf" "INSERT OR IGNORE INTO inventories (hash, json, first_seen)
    VALUES ('$2', readfile('$3'), '2026-01-01T00:00:00.000Z');
    UPDATE hosts SET inventory_hash = '$2' WHERE hostname = '$1';"
}
give web-a deb "$S/inventories/debian10-web.json"
give web-b deb "$S/inventories/debian10-web.json"
give app-1 alma "$S/inventories/alma8-app.json"
check "the inventories stored" \
  test "$(sqlite3 "$dbf" 'SELECT COUNT(*) FROM hosts WHERE inventory_hash IS NOT NULL')" -eq 3
"$PW_BIN" host recompute --store "$feeds" --db "$db" >"$T/out" 2>&1
check "host recompute: $(head -1 "$T/out")" test $? -eq 0

# The scans of the same inventories, each host's exposure: the oracle.
scan() { "$PW_BIN" scan --inventory "$S/inventories/$1.json" --exposure "$2" --store "$feeds" --json; }
scan debian10-web internet | jq -c '.findings[] + {hostname: "web-a"}' >"$T/scan.jsonl"
scan debian10-web internal | jq -c '.findings[] + {hostname: "web-b"}' >>"$T/scan.jsonl"
scan alma8-app internet | jq -c '.findings[] + {hostname: "app-1"}' >>"$T/scan.jsonl"
count() { jq -s "map(select($1)) | length" "$T/scan.jsonl"; }
total=$(count true)
check "the scans find findings ($total)" test "$total" -gt 0

pw_srv_start A -c "$conf" --db "$db" || { pw_srv_summary; exit 1; }
U=http://127.0.0.1:$PW_SRV_PORT_A/api/v1

# every page of GET $1 (a query string without after), as one array
pages() {
  local after=0 all='[]' url
  while :; do
    url="$U/$1"
    case $url in *\?*) url="$url&after=$after" ;; *) url="$url?after=$after" ;; esac
    pw_http GET "$url" "${2:-$admin}"
    [ "$HTTP_STATUS" = 200 ] || { echo "status $HTTP_STATUS: $HTTP_BODY" >&2; return 1; }
    all=$(jq -c --argjson a "$all" '$a + .findings' <<<"$HTTP_BODY")
    after=$(jq -r .next_after <<<"$HTTP_BODY")
    [ "$after" = null ] && break
  done
  printf '%s\n' "$all"
}

# ---- the same JSON from the API and the CLI ------------------------------------
api=$(pages "findings?limit=7")
cli=$("$PW_BIN" findings --json --db "$db" | jq -c .findings)
check "GET /findings (pages of 7) lists every finding ($(jq length <<<"$api"))" \
  test "$(jq length <<<"$api")" -eq "$total"
check "findings --json: the same bytes" test "$(jq -c . <<<"$cli")" = "$api"
app=$(sqlite3 "$dbf" "SELECT id FROM hosts WHERE hostname = 'app-1'")
api=$(pages "hosts/$app/findings?limit=5")
cli=$("$PW_BIN" host findings --json --db "$db" app-1 | jq -c .findings)
check "GET /hosts/$app/findings = host findings app-1 --json" test "$(jq -c . <<<"$cli")" = "$api"
check "id:N names the host too" \
  test "$("$PW_BIN" host findings "id:$app" --json --db "$db" | jq -c .findings)" = "$api"
pages "findings?limit=1000" "$helpdesk" >/dev/null
check "a helpdesk user reads them" test "$HTTP_STATUS" = 200

# ---- each record says what scan --json says ---------------------------------------
keys='{hostname, package, by_source, installed, fixed, advisory, cves, priority, reason,
  sla_days, kev, epss}'
want=$(jq -s -c "map($keys) | sort_by(.hostname, .package, .advisory)" "$T/scan.jsonl")
got=$("$PW_BIN" findings --json --db "$db" | jq -c ".findings | map($keys) | sort_by(.hostname, .package, .advisory)")
check "the records' members equal scan --json's" test "$got" = "$want"
snap=$(sqlite3 "$feeds" 'SELECT MAX(id) FROM feed_snapshot' 2>/dev/null || echo)
all=$("$PW_BIN" findings --json --db "$db" | jq -c .findings)
check "every record is open, unfixed, from snapshot ${snap:-?}" \
  test "$(jq -c 'map([.state, .fixed_at, .snapshot]) | unique' <<<"$all")" = "[[\"open\",null,${snap:-0}]]"
# due: the earlier of first_seen + sla_days and the KEV due date
check "due is first_seen + SLA or the KEV date, whichever is earlier" \
  test "$(jq '[.[] | select(.due != ([((.first_seen[:10] + "T00:00:00Z" | fromdate) + .sla_days * 86400 | strftime("%Y-%m-%d")), (.kev.due_date // "9999-99-99")] | min))] | length' <<<"$all")" -eq 0

# ---- every filter narrows to the scans' count ---------------------------------------
narrows() { # QUERY CLI-OPTIONS JQ-CONDITION
  local want n_api n_cli
  want=$(count "$3")
  n_api=$(pages "findings?limit=50&$1" | jq length)
  # shellcheck disable=SC2086
  n_cli=$("$PW_BIN" findings --json $2 --db "$db" | jq ".findings | length")
  check "$1: $want (API $n_api, CLI $n_cli)" test "$n_api:$n_cli" = "$want:$want"
}
deb_pkg=$(jq -r 'select(.hostname == "web-b") | .package' "$T/scan.jsonl" | head -1)
alma_adv=$(jq -r 'select(.hostname == "app-1") | .advisory' "$T/scan.jsonl" | head -1)
cve=$(jq -r 'select(.kev != null) | .kev.cve' "$T/scan.jsonl" | head -1)
check "the scans have a KEV finding ($cve)" test -n "$cve"
narrows "priority=emergency" "--priority emergency" '.priority == "emergency"'
narrows "priority=normal" "--priority normal" '.priority == "normal"'
narrows "kev=true" "--kev true" '.kev != null'
narrows "kev=false" "--kev false" '.kev == null'
narrows "package=$deb_pkg" "--package $deb_pkg" ".package == \"$deb_pkg\""
narrows "advisory=$alma_adv" "--advisory $alma_adv" ".advisory == \"$alma_adv\""
narrows "cve=$cve" "--cve $cve" "(.cves | index(\"$cve\")) != null"
narrows "exposure=internet" "--exposure internet" '.hostname != "web-b"'
narrows "category=web&priority=high" "--category web --priority high" \
  '.hostname != "app-1" and .priority == "high"'
narrows "due_before=2026-01-01" "--due-before 2026-01-01" \
  '.kev != null and .kev.due_date < "2026-01-01"'
narrows "state=open" "--state open" true
narrows "state=fixed" "--state fixed" false
narrows "state=accepted" "--state accepted" false
n=$(pages "hosts/$app/findings?limit=50&kev=true" | jq length)
check "a host's findings filter too ($n)" test "$n" -eq "$(count '.hostname == "app-1" and .kev != null')"

# ---- a fixed finding: the scan no longer has it --------------------------------------
sqlite3 "$dbf" "UPDATE hosts SET inventory_hash = NULL WHERE hostname = 'web-b';
  INSERT INTO inventories (hash, json, first_seen) VALUES ('empty',
  '{\"os\":{\"id\":\"debian\",\"version_id\":\"10\",\"codename\":\"buster\"},\"scheme\":\"deb\",\"packages\":[]}',
  'x'); UPDATE hosts SET inventory_hash = 'empty' WHERE hostname = 'web-b';"
"$PW_BIN" host recompute --store "$feeds" --db "$db" >"$T/out" 2>&1
check "web-b rescanned with nothing installed" test $? -eq 0
n=$(count '.hostname == "web-b"')
narrows "state=fixed" "--state fixed" '.hostname == "web-b"'
narrows "state=open" "--state open" '.hostname != "web-b"'
check "fixed ones carry fixed_at ($n)" test "$("$PW_BIN" host findings web-b --json --db "$db" |
  jq '[.findings[] | select(.state == "fixed" and .fixed_at != null)] | length')" -eq "$n"
"$PW_BIN" host findings web-b --db "$db" >"$T/out" 2>&1
check "the table marks them fixed" grep -q '(fixed)$' "$T/out"
check "the table's header" grep -q '^HOST  *PACKAGE  *INSTALLED -> FIXED  *ADVISORY  *PRIORITY  *DUE$' "$T/out"

# ---- a job with its output -----------------------------------------------------------------
pw_http POST "$U/hosts/$app/jobs" "$admin" '{"kind":"scan","args":{}}'
expect_status 201 "POST /hosts/$app/jobs"
job=$(jq -r .job_id <<<"$HTTP_BODY")
# its result as a check-in stores it
sqlite3 "$dbf" "INSERT INTO job_results (agent_id, seq, job_id, host_id, status, exit_code, output,
  received) VALUES ('ag_0000000000000000', 1, $job, $app, 'ok', 0, '{\"findings\":3,\"why\":\"x\"}',
  '2026-01-01T00:00:00.000Z'); UPDATE jobs SET state = 'done' WHERE id = $job;"
pw_http GET "$U/jobs/$job" "$helpdesk"
expect_status 200 "GET /jobs/$job"
cli=$("$PW_BIN" host job app-1 "$job" --json --db "$db")
check "host job --json = GET /jobs/$job" test "$(jq -c . <<<"$cli")" = "$(jq -c . <<<"$HTTP_BODY")"
check "with the output sent" test "$(jq -c '[.host_id, .result.output]' <<<"$cli")" = "[$app,{\"findings\":3,\"why\":\"x\"}]"
"$PW_BIN" host job app-1 "$job" --db "$db" >"$T/out" 2>&1
check "host job prints the output" grep -q '"findings":' "$T/out"
"$PW_BIN" host job web-a "$job" --db "$db" >"$T/out" 2>&1
check "another host's job is refused ($(cat "$T/out"))" grep -q "has no job $job" "$T/out"
pw_http GET "$U/jobs/$((job + 100))" "$admin"
expect_status 404 "GET /jobs/unknown"
pw_http GET "$U/hosts/$app/jobs/$job" "$helpdesk"
expect_status 200 "GET /hosts/$app/jobs/$job"
check "GET /hosts/{id}/jobs/{job} = host job --json" \
  test "$(jq -c . <<<"$cli")" = "$(jq -c . <<<"$HTTP_BODY")"
web_a=$(jq -r .id <<<"$("$PW_BIN" host show web-a --json --db "$db")")
pw_http GET "$U/hosts/$web_a/jobs/$job" "$admin"
expect_status 404 "another host's job under /hosts/{id}/jobs/{job}"
pw_http GET "$U/hosts/$app/jobs/0" "$admin"
expect_status 404 "a job id 0"

# ---- refusals ----------------------------------------------------------------------------
refused() { # QUERY WORD
  pw_http GET "$U/findings?$1" "$admin"
  check "$1: 400 ($HTTP_STATUS)" test "$HTTP_STATUS" = 400
  check "naming $2: $HTTP_BODY" grep -qF -- "$2" <<<"$HTTP_BODY"
}
refused "priority=urgent" priority
refused "state=closed" state
refused "cve=CVE-2024-1%25" cve
refused "kev=maybe" kev
refused "due_before=tomorrow" due_before
refused "exposure=moon" exposure
refused "colour=red" colour
pw_http GET "$U/hosts/4242/findings" "$admin"
expect_status 404 "GET /hosts/4242/findings"
"$PW_BIN" findings --priority urgent --db "$db" >"$T/out" 2>&1
check "findings --priority urgent exits 2" test $? -eq 2
check "naming the filter" grep -q 'priority' "$T/out"
"$PW_BIN" host findings nosuch --db "$db" >"$T/out" 2>&1
check "host findings of an unknown host exits 2" test $? -eq 2
pw_srv_summary
