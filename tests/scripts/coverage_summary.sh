#!/usr/bin/env bash
# Coverage is not cleanliness, end to end (issue 11): a server on loopback
# with a feed store of Debian advisories, a KEV list naming one CVE of the
# sample Debian 10 system, and three hosts: one covered (an agent on the
# sample system), one whose release the feeds lack (the same system
# relabelled Ubuntu 24.04) and one entered by hand that never reported.
# GET /api/v1/hosts and the CLI show each host's coverage state, the host
# table never shows an uncovered host with 0/0/0/0, and GET
# /api/v1/summary and `patchwarden summary --json` give the same counts,
# derived here from `patchwarden scan` of the system and what the test
# set up. A newer snapshot with the server stopped leaves the covered
# host pending.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/agent.sh"
trap pw_srv_cleanup EXIT
T=$PW_SRV_TMP
db=sqlite:$T/server.db
feeds=$T/feeds.db
S=${PW_SOURCE_DIR:?PW_SOURCE_DIR is not set; run under ctest}/share/sample
conf=$T/srv.conf
# Every SLA 0 days: any open finding is past it.
printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\n[feeds]\nstore = %s\nrecompute_interval = 1\n[policy]\nsla_emergency = 0\nsla_high = 0\nsla_normal = 0\nsla_low = 0\n' \
  "$feeds" >"$conf"
cli() { "$PW_BIN" "$@" -c "$conf" --db "$db"; }

# ---- the systems -------------------------------------------------------------
root=$T/root
"$PW_SOURCE_DIR/scripts/inventory-to-root" "$S/inventories/debian10-web.json" "$root"
root2=$T/root2
cp -r "$root" "$root2"
printf 'ID=ubuntu\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\nPRETTY_NAME="Ubuntu 24.04 LTS"\n' \
  >"$root2/etc/os-release"
echo ubu-01 >"$root2/etc/hostname"

# ---- the feeds: Debian, EPSS and a KEV list with one CVE of the system ----------
"$PW_BIN" feed import --store "$T/pre.db" "$S/feeds/debian" >/dev/null 2>&1
cve=$("$PW_BIN" scan --root "$root" --store "$T/pre.db" --json 2>/dev/null |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["findings"][0]["cves"][0])')
check "the sample system has a finding with a CVE ($cve)" test -n "$cve"
mkdir -p "$T/kev"
python3 - "$S/feeds/kev/known_exploited_vulnerabilities.json" "$cve" \
  >"$T/kev/known_exploited_vulnerabilities.json" <<'PY'
import json, sys
k = json.load(open(sys.argv[1]))
e = dict(k["vulnerabilities"][0], cveID=sys.argv[2])
k["vulnerabilities"], k["count"] = [e], 1
json.dump(k, sys.stdout)
PY
"$PW_BIN" feed import --store "$feeds" "$S/feeds/debian" "$T/kev" "$S/feeds/epss" >"$T/out" 2>&1
check "snapshot 1 imported: $(tail -1 "$T/out")" grep -q '^snapshot 1:' "$T/out"
"$PW_BIN" scan --root "$root" --store "$feeds" --json >"$T/scan.json" 2>/dev/null
scan() { python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/scan.json" "$1"; }
check "and the scan of the system sees the CVE in KEV" test "$(scan 'sum(1 for f in j["findings"] if f["kev"])')" -ge 1

# ---- the server and the hosts ------------------------------------------------------
"$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
admin=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
"$PW_BIN" user add helen --role helpdesk --no-password --db "$db" >/dev/null 2>&1
helpdesk=$("$PW_BIN" user token create helen --db "$db" 2>/dev/null)
etok=$("$PW_BIN" user enroll-token create --uses 2 --db "$db" 2>/dev/null)
cli host add never1 >/dev/null 2>&1
check "a host entered by hand" test $? -eq 0
pw_srv_start A -c "$conf" --db "$db" || { pw_srv_summary; exit 1; }
U=http://127.0.0.1:$PW_SRV_PORT_A/api/v1
for a in a b; do
  r=$root
  [ $a = b ] && r=$root2
  pw_agent $a enroll --server "http://127.0.0.1:$PW_SRV_PORT_A" --token "$etok" --insecure --root "$r"
  check "agent $a enrolls" test "$AGENT_ST" -eq 0
  pw_agent $a run --once --root "$r"
  check "agent $a checks in" test "$AGENT_ST" -eq 0
done
pw_http GET "$U/hosts" "$admin"
web=$(json '[h["hostname"] for h in j["hosts"] if h["os"]["id"] == "debian"][0]')
ubu=$(json '[h["hostname"] for h in j["hosts"] if h["os"]["id"] == "ubuntu"][0]')
check "three hosts: $(json '[h["hostname"] for h in j["hosts"]]')" test "$(json 'len(j["hosts"])')" -eq 3
state() {
  pw_http GET "$U/hosts" "$admin" &&
    json "[h[\"coverage\"][\"state\"] for h in j[\"hosts\"] if h[\"hostname\"] == \"$1\"][0]"
}
check "$web is covered once the scheduler computed its findings" \
  pw_wait_for 20 eval '[ "$(state "$web")" = covered ]'
check "$ubu has no feed" test "$(state "$ubu")" = no_feed
pw_http GET "$U/hosts" "$admin"
check "naming its release" test "$(json "[h['coverage']['detail'] for h in j['hosts'] if h['hostname'] == '$ubu'][0]")" = ubuntu:24.04
check "never1 never reported" test "$(state never1)" = never_reported
id_ubu=$(json "[h['id'] for h in j['hosts'] if h['hostname'] == '$ubu'][0]")
pw_http GET "$U/hosts/$id_ubu" "$admin"
check "GET /hosts/{id} carries it too" test "$(json 'j["coverage"]')" = '{"state": "no_feed", "detail": "ubuntu:24.04"}'
cli host show "$ubu" --json >"$T/show.json" 2>&1
check "as host show --json does" test "$(python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))["coverage"]))' "$T/show.json")" = '{"state": "no_feed", "detail": "ubuntu:24.04"}'

# ---- the host table ----------------------------------------------------------------
cli host list >"$T/list" 2>&1
row() { awk -v h="$1" '$1 == h' "$T/list"; }
e=$(scan 'j["summary"]["emergency"]') h=$(scan 'j["summary"]["high"]')
n=$(scan 'j["summary"]["normal"]') l=$(scan 'j["summary"]["low"]')
check "host list: $web with its findings ($e/$h/$n/$l)" eval 'row "$web" | grep -q " $e/$h/$n/$l  *covered$"'
check "$ubu without counts, with its state: $(row "$ubu")" eval 'row "$ubu" | grep -q " -  *no_feed (ubuntu:24.04)$"'
check "never1 likewise: $(row never1)" eval 'row never1 | grep -q " -  *never_reported$"'
check "no uncovered host shows 0/0/0/0" test "$(grep -v covered "$T/list" | grep -c '0/0/0/0')" -eq 0
cli host show "$ubu" >"$T/show" 2>&1
check "host show says it is not covered" grep -q '^coverage  *no_feed: ubuntu:24.04$' "$T/show"

# ---- the summary -------------------------------------------------------------------
cli host set "$web" "last_patched=$(date -u +%F)" >/dev/null 2>&1
cli host set never1 "last_patched=$(date -u -d '100 days ago' +%F)" >/dev/null 2>&1
pw_http GET "$U/summary" "$helpdesk"
expect_status 200 "GET /summary as helpdesk"
printf '%s' "$HTTP_BODY" >"$T/api.json"
expected=$(python3 - "$T/scan.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
total = sum(s["summary"][p] for p in ("emergency", "high", "normal", "low"))
print(json.dumps({
    "hosts": 3,
    "coverage": {"covered": 1, "never_reported": 1, "no_feed": 1, "stale": 0, "pending": 0},
    "open_findings": {p: s["summary"][p] for p in ("emergency", "high", "normal", "low")},
    "hosts_past_sla": 1 if total else 0,   # every SLA is 0 days
    "hosts_unpatched": 2,                  # ubu-01 never, never1 100 days ago
    "unpatched_days": 90,
    "hosts_kev": 1 if any(f["kev"] for f in s["findings"]) else 0,
    "feed_snapshot": 1,
}, sort_keys=True))
PY
)
got=$(python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
snap = j["feed_snapshot"]
assert snap["age_days"] == 0 and snap["created"].endswith("Z"), snap
j["feed_snapshot"] = snap["id"]
print(json.dumps(j, sort_keys=True))' "$T/api.json")
check "the API's summary is what the test derived: $got" test "$got" = "$expected"
cli summary --json >"$T/cli.json" 2>"$T/cli.err"
check "patchwarden summary --json exits 0" test $? -eq 0
check "and prints the same JSON as the API" python3 -c 'import json, sys
assert json.load(open(sys.argv[1])) == json.load(open(sys.argv[2]))' "$T/cli.json" "$T/api.json"
cli summary >"$T/sum" 2>&1
check "the text summary counts the coverage" grep -q '^coverage  *covered 1, never_reported 1, no_feed 1, stale 0, pending 0$' "$T/sum"
check "and the KEV exposure" grep -q '^KEV exposure  *1 host with an open KEV-listed finding$' "$T/sum"
pw_http GET "$U/summary"
expect_status 401 "GET /summary without a token"

# ---- a newer snapshot the server has not seen: pending ----------------------------
pw_srv_stop A
check "the server stops" test $? -eq 0
"$PW_BIN" feed import --store "$feeds" "$S/feeds/almalinux8" >/dev/null 2>&1
cli host show "$web" --json >"$T/show.json" 2>&1
check "$web is pending after snapshot 2: $(cat "$T/show.json" | grep -A2 '"coverage"' | tr -d '\n\t')" \
  test "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["coverage"]["detail"])' "$T/show.json")" = "findings computed against snapshot 1, newest is 2"
cli summary --json >"$T/cli.json" 2>&1
check "the summary counts it pending" test "$(python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(j["coverage"]["pending"], j["coverage"]["covered"], j["feed_snapshot"]["id"])' "$T/cli.json")" = "1 0 2"
pw_srv_summary
