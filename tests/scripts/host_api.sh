#!/usr/bin/env bash
# Host records through the HTTP API of a real `patchwarden server` on
# 127.0.0.1, next to the CLI on the same database: the sample fleet
# imported as CSV over the API and exported again (the same bytes as
# `host export-csv`, with filters), PATCH with its audit trail and its
# refusals, who may edit, and an agent enrolling under a hostname an
# operator entered (adopted) or another machine holds (409).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
trap pw_srv_cleanup EXIT
: "${PW_TEST_DATA:?PW_TEST_DATA is not set; run under ctest}"
T=$PW_SRV_TMP
db=sqlite:$T/server.db
conf=$(pw_srv_plain_conf)
unset PATCHWARDEN_DB

"$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
"$PW_BIN" user add ops --role operator --no-password --db "$db" >/dev/null 2>&1
"$PW_BIN" user add shop --role app-owner --no-password --db "$db" >/dev/null 2>&1
admin=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
ops=$("$PW_BIN" user token create ops --db "$db" 2>/dev/null)
owner=$("$PW_BIN" user token create shop --db "$db" 2>/dev/null)
etok=$("$PW_BIN" user enroll-token create --uses 5 --db "$db" 2>/dev/null)
check "the CLI made tokens" test -n "$admin" -a -n "$ops" -a -n "$owner" -a -n "$etok"
# The standard server build process: the host is entered before its agent runs.
out=$("$PW_BIN" host add new-01.corp.example.org category=web criticality=2 --db "$db" 2>&1)
check "host add: $out" grep -q "added host new-01.corp.example.org" <<<"$out"

pw_srv_start A -c "$conf" --db "$db" || { pw_srv_summary; exit 1; }
U=http://127.0.0.1:$PW_SRV_PORT_A/api/v1

# ---- CSV over the API ---------------------------------------------------------
fleet=$PW_TEST_DATA/hosts/fleet.csv
rows=$(($(grep -c . "$fleet") - 1))
pw_http POST "$U/hosts/import-csv" "$owner" "@$fleet" -H 'Content-Type: text/csv'
expect_status 403 "import-csv as app-owner"
pw_http POST "$U/hosts/import-csv" "$ops" "@$fleet" -H 'Content-Type: text/csv'
expect_status 200 "import-csv as operator"
check "all $rows rows were added: $HTTP_BODY" test "$(json 'j["rows"] == j["created"]')/$(json 'j["rows"]')" = "true/$rows"
pw_http GET "$U/hosts/export-csv" "$owner" "" -D "$T/headers"
expect_status 200 "export-csv"
check "export-csv is text/csv" grep -qi '^content-type: text/csv' "$T/headers"
cp "$T/body" "$T/api.csv"
"$PW_BIN" host export-csv "$T/cli.csv" --db "$db"
check "the API exports what the CLI does" cmp -s "$T/api.csv" "$T/cli.csv"
pw_http POST "$U/hosts/import-csv" "$ops" "@$T/api.csv"
expect_status 200 "the export imported again"
check "changes nothing: $HTTP_BODY" test "$(json 'j["unchanged"]')" = "$((rows + 1))"
pw_http GET "$U/hosts/export-csv?category=database&criticality=4" "$admin"
"$PW_BIN" host export-csv --category database --criticality 4 --db "$db" >"$T/cli-db.csv"
check "filters as the CLI's" test "$HTTP_BODY" = "$(cat "$T/cli-db.csv")"
check "and they filter" test "$(grep -c . <<<"$HTTP_BODY")" -lt "$rows"
pw_http GET "$U/hosts?category=database&criticality=4&limit=1000" "$owner"
check "GET /hosts takes the same filters" test \
  "$(json 'len(j["hosts"])')" = "$(($(grep -c . "$T/cli-db.csv") - 1))"
printf 'hostname,criticality\r\nokay.example.org,3\r\nbad.example.org,9\r\n' >"$T/bad.csv"
pw_http POST "$U/hosts/import-csv" "$ops" "@$T/bad.csv"
expect_status 400 "a bad row"
check "names line and column: $HTTP_BODY" grep -q 'csv:3:17: criticality' <<<"$HTTP_BODY"
pw_http GET "$U/hosts/export-csv" "$ops"
check "nothing of it was imported" test "$(grep -c okay.example.org <<<"$HTTP_BODY")" = 0

# ---- PATCH ------------------------------------------------------------------------
id=$("$PW_BIN" host show db-erp01.corp.example.org --json --db "$db" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
pw_http PATCH "$U/hosts/$id" "$ops" '{"ticket":"CHG-4711","maintenance_window":"sat 23:00-01:00","criticality":5}'
expect_status 200 "PATCH as operator"
check "the reply is the host, stored forms: $HTTP_BODY" test \
  "$(json 'j["ticket"]+"/"+j["maintenance_window"]+"/"+str(j["criticality"])+"/"+j["hostname"]')" \
  = "CHG-4711/Sat 23:00-01:00/5/db-erp01.corp.example.org"
out=$("$PW_BIN" host show db-erp01.corp.example.org --json --db "$db")
check "the CLI sees it" test "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["ticket"])' <<<"$out")" = CHG-4711
pw_http GET "$U/audit?limit=1000" "$admin"
got=$(json '[[e["actor"], e["before"]["ticket"], e["after"]["ticket"]] for e in j["events"] if e["action"] == "host.set"][-1]')
check "audited with before and after as user:ops: $got" test "$got" = '["user:ops", null, "CHG-4711"]'
pw_http PATCH "$U/hosts/$id" "$owner" '{"ticket":"CHG-1"}'
expect_status 403 "PATCH as app-owner (no owner group on users to scope it by)"
pw_http PATCH "$U/hosts/$id" "$admin" '{"ticket":"CHG-1","flavour":"x"}'
expect_status 400 "an unknown field"
check "named: $HTTP_BODY" grep -q "flavour is not a host field" <<<"$HTTP_BODY"
pw_http PATCH "$U/hosts/$id" "$admin" '{"ticket":"CHG-1","exposure":"outer space"}'
expect_status 400 "a bad value"
check "named: $HTTP_BODY" grep -q "exposure: 'outer space' is not one of internet, internal, isolated" <<<"$HTTP_BODY"
pw_http PATCH "$U/hosts/$id" "$admin" '{"hostname":"dc01.corp.example.org"}'
expect_status 409 "a hostname taken (a conflict, as api.md says)"
pw_http GET "$U/hosts/$id" "$admin"
check "the refused PATCHes changed nothing" test "$(json 'j["ticket"]')" = CHG-4711
pw_http PATCH "$U/hosts/export-csv" "$admin" '{"ticket":"x"}'
expect_status 405 "PATCH on export-csv"

# ---- enrollment adopts the host the operator entered ----------------------------
new_id=$("$PW_BIN" host show new-01.corp.example.org --json --db "$db" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
pw_http POST "$U/agents/enroll" "" \
  "{\"token\":\"$etok\",\"hostname\":\"NEW-01.corp.example.org\",\"machine_id\":\"m-new-01\",\"os\":{\"id\":\"debian\",\"version_id\":\"12\"},\"arch\":\"amd64\"}"
expect_status 201 "enroll under a pre-entered hostname"
check "adopted host $new_id: $HTTP_BODY" test "$(json 'str(j["adopted"])+"/"+str(j["host_id"])')" = "True/$new_id"
pw_http GET "$U/hosts/$new_id" "$ops"
check "the operator's fields stay, the agent's are added: $HTTP_BODY" test \
  "$(json 'j["category"]+"/"+str(j["criticality"])+"/"+j["machine_id"]+"/"+j["os"]["id"]+"/"+j["hostname"]')" \
  = "web/2/m-new-01/debian/new-01.corp.example.org"
pw_http GET "$U/audit?limit=1000" "$admin"
check "audited as agent.adopt" test "$(json '[e["target"] for e in j["events"] if e["action"] == "agent.adopt"]')" = "[\"host:$new_id\"]"
pw_http POST "$U/agents/enroll" "" \
  "{\"token\":\"$etok\",\"hostname\":\"new-01.corp.example.org\",\"machine_id\":\"m-impostor\"}"
expect_status 409 "another machine under that hostname"
check "says what to do: $HTTP_BODY" grep -q "rename the old record first" <<<"$HTTP_BODY"
out=$("$PW_BIN" user enroll-token list --json --db "$db" 2>&1)
check "the refusal spent no use" test "$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["uses_left"])' <<<"$out")" = 4
pw_http POST "$U/agents/enroll" "" \
  "{\"token\":\"$etok\",\"hostname\":\"fresh-01.corp.example.org\",\"machine_id\":\"m-fresh-01\"}"
expect_status 201 "enroll under a new hostname"
check "a new host" test "$(json 'j["adopted"]')" = false

check "SIGTERM stops the server" pw_srv_stop A
pw_srv_summary
