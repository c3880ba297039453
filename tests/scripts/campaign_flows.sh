#!/usr/bin/env bash
# Patch campaigns through the real server, over the API and the CLI, on
# SQLite and on a real PostgreSQL 15 (lib/pg.sh) with two server nodes
# (some steps go through the second; both schedulers look for expiries),
# issue 13: a Flow 1
# walk to verified and closed; Flow 2 declined → risk assessment →
# manager's sign-off → risk accepted → expiry (the server restarted with
# its clock 3 days on: PATCHWARDEN_TEST_NOW) re-opens it; Flow 2 approved
# → the test host first → UAT → production; wrong roles and forbidden
# transitions refused with the messages the issue asks for; the audit log
# verifies. The hosts enroll and check in the sample Debian 10 inventory
# as agents do, and their findings are computed against the sample feeds.
# The job outcomes go in through tests/tools/campaign_outcome, the patch
# driver's library call, to walk every transition without agents
# (campaign_driver.sh runs the driver with real ones).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/pg.sh"
. "$here/lib/samplehosts.sh"
trap pw_srv_cleanup EXIT
test_require_cmd jq
: "${PW_CAMPAIGN_OUTCOME:?PW_CAMPAIGN_OUTCOME is not set; run under ctest}"
S=${PW_SOURCE_DIR:?PW_SOURCE_DIR is not set; run under ctest}/share/sample
T=$PW_SRV_TMP
feeds=$T/feeds.db
conf=$(pw_srv_plain_conf)
# The hosts have no agents and the outcomes go in by hand: the patch driver
# (campaign_driver.sh tests it) runs once at each start, before any
# campaign of it runs, and not again (the expiries are taken then too).
printf '[jobs]\ndeadline_interval = 900\n' >>"$conf"
unset PATCHWARDEN_DB PATCHWARDEN_STORE
"$PW_BIN" feed import --store "$feeds" "$S/feeds" >/dev/null 2>&1
check "the sample feeds imported" test $? -eq 0
tomorrow=$(date -u -d '+1 day' +%F)
later=$(($(date +%s) + 3 * 86400))

pw() { "$PW_BIN" "$@" --db "$db"; }
outcome() { "$PW_CAMPAIGN_OUTCOME" "$db" "$@" 2>"$T/outcome.err"; }
api() { pw_http "$1" "$U/$2" "${tok[$3]}" "${4:-}"; }
apib() { pw_http "$1" "$UB/$2" "${tok[$3]}" "${4:-}"; } # through the last node

# start_nodes [NOW]: the backend's nodes (PATCHWARDEN_TEST_NOW=NOW when
# given); U is the first one's API, UB the last one's.
start_nodes() {
  local n port
  for n in "${nodes[@]}"; do
    if [ -n "${1:-}" ]; then
      PATCHWARDEN_TEST_NOW=$1 pw_srv_start "$n" -c "$conf" --db "$db" || { pw_srv_summary; exit 1; }
    else
      pw_srv_start "$n" -c "$conf" --db "$db" || { pw_srv_summary; exit 1; }
    fi
    port=PW_SRV_PORT_$n
    UB=http://127.0.0.1:${!port}/api/v1
    if [ "$n" = "${nodes[0]}" ]; then U=$UB; fi
  done
}
stop_nodes() {
  local n
  for n in "${nodes[@]}"; do
    pw_srv_stop "$n" || bad "$n: the server did not stop cleanly"
  done
}
state_of() { # CAMPAIGN HOST (in a subshell: HTTP_BODY is not kept)
  api GET "campaigns/$1" aud
  [ "$HTTP_STATUS" = 200 ] || { echo "GET campaigns/$1: $HTTP_STATUS $HTTP_BODY" >&2; return 1; }
  json "[h['state'] for h in j['host_list'] if h['hostname'] == '$2'][0]"
}
msg() { json 'j["error"]["message"]'; }

run() {
  local kind=$1
  db=$2
  declare -gA tok
  for u in root:admin op:operator own:app-owner boss:manager hd:helpdesk aud:auditor; do
    pw user add "${u%%:*}" --role "${u#*:}" --no-password >/dev/null 2>&1
    tok[${u%%:*}]=$(pw user token create "${u%%:*}" 2>/dev/null)
  done
  etok=$(pw user enroll-token create --uses 10 2>/dev/null)
  start_nodes
  sample_enroll dns-01 category=core criticality=2
  sample_enroll db-01 category=database environment=production app_owner=erp criticality=5
  sample_enroll web-t1 category=web environment=test app_owner=shop criticality=1
  sample_enroll web-01 category=web environment=production app_owner=shop criticality=4
  pw host recompute --store "$feeds" >"$T/out" 2>&1
  check "$kind: the hosts' findings computed: $(head -1 "$T/out")" test $? -eq 0

  # ---- Flow 1: dns-01, core ------------------------------------------------
  api POST campaigns own '{"name":"core","hosts":"category=core"}'
  expect_status 403 "$kind: an app-owner creates no campaign"
  api POST campaigns op '{"name":"core","hosts":"category=core","upgrades":"zlib"}'
  expect_status 201 "$kind: POST /campaigns (Flow 1, upgrades zlib)"
  c1=$(json 'j["id"]')
  check "$kind: dns-01 is Flow 1, awaiting its backup" \
    test "$(json 'j["host_list"][0]["flow"]'):$(json 'j["host_list"][0]["state"]')" = 1:awaiting_backup
  check "$kind: the campaign pins the hosts' feed snapshot" test "$(json 'j["feed_snapshot"]')" -ge 1
  outcome "$c1" dns-01 pre-scan-done
  check "$kind: no backup proof, no patch" \
    grep -q "dns-01 has no verified backup: the backup role (operator) must run 'campaign confirm-backup $c1 --host dns-01' or its backup check must pass" "$T/outcome.err"
  api POST "campaigns/$c1/confirm-backup" own '{"host":"dns-01","note":"x"}'
  expect_status 403 "$kind: an app-owner confirms no backup"
  api POST "campaigns/$c1/approve" own '{"host":"dns-01"}'
  expect_status 409 "$kind: approve on a Flow 1 host"
  check "$kind: ... says Flow 1 has no such step" eval '[[ "$(msg)" == *"not a step of Flow 1"* ]]'
  pw campaign confirm-backup "$c1" --host dns-01 --note "tape 2291 restored" >"$T/out" 2>&1
  check "$kind: a step without --as is refused" grep -q "give --as USER" "$T/out"
  pw campaign confirm-backup "$c1" --host dns-01 --as op --note "tape 2291 restored" >/dev/null
  check "$kind: campaign confirm-backup --as op" test "$(state_of "$c1" dns-01)" = scheduled
  outcome "$c1" dns-01 pre-scan-done
  check "$kind: nothing patched before the campaign starts" grep -q "'campaign start $c1'" "$T/outcome.err"
  api POST "campaigns/$c1/start" hd '{}'
  expect_status 403 "$kind: the help desk starts nothing"
  api POST "campaigns/$c1/start" op '{"note":"CAB ok"}'
  expect_status 200 "$kind: start"
  for o in pre-scan-done patch-done post-scan-vulnerable patch-done post-scan-clean; do
    outcome "$c1" dns-01 "$o" 17 || bad "$kind: $o: $(cat "$T/outcome.err")"
  done
  check "$kind: patched twice, verified" test "$(state_of "$c1" dns-01)" = verified
  api GET "campaigns/$c1" aud
  check "$kind: the campaign is done" test "$(json 'j["state"]')" = done
  t1=$(json 'j["host_list"][0]["ticket_id"]')
  pw ticket show "$t1" --json >"$T/ticket.json"
  check "$kind: ticket closed, 7 events, the last by the driver" \
    test "$(jq -r '[.state, (.events | length), .events[-1].actor, .events[-1].to] | join(":")' "$T/ticket.json")" \
    = "closed:7:system:driver:verified"
  api POST "campaigns/$c1/pause" op '{}'
  expect_status 409 "$kind: a done campaign is not paused"

  # ---- Flow 2 declined: db-01 -------------------------------------------------
  pw campaign create --name erp --hosts category=database --as op --json >"$T/c2.json"
  c2=$(jq -r .id "$T/c2.json")
  check "$kind: campaign create --as op: db-01 is Flow 2" test "$(jq -r '.host_list[0].flow' "$T/c2.json")" = 2
  api POST "campaigns/$c2/approve" own '{"host":"db-01"}'
  expect_status 409 "$kind: approve before the backup"
  check "$kind: ... names the missing step and who must do it" eval \
    "[[ \"\$(msg)\" == *\"db-01 has no verified backup: the backup role (operator) must run 'campaign confirm-backup $c2 --host db-01' or its backup check must pass\"* ]]"
  outcome "$c2" db-01 backup-check-passed
  check "$kind: a passed backup check is the proof" test "$(state_of "$c2" db-01)" = awaiting_approval
  api POST "campaigns/$c2/decline" own '{"host":"db-01","reason":"month-end close"}'
  expect_status 400 "$kind: a decline without a risk assessment"
  apib POST "campaigns/$c2/decline" own '{"host":"db-01","reason":"month-end close",
    "data_value":"high","threat_frequency":"low","impact":"medium",
    "cost_benefit":"an outage this week costs more than the exposure"}'
  expect_status 200 "$kind: decline with the risk assessment"
  api POST "campaigns/$c2/sign-off" own "{\"host\":\"db-01\",\"expires\":\"$tomorrow\"}"
  expect_status 403 "$kind: the owner does not sign off their own decline"
  pw campaign sign-off "$c2" --host db-01 --as op --expires "$tomorrow" >"$T/out" 2>&1
  check "$kind: nor an operator (CLI)" grep -q "sign-off is the manager's step; you are operator" "$T/out"
  apib POST "campaigns/$c2/sign-off" boss "{\"host\":\"db-01\",\"expires\":\"$tomorrow\"}"
  expect_status 200 "$kind: the manager signs off"
  check "$kind: risk accepted" test "$(state_of "$c2" db-01)" = risk_accepted
  api GET "tickets?campaign=$c2" aud
  t2=$(json 'j["tickets"][0]["id"]')
  stop_nodes
  start_nodes "$later"
  check "$kind: 3 days on, the expired acceptance re-opens db-01 (scheduler)" \
    test_wait_for 20 eval '[ "$(state_of "$c2" db-01)" = awaiting_approval ]'
  api GET "tickets/$t2" aud
  check "$kind: the ticket is open again, its acceptance expired, next the owner" \
    test "$(json '[j["state"], j["risk_acceptances"][0]["expired"] is not None, j["next_actor"], j["events"][-1]["action"]]')" \
    = '["open", true, "app-owner", "expire"]'
  check "$kind: re-opened once, by one of the ${#nodes[@]} node(s)" \
    test "$(json 'len([e for e in j["events"] if e["action"] == "expire"])')" = 1
  stop_nodes
  start_nodes

  # ---- Flow 2 approved: web-t1 (test) first, then web-01 -----------------------
  api POST campaigns op '{"name":"shop","hosts":"category=web","soak_seconds":0}'
  expect_status 201 "$kind: POST /campaigns (Flow 2, soak 0)"
  c3=$(json 'j["id"]')
  check "$kind: the test host is wave 1" \
    test "$(json '[h["hostname"] for h in j["host_list"] if h["wave"] == 1]')" = '["web-t1"]'
  for h in web-t1 web-01; do
    pw campaign confirm-backup "$c3" --host "$h" --as op --note "snapshot ok" >/dev/null
    api POST "campaigns/$c3/approve" aud "{\"host\":\"$h\"}"
    expect_status 403 "$kind: the auditor approves nothing"
    apib POST "campaigns/$c3/approve" own "{\"host\":\"$h\"}"
    expect_status 200 "$kind: the owner approves $h"
  done
  check "$kind: web-01 waits for its UAT" test "$(state_of "$c3" web-01)" = awaiting_uat
  api POST "campaigns/$c3/record-uat" own '{"host":"web-01","note":"ok"}'
  expect_status 409 "$kind: no UAT before the test host is verified"
  check "$kind: ... saying so" eval '[[ "$(msg)" == *"test environment hosts are not all verified"* ]]'
  api POST "campaigns/$c3/start" op '{}'
  expect_status 200 "$kind: start"
  outcome "$c3" web-01 pre-scan-done
  check "$kind: production is not patched before its UAT" grep -q "has no user acceptance test recorded" "$T/outcome.err"
  for o in pre-scan-done patch-done post-scan-clean; do
    outcome "$c3" web-t1 "$o" || bad "$kind: web-t1 $o: $(cat "$T/outcome.err")"
  done
  api POST "campaigns/$c3/record-uat" boss '{"host":"web-01","note":"ok"}'
  expect_status 403 "$kind: a manager records no UAT"
  pw campaign record-uat "$c3" --host web-01 --as own --note "orders placed on web-t1" >/dev/null
  check "$kind: the UAT schedules web-01" test "$(state_of "$c3" web-01)" = scheduled
  for o in pre-scan-done patch-done post-scan-clean; do
    outcome "$c3" web-01 "$o" || bad "$kind: web-01 $o: $(cat "$T/outcome.err")"
  done
  check "$kind: production verified" test "$(state_of "$c3" web-01)" = verified
  api GET "tickets?campaign=$c3" aud
  t3=$(json '[t["id"] for t in j["tickets"] if t["hostname"] == "web-01"][0]')
  pw ticket show "$t3" >"$T/ticket.web-01.txt"
  pw ticket show "$t3" --format html >"$T/ticket.web-01.html"
  check "$kind: web-01's ticket: backup, approval, UAT, then the driver's steps, closed" test \
    "$(awk 'NR > 1 {print $3}' "$T/ticket.web-01.txt" | xargs)" \
    = "open confirm-backup approve record-uat pre-scan-done patch-done post-scan-clean"
  api GET "campaigns/$c3" aud
  check "$kind: the campaign is done" test "$(json 'j["state"]')" = done
  check "$kind: campaign show --json is GET /campaigns/{id}" \
    test "$(pw campaign show "$c3" --json | jq -cS .)" = "$(jq -cS . <<<"$HTTP_BODY")"
  api GET "tickets/$t2" aud
  check "$kind: ticket show --json is GET /tickets/{id}" \
    test "$(pw ticket show "$t2" --json | jq -cS .)" = "$(jq -cS . <<<"$HTTP_BODY")"

  # ---- a halted host: skipped (rollback: campaign_driver.sh, a real agent) -------
  api POST campaigns op '{"name":"core again","hosts":"category=core","soak_seconds":0}'
  expect_status 201 "$kind: POST /campaigns (Flow 1 again)"
  c4=$(json 'j["id"]')
  hostile='tape 2292 </td><script>alert("pw")</script> & '"'"'restored'"'"' <!--'
  pw campaign confirm-backup "$c4" --host dns-01 --as op --note "$hostile" >/dev/null
  api POST "campaigns/$c4/skip" op '{"host":"dns-01","reason":"x"}'
  expect_status 409 "$kind: skip: a scheduled host of an open campaign is not skipped"
  check "$kind: ... saying what it waits for" \
    eval '[[ "$(msg)" == *"cannot skip dns-01 now: dns-01 is scheduled"* ]]'
  api POST "campaigns/$c4/start" op '{}'
  expect_status 200 "$kind: start"
  outcome "$c4" dns-01 pre-scan-done || bad "$kind: pre-scan-done: $(cat "$T/outcome.err")"
  for s in skip rollback; do
    api POST "campaigns/$c4/$s" op '{"host":"dns-01","reason":"x"}'
    expect_status 409 "$kind: $s: a host being patched in a running campaign"
    check "$kind: ... is not halted" eval '[[ "$(msg)" == *"campaign $c4 is not halted"* ]]'
  done
  outcome "$c4" dns-01 patch-failed 18 || bad "$kind: patch-failed: $(cat "$T/outcome.err")"
  api GET "campaigns/$c4" aud
  check "$kind: the failed patch halts the campaign" test "$(json 'j["state"]')" = halted
  check "$kind: ... its ticket waits for the operator" \
    test "$(json 'j["host_list"][0]["next_actor"]'):$(json 'j["host_list"][0]["state"]')" = operator:patching
  for who in own boss hd aud; do
    for s in skip rollback; do
      api POST "campaigns/$c4/$s" "$who" '{"host":"dns-01","reason":"x"}'
      expect_status 403 "$kind: $who may not $s"
      check "$kind: ... the refusal names the roles" eval '[[ "$(msg)" == *"needs the role admin, operator"* ]]'
    done
    pw campaign rollback "$c4" --host dns-01 --as "$who" >"$T/out" 2>&1
    check "$kind: campaign rollback --as $who: the operator's step" \
      grep -q "rollback is the admin or operator's step; you are" "$T/out"
  done
  api POST "campaigns/$c4/skip" op '{"host":"dns-01"}'
  expect_status 400 "$kind: skip without a reason"
  check "$kind: ... asks for one" eval '[[ "$(msg)" == *"skip needs a reason (--reason)"* ]]'
  apib POST "campaigns/$c4/rollback" op '{"host":"dns-01"}'
  expect_status 409 "$kind: rollback with no patch job that upgraded anything"
  check "$kind: ... says there is nothing to go back to and what else to do" eval \
    "[[ \"\$(msg)\" == *\"no older version to go back to: an operator may run 'campaign skip $c4 --host dns-01 --reason TEXT'\"* ]]"
  pw campaign skip "$c4" --host dns-01 --as op --reason "vendor case 4411: patch breaks named" \
    >"$T/out" 2>&1
  check "$kind: campaign skip --as op --reason: skipped" test "$(state_of "$c4" dns-01)" = skipped
  api GET "campaigns/$c4" aud
  check "$kind: the campaign ran on and is done (its only host skipped)" test "$(json 'j["state"]')" = done
  t4=$(json 'j["host_list"][0]["ticket_id"]')
  pw ticket show "$t4" --json >"$T/ticket4.json"
  check "$kind: the ticket closed, nobody next, the skip and its reason on it" test \
    "$(jq -r '[.state, .next_actor, .events[-1].action, .events[-1].from, .events[-1].to, .events[-1].note] | join(":")' "$T/ticket4.json")" \
    = "closed:nobody:skip:patching:skipped:vendor case 4411: patch breaks named"
  for s in skip rollback; do
    api POST "campaigns/$c4/$s" op '{"host":"dns-01","reason":"x"}'
    expect_status 409 "$kind: $s a skipped host of a done campaign"
  done
  api POST "campaigns/$c4/resume" op '{}'
  expect_status 409 "$kind: a done campaign is not resumed"
  api GET "audit?limit=1000" aud
  check "$kind: the skip audited once with its reason" test \
    "$(json '[e["after"]["note"] for e in j["events"] if e["action"] == "campaign.skip"]')" \
    = '["vendor case 4411: patch breaks named"]'

  # ---- ticket show --format html: one page, everything escaped -------------------
  pw ticket show "$t4" --format html >"$T/t4.html"
  check "$kind: ticket show --format html" test $? -eq 0
  check "$kind: ... the hostile note is text: no script, the note intact, nothing outside" \
    python3 - "$T/t4.html" "$hostile" <<'PY'
import sys
from html.parser import HTMLParser
page, note = open(sys.argv[1]).read(), sys.argv[2]
allowed = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "h4", "p",
           "strong", "table", "tr", "th", "td", "pre"}
class P(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.cells, self.cur, self.comments = [], [], None, 0
    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "td":
            self.cur = ""
    def handle_endtag(self, tag):
        if tag == "td" and self.cur is not None:
            self.cells.append(self.cur)
            self.cur = None
    def handle_data(self, data):
        if self.cur is not None:
            self.cur += data
    def handle_comment(self, data):
        self.comments += 1
p = P()
p.feed(page)
p.close()
bad = set(p.tags) - allowed
assert not bad, f"tags outside the page's own: {bad}"
assert "script" not in p.tags and p.comments == 0
assert page.startswith("<!DOCTYPE html>") and "src=" not in page and "href=" not in page
assert note in p.cells, "the note is not one cell's text"
PY
  check "$kind: ... skipped, who acts next (nobody), the skip's reason" eval \
    'grep -q "State: <strong>closed</strong>; who acts next: <strong>nobody</strong>" "$T/t4.html" &&
     grep -q "vendor case 4411: patch breaks named" "$T/t4.html"'
  pw ticket show "$t2" --format html >"$T/t2.html"
  check "$kind: the declined ticket's page: the risk assessment, the decline and sign-off" \
    python3 - "$T/t2.html" <<'PY'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.section, self.rows = None, {}
        self.cell = None
    def handle_starttag(self, tag, attrs):
        if tag == "td":
            self.cell = ""
        if tag == "tr" and self.section:
            self.rows.setdefault(self.section, []).append([])
    def handle_endtag(self, tag):
        if tag == "td":
            self.rows[self.section][-1].append(self.cell)
            self.cell = None
    def handle_data(self, d):
        if self.cell is not None:
            self.cell += d
        elif self.lasttag == "h2":
            self.section = d
p = P()
p.feed(open(sys.argv[1]).read())
risk = [r for r in p.rows["Risk assessment"] if r]
assert risk[0][:5] == ["month-end close", "high", "low", "medium",
                       "an outage this week costs more than the exposure"], risk
steps = [r[2] for r in p.rows["Approvals and decisions"] if r]
assert steps == ["decline", "sign-off"], steps
PY
  check "$kind: --format takes html only" eval '! pw ticket show "$t4" --format pdf 2>/dev/null'

  pw campaign list --json >"$T/list.json"
  check "$kind: campaign list --json: 4 campaigns" test "$(jq length "$T/list.json")" = 4
  api GET "audit/verify" aud
  check "$kind: the audit log verifies" test "$(json 'j["intact"]')" = true
  api GET "audit?limit=1000" aud
  check "$kind: every step audited (campaign.* events)" \
    test "$(json 'len([e for e in j["events"] if e["action"].startswith("campaign.")])')" -ge 25
  stop_nodes
}

nodes=(sqlite)
run sqlite "sqlite:$T/server.db"
pw_pg_start || { bad "PostgreSQL did not start"; test_done; }
trap 'pw_srv_cleanup; pw_pg_stop' EXIT
nodes=(pgA pgB)
run pg "$PW_TEST_PG_URL"
test_done
