#!/usr/bin/env bash
# Two server nodes, A and B, on ONE real PostgreSQL 15 (lib/pg.sh) and
# one feed store, both with the findings scheduler looking every second:
# each new snapshot is recomputed by exactly one of them (one
# findings.recompute audit event and one log line per snapshot), and the
# host's open findings follow through either node.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/pg.sh"
. "$here/lib/agent.sh"
S=${PW_SOURCE_DIR:?PW_SOURCE_DIR is not set; run under ctest}/share/sample
pw_pg_start || { echo "FAIL: PostgreSQL did not start"; exit 1; }
trap 'pw_srv_cleanup; pw_pg_stop' EXIT
echo "PostgreSQL 15 up on 127.0.0.1:$PW_PG_PORT in ${PW_PG_START_MS} ms"
T=$PW_SRV_TMP
db=$PW_TEST_PG_URL
feeds=$T/feeds.db
conf=$(pw_srv_plain_conf)
printf '[feeds]\nstore = %s\nrecompute_interval = 1\n' "$feeds" >>"$conf"

"$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
admin=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
etok=$("$PW_BIN" user enroll-token create --uses 1 --db "$db" 2>/dev/null)
pw_srv_start A -c "$conf" --db "$db" || { pw_srv_summary; exit 1; }
pw_srv_start B -c "$conf" --db "$db" || { pw_srv_summary; exit 1; }
A=http://127.0.0.1:$PW_SRV_PORT_A/api/v1
B=http://127.0.0.1:$PW_SRV_PORT_B/api/v1

# ---- a Debian 10 host with the sample inventory, through A ------------------
pw_http POST "$A/agents/enroll" "" \
  "{\"token\":\"$etok\",\"hostname\":\"web-01\",\"machine_id\":\"m-web-01\",\"os\":{\"id\":\"debian\",\"version_id\":\"10\"}}"
expect_status 201 "enroll through A"
cred=$(json 'j["credential"]')
host=$(json 'j["host_id"]')
zero=$(printf '0%.0s' $(seq 64))
python3 -c 'import json, sys
print(json.dumps({"inventory_hash": sys.argv[1], "inventory": json.load(open(sys.argv[2]))}))' \
  "$zero" "$S/inventories/debian10-web.json" >"$T/checkin.json"
pw_http POST "$A/agents/checkin" "$cred" "@$T/checkin.json"
hash=$(sed -n 's/.*whose hash is \([0-9a-f]\{64\}\).*/\1/p' <<<"$HTTP_BODY")
sed -i "s/$zero/$hash/" "$T/checkin.json"
pw_http POST "$A/agents/checkin" "$cred" "@$T/checkin.json"
expect_status 200 "the inventory checked in through A without a feed store"

recomputes() {
  pw_http GET "$B/audit?limit=1000" "$admin"
  json 'len([e for e in j["events"] if e["action"] == "findings.recompute"])'
}
normal() { pw_http GET "$1/hosts/$host" "$admin" && [ "$(json 'j["open_findings"]["normal"]')" -gt "$2" ]; }
lines() { cat "$T/A.log" "$T/B.log" | grep -c "recomputed against feed snapshot $1"; }

# ---- snapshot 1, then 2: one node recomputes each ------------------------------
"$PW_BIN" feed import --store "$feeds" "$S/feeds/debian/DSA.list" >/dev/null 2>&1
check "snapshot 1: findings through B within 20 s" pw_wait_for 20 normal "$B" 0
pw_http GET "$A/hosts/$host" "$admin"
first=$(json 'j["open_findings"]["normal"]')
# The recompute and its audit event are one transaction and its log line
# follows: wait for them; then, as a look that finds nothing new leaves no
# trace, watch two scheduler intervals (1 s) of both nodes for a repeat.
check "snapshot 1: audited" pw_wait_for 20 eval '[ "$(recomputes)" -ge 1 ] && [ "$(lines 1)" -ge 1 ]'
check "and not recomputed again by either node" \
  test_never 2.5 eval '[ "$(recomputes)" -gt 1 ] || [ "$(lines 1)" -gt 1 ]'
check "one findings.recompute for snapshot 1 ($(recomputes))" test "$(recomputes)" -eq 1
check "logged by one node ($(lines 1))" test "$(lines 1)" -eq 1
"$PW_BIN" feed import --store "$feeds" "$S/feeds/debian/DLA.list" >/dev/null 2>&1
check "snapshot 2: more findings through A within 20 s" pw_wait_for 20 normal "$A" "$first"
check "snapshot 2: audited" pw_wait_for 20 eval '[ "$(recomputes)" -ge 2 ] && [ "$(lines 2)" -ge 1 ]'
check "and not recomputed again by either node" \
  test_never 2.5 eval '[ "$(recomputes)" -gt 2 ] || [ "$(lines 2)" -gt 1 ]'
check "one more findings.recompute for snapshot 2 ($(recomputes))" test "$(recomputes)" -eq 2
check "logged by one node ($(lines 2))" test "$(lines 2)" -eq 1
pw_http GET "$B/audit?limit=1000" "$admin"
check "by system:scheduler, per snapshot" test "$(json '[e["actor"] + " " + e["target"] for e in j["events"] if e["action"] == "findings.recompute"]')" = '["system:scheduler snapshot:1", "system:scheduler snapshot:2"]'
pw_srv_stop A
check "A stops cleanly" test $? -eq 0
pw_srv_stop B
check "B stops cleanly" test $? -eq 0
pw_srv_summary
