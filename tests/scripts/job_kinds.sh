#!/usr/bin/env bash
# The executor's job kinds queued through the real server and the CLI
# (issue 12), on SQLite and then on a real PostgreSQL 15 (lib/pg.sh): each
# kind with valid and invalid arguments, the maintenance-window refusal
# (409 naming the next start), emergency by an operator (403) and by a
# manager (201), at_window jobs leased only inside the window, "findings"
# expanded into the binaries of the source package at the fixed version,
# refusals audited, and a reboot that never reports back failed by the
# scheduler after [jobs] reboot_timeout. The server's clock for windows is
# the test hook PATCHWARDEN_TEST_NOW (window.h): Monday 2026-12-07 12:00
# UTC, then Sunday 2026-12-13 02:00, inside "Sun 01:00-04:00".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/pg.sh"
trap 'pw_srv_cleanup; pw_pg_stop' EXIT
test_require_cmd jq
S=${PW_SOURCE_DIR:?PW_SOURCE_DIR is not set; run under ctest}/share/sample
T=$PW_SRV_TMP
unset PATCHWARDEN_DB PATCHWARDEN_STORE
MONDAY=$(date -u -d 2026-12-07T12:00:00Z +%s)
SUNDAY=$(date -u -d 2026-12-13T02:00:00Z +%s)
NEXT=2026-12-13T01:00:00.000Z

# suite NAME DB-URL: everything, against one database.
suite() {
  local name=$1 db=$2 conf feeds=$T/$1-feeds.db
  conf=$T/$1.conf
  cp "$(pw_srv_plain_conf)" "$conf"
  printf '[feeds]\nstore = %s\nrecompute_interval = 1\n[jobs]\nreboot_timeout = 60\n' \
    "$feeds" >>"$conf"
  "$PW_BIN" feed import --store "$feeds" "$S/feeds/debian" >/dev/null 2>&1
  check "$name: the sample Debian feeds imported" test $? -eq 0
  for u in root:admin op:operator mgr:manager aud:auditor; do
    "$PW_BIN" user add "${u%%:*}" --role "${u#*:}" --no-password --db "$db" >/dev/null 2>&1
  done
  local admin op mgr aud etok
  admin=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
  op=$("$PW_BIN" user token create op --db "$db" 2>/dev/null)
  mgr=$("$PW_BIN" user token create mgr --db "$db" 2>/dev/null)
  aud=$("$PW_BIN" user token create aud --db "$db" 2>/dev/null)
  etok=$("$PW_BIN" user enroll-token create --uses 1 --db "$db" 2>/dev/null)
  "$PW_BIN" host add web-a "maintenance_window=Sun 01:00-04:00" \
    health_check=https://web-a/health "backup_check=/usr/local/bin/restore-test --latest" \
    --db "$db" >/dev/null 2>&1
  check "$name: host web-a with a window and a health check" test $? -eq 0
  "$PW_BIN" host add web-c health_check="curl http://x" --db "$db" >"$T/out" 2>&1
  check "$name: a health check that is no URL, tcp: or command: is refused" \
    grep -q "health_check: 'curl http://x' is not" "$T/out"
  "$PW_BIN" host add web-c health_check=tcp:web-c:5432 --db "$db" >/dev/null 2>&1
  check "$name: web-c without a window, a tcp health check" test $? -eq 0

  PATCHWARDEN_TEST_NOW=$MONDAY pw_srv_start "$name" -c "$conf" --db "$db" ||
    { bad "$name: server did not start"; return; }
  local port_var=PW_SRV_PORT_$name
  local U=http://127.0.0.1:${!port_var}/api/v1

  # ---- the agent of web-a checks in the sample Debian 10 inventory ------------
  pw_http POST "$U/agents/enroll" "" \
    "{\"token\":\"$etok\",\"hostname\":\"web-a\",\"machine_id\":\"m-$name\",\"os\":{\"id\":\"debian\",\"version_id\":\"10\"}}"
  expect_status 201 "$name: web-a's agent enrolls"
  local cred host zero hash
  cred=$(json 'j["credential"]')
  host=$(json 'j["host_id"]')
  zero=$(printf '0%.0s' $(seq 64))
  jq -c --arg h "$zero" '{inventory_hash: $h, inventory: .}' "$S/inventories/debian10-web.json" \
    >"$T/checkin.json"
  pw_http POST "$U/agents/checkin" "$cred" "@$T/checkin.json"
  hash=$(sed -n 's/.*whose hash is \([0-9a-f]\{64\}\).*/\1/p' <<<"$HTTP_BODY")
  sed -i "s/$zero/$hash/" "$T/checkin.json"
  pw_http POST "$U/agents/checkin" "$cred" "@$T/checkin.json"
  expect_status 200 "$name: the inventory checked in"
  has_findings() {
    pw_http GET "$U/hosts/$host/findings?limit=1000" "$admin" &&
      [ "$(json 'len(j["findings"])')" -gt 0 ]
  }
  check "$name: web-a's findings computed within 30 s" test_wait_for 30 has_findings
  cp "$T/body" "$T/findings.json"

  q() { # TOKEN KIND ARGS-JSON
    pw_http POST "$U/hosts/$host/jobs" "$1" "{\"kind\":\"$2\",\"args\":$3}"
  }
  says() { # TEXT: the last reply's message has TEXT
    grep -qF -- "$1" <<<"$HTTP_BODY" || { echo "reply: $HTTP_BODY" >&2; return 1; }
  }
  local pkg
  pkg=$(jq -r '.packages[1].name' "$S/inventories/debian10-web.json")

  # ---- every kind, valid arguments ------------------------------------------
  q "$op" scan '{}' && expect_status 201 "$name: scan"
  q "$op" inventory '{}' && expect_status 201 "$name: inventory"
  q "$op" simulate '{"all_security":true}' && expect_status 201 "$name: simulate all_security"
  q "$op" hold "{\"packages\":[\"$pkg\"]}" && expect_status 201 "$name: hold $pkg"
  q "$op" unhold "{\"packages\":[\"$pkg\"]}" && expect_status 201 "$name: unhold $pkg"
  q "$op" health '{}' && expect_status 201 "$name: health"
  q "$op" backup_check '{}' && expect_status 201 "$name: backup_check"
  # ---- invalid ones -------------------------------------------------------------
  q "$op" patch '{}' && expect_status 400 "$name: patch without a target" && check "  says exactly one of" says "exactly one of: packages findings all_security"
  q "$op" patch '{"all_security":true,"findings":[1]}' && expect_status 400 "$name: patch with two targets"
  q "$op" hold '{"packages":["-oAPT::Get::Yes=1"]}' && expect_status 400 "$name: an option-looking name"
  q "$op" hold '{"packages":["a b; reboot"]}' && expect_status 400 "$name: blanks and a semicolon"
  q "$op" hold '{"packages":["nosuch-package"]}' && expect_status 400 "$name: a package web-a lacks" && check "  says so" says 'nosuch-package\" is not installed on host web-a'
  q "$op" rollback "{\"packages\":[{\"name\":\"$pkg\",\"version\":\"\$(id)\"}]}" && expect_status 400 "$name: a version with shell syntax"
  q "$op" simulate '{"findings":[999999]}' && expect_status 400 "$name: a finding web-a lacks" && check "  says not an open finding" says "999999 is not an open finding of host web-a"
  q "$op" reboot '{"packages":["x1"]}' && expect_status 400 "$name: reboot takes no packages"
  q "$op" simulate '{"all_security":true,"from_findings":[1]}' && expect_status 400 "$name: from_findings is the server's"
  q "$op" reinstall '{}' && expect_status 400 "$name: an unknown kind"
  q "$aud" scan '{}' && expect_status 403 "$name: an auditor queues nothing"
  q "$mgr" scan '{}' && expect_status 403 "$name: a manager queues no scan"

  # ---- the window: Monday is outside "Sun 01:00-04:00" -------------------------
  local refused0
  refused0=$("$PW_BIN" audit list --db "$db" 2>/dev/null | grep -c job.refuse)
  for k in patch rollback reboot; do
    case $k in
      patch) a='{"all_security":true}' ;;
      rollback) a="{\"packages\":[{\"name\":\"$pkg\",\"version\":\"1.1.0k-1~deb9u1\"}]}" ;;
      reboot) a='{}' ;;
    esac
    q "$op" $k "$a" && expect_status 409 "$name: $k outside the window"
    check "  names the next start $NEXT and both ways out" says "the next one starts $NEXT: queue the $k job with \\\"at_window\\\": true"
  done
  q "$op" patch '{"all_security":true,"emergency":true}' && expect_status 403 "$name: an operator's emergency"
  check "  names the role needed" says "needs the role admin manager"
  q "$mgr" patch '{"all_security":true}' && expect_status 403 "$name: a manager's patch without emergency"
  q "$mgr" patch '{"all_security":true,"emergency":true}' && expect_status 201 "$name: a manager's emergency patch"
  local urgent
  urgent=$(json 'j["job_id"]')
  check "  is emergency, no window" test "$(json '[j["emergency"], j["not_before"], j["not_after"]]')" = '[true, null, null]'
  local refused1
  refused1=$("$PW_BIN" audit list --db "$db" 2>/dev/null | grep -c job.refuse)
  check "$name: the 4 refusals by window and emergency are audited (job.refuse)" \
    test "$((refused1 - refused0))" -eq 4
  pw_http POST "$U/hosts/$((host + 1000))/jobs" "$op" '{"kind":"scan"}'
  expect_status 404 "$name: a host that does not exist"

  # ---- at_window with findings expanded -----------------------------------------
  # A finding by source package whose source has several binaries on web-a.
  local fid src fixed
  read -r fid src fixed < <(jq -r --slurpfile inv "$S/inventories/debian10-web.json" '
    [.findings[] | select(.by_source) | . as $f
     | select(([$inv[0].packages[] | select((.source // .name) == $f.package)] | length) > 1)]
    | first | "\(.id) \(.package) \(.fixed)"' "$T/findings.json")
  check "$name: a source finding with several binaries ($src $fixed, finding $fid)" test -n "$fixed"
  q "$op" patch "{\"findings\":[$fid],\"at_window\":true,\"allow_reboot\":false}"
  expect_status 201 "$name: patch findings [$fid] at_window"
  local later
  later=$(json 'j["job_id"]')
  check "  not_before is the next start" test "$(json 'j["not_before"]')" = "$NEXT"
  check "  not_after its end" test "$(json 'j["not_after"]')" = "2026-12-13T04:00:00.000Z"
  pw_http GET "$U/jobs/$later" "$op"
  want=$(jq -c --arg s "$src" --arg v "$fixed" \
    '[.packages[] | select((.source // .name) == $s) | {name, version: $v, source: $s}] | sort_by(.name)' \
    "$S/inventories/debian10-web.json")
  check "$name: the stored packages are $src's binaries at $fixed" \
    test "$(jq -c '.args.packages | sort_by(.name)' <<<"$HTTP_BODY")" = "$want"
  check "  and from_findings keeps [$fid]" test "$(jq -c '.args.from_findings' <<<"$HTTP_BODY")" = "[$fid]"

  # ---- the CLI -------------------------------------------------------------------------
  "$PW_BIN" host queue web-a patch '{"all_security":true}' --db "$db" >"$T/out" 2>&1
  check "$name: CLI: patch outside the window fails" test $? -ne 0
  check "  naming the next start" grep -qF "the next one starts $NEXT" "$T/out"
  "$PW_BIN" host queue web-a reboot '{"at_window":true}' --json --db "$db" >"$T/out" 2>&1
  check "$name: CLI: reboot at_window" test "$(jq -r .not_before "$T/out" 2>/dev/null)" = "$NEXT"
  "$PW_BIN" host queue web-a hold '{"packages":["--force-yes"]}' --db "$db" >"$T/out" 2>&1
  check "$name: CLI: an option-looking name is refused" grep -q 'argument "packages" of a hold job' "$T/out"
  "$PW_BIN" host queue web-a backup_check --db "$db" >"$T/out" 2>&1
  check "$name: CLI: backup_check queued" grep -q "queued: backup_check for host web-a" "$T/out"
  "$PW_BIN" host queue web-c reboot --db "$db" >"$T/out" 2>&1
  check "$name: CLI: a host without a window refuses a reboot" grep -q "has no maintenance window" "$T/out"
  "$PW_BIN" host queue web-c reboot '{"emergency":true}' --db "$db" >"$T/out" 2>&1
  check "$name: CLI: its emergency reboot is queued" grep -q "reboot for host web-c, emergency" "$T/out"
  "$PW_BIN" host queue web-c backup_check --db "$db" >"$T/out" 2>&1
  check "$name: CLI: web-c has no backup_check to run" grep -q "host web-c has no backup_check to run" "$T/out"
  "$PW_BIN" host queue web-c health --db "$db" >"$T/out" 2>&1
  check "$name: CLI: but a health check" grep -q "queued: health for host web-c" "$T/out"
  "$PW_BIN" host set web-c maintenance_window=ALWAYS --db "$db" >/dev/null 2>&1
  check "$name: CLI: 'always' is a window, stored as always" \
    test "$("$PW_BIN" host show web-c --json --db "$db" | jq -r .maintenance_window)" = always
  "$PW_BIN" host queue web-c reboot --db "$db" >"$T/out" 2>&1
  check "$name: CLI: then a reboot is queued any time" grep -qx "job [0-9]* queued: reboot for host web-c" "$T/out"

  # ---- leases: Monday, then Sunday inside the window ---------------------------------
  pw_http POST "$U/agents/checkin" "$cred" "{\"inventory_hash\":\"$hash\",\"max_jobs\":100}"
  expect_status 200 "$name: Monday's check-in"
  local got
  got=$(jq -c '[.jobs[].job_id]' <<<"$HTTP_BODY")
  check "$name: Monday: the emergency patch is handed out ($got)" jq -e "index($urgent) != null" <<<"$got" >/dev/null
  check "$name: Monday: not the at_window patch" jq -e "index($later) == null" <<<"$got" >/dev/null
  pw_srv_stop "$name"
  PATCHWARDEN_TEST_NOW=$SUNDAY pw_srv_start "$name" -c "$conf" --db "$db" ||
    { bad "$name: server did not restart"; return; }
  U=http://127.0.0.1:${!port_var}/api/v1
  pw_http POST "$U/agents/checkin" "$cred" "{\"inventory_hash\":\"$hash\",\"max_jobs\":100}"
  got=$(jq -c '[.jobs[] | select(.kind == "patch" or .kind == "reboot") | .job_id]' <<<"$HTTP_BODY")
  check "$name: Sunday 02:00: the at_window patch and reboot are handed out ($got)" \
    jq -e "index($later) != null and length == 2" <<<"$got" >/dev/null
  local reboot
  reboot=$(jq -r '.jobs[] | select(.kind == "reboot") | .job_id' <<<"$HTTP_BODY")
  pw_srv_stop "$name"
  # ---- the reboot never reports back: failed after reboot_timeout (60 s) -----------
  PATCHWARDEN_TEST_NOW=$((SUNDAY + 61)) pw_srv_start "$name" -c "$conf" --db "$db" ||
    { bad "$name: server did not restart"; return; }
  U=http://127.0.0.1:${!port_var}/api/v1
  reboot_failed() {
    pw_http GET "$U/jobs/$reboot" "$admin" && [ "$(json 'j["state"]')" = failed ]
  }
  check "$name: the reboot is failed by the scheduler within 30 s" test_wait_for 30 reboot_failed
  check "  with a message" says "did not report back within [jobs] reboot_timeout"
  check "  the at_window patch is still leased" test "$(pw_http GET "$U/jobs/$later" "$admin"; json 'j["state"]')" = leased
  "$PW_BIN" audit list --db "$db" >"$T/out" 2>&1
  check "$name: job.fail audited" grep -q "job.fail" "$T/out"
  pw_srv_stop "$name"
}

suite sqlite "sqlite:$T/server.db"
if pw_pg_start; then
  echo "PostgreSQL 15 up on 127.0.0.1:$PW_PG_PORT in ${PW_PG_START_MS} ms"
  suite pg "$PW_TEST_PG_URL"
else
  bad "PostgreSQL did not start"
fi
test_done
