#!/usr/bin/env bash
# The server SIGKILLed in every state the patch driver takes a campaign's
# host through (issue 13), with real agents on the apt repository of the
# executor tests: h1 (wave 1, pwt-vuln) and h2 (wave 2, pwt-failpost,
# whose postinst fails), soak 8 s. The server is killed as soon as the
# database shows, in turn: h1 scheduled in the started campaign; h1's
# pre-scan job queued and unfinished; h1 patching; h1 post-scan; h1
# verified while wave 2 soaks; the campaign halted by h2's failed patch.
# Each time it is restarted on the same port and the agents go on. At the
# end the campaign is done (h1 verified, h2 skipped by the operator) and
# nothing was done twice or lost: one job of each kind per step and host
# (jobs counted with sqlite3/psql), each job recorded once on its campaign
# host, each driver step once on its ticket and in the audit log, every
# queued job on the ticket, and the audit chain verifies. On SQLite, and on
# PostgreSQL with a second node that takes over the driving while the
# first is dead. Then h1's agent stops, and campaigns for its pwt-dep
# (backup confirmed) and pwt-rm (a backup check) start: with the server's
# clock past the deadline of the jobs queued outside the windows
# (campaigns.h: PW_CAMPAIGN_JOB_DEADLINE) the pre-scan fails and halts the
# first, the backup check fails without a halt (the host waits for its
# proof); an hour on (PW_CAMPAIGN_BACKUP_RETRY) the backup check is queued
# again and, the agent back, passes.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/aptfindings.sh"
. "$here/lib/pg.sh"
. "$here/lib/campaignagents.sh"
aptf_require sqlite3 psql

cleanup() {
  touch "$T/stop"
  [ -n "${APTREPO_PID:-}" ] && kill "$APTREPO_PID" 2>/dev/null
  for p in ${LOOPS:-}; do wait "$p" 2>/dev/null; done
  pw_srv_cleanup
}
trap cleanup EXIT
T=$PW_SRV_TMP

check "packages built and indexed" aptf_packages "$T/repo"
check "served on loopback" aptrepo_serve "$T/repo"

run() {
  kind=$1
  db=$2
  T=$PW_SRV_TMP/$kind
  mkdir -p "$T"
  R1=$T/root1
  R2=$T/root2
  check "$kind: h1: bookworm root with vulnerable pwt-vuln, pwt-dep, pwt-rm" \
    aptrepo_root "$R1" pwt-vuln=1.0-1 pwt-dep=1.0-1 pwt-rm=1.0-1
  check "$kind: h2: bookworm root with pwt-failpost" aptrepo_root "$R2" pwt-failpost=1.0-1
  echo kill-h1 >"$R1/etc/hostname"
  echo kill-h2 >"$R2/etc/hostname"
  feeds=$T/feeds.db
  aptf_feed "$T/DSA.list"
  printf '[07 Dec 2026] DSA-9907-1 pwt-failpost - security update\n' >>"$T/DSA.list"
  printf '\t{CVE-2099-10007}\n\t[bookworm] - pwt-failpost 1.0-2\n' >>"$T/DSA.list"
  printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\n' >"$T/srv.conf"
  printf '[jobs]\ndeadline_interval = 1\n' >>"$T/srv.conf"
  printf '[feeds]\nstore = %s\nrecompute_interval = 1\n' "$feeds" >>"$T/srv.conf"
  "$PW_BIN" feed import --store "$feeds" "$T/DSA.list" >"$T/import.out" 2>&1
  check "$kind: the feed imported" test $? -eq 0
  pw_admin_tokens "$db" 2
  pw() { "$PW_BIN" "$@" --db "$db"; }
  pw user add op --role operator --no-password >/dev/null 2>&1
  op=$(pw user token create op 2>/dev/null)
  pw_srv_start "${kind}0" -c "$T/srv.conf" --db "$db" || { pw_srv_summary; exit 1; }
  port=PW_SRV_PORT_${kind}0
  port=${!port}
  live=${kind}0
  if [ "$kind" = pg ]; then
    pw_srv_start pgB -c "$T/srv.conf" --db "$db" || { pw_srv_summary; exit 1; }
  fi
  S=http://127.0.0.1:$port
  U=$S/api/v1

  printf '[agent]\nhealth_check = command:/bin/true\n' >"$T/h1.conf"
  printf '[agent]\n' >"$T/h2.conf"
  camp_agents "$kind" 2
  H1=$(q "SELECT id FROM hosts WHERE hostname = 'kill-h1'")
  H2=$(q "SELECT id FROM hosts WHERE hostname = 'kill-h2'")
  check "$kind: h1's pwt-dep, pwt-rm, pwt-vuln and h2's pwt-failpost open within 30 s" test_wait_for 30 eval \
    '[ "$(aptf_findings "$H1" open | cut -d" " -f1 | xargs):$(aptf_findings "$H2" open | cut -d" " -f1)" = "pwt-dep pwt-rm pwt-vuln:pwt-failpost" ]'
  pw host set kill-h1 category=core criticality=1 maintenance_window=always \
    health_check=command:/bin/true >/dev/null
  pw host set kill-h2 category=core criticality=3 maintenance_window=always >/dev/null

  pw_http POST "$U/campaigns" "$op" '{"name":"kill","hosts":"category=core","upgrades":"pwt-vuln,pwt-failpost","soak_seconds":8}'
  expect_status 201 "$kind: campaign created"
  C=$(json 'j["id"]')
  for h in kill-h1 kill-h2; do
    pw campaign confirm-backup "$C" --host "$h" --as op --note "snapshot restored" >/dev/null
  done

  hstate() { q "SELECT state FROM campaign_hosts WHERE campaign_id = $C AND host_id = $1"; }
  cstate() { q "SELECT state FROM campaigns WHERE id = $C"; }
  unfinished() { # HOST PURPOSE: its job queued or leased
    [ "$(q "SELECT count(*) FROM campaign_jobs c JOIN jobs j ON j.id = c.job_id
      WHERE c.campaign_id = $C AND c.host_id = $1 AND c.purpose = '$2'
      AND j.state IN ('queued', 'leased')")" = 1 ]
  }
  # kill WHAT: SIGKILL the node the agents use (on PostgreSQL the other
  # node drives meanwhile), note the state it died in, restart it.
  kill_in() {
    local pid=${PW_SRV_PID[$live]} next
    disown "$pid"
    kill -KILL "$pid"
    unset "PW_SRV_PID[$live]"
    check "$kind: $1: the server SIGKILLed" test_wait_for 10 eval '! kill -0 "$pid" 2>/dev/null'
    echo "$1: h1 $(hstate "$H1"), h2 $(hstate "$H2"), campaign $(cstate)" >>"$T/kills"
    sleep 1
    next=${kind}$((${live#"$kind"} + 1))
    PW_SRV_LISTEN=127.0.0.1:$port pw_srv_start "$next" -c "$T/srv.conf" --db "$db" ||
      { pw_srv_summary; exit 1; }
    live=$next
  }

  pw campaign start "$C" --as op >/dev/null
  kill_in scheduled
  check "$kind: h1 was scheduled when killed" grep -q "^scheduled: h1 scheduled" "$T/kills"
  check "$kind: h1's pre-scan queued, killed before it finished (within 60 s)" \
    test_wait_for 60 unfinished "$H1" pre-scan
  kill_in pre-scan
  check "$kind: h1 patching, killed (within 60 s)" \
    test_wait_for 60 eval '[ "$(hstate "$H1")" = patching ]'
  kill_in patching
  check "$kind: h1 in its post-scan, killed (within 60 s)" \
    test_wait_for 60 eval '[ "$(hstate "$H1")" = post_scan ]'
  kill_in post-scan
  check "$kind: h1 verified, wave 2 soaking, killed (within 60 s)" \
    test_wait_for 60 eval '[ "$(hstate "$H1")" = verified ] && ! unfinished "$H2" pre-scan &&
      [ "$(q "SELECT count(*) FROM campaign_jobs WHERE campaign_id = $C AND host_id = $H2 AND purpose = '"'pre-scan'"'")" = 0 ]'
  kill_in soak
  check "$kind: h2's failed postinst halts the campaign, killed (within 90 s)" \
    test_wait_for 90 eval '[ "$(cstate)" = halted ]'
  kill_in halted
  sed "s/^/$kind: killed in /" "$T/kills"
  check "$kind: every kill in its state" test \
    "$(cut -d: -f1 "$T/kills" | xargs)" = "scheduled pre-scan patching post-scan soak halted"
  sleep 3
  check "$kind: restarted halted, nothing queued again" \
    test "$(cstate):$(q "SELECT count(*) FROM jobs WHERE host_id = $H2 AND kind = 'patch'")" = halted:1
  pw campaign skip "$C" --host kill-h2 --as op --reason "pwt-failpost 1.0-2 broken upstream" >/dev/null
  check "$kind: the operator skips h2: the campaign done" \
    test "$(hstate "$H1"):$(hstate "$H2"):$(cstate)" = verified:skipped:done
  v=$(aptf_installed "$R1" pwt-vuln)
  check "$kind: dpkg-query: h1's pwt-vuln $v, at the fix" dpkg --compare-versions "$v" ge 1.0-2

  # Nothing done twice, nothing lost.
  count() { q "SELECT count(*) FROM jobs WHERE host_id = $1 AND kind = '$2'"; }
  check "$kind: h1: one simulate, two inventories (pre, post), one patch, one health" test \
    "$(count "$H1" simulate) $(count "$H1" inventory) $(count "$H1" patch) $(count "$H1" health)" = "1 2 1 1"
  check "$kind: h2: one simulate, one inventory (pre), one patch" test \
    "$(count "$H2" simulate) $(count "$H2" inventory) $(count "$H2" patch) $(count "$H2" health)" = "1 1 1 0"
  check "$kind: each job recorded once on its campaign host, none twice per step" test \
    "$(q "SELECT count(*), count(DISTINCT job_id) FROM campaign_jobs WHERE campaign_id = $C" | tr '|' ' ')" \
    = "8 8"
  check "$kind: no (host, purpose, round) queued twice" test \
    "$(q "SELECT count(*) FROM (SELECT host_id FROM campaign_jobs WHERE campaign_id = $C GROUP BY host_id, purpose, round HAVING count(*) > 1) d")" = 0
  check "$kind: every driver step once on its ticket" test \
    "$(q "SELECT count(*) FROM (SELECT e.ticket_id FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id WHERE t.campaign_id = $C AND e.action <> 'job-queued' GROUP BY e.ticket_id, e.action HAVING count(*) > 1) d")" = 0
  check "$kind: every queued job on its ticket, once" test \
    "$(q "SELECT count(*) FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id WHERE t.campaign_id = $C AND e.action = 'job-queued'")" = 8
  steps() {
    q "SELECT action, count(*) FROM audit_events WHERE target = 'campaign:$C' AND action IN
      ('campaign.pre-scan-done', 'campaign.patch-done', 'campaign.post-scan-clean',
       'campaign.patch-failed', 'campaign.scan-diff', 'campaign.halt', 'campaign.job-queued',
       'campaign.simulate', 'campaign.skip') GROUP BY action ORDER BY action" | tr '|\n' '= '
  }
  check "$kind: the audit log has each step once: $(steps)" test "$(steps)" = \
    "campaign.halt=1 campaign.job-queued=8 campaign.patch-done=1 campaign.patch-failed=1 campaign.post-scan-clean=1 campaign.pre-scan-done=2 campaign.scan-diff=1 campaign.simulate=2 campaign.skip=1 "

  # A host that does not come back: h1's agent stops. Campaign C2 (pwt-dep,
  # backup confirmed) waits for its pre-scan, C3 (pwt-rm) for its backup
  # check. The server's clock then moves past the jobs' deadline, and past
  # the backup check's retry.
  touch "$T/stop.h1"
  sleep 3
  cj() { # CAMPAIGN PURPOSE COLUMNS: of the newest job of that purpose
    q "SELECT $3 FROM campaign_jobs c JOIN jobs j ON j.id = c.job_id WHERE c.campaign_id = $1 AND c.purpose = '$2' ORDER BY c.id DESC LIMIT 1"
  }
  pw_http POST "$U/campaigns" "$op" '{"name":"gone","hosts":"category=core","upgrades":"pwt-dep"}'
  expect_status 201 "$kind: a campaign for h1's pwt-dep"
  C2=$(json 'j["id"]')
  pw campaign confirm-backup "$C2" --host kill-h1 --as op --note "snapshot restored" >/dev/null
  pw campaign start "$C2" --as op >/dev/null
  check "$kind: its pre-scan queued with a deadline (within 30 s)" \
    test_wait_for 30 eval '[ -n "$(cj "$C2" pre-scan j.not_after)" ]'
  check "$kind: ... 4 hours after it was queued" \
    test $(($(date -u -d "$(cj "$C2" pre-scan j.not_after)" +%s) - $(date -u -d "$(cj "$C2" pre-scan c.queued)" +%s))) -eq 14400
  pw host set kill-h1 backup_check=command:/bin/true >/dev/null
  pw_http POST "$U/campaigns" "$op" '{"name":"backup","hosts":"category=core","upgrades":"pwt-rm"}'
  expect_status 201 "$kind: a campaign for h1's pwt-rm"
  C3=$(json 'j["id"]')
  pw campaign start "$C3" --as op >/dev/null
  check "$kind: its backup check queued with a deadline (within 30 s)" \
    test_wait_for 30 eval '[ -n "$(cj "$C3" backup j.not_after)" ]'
  clock() { # SECONDS: restart the node the agents use with its clock that far on
    for n in "${!PW_SRV_PID[@]}"; do pw_srv_stop "$n" || bad "$kind: $n did not stop cleanly"; done
    PATCHWARDEN_TEST_NOW=$(($(date +%s) + $1)) PW_SRV_LISTEN=127.0.0.1:$port \
      pw_srv_start "${kind}T$1" -c "$T/srv.conf" --db "$db" || { pw_srv_summary; exit 1; }
  }
  clock $((14400 + 120))
  check "$kind: past its deadline, h1's pre-scan fails and halts campaign $C2 (within 30 s)" \
    test_wait_for 30 eval '[ "$(q "SELECT state FROM campaigns WHERE id = $C2")" = halted ]'
  t2=$(q "SELECT ticket_id FROM campaign_hosts WHERE campaign_id = $C2")
  pw ticket show "$t2" --json >"$T/ticket.gone.json"
  check "$kind: ... the ticket says why: the agent did not take the job before its deadline" jq -e \
    '[.events[] | select(.action == "halt")][0].note | test("pre-scan job [0-9]+ failed: the host.s agent did not take \\(or finish\\) the job before its deadline")' \
    "$T/ticket.gone.json" >/dev/null
  check "$kind: the backup check failed too: campaign $C3 not halted, h1 waits for its proof" \
    test_wait_for 30 eval '[ "$(cj "$C3" backup j.state)" = failed ] &&
      [ "$(q "SELECT state FROM campaigns WHERE id = $C3"):$(q "SELECT state FROM campaign_hosts WHERE campaign_id = $C3")" = running:awaiting_backup ]'
  # The agent back; h1's window closed at the clocks used here, so the
  # campaign stops at its window once the backup is proven.
  pw host set kill-h1 "maintenance_window=daily $(date -u -d "@$(($(date +%s) + 36000))" +%H):00-$(date -u -d "@$(($(date +%s) + 36000))" +%H):01" >/dev/null
  printf '[agent]\nhealth_check = command:/bin/true\nbackup_check = command:/bin/true\n' >"$T/h1.conf"
  rm -f "$T/stop.h1"
  camp_agent_loop h1 "$R1" &
  LOOPS="$LOOPS $!"
  sleep 3
  check "$kind: within the hour, no backup check again" \
    test "$(q "SELECT count(*) FROM campaign_jobs WHERE campaign_id = $C3 AND purpose = 'backup'")" = 1
  clock $((14400 + 3600 + 240))
  check "$kind: an hour later the backup check runs again and passes: h1 scheduled (within 60 s)" \
    test_wait_for 60 eval '[ "$(q "SELECT state FROM campaign_hosts WHERE campaign_id = $C3")" = scheduled ]'
  check "$kind: ... two backup checks, the second done, no pre-scan outside the window" test \
    "$(q "SELECT count(*) FROM campaign_jobs WHERE campaign_id = $C3 AND purpose = 'backup'"):$(cj "$C3" backup j.state):$(q "SELECT count(*) FROM campaign_jobs WHERE campaign_id = $C3 AND purpose = 'pre-scan'")" \
    = 2:done:0
  camp_end "$kind"
}

camp_backends
