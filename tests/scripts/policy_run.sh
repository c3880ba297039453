#!/usr/bin/env bash
# patchwarden policy run (issue 14) on the sample fleet: the 90-day rule
# (hosts patched 100 and 80 days ago, one never patched but enrolled
# today; then the clock 15 days on: PATCHWARDEN_TEST_NOW), findings past
# their SLA (the clock past the longest SLA, 90 days), risk acceptances
# about to expire, the KEV emergency path drafting an emergency campaign,
# drafts not made twice while live, --dry-run changing nothing, and the
# run's notifications in the outbox. Expectations are worked out with
# sqlite3 and date(1) from the stored rows, not by the code under test.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/samplefleet.sh"
trap pw_srv_cleanup EXIT
test_require_cmd jq sqlite3
: "${PW_SOURCE_DIR:?PW_SOURCE_DIR is not set; run under ctest}"
S=$PW_SOURCE_DIR/share/sample
T=$PW_SRV_TMP
unset PATCHWARDEN_DB PATCHWARDEN_STORE PATCHWARDEN_TEST_NOW
db=$T/pw.db
pw() { "$PW_BIN" "$@" --db "$db"; }
sql() { sqlite3 "$db" "$@"; }
printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\n' >"$T/pw.conf"

for u in op:operator:op@example.org boss:manager:boss@example.org erp:app-owner:erp@example.org; do
  IFS=: read -r name role mail <<<"$u"
  pw user add "$name" --role "$role" --no-password >/dev/null 2>&1
  pw user email "$name" "$mail" >/dev/null
done
sample_fleet_init "$db"
pw_srv_start A -c "$T/pw.conf" --db "$db" || { bad "the server did not start"; test_done; }
U=http://127.0.0.1:$PW_SRV_PORT_A/api/v1
d100=$(date -u -d '-100 days' +%F)
d80=$(date -u -d '-80 days' +%F)
sample_enroll old-01 category=core last_patched="$d100"
sample_enroll mid-01 category=core last_patched="$d80"
sample_enroll new-01 category=core
sample_enroll db-01 category=database app_owner=erp
pw_srv_stop A || bad "the server did not stop cleanly"
pw host recompute --store "$T/feeds.db" >/dev/null 2>&1
check "findings computed" test "$(sql "SELECT count(*) FROM findings WHERE fixed_at IS NULL")" -gt 0

# ---- today, dry run ---------------------------------------------------------
pw policy run --dry-run --json >"$T/r0.json"
check "policy run --dry-run --json" test $? -eq 0
check "unpatched today: old-01 alone (100 days; 80 and never-but-new are within the rule)" \
  test "$(jq -r '[.unpatched[].host] | join(",")' "$T/r0.json")" = old-01
check "... with its days since" test "$(jq -r '.unpatched[0].days' "$T/r0.json")" -eq 100
check "nothing is past its SLA on the day the findings were seen" \
  test "$(jq '.past_sla | length' "$T/r0.json")" -eq 0
kev=$(sql "SELECT count(*) FROM findings WHERE fixed_at IS NULL AND (kev_cve IS NOT NULL OR priority = 'emergency')")
check "the emergency list has the open KEV or emergency findings ($kev, by sqlite3)" \
  test "$(jq '.emergency | length' "$T/r0.json")" -eq "$kev"
check "a dry run drafts, records and notifies nothing" \
  test "$(sql "SELECT (SELECT count(*) FROM campaigns) + (SELECT count(*) FROM policy_runs) + (SELECT count(*) FROM notify_outbox)")" -eq 0
pw policy run --dry-run >"$T/r0.txt"
check "the text lists old-01 with its last patch" grep -q "old-01 .*last patched $d100 (100 days)" "$T/r0.txt"

# ---- 15 days on: mid-01 joins; past the longest SLA: every finding ------------
later=$(($(date +%s) + 15 * 86400))
PATCHWARDEN_TEST_NOW=$later pw policy run --dry-run --json >"$T/r1.json"
check "15 days on: old-01 and mid-01 (95 days); new-01 enrolled today still within" \
  test "$(jq -r '[.unpatched[].host] | sort | join(",")' "$T/r1.json")" = mid-01,old-01
asof=$(date -u -d "@$later" +%FT%TZ)
want=$(sql "SELECT count(*) FROM findings WHERE fixed_at IS NULL AND due IS NOT NULL AND due < '$asof'")
check "past SLA at +15 days: $want findings (sqlite3: due before $asof)" \
  test "$(jq '.past_sla | length' "$T/r1.json")" -eq "$want"

# ---- the real run: the KEV emergency drafted, notified, recorded ------------
pw policy run --json >"$T/r2.json"
check "policy run" test $? -eq 0
check "an emergency campaign drafted exactly when there are KEV/emergency findings ($kev)" \
  test "$(sql "SELECT count(*) FROM campaigns WHERE emergency = 1 AND created_by = 'system:policy'")" -eq $((kev > 0 ? 1 : 0))
check "the run recorded (policy_runs) and audited (policy.run)" \
  test "$(sql "SELECT (SELECT count(*) FROM policy_runs WHERE kind = 'daily') || ':' || (SELECT count(*) FROM audit_events WHERE action = 'policy.run')")" = 1:1
check "operators and managers get the summary" \
  test "$(sql "SELECT group_concat(recipient, ',') FROM (SELECT recipient FROM notify_outbox WHERE event = 'policy.run' AND channel = 'email' ORDER BY recipient)")" = boss@example.org,op@example.org
drafts=$(sql "SELECT count(*) FROM campaigns")
pw policy run --json >"$T/r3.json"
check "a second run drafts nothing new while the drafts are live" test "$(sql "SELECT count(*) FROM campaigns")" -eq "$drafts"
check "... and says so (drafted: [])" test "$(jq '.drafted | length' "$T/r3.json")" -eq 0

# ---- an expiring risk acceptance --------------------------------------------
pw campaign create --name erp --hosts category=database --as op --json >"$T/c.json"
c=$(jq -r .id "$T/c.json")
pw campaign confirm-backup "$c" --host db-01 --as op --note "tape 1" >/dev/null
pw campaign decline "$c" --host db-01 --as erp --reason "quarter end" --data-value low \
  --threat-frequency low --impact low --cost-benefit "not now" >/dev/null
in3=$(date -u -d '+3 days' +%F)
pw campaign sign-off "$c" --host db-01 --as boss --expires "$in3" >/dev/null
check "db-01's risk accepted until $in3" \
  test "$(sql "SELECT state FROM campaign_hosts WHERE campaign_id = $c")" = risk_accepted
pw policy run --json >"$T/r4.json"
check "the acceptance expiring in 3 days is listed (warning: 7 days)" \
  test "$(jq -r '[.expiring[] | "\(.kind):\(.host):\(.campaign)"] | join(",")' "$T/r4.json")" = "risk_acceptance:db-01:$c"
check "its owner (erp) and the managers are told what to do" \
  test "$(sql "SELECT group_concat(recipient, ',') FROM (SELECT recipient FROM notify_outbox WHERE event = 'policy.expiring' AND channel = 'email' ORDER BY recipient)")" = boss@example.org,erp@example.org
check "... the message names the command" \
  test "$(sql "SELECT count(*) FROM notify_outbox WHERE event = 'policy.expiring' AND body LIKE '%campaign sign-off $c --host db-01%'")" -eq 3
printf '[policy]\nexpiry_warning_days = 2\n' >"$T/p.conf"
pw policy run --dry-run --json -c "$T/p.conf" >"$T/r5.json"
check "[policy] expiry_warning_days = 2: not listed" test "$(jq '.expiring | length' "$T/r5.json")" -eq 0
printf '[policy]\nmax_days_unpatched = 101\n' >"$T/p.conf"
pw policy run --dry-run --json -c "$T/p.conf" >"$T/r6.json"
check "[policy] max_days_unpatched = 101: old-01 (100 days) is within" test "$(jq '.unpatched | length' "$T/r6.json")" -eq 0
printf '[policy]\ndaily_at = 25:00\n' >"$T/p.conf"
pw policy run --dry-run -c "$T/p.conf" >"$T/out" 2>&1
check "a bad daily_at is refused with what to give" grep -q "give HH:MM" "$T/out"

# ---- the server: a new snapshot with a KEV-listed CVE, and the daily run ----
cve=$(sql "SELECT cves FROM findings WHERE fixed_at IS NULL ORDER BY id LIMIT 1" | grep -o 'CVE-[0-9]*-[0-9]*' | head -1)
hosts_with=$(sql "SELECT count(DISTINCT host_id) FROM findings WHERE fixed_at IS NULL AND cves LIKE '%$cve%'")
mkdir -p "$T/kev"
python3 - "$S/feeds/kev/known_exploited_vulnerabilities.json" "$cve" \
  >"$T/kev/known_exploited_vulnerabilities.json" <<'PY'
import json, sys
k = json.load(open(sys.argv[1]))
e = dict(k["vulnerabilities"][0], cveID=sys.argv[2])
k["vulnerabilities"], k["count"] = [e], 1
json.dump(k, sys.stdout)
PY
"$PW_BIN" feed import --store "$T/feeds.db" "$S/feeds/debian" "$T/kev" >"$T/out" 2>&1
check "a new snapshot lists $cve as known exploited ($hosts_with hosts have it)" test $? -eq 0
daily0=$(sql "SELECT count(*) FROM policy_runs WHERE kind = 'daily'")
printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\n[feeds]\nstore = %s\n[policy]\ndaily_at = 00:00\n' \
  "$T/feeds.db" >"$T/pw2.conf"
tomorrow=$(($(date +%s) + 86400))
PATCHWARDEN_TEST_NOW=$tomorrow pw_srv_start B -c "$T/pw2.conf" --db "$db" || bad "the server did not start"
drafted() { [ "$(sql "SELECT count(*) FROM campaigns WHERE name = 'policy: emergency (KEV)' AND emergency = 1 AND created_by = 'system:policy'")" -eq 1 ]; }
test_wait_for 30 drafted
check "the server's emergency path drafted an emergency campaign after the snapshot" drafted
check "... for the $hosts_with hosts with $cve" \
  test "$(sql "SELECT count(*) FROM campaign_hosts ch JOIN campaigns c ON c.id = ch.campaign_id WHERE c.name = 'policy: emergency (KEV)'")" -eq "$hosts_with"
check "... its run recorded as an emergency run" test "$(sql "SELECT count(*) FROM policy_runs WHERE kind = 'emergency'")" -eq 1
ran() { [ "$(sql "SELECT count(*) FROM policy_runs WHERE kind = 'daily'")" -eq $((daily0 + 1)) ]; }
test_wait_for 30 ran
check "the server ran the daily policy (daily_at 00:00, the clock a day on)" ran
pw_srv_stop B || bad "the server did not stop cleanly"
PATCHWARDEN_TEST_NOW=$tomorrow pw_srv_start C -c "$T/pw2.conf" --db "$db" || bad "the server did not start"
sleep 2
check "a restart the same day runs it no more" test "$(sql "SELECT count(*) FROM policy_runs WHERE kind = 'daily'")" -eq $((daily0 + 1))
pw_srv_stop C || bad "the server did not stop cleanly"

# ---- draft_campaigns, 100 days on: past SLA by priority; low ones batched ----
printf '[policy]\ndraft_campaigns = true\n' >"$T/d.conf"
far=$(($(date +%s) + 100 * 86400))
asof=$(date -u -d "@$far" +%FT%TZ)
# The sample's findings are emergency and normal: three of them are made
# low here (what the priority policy gives a package no process uses).
sql "UPDATE findings SET priority = 'low' WHERE id IN (SELECT id FROM findings WHERE fixed_at IS NULL AND priority = 'normal' ORDER BY id LIMIT 3)"
prios=$(sql "SELECT group_concat(p, ',') FROM (SELECT DISTINCT priority p FROM findings WHERE fixed_at IS NULL AND due < '$asof' AND priority IN ('high', 'normal') ORDER BY p)")
lows=$(sql "SELECT count(*) FROM findings WHERE fixed_at IS NULL AND due < '$asof' AND priority = 'low'")
PATCHWARDEN_TEST_NOW=$far pw policy run -c "$T/d.conf" --json >"$T/r7.json"
check "past SLA drafts, one per priority past due (sqlite3: $prios)" \
  test "$(jq -r '[.drafted[].name | select(startswith("policy: past SLA")) | capture("\\((?<p>[a-z]+)\\)").p] | sort | join(",")' "$T/r7.json")" = "$prios"
check "there are low-priority findings past due ($lows) ..." test "$lows" -gt 0
check "... and no drafted campaign has one: they wait for the regular cycle" \
  test "$(sql "SELECT count(*) FROM campaign_hosts ch JOIN campaigns c ON c.id = ch.campaign_id, json_each(ch.findings) j JOIN findings f ON f.id = j.value WHERE c.name LIKE 'policy: past SLA%' AND f.priority = 'low'")" -eq 0
check "the unpatched hosts drafted (overdue=true) with all their findings" \
  test "$(jq '[.drafted[] | select(.name == "policy: unpatched")] | length' "$T/r7.json")" -eq 1

# ---- a compromised host: its similar hosts get an emergency campaign --------
# old-01, mid-01 and new-01 are core hosts of Debian 10 with the same
# inventory, so the same open findings; db-01 is a database host.
# Its own ticket goes on the incident track: its open ticket in a live
# campaign (an emergency one first), by sqlite3 before the mark.
live="('open', 'running', 'paused', 'halted')"
own_ticket() { # HOST: the ticket the incident track takes, "" when none
  sql "SELECT t.id FROM tickets t JOIN campaigns c ON c.id = t.campaign_id JOIN hosts h
    ON h.id = t.host_id WHERE h.hostname = '$1' AND t.state = 'open' AND c.state IN $live
    ORDER BY c.emergency DESC, t.id DESC LIMIT 1"
}
want_t=$(own_ticket old-01)
check "old-01 has an open ticket in a live campaign ($want_t)" test -n "$want_t"
pw host set old-01 compromised=true --note "IDS alert 4411" >"$T/out" 2>&1
check "host set old-01 compromised=true: $(cat "$T/out")" grep -q "emergency campaign [0-9]* drafted for 2 similar hosts" "$T/out"
ci=$(sql "SELECT id FROM campaigns WHERE name = 'incident: similar to old-01'")
check "... an emergency campaign of mid-01 and new-01, not old-01 nor db-01" \
  test "$(sql "SELECT c.emergency || ':' || group_concat(ch.hostname, ',') FROM campaigns c JOIN (SELECT * FROM campaign_hosts ORDER BY hostname) ch ON ch.campaign_id = c.id WHERE c.id = $ci")" = "1:mid-01,new-01"
check "... the host marked, audited with the note" \
  test "$(sql "SELECT (SELECT count(*) FROM hosts WHERE hostname = 'old-01' AND compromised IS NOT NULL) || ':' || (SELECT count(*) FROM audit_events WHERE action = 'host.compromised' AND target = 'host:old-01' AND after_json LIKE '%IDS alert 4411%')")" = 1:1
check "... the operators and managers told" \
  test "$(sql "SELECT count(*) FROM notify_outbox WHERE event = 'host.compromised' AND channel = 'email' AND body LIKE '%campaign start $ci%'")" -eq 2
check "old-01's own ticket $want_t is on the incident track: $(tail -1 "$T/out")" \
  grep -q "ticket $want_t on the incident track" "$T/out"
pw ticket list --json >"$T/tickets.json"
check "ticket list --json: track incident for it alone" \
  test "$(jq -r '[.[] | select(.track == "incident") | .id] | join(",")' "$T/tickets.json")" = "$want_t"
check "ticket list: a TRACK column" \
  eval "pw ticket list | grep -Eq '^ticket $want_t .* open +incident +next:'"
check "... its history has the incident with the note, at its state" \
  test "$(sql "SELECT count(*) FROM ticket_events e JOIN campaign_hosts ch ON ch.ticket_id = e.ticket_id WHERE e.ticket_id = $want_t AND e.action = 'incident' AND e.note = 'IDS alert 4411' AND e.to_state = ch.state")" -eq 1
check "... audited with the ticket and the track" \
  test "$(sql "SELECT count(*) FROM audit_events WHERE action = 'host.compromised' AND target = 'host:old-01' AND after_json LIKE '%\"ticket\":$want_t,%' AND after_json LIKE '%\"track\":\"incident\"%'")" -eq 1
oid=$(sql "SELECT id FROM hosts WHERE hostname = 'old-01'")
check "... the patch group and managers told, with the host's page" \
  test "$(sql "SELECT count(*) FROM notify_outbox WHERE event = 'host.compromised' AND channel = 'email' AND body LIKE '%ticket $want_t is on the incident track%' AND link = '/hosts/$oid'")" -eq 2
db_t=$(own_ticket db-01)
pw host set db-01 compromised=true >"$T/out" 2>&1
check "a host with no similar host: marked, nothing drafted" grep -q "no similar host" "$T/out"
check "... its own open ticket ($db_t) on the incident track all the same" \
  test "$(sql "SELECT track FROM tickets WHERE id = ${db_t:-0}")" = incident
optok=$(pw user token create op 2>/dev/null)
pw_srv_start D -c "$T/pw.conf" --db "$db" || bad "the server did not start"
nid=$(sql "SELECT id FROM hosts WHERE hostname = 'new-01'")
pw_http POST "http://127.0.0.1:$PW_SRV_PORT_D/api/v1/hosts/$nid/compromised" "$optok" '{"note":"EDR alert"}'
check "POST /hosts/{id}/compromised (an operator): $HTTP_STATUS" test "$HTTP_STATUS" = 200
check "... old-01 and mid-01 are new-01's similar hosts, in a new emergency campaign" \
  test "$(json 'str(j["similar_hosts"]) + ":" + str(j["campaign"] is not None)')" = 2:True
check "... and new-01's ticket on the incident track" \
  test "$(json 'str(j["ticket"])')" = "$(sql "SELECT id FROM tickets WHERE host_id = $nid AND track = 'incident'")"
nt=$(json 'str(j["ticket"])')
pw_http DELETE "http://127.0.0.1:$PW_SRV_PORT_D/api/v1/hosts/$nid/compromised" "$optok" '{"note":"EDR false positive"}'
check "DELETE /hosts/{id}/compromised: $HTTP_STATUS, one ticket cleared" \
  test "$HTTP_STATUS:$(json 'str(j["incident_tickets_cleared"])')" = 200:1
check "... new-01 unmarked, its ticket $nt back on the regular track" \
  test "$(sql "SELECT (SELECT count(*) FROM hosts WHERE id = $nid AND compromised IS NULL) || ':' || (SELECT track FROM tickets WHERE id = $nt)")" = 1:regular
pw_http DELETE "http://127.0.0.1:$PW_SRV_PORT_D/api/v1/hosts/$nid/compromised" "$optok"
check "... a second clearing is a 409" test "$HTTP_STATUS" = 409
pw_srv_stop D || bad "the server did not stop cleanly"
pw host set old-01 location=lab --note x >"$T/out" 2>&1
check "--note with other fields is refused" grep -q "note goes with compromised=" "$T/out"

# ---- clearing the mark: the ticket leaves the incident track, recorded -------
pw host set old-01 compromised=false --note "reimaged from gold image" >"$T/out" 2>&1
check "host set old-01 compromised=false: $(cat "$T/out")" grep -q "1 tickets back on the regular track" "$T/out"
check "... the mark cleared, the ticket back on the regular track" \
  test "$(sql "SELECT (SELECT count(*) FROM hosts WHERE hostname = 'old-01' AND compromised IS NULL) || ':' || (SELECT track FROM tickets WHERE id = $want_t)")" = 1:regular
check "... its history keeps both (incident, incident.cleared)" \
  test "$(sql "SELECT group_concat(action, ',') FROM (SELECT action FROM ticket_events WHERE ticket_id = $want_t AND action LIKE 'incident%' ORDER BY id)")" = incident,incident.cleared
check "... audited with the note, told to the patch group and managers" \
  test "$(sql "SELECT (SELECT count(*) FROM audit_events WHERE action = 'host.compromised_cleared' AND target = 'host:old-01' AND after_json LIKE '%reimaged%') || ':' || (SELECT count(*) FROM notify_outbox WHERE event = 'host.compromised_cleared' AND channel = 'email' AND link = '/hosts/$oid')")" = 1:2
pw host set old-01 compromised=false >"$T/out" 2>&1
check "clearing a host not marked is refused" grep -q "not marked compromised" "$T/out"

# ---- the advisory digest per owner group -------------------------------------
pw host set old-01 owner_group=infra >/dev/null
pw host set mid-01 owner_group=infra >/dev/null
pw host set db-01 owner_group=dba >/dev/null
pw user add infra --role helpdesk --no-password >/dev/null 2>&1
pw user email infra infra@example.org >/dev/null
pw policy digest --since 2000-01-01 --dry-run --json >"$T/g0.json"
want_infra=$(sql "SELECT count(DISTINCT f.advisory) FROM findings f JOIN hosts h ON h.id = f.host_id WHERE h.owner_group = 'infra' AND f.fixed_at IS NULL")
want_dba=$(sql "SELECT count(DISTINCT f.advisory) FROM findings f JOIN hosts h ON h.id = f.host_id WHERE h.owner_group = 'dba' AND f.fixed_at IS NULL")
check "digest: dba and infra, with their advisories ($want_dba, $want_infra by sqlite3)" \
  test "$(jq -r '[.groups[] | "\(.owner_group):\(.advisories | length)"] | join(",")' "$T/g0.json")" = "dba:$want_dba,infra:$want_infra"
check "... each infra advisory on 2 hosts, handled by a live campaign (old-01's and mid-01's drafts)" \
  test "$(jq '[.groups[] | select(.owner_group == "infra") | .advisories[] | select(.hosts != 2 or .campaign == null)] | length' "$T/g0.json")" -eq 0
check "a dry digest sends nothing" test "$(sql "SELECT count(*) FROM notify_outbox WHERE event = 'policy.digest'")" -eq 0
pw policy digest --since 2000-01-01 >"$T/g1.txt"
check "the digest mails the group's user and its hosts' app owner" \
  test "$(sql "SELECT group_concat(recipient, ',') FROM (SELECT recipient FROM notify_outbox WHERE event = 'policy.digest' AND channel = 'email' ORDER BY recipient)")" = erp@example.org,infra@example.org
check "... the text names a campaign per advisory" grep -q "campaign [0-9]" "$T/g1.txt"
check "each group's digest links to its hosts in the console" \
  test "$(sql "SELECT group_concat(link, ' ') FROM (SELECT DISTINCT link FROM notify_outbox WHERE event = 'policy.digest' ORDER BY link)")" = "/hosts?owner=dba /hosts?owner=infra"
pw policy digest --json >"$T/g2.json"
check "the next digest (since the last) has nothing new and sends nothing" \
  test "$(jq '.groups | length' "$T/g2.json"):$(sql "SELECT count(*) FROM notify_outbox WHERE event = 'policy.digest' AND channel = 'email'")" = 0:2
printf '[policy]\ndigest = weekly\n' >"$T/w.conf"
PATCHWARDEN_TEST_NOW=$(($(date +%s) + 3 * 86400)) pw policy run -c "$T/w.conf" >/dev/null
check "weekly: the daily run 3 days on sends no digest" test "$(sql "SELECT count(*) FROM policy_runs WHERE kind = 'digest'")" -eq 2
PATCHWARDEN_TEST_NOW=$(($(date +%s) + 8 * 86400)) pw policy run -c "$T/w.conf" >/dev/null
check "... 8 days on it does" test "$(sql "SELECT count(*) FROM policy_runs WHERE kind = 'digest'")" -eq 3
printf '[policy]\ndigest = hourly\n' >"$T/w.conf"
pw policy digest -c "$T/w.conf" >"$T/out" 2>&1
check "digest = hourly is refused" grep -q "use off, daily or weekly" "$T/out"
pw audit verify >/dev/null 2>&1
check "the audit log verifies after the runs, the incident and the digests" test $? -eq 0
test_done
