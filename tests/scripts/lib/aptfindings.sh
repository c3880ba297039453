# Vulnerable -> simulate -> patch -> re-inventory -> findings fixed, for the
# apt end-to-end scripts (apt_patch_closes_findings.sh, apt_fleet_netns.sh);
# it sources lib/server.sh, lib/agent.sh, lib/debroot.sh and lib/aptrepo.sh,
# and skips the script (aptf_require) without root or the tools. The caller
# defines
#   ag NAME ARGS...    runs the agent NAME (pw_agent with its --root, and
#                      wherever it runs: a network namespace)
# and sets U (the API URL) and admin (an admin token).
#
#   aptf_packages DIR           the executor tests' packages, and pwt-slow
#                               1.0-1..3 whose 1.0-2 and 1.0-3 postinst
#                               wait for the test (aptf_slow_*), indexed
#   aptf_feed FILE              the Debian DSA list the scripts import
#   aptf_server USES            after the caller's [server] section in
#                               $PW_SRV_TMP/srv.conf: a feed store holding
#                               that list (aptf_feed), the admin token
#                               $admin and an enrollment token $etok for
#                               USES agents, in the server database $db
#   aptf_installed ROOT PKG     dpkg-query's version ("" when none)
#   aptf_queue HOST KIND ARGS   POST /hosts/HOST/jobs as admin; the job id
#   aptf_result JOB; aptf_r F   GET /jobs/JOB; jq F on its newest result
#   aptf_patch_closes NAME ROOT HOST N
#                               the whole path for agent NAME on ROOT
#                               (server host HOST), N findings expected
#   aptf_slow_reset ROOT / aptf_slow_wait ROOT / aptf_slow_go ROOT
#                               before a pwt-slow job / its postinst
#                               started / let it finish
#
#   aptf_require [CMD...]       root, the tools these use, and CMDs
#
# Expectations come from the feed file, dpkg-query and apt-cache in the
# root and `dpkg --compare-versions`, never from patchwarden.

. "$(dirname "${BASH_SOURCE[0]}")/server.sh"
. "$(dirname "${BASH_SOURCE[0]}")/agent.sh"
. "$(dirname "${BASH_SOURCE[0]}")/debroot.sh"
. "$(dirname "${BASH_SOURCE[0]}")/aptrepo.sh"

aptf_require() {
  test_require root
  test_require_cmd mmdebstrap dpkg-deb apt-ftparchive python3 curl jq chroot dpkg "$@"
}

# 60 s at most, so a failed run leaves nothing behind.
APTF_SLOW='touch /run/pwt-slow.started; i=0
while [ ! -e /run/pwt-slow.go ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done'

aptf_packages() {
  aptrepo_test_packages "$1" && aptrepo_pkg "$1" pwt-slow 1.0-1 &&
    aptrepo_pkg "$1" pwt-slow 1.0-2 "" "$APTF_SLOW" &&
    aptrepo_pkg "$1" pwt-slow 1.0-3 "" "$APTF_SLOW" && aptrepo_index "$1"
}

aptf_slow_reset() { rm -f "$1/run/pwt-slow.started" "$1/run/pwt-slow.go"; }
aptf_slow_wait() { test_wait_for 30 test -e "$1/run/pwt-slow.started"; }
aptf_slow_go() { touch "$1/run/pwt-slow.go"; }

# Bookworm rows for packages older than the fix (pwt-vuln, two CVEs;
# pwt-dep, whose fix brings a new dependency), one whose fix is 1.0-1
# (pwt-reboot), one for pwt-rm, and a bullseye-only row (not this
# release); nothing on pwt-slow or pwt-failpost.
aptf_feed() {
  cat >"$1" <<'EOF'
[06 Dec 2026] DSA-9904-1 pwt-rm - security update
	{CVE-2099-10004}
	[bookworm] - pwt-rm 2.0-1
[05 Dec 2026] DSA-9903-1 pwt-reboot - security update
	{CVE-2099-10003}
	[bookworm] - pwt-reboot 1.0-1
[04 Dec 2026] DSA-9902-1 pwt-dep - security update
	{CVE-2099-10002}
	[bookworm] - pwt-dep 2.0-1
[03 Dec 2026] DSA-9901-1 pwt-vuln - security update
	{CVE-2099-10000 CVE-2099-10001}
	[bookworm] - pwt-vuln 1.0-2
[02 Dec 2026] DSA-9900-1 pwt-sec - security update
	{CVE-2099-10005}
	[bullseye] - pwt-sec 1.0-2
EOF
}

aptf_server() {
  local feeds=$PW_SRV_TMP/feeds.db
  aptf_feed "$PW_SRV_TMP/DSA.list"
  printf '[feeds]\nstore = %s\nrecompute_interval = 1\n' "$feeds" >>"$PW_SRV_TMP/srv.conf"
  "$PW_BIN" feed import --store "$feeds" "$PW_SRV_TMP/DSA.list" >"$PW_SRV_TMP/import.out" 2>&1
  check "the feed file imported (as a debian-list)" test $? -eq 0
  pw_admin_tokens "$db" "$1"
}

aptf_installed() {
  chroot "$1" dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$2" 2>/dev/null |
    sed -n 's/^[ih]i *//p'
}
aptf_candidate() { chroot "$1" apt-cache policy "$2" | sed -n 's/^ *Candidate: //p'; }

# aptf_expected ROOT FEED: "package advisory fixed" per bookworm row whose
# package ROOT has installed older than the fixed version
aptf_expected() {
  awk '/^\[/ {adv = $4} /^\t\[bookworm\]/ {print $3, adv, $4}' "$2" |
    while read -r pkg adv fixed; do
      v=$(aptf_installed "$1" "$pkg")
      [ -n "$v" ] && dpkg --compare-versions "$v" lt "$fixed" && echo "$pkg $adv $fixed"
    done | sort
}

# aptf_cves FEED EXPECTED: the CVEs the file gives the expected advisories
aptf_cves() {
  for adv in $(awk '{print $2}' <<<"$2"); do
    awk -v a="$adv" '/^\[/ {on = ($4 == a)} on && /^\t\{/ {gsub(/[{}\t]/, ""); print}' "$1"
  done | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//'
}

# aptf_newdeps ROOT EXPECTED: what the candidates depend on that ROOT lacks
aptf_newdeps() {
  while read -r pkg _; do
    chroot "$1" apt-cache show "$pkg=$(aptf_candidate "$1" "$pkg")" | sed -n 's/^Depends: //p' |
      tr ',' '\n' | awk '{print $1}'
  done <<<"$2" | sort -u | while read -r d; do
    [ -z "$(aptf_installed "$1" "$d")" ] && echo "$d"
  done | tr '\n' ' ' | sed 's/ $//'
}

# aptf_findings HOST STATE: "package advisory fixed" of HOST's findings in STATE
aptf_findings() {
  pw_http GET "$U/hosts/$1/findings?state=$2&limit=1000" "$admin" &&
    jq -r '.findings[] | "\(.package) \(.advisory) \(.fixed)"' <<<"$HTTP_BODY" | sort
}
aptf_open_is() { [ "$(aptf_findings "$1" open)" = "$2" ]; }
aptf_fixed_is() { [ "$(aptf_findings "$1" fixed)" = "$2" ] && [ -z "$(aptf_findings "$1" open)" ]; }

aptf_queue() {
  pw_http POST "$U/hosts/$1/jobs" "$admin" "{\"kind\":\"$2\",\"args\":$3}"
  [ "$HTTP_STATUS" = 201 ] || { echo "queue $2: $HTTP_STATUS $HTTP_BODY" >&2; return 1; }
  json 'j["job_id"]'
}
aptf_result() { pw_http GET "$U/jobs/$1" "$admin"; }
aptf_r() { jq -r ".result$1" <<<"$HTTP_BODY"; }

# aptf_upgrades_ok ROOT EXPECTED NEWDEPS BEFORE-DIR RESULT-WORD: the job's
# output installs NEWDEPS and takes every expected package from its
# version before (BEFORE-DIR/PKG) to apt's candidate, at least the fixed
aptf_upgrades_ok() {
  local pkg adv fixed line b a res
  [ "$(aptf_r '.output.packages | map(select(.action == "install") | .name) | join(" ")')" = \
    "$3" ] || return 1
  [ "$(aptf_r '.output.packages | map(select(.action == "upgrade")) | length')" -eq \
    "$(wc -l <<<"$2")" ] || return 1
  while read -r pkg adv fixed; do
    line=$(aptf_r ".output.packages[] | select(.name == \"$pkg\") |
      \"\(.before) \(.after) \(.result)\"")
    read -r b a res <<<"$line"
    [ "$b" = "$(cat "$4/$pkg")" ] && [ "$res" = "$5" ] &&
      dpkg --compare-versions "$a" ge "$fixed" && [ "$a" = "$(aptf_candidate "$1" "$pkg")" ] ||
      { echo "$pkg: $line" >&2; return 1; }
  done <<<"$2"
}

aptf_patch_closes() {
  local name=$1 root=$2 host=$3 n=$4 feed=$PW_SRV_TMP/DSA.list
  local exp ids cves newdeps before=$PW_SRV_TMP/before.$1 sim pat pkg adv fixed v closed
  exp=$(aptf_expected "$root" "$feed")
  check "$name: the feed file names $n vulnerable packages: $(echo $exp)" \
    test "$(grep -c . <<<"$exp")" -eq "$n"
  check "$name: the server's open findings are the expected ones within 20 s" \
    test_wait_for 20 aptf_open_is "$host" "$exp"
  pw_http GET "$U/hosts/$host/findings?state=open&limit=1000" "$admin"
  ids=$(jq -c '[.findings[].id]' <<<"$HTTP_BODY")
  cves=$(aptf_cves "$feed" "$exp")
  check "$name: with the feed's CVEs: $cves" test \
    "$(jq -r '[.findings[].cves[]] | sort | join(" ")' <<<"$HTTP_BODY")" = "$cves"
  mkdir -p "$before"
  while read -r pkg _; do aptf_installed "$root" "$pkg" >"$before/$pkg"; done <<<"$exp"
  newdeps=$(aptf_newdeps "$root" "$exp")

  sim=$(aptf_queue "$host" simulate "{\"findings\":$ids}")
  check "$name: simulate queued by finding ids $ids" test -n "$sim"
  ag "$name" run --once
  check "$name: the agent runs it" grep -q "1 jobs run" "$PW_SRV_TMP/agent.out"
  ag "$name" run --once
  check "$name: and delivers the result" grep -q "1 acknowledged" "$PW_SRV_TMP/agent.out"
  aptf_result "$sim"
  check "$name: simulate: ok" test "$(aptf_r .status)" = ok
  check "$name: simulate: from_findings kept" \
    test "$(jq -c '.args.from_findings' <<<"$HTTP_BODY")" = "$ids"
  check "$name: simulate: the upgrades, installed -> candidate, at least the fixed" \
    aptf_upgrades_ok "$root" "$exp" "$newdeps" "$before" would
  while read -r pkg _; do
    check "$name: nothing installed by simulate ($pkg)" \
      test "$(aptf_installed "$root" "$pkg")" = "$(cat "$before/$pkg")"
  done <<<"$exp"

  pat=$(aptf_queue "$host" patch "{\"findings\":$ids,\"emergency\":true}")
  check "$name: patch queued by the same finding ids" test -n "$pat"
  ag "$name" run --once
  check "$name: the agent runs it" grep -q "1 jobs run" "$PW_SRV_TMP/agent.out"
  while read -r pkg adv fixed; do
    v=$(aptf_installed "$root" "$pkg")
    check "$name: dpkg-query: $pkg $v, at least $fixed" dpkg --compare-versions "$v" ge "$fixed"
  done <<<"$exp"
  for pkg in $newdeps; do
    check "$name: dpkg-query: the new dependency $pkg installed" \
      test -n "$(aptf_installed "$root" "$pkg")"
  done
  ag "$name" run --once
  check "$name: the next check-in delivers the result" \
    grep -q "1 acknowledged" "$PW_SRV_TMP/agent.out"
  check "$name: and sends the patched inventory" grep -q "inventory sent" "$PW_SRV_TMP/agent.out"
  aptf_result "$pat"
  check "$name: patch: ok" test "$(aptf_r .status)" = ok
  check "$name: patch: db clean" test "$(aptf_r .output.db_state)" = clean
  check "$name: patch: the upgrades, installed -> candidate, at least the fixed" \
    aptf_upgrades_ok "$root" "$exp" "$newdeps" "$before" ok

  check "$name: the recompute marks the findings fixed within 20 s, none open" \
    test_wait_for 20 aptf_fixed_is "$host" "$exp"
  pw_http GET "$U/hosts/$host/findings?limit=1000" "$admin"
  closed=$(jq -c '[.findings[] | select(.state == "fixed" and .fixed_at != null) | .id] | sort' \
    <<<"$HTTP_BODY")
  check "$name: each with fixed_at, state fixed: $closed" test "$closed" = "$(jq -c 'sort' <<<"$ids")"
}

# aptf_server_killed NAME ROOT HOST OLD NEW VERSION: agent NAME patches
# pwt-slow to VERSION; while the postinst waits, the server OLD is
# SIGKILLed; the result waits in the spool through a failed check-in and
# is delivered, once, to the server restarted as NEW on the same address
# and port ($PW_SRV_TMP/srv.conf, $db).
aptf_server_killed() {
  local name=$1 root=$2 host=$3 old=$4 new=$5 ver=$6 out=$PW_SRV_TMP/agent.out
  local job agent srv port addr=${PW_SRV_LISTEN:-127.0.0.1:0} was
  was=$(aptf_installed "$root" pwt-slow)
  job=$(aptf_queue "$host" patch \
    "{\"packages\":[{\"name\":\"pwt-slow\",\"version\":\"$ver\"}],\"emergency\":true}")
  port=PW_SRV_PORT_$old
  port=${!port}
  aptf_slow_reset "$root"
  ag "$name" run --once &
  agent=$!
  check "$name: the agent runs the patch job (postinst started)" aptf_slow_wait "$root"
  aptf_result "$job"
  check "$name: the job is leased" test "$(json 'j["state"]')" = leased
  srv=${PW_SRV_PID[$old]}
  disown "$srv" # no "Killed" notice from the shell
  kill -KILL "$srv"
  unset "PW_SRV_PID[$old]"
  check "the server killed" test_wait_for 10 eval '! kill -0 "$srv" 2>/dev/null'
  check "... nothing answers on its port" test_never 0.3 curl -fsk -o /dev/null "$U/health"
  aptf_slow_go "$root"
  wait "$agent"
  check "$name: the job done on the host: $(grep -m1 'jobs run' "$out")" \
    grep -q "1 jobs run; 1 spooled" "$out"
  check "$name: dpkg-query: pwt-slow $ver" test "$(aptf_installed "$root" pwt-slow)" = "$ver"
  check "$name: its result spooled" test "$(pw_spooled "$name")" = 1
  ag "$name" run --once
  check "$name: a check-in without server exits 2" test "$AGENT_ST" -eq 2
  check "$name: the result stays spooled" test "$(pw_spooled "$name")" = 1
  PW_SRV_LISTEN=${addr%:*}:$port pw_srv_start "$new" -c "$PW_SRV_TMP/srv.conf" --db "$db" ||
    return 1
  ag "$name" run --once
  check "$name: after the restart: $(grep -m1 'acknowledged' "$out")" \
    grep -q "1 results sent, 1 acknowledged" "$out"
  check "$name: the spool is empty" test "$(pw_spooled "$name")" = 0
  aptf_result "$job"
  check "$name: the job done" test "$(json 'j["state"]')" = done
  check "$name: its result ok, $was -> $ver" test \
    "$(aptf_r '.output.packages[] | select(.name == "pwt-slow") | "\(.before) \(.after) \(.result)"')" \
    = "$was $ver ok"
}
