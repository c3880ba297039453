#!/usr/bin/env bash
# Issue 11, lifecycle, end to end over HTTP with real agents: an operator
# revokes a host's agent (its next check-in gets 401; enrolling again
# re-keys the host), decommissions a host (agent 401, queued jobs
# cancelled, open findings closed but kept, the host out of GET /hosts and
# `host list` unless asked for), deletes it (refused before
# decommissioning); an admin disables and enables a user and revokes an
# API token, and a user revokes their own. Each action is in `audit list --json` and `audit verify`
# stays intact. Roles: the auditor is refused each change (403).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/agent.sh"
trap pw_srv_cleanup EXIT
T=$PW_SRV_TMP
db=sqlite:$T/server.db
feeds=$T/feeds.db
S=${PW_SOURCE_DIR:?PW_SOURCE_DIR is not set; run under ctest}/share/sample
printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\n[feeds]\nstore = %s\nrecompute_interval = 1\n' \
  "$feeds" >"$T/srv.conf"
out_has() { grep -qF -- "$1" "$T/agent.out"; }
pw() { "$PW_BIN" "$@" --db "$db" >"$T/out" 2>&1; }
sql() { sqlite3 "$T/server.db" "$1"; }

# ---- a Debian 10 system with findings, two agents ---------------------------
root=$T/root
"$PW_SOURCE_DIR/scripts/inventory-to-root" "$S/inventories/debian10-web.json" "$root"
"$PW_BIN" feed import --store "$feeds" "$S/feeds/debian/DSA.list" >/dev/null 2>&1
check "a feed snapshot" test $? -eq 0
# What the host should have open, from the scanner on the same system.
want=$("$PW_BIN" scan --root "$root" --store "$feeds" --json 2>/dev/null |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["summary"]["findings"])')
check "scan finds something to close ($want)" test "${want:-0}" -gt 0

"$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
"$PW_BIN" user add ops --role operator --no-password --db "$db" >/dev/null 2>&1
"$PW_BIN" user add aud --role auditor --no-password --db "$db" >/dev/null 2>&1
admin=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
ops=$("$PW_BIN" user token create ops --db "$db" 2>/dev/null)
aud=$("$PW_BIN" user token create aud --db "$db" 2>/dev/null)
etok=$("$PW_BIN" user enroll-token create --uses 10 --db "$db" 2>/dev/null)
pw_srv_start A -c "$T/srv.conf" --db "$db" || { pw_srv_summary; exit 1; }
B=http://127.0.0.1:$PW_SRV_PORT_A
U=$B/api/v1
# Two machines with the same packages, named by their etc/hostname.
for n in a b; do
  cp -r "$root" "$T/root-$n"
  echo "web-$n" >"$T/root-$n/etc/hostname"
done
ag() { pw_agent "$1" "${@:2}" --root "$T/root-$1"; }

ag a enroll --server "$B" --token "$etok" --insecure
check "agent a enrolls: $(head -2 "$T/agent.out")" test "$AGENT_ST" -eq 0
ag b enroll --server "$B" --token "$etok" --insecure
check "agent b enrolls: $(head -2 "$T/agent.out")" test "$AGENT_ST" -eq 0
ag a run --once
check "a checks in" test "$AGENT_ST" -eq 0
ag b run --once
check "b checks in" test "$AGENT_ST" -eq 0
pw_http GET "$U/hosts" "$admin"
ha=$(json '[h["id"] for h in j["hosts"] if h["hostname"] == "web-a"][0]')
hb=$(json '[h["id"] for h in j["hosts"] if h["hostname"] == "web-b"][0]')
check "two hosts ($ha, $hb), in service" test "$(json '[h["decommissioned"] for h in j["hosts"]]')" = "[null, null]"
open_a() { pw_http GET "$U/hosts/$ha" "$admin" && [ "$(json 'sum(j["open_findings"].values())')" -eq "$1" ]; }
check "web-a gets the scan's $want findings" pw_wait_for 20 open_a "$want"

# ---- revoke the agent only ----------------------------------------------------
pw_http POST "$U/hosts/$ha/revoke-agent" "$aud"
expect_status 403 "the auditor cannot revoke an agent"
pw_http POST "$U/hosts/$ha/revoke-agent" "$ops"
expect_status 200 "the operator revokes web-a's agent"
pw_http POST "$U/hosts/$ha/revoke-agent" "$ops"
expect_status 409 "a second revoke: no credential left"
ag a run --once
check "agent a's next check-in is refused" test "$AGENT_ST" -ne 0
check "with 401: $(head -2 "$T/agent.out")" out_has "answered 401"
pw_http GET "$U/hosts" "$admin"
check "web-a is still listed" test "$(json 'len(j["hosts"])')" -eq 2
ag a enroll --server "$B" --token "$etok" --insecure
check "agent a enrolls again: $(head -2 "$T/agent.out")" test "$AGENT_ST" -eq 0
ag a run --once
check "and checks in" test "$AGENT_ST" -eq 0
pw_http GET "$U/hosts" "$admin"
check "as the same host, re-keyed" test "$(json 'len(j["hosts"])')" -eq 2
pw_http GET "$U/audit?limit=1000" "$admin"
check "the re-key is audited as agent.rekey" \
  test "$(json '[e["target"] for e in j["events"] if e["action"] == "agent.rekey"]')" = "[\"host:$ha\"]"

# ---- decommission -------------------------------------------------------------
j1=$(pw_job "$ops" "$U" "$ha" inventory)
j2=$(pw_job "$ops" "$U" "$ha" scan)
pw_http DELETE "$U/hosts/$ha" "$ops"
expect_status 409 "delete before decommission is refused"
check "saying so" test "$(json 'j["error"]["message"]')" = \
  "host web-a is in service: decommission it first ('patchwarden host decommission web-a')"
pw_http POST "$U/hosts/$ha/decommission" "$aud" '{"note":"x"}'
expect_status 403 "the auditor cannot decommission"
pw_http POST "$U/hosts/$ha/decommission" "$ops" '{"note":"replaced by web-c, CHG-1299"}'
expect_status 200 "the operator decommissions web-a"
check "the reply shows it decommissioned" test "$(json 'j["host"]["decommissioned"] is not None')" = true
check "with no open findings" test "$(json 'sum(j["host"]["open_findings"].values())')" -eq 0
check "and no open jobs" test "$(json 'j["host"]["open_jobs"]')" -eq 0
pw_http POST "$U/hosts/$ha/decommission" "$ops"
expect_status 409 "decommissioning twice"
ag a run --once
check "agent a's check-in gets 401: $(head -2 "$T/agent.out")" out_has "answered 401"
ag a enroll --server "$B" --token "$etok" --insecure
check "and it cannot enroll again: $(head -2 "$T/agent.out")" out_has "answered 409"
pw_http GET "$U/hosts/$ha/jobs" "$admin"
check "its jobs are cancelled" test "$(json "sorted(x['state'] for x in j['jobs'] if x['job_id'] in ($j1, $j2))")" = '["cancelled", "cancelled"]'
check "its findings are kept, closed by decommission" \
  test "$(sql "SELECT COUNT(*) FROM findings WHERE host_id = $ha AND closed_reason = 'decommissioned' AND fixed_at IS NOT NULL")" -eq "$want"
check "none open" test "$(sql "SELECT COUNT(*) FROM findings WHERE host_id = $ha AND fixed_at IS NULL")" -eq 0
pw_http GET "$U/hosts" "$admin"
check "GET /hosts leaves web-a out" test "$(json '[h["hostname"] for h in j["hosts"]]')" = '["web-b"]'
pw_http GET "$U/hosts?decommissioned=true" "$admin"
check "?decommissioned=true shows it" test "$(json '[h["hostname"] for h in j["hosts"]]')" = '["web-a"]'
pw_http GET "$U/hosts?decommissioned=any" "$admin"
check "?decommissioned=any shows both" test "$(json 'len(j["hosts"])')" -eq 2
pw_http GET "$U/hosts?decommissioned=maybe" "$admin"
expect_status 400 "a bad decommissioned value"
pw host list
check "host list leaves web-a out" eval '! grep -q "^web-a " "$T/out"'
pw host list --all
check "host list --all shows it" grep -q "^web-a " "$T/out"
pw host list --decommissioned --json
check "host list --decommissioned --json" test "$(python3 -c 'import json,sys; print([h["hostname"] for h in json.load(sys.stdin)])' <"$T/out")" = "['web-a']"
# The recompute leaves it alone: web-b's findings stay, web-a's stay closed.
pw host recompute --store "$feeds"
check "a recompute runs" test "$(sql "SELECT COUNT(*) FROM findings WHERE host_id = $ha AND fixed_at IS NULL")" -eq 0

# ---- delete -------------------------------------------------------------------
pw_http DELETE "$U/hosts/$ha" "$aud"
expect_status 403 "the auditor cannot delete"
pw_http DELETE "$U/hosts/$ha" "$ops"
expect_status 200 "the operator deletes web-a"
pw_http GET "$U/hosts/$ha" "$admin"
expect_status 404 "web-a is gone"
check "with its findings and jobs" test "$(sql "SELECT COUNT(*) FROM findings WHERE host_id = $ha") $(sql "SELECT COUNT(*) FROM jobs WHERE host_id = $ha")" = "0 0"

# ---- the CLI on web-b ---------------------------------------------------------
pw host delete web-b
st=$?
check "host delete of a host in service exits 2" test "$st" -eq 2
check "saying to decommission first" grep -qF "decommission it first" "$T/out"
pw host decommission web-b --note "end of life"
check "host decommission: $(cat "$T/out")" grep -q "^host web-b decommissioned" "$T/out"
ag b run --once
check "agent b's check-in gets 401" out_has "answered 401"
pw host delete web-b
check "host delete: $(cat "$T/out")" grep -q "^host web-b deleted" "$T/out"
pw host list --all --json
check "no host left" test "$(cat "$T/out")" = "[]"

# ---- users and tokens over the API ---------------------------------------------
aud_id=$(sql "SELECT id FROM users WHERE name = 'aud'")
pw_http POST "$U/users/$aud_id/disable" "$ops"
expect_status 403 "the operator cannot disable a user"
pw_http POST "$U/users/$aud_id/disable" "$admin"
expect_status 200 "the admin disables aud"
check "the reply says disabled" test "$(json 'j["disabled"]')" = true
pw_http GET "$U/me" "$aud"
expect_status 401 "aud's token stops working"
pw_http POST "$U/users/$aud_id/enable" "$admin"
expect_status 200 "the admin enables aud"
pw_http GET "$U/me" "$aud"
expect_status 200 "aud's token works again"
tok_id=$(json 'j["token_id"]')
pw_http GET "$U/me" "$ops"
ops_tok=$(json 'j["token_id"]')
pw_http DELETE "$U/tokens/$tok_id" "$ops"
expect_status 403 "the operator cannot revoke aud's token"
pw_http DELETE "$U/tokens/$tok_id" "$aud"
expect_status 200 "aud revokes their own token"
pw_http GET "$U/me" "$aud"
expect_status 401 "the revoked token is refused"
pw_http DELETE "$U/tokens/$tok_id" "$admin"
expect_status 409 "revoking it again"
pw_http DELETE "$U/tokens/$ops_tok" "$admin"
expect_status 200 "the admin revokes the operator's token"
pw_http GET "$U/me" "$ops"
expect_status 401 "which is refused then"

# ---- the audit log --------------------------------------------------------------
pw audit list --json --limit 1000
actions=$(python3 -c 'import json, sys
want = ["agent.revoke", "host.decommission", "host.delete", "user.disable", "user.enable",
        "token.revoke"]
ev = json.load(sys.stdin)
print(" ".join("%s:%d" % (a, sum(1 for e in ev if e["action"] == a)) for a in want))' <"$T/out")
check "each action audited: $actions" test "$actions" = \
  "agent.revoke:1 host.decommission:2 host.delete:2 user.disable:1 user.enable:1 token.revoke:2"
note=$(python3 -c 'import json, sys
ev = [e for e in json.load(sys.stdin) if e["action"] == "host.decommission"][0]
print(ev["actor"], ev["target"], ev["after"]["note"], ev["after"]["closed_findings"], ev["after"]["cancelled_jobs"])' <"$T/out")
check "the decommission event: $note" test "$note" = "user:ops host:$ha replaced by web-c, CHG-1299 $want 2"
deleted=$(python3 -c 'import json, sys
ev = [e for e in json.load(sys.stdin) if e["action"] == "host.delete"][0]
print(ev["before"]["hostname"], ev["after"])' <"$T/out")
check "the delete event keeps the record: $deleted" test "$deleted" = "web-a None"
pw audit verify
st=$?
check "audit verify: the chain is intact ($(head -1 "$T/out"))" test "$st" -eq 0

pw_srv_stop A
pw_srv_summary
