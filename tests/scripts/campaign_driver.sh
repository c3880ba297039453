#!/usr/bin/env bash
# The campaign driver (issue 13) end to end with a real server and real
# agents on the real apt repository of the executor tests (lib/aptrepo.sh,
# debroot.sh, aptfindings.sh), SQLite:
# * a Flow 1 campaign over two hosts in two waves (soak 5 s) runs through
#   the agents alone: simulate, backup_check (h1), pre-scan inventory,
#   patch by the selected findings, post-scan inventory, health (h2), to
#   verified with both tickets closed; each ticket's pre/post diff lists
#   as closed exactly the advisories the feed file gives the versions
#   dpkg-query found installed, with the feed's CVEs, none still open;
# * h2's patch (pwt-slow, whose postinst waits for the test) is leased
#   when the server is SIGKILLed; restarted, the campaign continues and
#   no job is queued twice (jobs counted per host and kind with sqlite3);
# * a feed snapshot imported during the campaign shows on h2's diff as
#   "new advisories since" without changing what the campaign proves;
# * a second campaign for that new advisory (pwt-failpost, whose postinst
#   fails) halts, the ticket saying why; resumed, the patch is done again
#   and halts again; the operator skips the host with a reason: the
#   campaign runs on to done, the host's findings still open;
# * a campaign for pwt-unres, whose fix depends on a package no
#   repository has: the simulate job flags h1 UNRESOLVABLE (campaign show,
#   the ticket with apt's reason) while its window is closed, before
#   anything else is queued;
# * a Flow 2 campaign for pwt-health on h1 (a test environment host: its
#   backup check, then its owner's approval), whose agent's health check
#   fails: patched, the failed health check halts the campaign; the operator
#   rolls h1 back over the API: a rollback job installs the version before
#   the patch (dpkg-query), the ticket records it, the campaign is done.
# Expectations come from the feed files, dpkg-query and
# `dpkg --compare-versions`, not from patchwarden. On SQLite, and on
# PostgreSQL with a second node driving too (one at a time: the driver's
# pw_db_try_lock).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/aptfindings.sh"
. "$here/lib/pg.sh"
. "$here/lib/campaignagents.sh"
aptf_require sqlite3 psql

cleanup() {
  touch "$T/stop"
  [ -n "${APTREPO_PID:-}" ] && kill "$APTREPO_PID" 2>/dev/null
  for r in "${R1:-}" "${R2:-}"; do [ -d "$r/run" ] && aptf_slow_go "$r"; done
  for p in ${LOOPS:-}; do wait "$p" 2>/dev/null; done
  pw_srv_cleanup
}
trap cleanup EXIT
T=$PW_SRV_TMP

check "packages built and indexed" aptf_packages "$T/repo"
# pwt-health: a plain upgrade (its health check fails in the test);
# pwt-unres: its fix depends on a package no repository has.
check "pwt-health and pwt-unres built and indexed" eval \
  'aptrepo_pkg "$T/repo" pwt-health 1.0-1 && aptrepo_pkg "$T/repo" pwt-health 1.0-2 &&
   aptrepo_pkg "$T/repo" pwt-unres 1.0-1 &&
   aptrepo_pkg "$T/repo" pwt-unres 1.0-2 "Depends: pwt-missing (>= 1.0)" &&
   aptrepo_index "$T/repo"'
check "served on loopback" aptrepo_serve "$T/repo"

# run KIND DB: the whole walk on a server database of its own; q SQL
# queries it (sqlite3, psql).
run() {
  kind=$1
  db=$2
  T=$PW_SRV_TMP/$kind
  feeds=$T/feeds.db
  mkdir -p "$T"
  R1=$T/root1
  R2=$T/root2
  check "$kind: h1: bookworm root with vulnerable pwt-vuln, pwt-dep, pwt-health, pwt-unres" \
    aptrepo_root "$R1" pwt-vuln=1.0-1 pwt-dep=1.0-1 pwt-health=1.0-1 pwt-unres=1.0-1
  check "$kind: h2: bookworm root with vulnerable pwt-vuln, pwt-slow and pwt-failpost" \
    aptrepo_root "$R2" pwt-vuln=1.0-1 pwt-slow=1.0-1 pwt-failpost=1.0-1

  echo drv-h1 >"$R1/etc/hostname"
  echo drv-h2 >"$R2/etc/hostname"

  # Feed 1: the executor tests' list and a row for pwt-slow. Feed 2, imported
  # during the campaign, adds pwt-failpost, pwt-health and pwt-unres.
  aptf_feed "$T/DSA.list"
  cat >>"$T/DSA.list" <<'EOF'
[01 Dec 2026] DSA-9906-1 pwt-slow - security update
	{CVE-2099-10006}
	[bookworm] - pwt-slow 1.0-2
EOF
  {
    printf '[07 Dec 2026] DSA-9907-1 pwt-failpost - security update\n'
    printf '\t{CVE-2099-10007}\n\t[bookworm] - pwt-failpost 1.0-2\n'
    printf '[07 Dec 2026] DSA-9908-1 pwt-health - security update\n'
    printf '\t{CVE-2099-10008}\n\t[bookworm] - pwt-health 1.0-2\n'
    printf '[07 Dec 2026] DSA-9909-1 pwt-unres - security update\n'
    printf '\t{CVE-2099-10009}\n\t[bookworm] - pwt-unres 1.0-2\n'
    cat "$T/DSA.list"
  } >"$T/DSA2.list"
  printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\n' >"$T/srv.conf"
  printf '[jobs]\ndeadline_interval = 1\n' >>"$T/srv.conf"
  printf '[feeds]\nstore = %s\nrecompute_interval = 1\n' "$feeds" >>"$T/srv.conf"
  "$PW_BIN" feed import --store "$feeds" "$T/DSA.list" >"$T/import.out" 2>&1
  check "$kind: feed 1 imported" test $? -eq 0
  pw_admin_tokens "$db" 2
  "$PW_BIN" user add op --role operator --no-password --db "$db" >/dev/null 2>&1
  op=$("$PW_BIN" user token create op --db "$db" 2>/dev/null)
  pw_srv_start "${kind}A" -c "$T/srv.conf" --db "$db" || { pw_srv_summary; exit 1; }
  port=PW_SRV_PORT_${kind}A
  port=${!port}
  # A second node on the same database drives too (PostgreSQL): one at a time.
  if [ "$kind" = pg ]; then
    pw_srv_start pgC -c "$T/srv.conf" --db "$db" || { pw_srv_summary; exit 1; }
  fi
  S=http://127.0.0.1:$port
  U=$S/api/v1
  pw() { "$PW_BIN" "$@" --db "$db"; }


  # Each agent checks in every second in the background, as its timer would;
  # the agents' own configuration has the checks they run (h1 a backup
  # check, h2 a health check: the repository's HTTP server).
  printf '[agent]\nbackup_check = command:/bin/true\n' >"$T/h1.conf"
  printf '[agent]\nhealth_check = %sPackages\n' "$APTREPO_URL" >"$T/h2.conf"
  camp_agents "$kind" 2
  pw_http GET "$U/hosts" "$admin"
  check "$kind: both hosts listed" test "$(json 'len(j["hosts"])')" = 2

  hostid() { q "SELECT id FROM hosts ORDER BY id LIMIT 1 OFFSET $(($1 - 1))"; }
  H1=$(hostid 1)
  H2=$(hostid 2)
  N1=$(q "SELECT hostname FROM hosts WHERE id = $H1")
  N2=$(q "SELECT hostname FROM hosts WHERE id = $H2")
  root_of() { [ "$1" = "$H1" ] && echo "$R1" || echo "$R2"; }
  for h in "$H1" "$H2"; do
    exp=$(aptf_expected "$(root_of "$h")" "$T/DSA.list")
    check "$kind: host $h: the open findings are the feed file's $(echo $exp) within 30 s" \
      test_wait_for 30 aptf_open_is "$h" "$exp"
    echo "$exp" >"$T/expected.$h"
  done
  pw host set "$N1" category=core criticality=1 maintenance_window=always \
    "backup_check=command:/bin/true" >/dev/null
  pw host set "$N2" category=core criticality=3 maintenance_window=always \
    "health_check=command:/bin/true" >/dev/null

  # ---- Flow 1 over two waves --------------------------------------------------
  pw_http POST "$U/campaigns" "$op" '{"name":"core","hosts":"category=core","soak_seconds":5}'
  expect_status 201 "$kind: campaign created by the operator"
  C=$(json 'j["id"]')
  check "$kind: h1 is wave 1, h2 wave 2" test \
    "$(json '" ".join(str(h["wave"]) + h["hostname"] for h in j["host_list"])')" = "1$N1 2$N2"
  pw campaign confirm-backup "$C" --host "$N2" --as op --note "snapshot 77 restored" >/dev/null
  check "$kind: h2's backup confirmed by the operator" \
    test "$(q "SELECT state FROM campaign_hosts WHERE host_id = $H2")" = scheduled
  sleep 2
  check "$kind: nothing is queued before the campaign starts" \
    test "$(q "SELECT count(*) FROM campaign_jobs")" = 0
  pw campaign start "$C" --as op >/dev/null
  check "$kind: started" test "$(q "SELECT state FROM campaigns WHERE id = $C")" = running

  hstate() { q "SELECT state FROM campaign_hosts WHERE campaign_id = $1 AND host_id = $2"; }
  check "$kind: h1 verified through its own backup check, scans and patch within 90 s" \
    test_wait_for 90 eval '[ "$(hstate "$C" "$H1")" = verified ]'
  h1_done=$(date +%s)
  aptf_slow_reset "$R2"
  "$PW_BIN" feed import --store "$feeds" "$T/DSA2.list" >"$T/import2.out" 2>&1
  check "$kind: feed 2 (pwt-failpost) imported during the campaign" test $? -eq 0

  # h2's patch runs pwt-slow's postinst, which waits: the server is killed.
  check "$kind: h2's patch job leased, its postinst running, within 90 s" \
    test_wait_for 90 test -e "$R2/run/pwt-slow.started"
  pre2=$(q "SELECT min(queued) FROM campaign_jobs WHERE host_id = $H2 AND purpose = 'pre-scan'")
  check "$kind: h2's pre-scan came after the soak ($pre2)" \
    test "$(date -u -d "$pre2" +%s)" -ge $((h1_done + 4))
  check "$kind: the patch job is leased" test \
    "$(q "SELECT j.state FROM campaign_jobs c JOIN jobs j ON j.id = c.job_id WHERE c.host_id = $H2 AND c.purpose = 'patch'")" = leased
  srv=${PW_SRV_PID[${kind}A]}
  disown "$srv"
  kill -KILL "$srv"
  unset "PW_SRV_PID[${kind}A]"
  check "$kind: the server SIGKILLed" test_wait_for 10 eval '! kill -0 "$srv" 2>/dev/null'
  sleep 2
  PW_SRV_LISTEN=127.0.0.1:$port pw_srv_start "${kind}B" -c "$T/srv.conf" --db "$db" ||
    { pw_srv_summary; exit 1; }
  aptf_slow_go "$R2"
  check "$kind: after the restart, h2 verified within 90 s" \
    test_wait_for 90 eval '[ "$(hstate "$C" "$H2")" = verified ]'
  check "$kind: the campaign is done" test "$(q "SELECT state FROM campaigns WHERE id = $C")" = done
  check "$kind: both tickets closed" test \
    "$(q "SELECT count(*) FROM tickets WHERE campaign_id = $C AND state = 'closed'")" = 2

  count() { q "SELECT count(*) FROM jobs WHERE host_id = $1 AND kind = '$2'"; }
  check "$kind: h1: one job of each kind: simulate backup_check patch, two inventories (pre, post)" test \
    "$(count "$H1" simulate) $(count "$H1" backup_check) $(count "$H1" patch) $(count "$H1" inventory) $(count "$H1" health)" \
    = "1 1 1 2 0"
  check "$kind: h2: one simulate, patch, health, two inventories: nothing queued twice" test \
    "$(count "$H2" simulate) $(count "$H2" backup_check) $(count "$H2" patch) $(count "$H2" inventory) $(count "$H2" health)" \
    = "1 0 1 2 1"
  check "$kind: every job recorded on its campaign host" \
    test "$(q "SELECT count(*) FROM campaign_jobs WHERE campaign_id = $C")" = 10

  for h in "$H1" "$H2"; do
    root=$(root_of "$h")
    exp=$(cat "$T/expected.$h")
    while read -r pkg adv fixed; do
      v=$(aptf_installed "$root" "$pkg")
      check "$kind: host $h: dpkg-query: $pkg $v, at least $fixed" dpkg --compare-versions "$v" ge "$fixed"
    done <<<"$exp"
    t=$(q "SELECT ticket_id FROM campaign_hosts WHERE campaign_id = $C AND host_id = $h")
    pw ticket show "$t" --json >"$T/ticket.$h.json"
    diff=$(jq -c '[.events[] | select(.action == "scan-diff")][-1].detail' "$T/ticket.$h.json")
    check "$kind: host $h: the diff closes the feed's advisories: $(echo $exp)" test \
      "$(jq -r '.closed[] | "\(.package) \(.advisory) \(.fixed)"' <<<"$diff" | sort)" = "$exp"
    check "$kind: host $h: ... with the feed's CVEs" test \
      "$(jq -r '[.closed[].cves[]] | sort | join(" ")' <<<"$diff")" = "$(aptf_cves "$T/DSA.list" "$exp")"
    check "$kind: host $h: none still open, none new, against the pinned snapshot" test \
      "$(jq -c '[(.still_open | length), (.new | length), .vulnerable, .snapshot]' <<<"$diff")" \
      = "[0,0,false,$(q "SELECT snapshot FROM campaigns WHERE id = $C")]"
    check "$kind: host $h: the pre-scan on the ticket before the patch" test \
      "$(jq -r '[.events[].action | select(. == "pre-scan" or . == "patch-done" or . == "scan-diff" or . == "post-scan-clean")] | join(" ")' "$T/ticket.$h.json")" \
      = "pre-scan patch-done scan-diff post-scan-clean"
  done
  check "$kind: h2: the newer snapshot's pwt-failpost shows as new advisories since" test \
    "$(jq -r '[.events[] | select(.action == "scan-diff")][-1].detail.new_advisories_since | map(.advisory) | join(" ")' "$T/ticket.$H2.json")" \
    = DSA-9907-1
  pw campaign show "$C" --json >"$T/show.json"
  check "$kind: campaign show: the simulation of each host, resolvable, the selected upgrades" test \
    "$(jq -c '[.host_list[].simulate | [.unresolvable, (.packages | length > 0)]]' "$T/show.json")" \
    = '[[false,true],[false,true]]'
  pw campaign show "$C" >"$T/show.txt"
  check "$kind: campaign show: simulate: resolves, on both hosts' lines" \
    test "$(grep -c "simulate: resolves$" "$T/show.txt")" = 2

  # ---- a halted wave: pwt-failpost's postinst fails ----------------------------
  check "$kind: h2: pwt-failpost open after feed 2" \
    test_wait_for 30 eval '[ "$(aptf_findings "$H2" open | awk "{print \$1}")" = pwt-failpost ]'
  pw_http POST "$U/campaigns" "$op" '{"name":"failpost","hosts":"category=core","upgrades":"pwt-failpost"}'
  expect_status 201 "$kind: a campaign for pwt-failpost"
  C2=$(json 'j["id"]')
  pw campaign confirm-backup "$C2" --host "$N2" --as op --note "snapshot 78 restored" >/dev/null
  pw campaign start "$C2" --as op >/dev/null
  check "$kind: the failed postinst halts the campaign within 90 s" \
    test_wait_for 90 eval '[ "$(q "SELECT state FROM campaigns WHERE id = $C2")" = halted ]'
  t=$(q "SELECT ticket_id FROM campaign_hosts WHERE campaign_id = $C2")
  pw ticket show "$t" --json >"$T/ticket.halt.json"
  check "$kind: the ticket says why: the patch job failed, and what to do" \
    jq -e '[.events[] | select(.action == "halt")][0].note | test("halted: patch job [0-9]+ failed.*campaign resume")' \
    "$T/ticket.halt.json" >/dev/null
  check "$kind: the host stays patching, its ticket open" \
    test "$(hstate "$C2" "$H2"):$(jq -r .state "$T/ticket.halt.json")" = patching:open
  sleep 3
  check "$kind: halted: nothing more is queued" \
    test "$(count "$H2" patch)" = 2
  check "$kind: dpkg-query: pwt-failpost is not at the fix" \
    test "$(chroot "$R2" dpkg-query -W -f='${db:Status-Abbrev}' pwt-failpost)" != "ii "
  pw campaign resume "$C2" --as op >/dev/null
  check "$kind: resumed: the patch is done again (it fails again, halting again) within 60 s" \
    test_wait_for 60 eval '[ "$(count "$H2" patch)" = 3 ] &&
      [ "$(q "SELECT state FROM campaigns WHERE id = $C2")" = halted ]'
  pw_http POST "$U/campaigns/$C2/skip" "$op" "{\"host\":\"$N2\"}"
  expect_status 400 "$kind: skip without a reason"
  pw_http POST "$U/campaigns/$C2/skip" "$op" "{\"host\":\"$N2\",\"reason\":\"pwt-failpost 1.0-2 is broken upstream: bug 4411\"}"
  expect_status 200 "$kind: the operator skips h2 (API)"
  check "$kind: skipped, its ticket closed, the campaign done (nothing else to run)" test \
    "$(hstate "$C2" "$H2"):$(q "SELECT state FROM tickets WHERE id = $t"):$(q "SELECT state FROM campaigns WHERE id = $C2")" \
    = skipped:closed:done
  sleep 2
  check "$kind: skipped: no patch queued again" test "$(count "$H2" patch)" = 3

  # ---- an unresolvable upgrade, flagged before the window ---------------------
  check "$kind: h1: pwt-health and pwt-unres open after feed 2" \
    test_wait_for 30 eval '[ "$(aptf_findings "$H1" open | awk "{print \$1}" | sort | xargs)" = "pwt-health pwt-unres" ]'
  closed=$(date -u -d '+12 hours' +%H):00
  pw host set "$N1" "maintenance_window=daily $closed-$(date -u -d '+12 hours' +%H):30" >/dev/null
  pw_http POST "$U/campaigns" "$op" '{"name":"unres","hosts":"category=core","upgrades":"pwt-unres"}'
  expect_status 201 "$kind: a campaign for pwt-unres"
  C3=$(json 'j["id"]')
  pw campaign start "$C3" --as op >/dev/null
  sim() { pw campaign show "$C3" --json | jq -r '.host_list[0].simulate.unresolvable'; }
  check "$kind: the simulate job flags h1 unresolvable within 60 s" \
    test_wait_for 60 eval '[ "$(sim)" = true ]'
  pw campaign show "$C3" >"$T/show3.txt"
  check "$kind: campaign show: simulate: UNRESOLVABLE on h1's line" grep -q "$N1 .*simulate: UNRESOLVABLE$" "$T/show3.txt"
  t3=$(q "SELECT ticket_id FROM campaign_hosts WHERE campaign_id = $C3")
  pw ticket show "$t3" --json >"$T/ticket.unres.json"
  check "$kind: the ticket says why: apt cannot install pwt-missing" jq -e \
    '[.events[] | select(.action == "simulate")][0].note | test("pwt-missing")' "$T/ticket.unres.json" >/dev/null
  sleep 2
  check "$kind: outside h1's window nothing but the simulate and the backup check was queued" test \
    "$(q "SELECT purpose FROM campaign_jobs WHERE campaign_id = $C3 ORDER BY purpose" | xargs)" = "backup simulate"
  check "$kind: dpkg-query: pwt-unres still 1.0-1" test "$(aptf_installed "$R1" pwt-unres)" = 1.0-1
  pw campaign cancel "$C3" --as op >/dev/null

  # ---- Flow 2: a failed health check halts; the operator rolls the host back ---
  # h1 as a test environment host of application "shop" in a Flow 2 campaign:
  # its backup check, then its owner's approval schedules it.
  pw host set "$N1" maintenance_window=always health_check=command:/bin/true environment=test \
    app_owner=shop >/dev/null
  printf '[agent]\nbackup_check = command:/bin/true\nhealth_check = command:/bin/false\n' >"$T/h1.conf"
  pw user add own --role app-owner --no-password >/dev/null 2>&1
  own=$(pw user token create own 2>/dev/null)
  pw_http POST "$U/campaigns" "$op" '{"name":"health","hosts":"category=core","upgrades":"pwt-health","soak_seconds":0,"flow":2}'
  expect_status 201 "$kind: a Flow 2 campaign for pwt-health"
  C4=$(json 'j["id"]')
  pw campaign start "$C4" --as op >/dev/null
  check "$kind: h1's backup check passes: it waits for its owner (within 60 s)" \
    test_wait_for 60 eval '[ "$(hstate "$C4" "$H1")" = awaiting_approval ]'
  pw_http POST "$U/campaigns/$C4/approve" "$own" "{\"host\":\"$N1\",\"note\":\"test host: go ahead\"}"
  expect_status 200 "$kind: the owner approves: the test host is scheduled"
  check "$kind: h1's failed health check halts the campaign within 90 s" \
    test_wait_for 90 eval '[ "$(q "SELECT state FROM campaigns WHERE id = $C4")" = halted ]'
  t4=$(q "SELECT ticket_id FROM campaign_hosts WHERE campaign_id = $C4")
  pw ticket show "$t4" --json >"$T/ticket.health.json"
  check "$kind: the ticket: backup check, approval, pre-scan, patch, scan diff, health failed, halt" test \
    "$(jq -r '[.events[].action | select(. != "job-queued" and . != "simulate")] | join(" ")' "$T/ticket.health.json")" \
    = "open backup-check-passed approve pre-scan pre-scan-done patch-done scan-diff health-failed halt"
  check "$kind: the ticket: patched, then the health job failed, halted, rollback offered" test \
    "$(jq -r '[.events[].action | select(. == "patch-done" or . == "health-failed" or . == "halt")] | join(" ")' "$T/ticket.health.json")" \
    = "patch-done health-failed halt"
  check "$kind: ... the halt note names 'campaign rollback'" jq -e \
    "[.events[] | select(.action == \"halt\")][0].note | test(\"health job [0-9]+ failed.*campaign rollback $C4 --host $N1\")" \
    "$T/ticket.health.json" >/dev/null
  check "$kind: ... its ticket open, waiting for the operator" \
    test "$(jq -r '.state + ":" + .next_actor' "$T/ticket.health.json")" = open:operator
  check "$kind: dpkg-query: pwt-health patched to 1.0-2" test "$(aptf_installed "$R1" pwt-health)" = 1.0-2
  pw_http POST "$U/campaigns/$C4/rollback" "$admin" "{\"host\":\"$N1\",\"note\":\"the health check fails since the patch\"}"
  expect_status 200 "$kind: rollback (API, admin)"
  check "$kind: h1 rolled back within 90 s" \
    test_wait_for 90 eval '[ "$(hstate "$C4" "$H1")" = rolled_back ]'
  check "$kind: dpkg-query: pwt-health back at 1.0-1" test "$(aptf_installed "$R1" pwt-health)" = 1.0-1
  check "$kind: one rollback job, of pwt-health to 1.0-1" test \
    "$(q "SELECT count(*) FROM jobs WHERE host_id = $H1 AND kind = 'rollback'"):$(q "SELECT args FROM jobs WHERE host_id = $H1 AND kind = 'rollback'" | jq -c '[.packages[] | [.name, .version]]')" \
    = '1:[["pwt-health","1.0-1"]]'
  pw ticket show "$t4" --json >"$T/ticket.health.json"
  check "$kind: the ticket: rollback, its job's change, done; closed" test \
    "$(jq -r '[(.events[] | select(.action | test("^rollback")) | .action + "=" + .to), .state] | join(" ")' "$T/ticket.health.json")" \
    = "rollback=rolling_back rollback-job=rolling_back rollback-done=rolled_back closed"
  check "$kind: ... the rollback job's note: pwt-health 1.0-2 -> 1.0-1" jq -e \
    '[.events[] | select(.action == "rollback-job")][0].note | test("pwt-health 1.0-2 -> 1.0-1")' "$T/ticket.health.json" >/dev/null
  check "$kind: the campaign ran on to done" test "$(q "SELECT state FROM campaigns WHERE id = $C4")" = done
  pw ticket show "$t4" >"$T/ticket.health.txt"
  pw ticket show "$t4" --format html >"$T/ticket.health.html"
  check "$kind: its ticket's page: the scan diff closes DSA-9908-1 (pwt-health)" \
    eval 'tr "\n" " " <"$T/ticket.health.html" | grep -q "<h4>closed</h4><table>.*<td>pwt-health</td><td>DSA-9908-1</td>"'
  check "$kind: ... the job logs, apt's downgrade of pwt-health among them" \
    eval 'tr "\n" " " <"$T/ticket.health.html" | grep -q "Job logs.*--allow-downgrades.*pwt-health=1.0-1"'
  camp_end "$kind"
}

camp_backends
