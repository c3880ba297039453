#!/usr/bin/env bash
# Findings computed by the server from stored inventories and the feed
# store ([feeds] store), end to end: `server -n` on the [feeds] keys; a
# server without a feed store takes check-ins and says so once; an
# agent's Debian 10 system (share/sample/inventories/debian10-web.json
# laid out as a dpkg root) gets open findings in GET /api/v1/hosts/{id}
# once a snapshot lands (the scheduler) and after a check-in with a new
# inventory; a newer snapshot is recomputed within seconds, audited
# as findings.recompute by system:scheduler; `patchwarden host recompute`
# by hand, with its counts and refusals.
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
printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\n[feeds]\nstore = %s\nrecompute_interval = 1\n' \
  "$feeds" >"$conf"
out_has() { grep -qF -- "$1" "$T/out"; }
log_count() { grep -cF -- "$1" "$T/A.log"; }

# ---- configuration ------------------------------------------------------------
"$PW_BIN" server -n -c "$conf" --db "$db" >"$T/out" 2>&1
check "server -n without a feed store is OK" test $? -eq 0
check "and warns that no findings are computed" out_has "no feed store at $feeds"
printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\n[feeds]\nrecompute_interval = -1\n' \
  >"$T/bad.conf"
"$PW_BIN" server -n -c "$T/bad.conf" --db "$db" >"$T/out" 2>&1
check "a negative recompute_interval exits 2" test $? -eq 2
check "naming the key" out_has "recompute_interval = -1 is out of range"
printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\n[feeds]\nstores = x\n' \
  >"$T/bad.conf"
"$PW_BIN" server -n -c "$T/bad.conf" --db "$db" >"$T/out" 2>&1
check "an unknown [feeds] key exits 2 naming file:line" out_has "bad.conf:5"

# ---- a Debian 10 system for the agent, from the sample inventory ------------
root=$T/root
"$PW_SOURCE_DIR/scripts/inventory-to-root" "$S/inventories/debian10-web.json" "$root"
check "the sample inventory laid out as a dpkg root" test -s "$root/var/lib/dpkg/status"

# ---- a server without a feed store -------------------------------------------
"$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
admin=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
etok=$("$PW_BIN" user enroll-token create --uses 2 --db "$db" 2>/dev/null)
pw_srv_start A -c "$conf" --db "$db" || { pw_srv_summary; exit 1; }
U=http://127.0.0.1:$PW_SRV_PORT_A/api/v1
pw_agent a enroll --server "http://127.0.0.1:$PW_SRV_PORT_A" --token "$etok" --insecure --root "$root"
check "the agent enrolls" test "$AGENT_ST" -eq 0
pw_agent a run --once --root "$root"
check "its check-in succeeds without a feed store: $(head -3 "$T/agent.out")" test "$AGENT_ST" -eq 0
pw_http GET "$U/hosts" "$admin"
host=$(json 'j["hosts"][0]["id"]')
pw_http GET "$U/hosts/$host" "$admin"
check "the host has its inventory" test "$(json 'j["inventory"]["hash"] is not None')" = true
check "and no findings yet" test "$(json 'sum(j["open_findings"].values())')" -eq 0
check "the missing store is logged" pw_wait_for 20 grep -qF 'no feed store at' "$T/A.log"
# A look that finds no store leaves no trace but a repeated line: watch two
# scheduler intervals (1 s) for one.
check "only once: $(log_count 'no feed store at')" \
  test_never 2.2 eval '[ "$(log_count "no feed store at")" -gt 1 ]'
check "and no run is logged" test "$(log_count 'recomputed against')" -eq 0

# ---- a first snapshot: the scheduler computes the findings ------------------------
"$PW_BIN" feed import --store "$feeds" "$S/feeds/debian/DSA.list" >/dev/null 2>&1
check "snapshot 1 imported" test $? -eq 0
normal() { pw_http GET "$U/hosts/$1" "$admin" && [ "$(json 'j["open_findings"]["normal"]')" -eq "$2" ]; }
first=$("$PW_BIN" scan --root "$root" --store "$feeds" --json 2>/dev/null |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["summary"]["normal"])')
check "patchwarden scan finds normal findings in snapshot 1 ($first)" test "${first:-0}" -gt 0
check "the scheduler gives the host scan's findings within 20 s" pw_wait_for 20 normal "$host" "$first"
check "and logs the recompute" pw_wait_for 2 grep -q 'recomputed against feed snapshot 1' "$T/A.log"
pw_http GET "$U/audit?limit=1000" "$admin"
check "audited as findings.recompute by system:scheduler" test "$(json '[e["target"] for e in j["events"] if e["action"] == "findings.recompute" and e["actor"] == "system:scheduler"]')" = '["snapshot:1"]'
check "with the counts" test "$(json '[e["after"]["hosts"] for e in j["events"] if e["action"] == "findings.recompute"]')" = '[1]'

# ---- a check-in with a new inventory: findings follow ---------------------------
root2=$T/root2
cp -r "$root" "$root2"
printf 'Package: zz-extra\nStatus: install ok installed\nArchitecture: all\nVersion: 1.0\n\n' \
  >>"$root2/var/lib/dpkg/status"
echo web-02 >"$root2/etc/hostname" # another system, so not a re-enrollment of the first
pw_agent b enroll --server "http://127.0.0.1:$PW_SRV_PORT_A" --token "$etok" --insecure --root "$root2"
pw_agent b run --once --root "$root2"
check "a second agent checks in with its own inventory" grep -q "inventory sent" "$T/agent.out"
host2=$(sed -n 's/^host_id: //p' <("$PW_BIN" agent status --state-dir "$T/b"))
[ -n "$host2" ] || { pw_http GET "$U/hosts" "$admin"; host2=$(json 'j["hosts"][1]["id"]'); }
check "its findings follow the check-in within 20 s" pw_wait_for 20 normal "$host2" "$first"

# ---- a newer snapshot: recomputed within seconds ------------------------------------
"$PW_BIN" feed import --store "$feeds" "$S/feeds/debian/DLA.list" >/dev/null 2>&1
t0=$(date +%s.%N)
second=$("$PW_BIN" scan --root "$root" --store "$feeds" --json 2>/dev/null |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["summary"]["normal"])')
check "snapshot 2 has more findings for the host ($first -> $second)" test "${second:-0}" -gt "$first"
check "the scheduler recomputes within 20 s" pw_wait_for 20 normal "$host" "$second"
echo "snapshot 2 seen in the host's findings (GET) after $(echo "$(date +%s.%N) - $t0" | bc) s (interval 1 s)"
check "for both hosts" normal "$host2" "$second"
check "logged with the new snapshot" pw_wait_for 2 grep -q 'recomputed against feed snapshot 2' "$T/A.log"
recomputes() {
  pw_http GET "$U/audit?limit=1000" "$admin"
  json 'len([e for e in j["events"] if e["action"] == "findings.recompute"])'
}
check "the second recompute is audited" pw_wait_for 20 eval '[ "$(recomputes)" -ge 2 ]'
check "and not repeated by a later look" test_never 1.5 eval '[ "$(recomputes)" -gt 2 ]'
pw_http GET "$U/audit?limit=1000" "$admin"
check "one findings.recompute per snapshot" test "$(json '[e["target"] for e in j["events"] if e["action"] == "findings.recompute"]')" = '["snapshot:1", "snapshot:2"]'

# ---- an operator changes the exposure: the priorities follow ------------------------
"$PW_BIN" feed import --store "$feeds" "$S/feeds/kev" "$S/feeds/epss" >/dev/null 2>&1
check "snapshot 3 (KEV, EPSS) imported" test $? -eq 0
emergency() { pw_http GET "$U/hosts/$1" "$admin" && [ "$(json 'j["open_findings"]["emergency"]')" -eq "$2" ]; }
internet=$("$PW_BIN" scan --root "$root" --store "$feeds" --exposure internet --json 2>/dev/null |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["summary"]["emergency"])')
check "scan as internet-facing finds emergency findings ($internet)" test "${internet:-0}" -gt 0
check "snapshot 3 recomputed: none while the host is internal" pw_wait_for 20 grep -q 'recomputed against feed snapshot 3' "$T/A.log"
check "(no emergency yet)" emergency "$host" 0
pw_http PATCH "$U/hosts/$host" "$admin" '{"exposure":"internet"}'
check "PATCH exposure=internet" expect_status 200 "PATCH exposure"
check "the host's emergency findings follow within 20 s" pw_wait_for 20 emergency "$host" "$internet"
check "the other host is left alone" emergency "$host2" 0
pw_http PATCH "$U/hosts/$host" "$admin" '{"exposure":"internal"}'
check "and back to internal" pw_wait_for 20 emergency "$host" 0

pw_srv_stop A
check "the server stops cleanly (the scheduler too)" test $? -eq 0

# ---- by hand -------------------------------------------------------------------------
"$PW_BIN" host recompute --db "$db" --store "$feeds" --snapshot 1 --json >"$T/out" 2>&1
check "host recompute --snapshot 1 --json: $(head -c 300 "$T/out")" test $? -eq 0
check "reports hosts, inventories and the open findings" python3 - "$T/out" "$first" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
assert j["snapshot"] == 1 and j["hosts"] == 2 and j["inventories"] == 2 and j["skipped"] == 0, j
assert j["open_findings"]["normal"] == 2 * n, j
assert j["elapsed_seconds"] >= 0 and set(j["open_findings"]) == {"emergency", "high", "normal", "low"}
EOF
PATCHWARDEN_STORE=$feeds "$PW_BIN" host recompute --db "$db" >"$T/out" 2>&1
check "host recompute takes \$PATCHWARDEN_STORE: $(head -2 "$T/out")" out_has "recomputed findings against feed snapshot 3 in"
check "and prints the counts per priority" out_has "normal $((2 * second)), low 0"
check "the hosts counted" grep -q '^hosts  *2 (0 skipped' "$T/out"
"$PW_BIN" host recompute --db "$db" --store "$T/none.db" >"$T/out" 2>&1
check "a missing store exits 2" test $? -eq 2
check "saying how to make one" out_has "no feed store at $T/none.db"
check "without creating it" test ! -e "$T/none.db"
"$PW_BIN" host recompute --db "$db" --store "$feeds" --snapshot 99 >"$T/out" 2>&1
check "a snapshot that does not exist exits 2" test $? -eq 2
"$PW_BIN" host recompute --db "$db" --store "$feeds" --snapshot x >"$T/out" 2>&1
check "--snapshot needs a number" \
  out_has "option '--snapshot' needs a number of at least 1, not 'x'"
"$PW_BIN" host recompute extra --db "$db" >"$T/out" 2>&1
check "host recompute takes no arguments" out_has "takes no arguments"
"$PW_BIN" host --help >"$T/out" 2>&1
check "--help shows recompute" out_has "patchwarden host recompute [--db URL] [--store FEEDS] [--snapshot N] [--json]"
"$PW_BIN" audit list --db "$db" >"$T/out" 2>&1
check "the hand-made runs are audited as cli:" grep -q 'cli:.*findings.recompute' "$T/out"

pw_srv_summary
