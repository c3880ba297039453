#!/usr/bin/env bash
# One serialiser per record (issue 9): the CLI's --json and the API give
# byte-for-byte the same JSON for a host, a host's and the fleet's upgrades, a
# user, an enrollment token, an audit event, the audit chain's verdict and
# the exposure to a CVE or an advisory, read from the same database with
# nothing written in between (both compared after `jq -S -c`, so only key
# order within an object could differ, and it does not: the comparisons
# run without -S too).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
trap pw_srv_cleanup EXIT
test_require_cmd jq sqlite3
: "${PW_TEST_DATA:?PW_TEST_DATA is not set; run under ctest}"
T=$PW_SRV_TMP
db=sqlite:$T/server.db
conf=$(pw_srv_plain_conf)
unset PATCHWARDEN_DB

"$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
"$PW_BIN" user add eve --role auditor --password-stdin --db "$db" >/dev/null 2>&1 <<<"correct horse battery staple"
admin=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
"$PW_BIN" user enroll-token create --uses 2 --label shapes --db "$db" >/dev/null 2>&1
"$PW_BIN" host add web-01.example.org category=web criticality=4 location="DC1, rack 4" \
  --db "$db" >/dev/null 2>&1
check "setup" test -n "$admin"
pw_srv_start A -c "$conf" --db "$db" || { pw_srv_summary; exit 1; }
U=http://127.0.0.1:$PW_SRV_PORT_A/api/v1

# same WHAT CLI-JSON API-JSON: equal as written, and equal sorted.
same() {
  local what=$1 cli=$2 api=$3
  if [ -z "$cli" ] || [ "$cli" = null ]; then bad "$what: the CLI gave nothing"; return; fi
  check "$what: same bytes (compact)" test "$(jq -c . <<<"$cli")" = "$(jq -c . <<<"$api")"
  check "$what: same members" test "$(jq -S -c . <<<"$cli")" = "$(jq -S -c . <<<"$api")"
}

cli=$("$PW_BIN" host show web-01.example.org --json --db "$db")
id=$(jq -r .id <<<"$cli")
pw_http GET "$U/hosts/$id" "$admin"
expect_status 200 "GET /hosts/$id"
same "host show" "$cli" "$HTTP_BODY"
check "a host's os is an object" test "$(jq -r '.os | type' <<<"$cli")" = object
cli=$("$PW_BIN" host list --json --db "$db")
pw_http GET "$U/hosts" "$admin"
same "host list" "$(jq -c '.[0] | del(.pending_rekey)' <<<"$cli")" "$(jq -c '.hosts[0]' <<<"$HTTP_BODY")"

cli=$("$PW_BIN" user list --json --db "$db")
pw_http GET "$U/users" "$admin"
same "user list" "$cli" "$(jq -c .users <<<"$HTTP_BODY")"
check "users say has_password" \
  test "$(jq -c 'map({(.name): .has_password}) | add' <<<"$cli")" = '{"eve":true,"root":false}'

cli=$("$PW_BIN" user enroll-token list --json --db "$db")
pw_http GET "$U/enroll-tokens" "$admin"
same "enroll-token list" "$cli" "$(jq -c .enroll_tokens <<<"$HTTP_BODY")"

# The exposure to a CVE and to an advisory (no feeds here: known false,
# the hand-entered host unknown).
cli=$("$PW_BIN" cve CVE-2023-5363 --json --db "$db")
pw_http GET "$U/cves/CVE-2023-5363" "$admin"
expect_status 200 "GET /cves/CVE-2023-5363"
same "cve" "$cli" "$HTTP_BODY"
check "unknown to the feeds, nobody cleared" \
  test "$(jq -c '[.known, .counts, .unknown[0].coverage.state]' <<<"$cli")" = \
  '[false,{"affected":0,"fixed":0,"not_affected":0,"unknown":1},"never_reported"]'
cli=$("$PW_BIN" advisory DSA-5532-1 --category web --json --db "$db")
pw_http GET "$U/advisories/DSA-5532-1?category=web" "$admin"
expect_status 200 "GET /advisories/DSA-5532-1?category=web"
same "advisory" "$cli" "$HTTP_BODY"

# A host's upgrades (issue 11): an inventory with two binaries of one
# source and two open findings of that source, stored as a check-in and a
# recompute store them.
sqlite3 "$T/server.db" "INSERT INTO inventories (hash, json, first_seen) VALUES ('shapes',
  '{\"os\":{\"id\":\"debian\",\"version_id\":\"12\"},\"scheme\":\"deb\",\"packages\":[
  {\"name\":\"libssl3\",\"version\":\"3.0.11-1~deb12u1\",\"source\":\"openssl\"},
  {\"name\":\"openssl\",\"version\":\"3.0.11-1~deb12u1\",\"source\":\"openssl\"}]}',
  'x'); UPDATE hosts SET inventory_hash = 'shapes' WHERE id = $id;
  INSERT INTO findings (host_id, package, advisory, installed, fixed, priority, cves,
  first_seen, by_source, due) VALUES
  ($id, 'openssl', 'DSA-5532-1', '3.0.11-1~deb12u1', '3.0.11-1~deb12u2', 'high',
   'CVE-2023-5363', '2024-05-01T00:00:00.000Z', 1, '2024-05-15'),
  ($id, 'openssl', 'DSA-5585-1', '3.0.11-1~deb12u1', '3.0.11-1~deb12u10', 'normal',
   'CVE-2023-5678,CVE-2023-6129', '2024-05-01T00:00:00.000Z', 1, NULL)"
cli=$("$PW_BIN" host upgrades web-01.example.org --json --db "$db")
pw_http GET "$U/hosts/$id/upgrades" "$admin"
expect_status 200 "GET /hosts/$id/upgrades"
same "host upgrades" "$cli" "$(jq -c .upgrades <<<"$HTTP_BODY")"
check "one upgrade to deb12u10 of both binaries, 3 CVEs" \
  test "$(jq -c 'map([.target, [.binaries[].name], .cve_count])' <<<"$cli")" = \
  '[["3.0.11-1~deb12u10",["libssl3","openssl"],3]]'
cli=$("$PW_BIN" upgrades --json --db "$db")
pw_http GET "$U/upgrades" "$admin"
expect_status 200 "GET /upgrades"
same "upgrades" "$cli" "$(jq -c .upgrades <<<"$HTTP_BODY")"
check "the fleet's: one upgrade on one host, closing 2 findings" \
  test "$(jq -c 'map([.package, .hosts, .findings])' <<<"$cli")" = '[["openssl",1,2]]'

cli=$("$PW_BIN" audit list --json --limit 1000 --db "$db")
pw_http GET "$U/audit?limit=1000" "$admin"
same "audit list" "$cli" "$(jq -c .events <<<"$HTTP_BODY")"
check "audit events carry prev_hash" test "$(jq -r '.[1].prev_hash == .[0].hash' <<<"$cli")" = true

cli=$("$PW_BIN" audit verify --json --db "$db")
pw_http GET "$U/audit/verify" "$admin"
same "audit verify" "$cli" "$HTTP_BODY"
pw_srv_summary
