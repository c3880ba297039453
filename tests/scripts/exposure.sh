#!/usr/bin/env bash
# "Are we exposed to CVE-X?" end to end (issue 11): GET /api/v1/cves/{cve},
# GET /api/v1/advisories/{advisory}, `patchwarden cve` and `patchwarden
# advisory` on a small fleet built through the real API (enrollment and
# check-ins with the shipped sample inventories; the server's scheduler
# computes the findings against the shipped sample feeds):
#   web-a  Debian 10, the sample system               affected
#   web-b  the same, then patched (the fix installed)   fixed
#   web-c  the same without the vulnerable package      not affected
#   app-1  AlmaLinux 8                                  not affected (its release unnamed)
#   ubu-1  the Debian system relabelled Ubuntu 24.04    unknown: no_feed
#   web-s  as web-c, but not seen since 2020            unknown: stale
#   never1 entered by hand, never reported              unknown: never_reported
#   dec-1  as web-a, then decommissioned                left out (fixed with decommissioned=any)
# The CVE, and every expected group, come from tests/tools/exposure_oracle.py,
# which reads the feed fixtures and inventories itself and compares versions
# with dpkg. Also: an advisory, a host filter, an id no feed knows (200,
# known false, nobody cleared), malformed ids (400 naming them), the CLI
# giving the API's bytes. With PW_EXPOSURE_DB=postgres (exposure_postgres.sh)
# the same on a real PostgreSQL 15, the feed store in the server's database.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
trap pw_srv_cleanup EXIT
test_require_cmd jq python3 dpkg
T=$PW_SRV_TMP
S=${PW_SOURCE_DIR:?PW_SOURCE_DIR is not set; run under ctest}/share/sample
ORACLE=$PW_SOURCE_DIR/tests/tools/exposure_oracle.py
if [ "${PW_EXPOSURE_DB:-sqlite}" = postgres ]; then
  . "$here/lib/pg.sh"
  pw_pg_start || { echo "FAIL: PostgreSQL did not start"; exit 1; }
  echo "PostgreSQL 15 up on 127.0.0.1:$PW_PG_PORT in ${PW_PG_START_MS} ms"
  db=$PW_TEST_PG_URL
  feeds=$db # the feed store in the server's database: its lookups run on PostgreSQL too
  sql() { timeout 30 "$PW_PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 "$db" -c "$1" >/dev/null; }
else
  test_require_cmd sqlite3
  db=sqlite:$T/server.db
  feeds=$T/feeds.db
  sql() { sqlite3 "$T/server.db" "$1"; }
fi
conf=$T/srv.conf
printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\n[feeds]\nstore = %s\nrecompute_interval = 1\n' \
  "$feeds" >"$conf"
unset PATCHWARDEN_DB PATCHWARDEN_STORE
cli() { "$PW_BIN" "$@" -c "$conf" --db "$db"; }

# ---- the oracle's CVE and the inventories ------------------------------------
pick=$(python3 "$ORACLE" pick "$S/feeds" "$S/inventories/debian10-web.json")
cve=$(jq -r .cve <<<"$pick")
adv=$(jq -r .advisory <<<"$pick")
srcs=$(jq -c .sources <<<"$pick")
check "the oracle picked $cve ($adv; fixed in $srcs)" test -n "$cve"
deb=$S/inventories/debian10-web.json
python3 "$ORACLE" inventory "$deb" "$T/patched.json" bump "$srcs"
python3 "$ORACLE" inventory "$deb" "$T/without.json" strip "$srcs"
python3 "$ORACLE" inventory "$deb" "$T/ubuntu.json" ubuntu
cat >"$T/fleet.json" <<EOF
[{"hostname": "web-a", "category": "web", "inventories": ["$deb"], "state": "in_service"},
 {"hostname": "web-b", "category": "web", "inventories": ["$deb", "$T/patched.json"], "state": "in_service"},
 {"hostname": "web-c", "category": "web", "inventories": ["$T/without.json"], "state": "in_service"},
 {"hostname": "app-1", "category": "application", "inventories": ["$S/inventories/alma8-app.json"], "state": "in_service"},
 {"hostname": "ubu-1", "category": "web", "inventories": ["$T/ubuntu.json"], "state": "in_service"},
 {"hostname": "web-s", "category": "web", "inventories": ["$T/without.json"], "state": "stale"},
 {"hostname": "never1", "category": null, "inventories": [], "state": "in_service"},
 {"hostname": "dec-1", "category": "web", "inventories": ["$deb"], "state": "decommissioned"}]
EOF

"$PW_BIN" feed import --store "$feeds" "$S/feeds" >"$T/out" 2>&1
check "the sample feeds imported: $(tail -1 "$T/out")" grep -q '^snapshot 1:' "$T/out"
"$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
"$PW_BIN" user add hd --role helpdesk --no-password --db "$db" >/dev/null 2>&1
admin=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
helpdesk=$("$PW_BIN" user token create hd --db "$db" 2>/dev/null)
etok=$("$PW_BIN" user enroll-token create --uses 10 --db "$db" 2>/dev/null)
cli host add never1 >/dev/null 2>&1
check "never1 entered by hand" test $? -eq 0
pw_srv_start A -c "$conf" --db "$db" || { pw_srv_summary; exit 1; }
U=http://127.0.0.1:$PW_SRV_PORT_A/api/v1

# ---- the hosts, through the API --------------------------------------------------
declare -A cred
# checkin HOST INVENTORY: as an agent sends an inventory the server asks for.
checkin() {
  local zero hash
  zero=$(printf '0%.0s' $(seq 64))
  python3 -c 'import json, sys
print(json.dumps({"inventory_hash": sys.argv[1], "inventory": json.load(open(sys.argv[2]))}))' \
    "$zero" "$2" >"$T/checkin.json"
  pw_http POST "$U/agents/checkin" "${cred[$1]}" "@$T/checkin.json"
  hash=$(sed -n 's/.*whose hash is \([0-9a-f]\{64\}\).*/\1/p' <<<"$HTTP_BODY")
  sed -i "s/$zero/$hash/" "$T/checkin.json"
  pw_http POST "$U/agents/checkin" "${cred[$1]}" "@$T/checkin.json"
  expect_status 200 "$1 checks in its inventory"
}
# enroll HOST OS-ID VERSION-ID CODENAME INVENTORY [CATEGORY]
enroll() {
  local code=${4:+",\"codename\":\"$4\""}
  pw_http POST "$U/agents/enroll" "" "{\"token\":\"$etok\",\"hostname\":\"$1\",\"machine_id\":\"m-$1\",\"os\":{\"id\":\"$2\",\"version_id\":\"$3\"$code}}"
  expect_status 201 "$1 enrolls"
  cred[$1]=$(json 'j["credential"]')
  checkin "$1" "$5"
  [ -z "${6:-}" ] || cli host set "$1" "category=$6" >/dev/null
}
enroll web-a debian 10 buster "$deb" web
enroll web-b debian 10 buster "$deb" web
enroll web-c debian 10 buster "$T/without.json" web
enroll web-s debian 10 buster "$T/without.json" web
enroll dec-1 debian 10 buster "$deb" web
enroll app-1 almalinux 8.10 "" "$S/inventories/alma8-app.json" application
enroll ubu-1 ubuntu 24.04 noble "$T/ubuntu.json" web
coverage() { # HOST: its coverage state now
  pw_http GET "$U/hosts?limit=1000&decommissioned=any" "$admin" &&
    json "[h['coverage']['state'] for h in j['hosts'] if h['hostname'] == '$1'][0]"
}
for h in web-a web-b web-c web-s dec-1 app-1; do
  check "$h is covered once the scheduler computed its findings" \
    test_wait_for 30 eval '[ "$(coverage "$h")" = covered ]'
done
check "ubu-1 has no feed" test "$(coverage ubu-1)" = no_feed
# web-b installs the fix; dec-1 is decommissioned; web-s goes quiet.
checkin web-b "$T/patched.json"
check "web-b is covered again after its new inventory" \
  test_wait_for 30 eval '[ "$(coverage web-b)" = covered ]'
cli host decommission dec-1 >/dev/null 2>&1
check "dec-1 decommissioned" test $? -eq 0
sql "UPDATE hosts SET last_seen = '2020-01-01T00:00:00.000Z' WHERE hostname = 'web-s'"
check "web-s is stale" test "$(coverage web-s)" = stale

# ---- the answers against the oracle ------------------------------------------------
# reduce: the API's record in the oracle's terms.
reduce() {
  python3 -c 'import json, sys
j = json.loads(sys.stdin.read())
n = {g: len(j[g]) for g in ("affected", "fixed", "not_affected", "unknown")}
assert j["counts"] == n, (j["counts"], n)
out = {"known": j["known"], "advisories": sorted(a["id"] for a in j["advisories"]),
       "affected": {h["hostname"]: sorted([f["advisory"], f["package"], f["installed"], f["fixed"]]
                                          for f in h["findings"]) for h in j["affected"]},
       "fixed": sorted(h["hostname"] for h in j["fixed"]),
       "not_affected": {h["hostname"]: h["release_named"] for h in j["not_affected"]},
       "unknown": {h["hostname"]: h["coverage"]["state"] for h in j["unknown"]}}
for h in j["fixed"]:
    assert h["fixed_at"].endswith("Z"), h
if j["kind"] == "cve":
    out["kev_due"] = j["kev"]["due_date"] if j["kev"] else None
    out["epss"] = j["epss"]["score"] if j["epss"] else None
    assert j["cves"] == [j["id"]], j["cves"]
print(json.dumps(out, sort_keys=True))'
}
expected() { python3 "$ORACLE" expect "$S/feeds" "$T/fleet.json" "$@"; }
# answer KIND ID QUERY [DECOMMISSIONED [CATEGORY]]: the API's answer is the oracle's
answer() {
  local path=cves want got
  [ "$1" = advisory ] && path=advisories
  pw_http GET "$U/$path/$2$3" "$helpdesk"
  expect_status 200 "GET /$path/$2$3 as helpdesk"
  printf '%s' "$HTTP_BODY" >"$T/api.json"
  want=$(expected "$1" "$2" "${4:-false}" ${5:+"$5"})
  got=$(reduce <<<"$HTTP_BODY") || got="(not reducible: $HTTP_BODY)"
  check "GET /$path/$2$3 = the oracle's $want" test "$got" = "$want"
}
answer cve "$cve" ""
check "the CVE has its groups: $(jq -c .counts "$T/api.json")" \
  test "$(jq -c .counts "$T/api.json")" = '{"affected":1,"fixed":1,"not_affected":2,"unknown":3}'
check "web-c's release is named, app-1's not" \
  test "$(jq -c '.not_affected | map([.hostname, .release, .release_named])' "$T/api.json")" = \
  '[["app-1","almalinux:8",false],["web-c","debian:10",true]]'
check "ubu-1 is unknown with its release named" \
  test "$(jq -c '.unknown[] | select(.hostname == "ubu-1") | .coverage' "$T/api.json")" = \
  '{"state":"no_feed","detail":"ubuntu:24.04"}'
check "an affected host's finding says when it is due" \
  test "$(jq -r '.affected[0].findings[0] | .due + " " + .priority' "$T/api.json" | grep -c '^20[0-9-]* [a-z]')" -eq 1
cli cve "$cve" --json >"$T/cli.json" 2>&1
check "patchwarden cve --json gives the API's bytes" test "$(jq -c . "$T/cli.json")" = "$(jq -c . "$T/api.json")"
cli cve "$cve" >"$T/cli.txt" 2>&1
check "patchwarden cve's verdict: $(head -1 "$T/cli.txt")" \
  test "$(head -1 "$T/cli.txt")" = "$cve: 1 host affected, 1 fixed, 2 not affected, 3 unknown (not covered)"
check "then the hosts of each group" grep -q '^  web-a  *debian:10  *.* -> .*  '"$adv"'  ' "$T/cli.txt"
check "the unknown ones with their coverage" grep -q '^  web-s  *debian:10  *stale: no check-in since' "$T/cli.txt"

answer advisory "$adv" ""
check "the advisory names $cve" test "$(jq -c "[.cves[] | select(. == \"$cve\")]" "$T/api.json")" = "[\"$cve\"]"
cli advisory "$adv" --json >"$T/cli.json" 2>&1
check "patchwarden advisory --json gives the API's bytes" test "$(jq -c . "$T/cli.json")" = "$(jq -c . "$T/api.json")"
answer cve "$cve" "?category=web" false web
cli cve "$cve" --category web --json >"$T/cli.json" 2>&1
check "the CLI's --category gives the API's bytes" test "$(jq -c . "$T/cli.json")" = "$(jq -c . "$T/api.json")"
answer cve "$cve" "?decommissioned=any" any
check "dec-1's findings were closed: fixed" test "$(jq -c '[.fixed[].hostname]' "$T/api.json")" = '["dec-1","web-b"]'

# ---- an id no feed knows -------------------------------------------------------------
unknown=CVE-2099-99999
check "no fixture names $unknown" test "$(grep -rl "$unknown" "$S/feeds" | wc -l)" -eq 0
answer cve "$unknown" ""
check "200 with known false, nobody cleared: $(jq -c '[.known, .counts]' "$T/api.json")" \
  test "$(jq -c '[.known, .counts]' "$T/api.json")" = '[false,{"affected":0,"fixed":0,"not_affected":0,"unknown":7}]'
answer advisory DSA-9999-1 ""
cli cve "$unknown" >"$T/cli.txt" 2>&1
check "the CLI says the feeds do not know it: $(sed -n 2p "$T/cli.txt")" \
  grep -q "^feed snapshot 1: no advisory names $unknown$" "$T/cli.txt"

# ---- refusals ----------------------------------------------------------------------------
refused() { # PATH TEXT: a 400 whose message starts with TEXT
  pw_http GET "$U/$1" "$admin"
  expect_status 400 "GET /$1"
  check "naming it: $HTTP_BODY" grep -qF "\"message\":\"$2" <<<"$HTTP_BODY"
}
refused cves/cve-2021-24032 'cve: \"cve-2021-24032\" is not a CVE id'
refused cves/CVE-2021-1 'cve: \"CVE-2021-1\"'
refused cves/DSA-4859-1 'cve: \"DSA-4859-1\"'
refused "advisories/DSA%204859-1" 'advisory: \"DSA 4859-1\" is not an advisory id'
refused "advisories/-DSA-4859-1" 'advisory: \"-DSA-4859-1\"'
refused "advisories/$(printf 'A%.0s' $(seq 65))" 'advisory: \"AAAA'
refused "cves/$cve?colour=red" 'unknown query parameter colour'
pw_http GET "$U/cves/$cve"
expect_status 401 "no token"
cli cve cve-2021-24032 >"$T/out" 2>&1
check "patchwarden cve with a malformed id exits 2" test $? -eq 2
check "naming it: $(cat "$T/out")" grep -q '"cve-2021-24032" is not a CVE id' "$T/out"
cli advisory 'DSA 4859' >"$T/out" 2>&1
check "patchwarden advisory with a malformed id exits 2" test $? -eq 2
pw_srv_stop A
check "the server stops cleanly" test $? -eq 0
pw_srv_summary
