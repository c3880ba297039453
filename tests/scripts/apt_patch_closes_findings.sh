#!/usr/bin/env bash
# Vulnerable -> simulate -> patch -> re-inventory -> the server's findings
# for that host closed, end to end with a real server, a real agent and
# real apt: a bookworm root (lib/debroot.sh) with old versions from the
# test repository (lib/aptrepo.sh), and a Debian DSA list written here
# that says which versions of the repository's packages fix made-up CVEs.
# The open findings expected are derived from that file, dpkg-query on
# the root and `dpkg --compare-versions`, not from patchwarden; the jobs
# are queued by finding ids through the API, and the findings must end
# fixed (state, fixed_at), `patchwarden cve` moving the host from
# affected to fixed. Then a network cut mid-job: the server killed while
# the agent runs a leased patch job; the result waits in the agent's
# spool (a failed check-in) and is delivered, once, to the restarted
# server.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/agent.sh"
. "$here/lib/debroot.sh"
. "$here/lib/aptrepo.sh"
test_require root
test_require_cmd mmdebstrap dpkg-deb apt-ftparchive python3 curl jq chroot dpkg

cleanup() {
  [ -n "${APTREPO_PID:-}" ] && kill "$APTREPO_PID" 2>/dev/null
  [ -d "${A:-}/run" ] && touch "$A/run/pwt-slow.go"
  [ -n "${agent:-}" ] && wait "$agent" 2>/dev/null
  pw_srv_cleanup
}
trap cleanup EXIT
T=$PW_SRV_TMP
db=sqlite:$T/server.db
feeds=$T/feeds.db

# pwt-slow 1.0-2's postinst waits for the test (the network cut below;
# 60 s at most, so a failed run leaves nothing behind)
slow='touch /run/pwt-slow.started; i=0
while [ ! -e /run/pwt-slow.go ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done'
check "packages built and indexed" eval 'aptrepo_test_packages "$T/repo" &&
  aptrepo_pkg "$T/repo" pwt-slow 1.0-1 && aptrepo_pkg "$T/repo" pwt-slow 1.0-2 "" "$slow" &&
  aptrepo_index "$T/repo"'
check "served on loopback" aptrepo_serve "$T/repo"
A=$T/root
check "bookworm root with vulnerable versions" \
  aptrepo_root "$A" pwt-vuln=1.0-1 pwt-dep=1.0-1 pwt-reboot=1.0-1 pwt-slow=1.0-1
installed() {
  chroot "$A" dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$1" 2>/dev/null |
    sed -n 's/^[ih]i *//p'
}
candidate() { chroot "$A" apt-cache policy "$1" | sed -n 's/^ *Candidate: //p'; }

# The feed (nothing on pwt-slow): bookworm rows for installed packages older than the fix
# (pwt-vuln, two CVEs; pwt-dep, whose fix brings a new dependency), one
# whose installed version is the fix (pwt-reboot), one not installed
# (pwt-rm), and a bullseye-only row (not this release).
cat >"$T/DSA.list" <<'EOF'
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
# expected: "package advisory fixed" per bookworm row whose package is
# installed older than the fixed version; $cves: their CVEs
expected=$(awk '/^\[/ {adv = $4} /^\t\[bookworm\]/ {print $3, adv, $4}' "$T/DSA.list" |
  while read -r pkg adv fixed; do
    v=$(installed "$pkg")
    [ -n "$v" ] && dpkg --compare-versions "$v" lt "$fixed" && echo "$pkg $adv $fixed"
  done | sort)
check "the feed file names two vulnerable packages: $(echo $expected)" \
  test "$(wc -l <<<"$expected")" -eq 2
nexp=$(wc -l <<<"$expected")
vuln_cve=CVE-2099-10000

printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\n' >"$T/srv.conf"
printf '[feeds]\nstore = %s\nrecompute_interval = 1\n' "$feeds" >>"$T/srv.conf"
"$PW_BIN" feed import --store "$feeds" "$T/DSA.list" >"$T/import.out" 2>&1
check "the feed file imported (as a debian-list)" test $? -eq 0
"$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
admin=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
etok=$("$PW_BIN" user enroll-token create --uses 1 --db "$db" 2>/dev/null)
pw_srv_start A -c "$T/srv.conf" --db "$db" || { pw_srv_summary; exit 1; }
S=http://127.0.0.1:$PW_SRV_PORT_A
U=$S/api/v1
ag() { pw_agent a "$@" --root "$A"; }
ag enroll --server "$S" --token "$etok" --insecure
check "enrolled" test "$AGENT_ST" -eq 0
ag run --once
check "first check-in sends the vulnerable inventory" grep -q "inventory sent" "$T/agent.out"
pw_http GET "$U/hosts" "$admin"
host=$(json 'j["hosts"][0]["id"]')

# findings STATE: "package advisory fixed" of the host's findings in STATE
findings() {
  pw_http GET "$U/hosts/$host/findings?state=$1&limit=1000" "$admin" &&
    jq -r '.findings[] | "\(.package) \(.advisory) \(.fixed)"' <<<"$HTTP_BODY" | sort
}
open_is() { [ "$(findings open)" = "$1" ]; }
check "the server's open findings are the expected ones within 20 s" \
  pw_wait_for 20 open_is "$expected"
pw_http GET "$U/hosts/$host/findings?state=open&limit=1000" "$admin"
ids=$(jq -c '[.findings[].id]' <<<"$HTTP_BODY")
# the CVEs the file gives the expected findings' advisories
exp_cves=$(for adv in $(awk '{print $2}' <<<"$expected"); do
  awk -v a="$adv" '/^\[/ {on = ($4 == a)} on && /^\t\{/ {gsub(/[{}\t]/, ""); print}' "$T/DSA.list"
done | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')
check "with the feed's CVEs: $exp_cves" test \
  "$(jq -r '[.findings[].cves[]] | sort | join(" ")' <<<"$HTTP_BODY")" = "$exp_cves"
cve_side() { # SIDE: host ids in `patchwarden cve $vuln_cve`'s SIDE list
  "$PW_BIN" cve "$vuln_cve" --json -c "$T/srv.conf" --db "$db" 2>/dev/null |
    jq -c "[.$1[].host_id]"
}
check "patchwarden cve $vuln_cve: the host affected" test "$(cve_side affected)" = "[$host]"
check "... and not fixed" test "$(cve_side fixed)" = "[]"

api_queue() { # KIND ARGS: POST /hosts/HOST/jobs as admin; prints the job id
  pw_http POST "$U/hosts/$host/jobs" "$admin" "{\"kind\":\"$1\",\"args\":$2}"
  [ "$HTTP_STATUS" = 201 ] || { echo "queue $1: $HTTP_STATUS $HTTP_BODY" >&2; return 1; }
  json 'j["job_id"]'
}
result() { pw_http GET "$U/jobs/$1" "$admin"; } # JOB: into HTTP_BODY
r() { jq -r ".result$1" <<<"$HTTP_BODY"; }
# upgrades_ok RESULT-WORD: every expected package in the job's output
# from its installed version to at least the fixed one (apt's candidate)
upgrades_ok() {
  local pkg adv fixed line
  [ "$(r '.output.packages | map(select(.action == "install") | .name) | join(" ")')" = \
    "$newdeps" ] || return 1
  [ "$(r '.output.packages | map(select(.action == "upgrade")) | length')" -eq "$nexp" ] ||
    return 1
  while read -r pkg adv fixed; do
    line=$(r ".output.packages[] | select(.name == \"$pkg\") | \"\(.before) \(.after) \(.result)\"")
    set -- $line
    [ "$1" = "$(cat "$T/before.$pkg")" ] && [ "$3" = "$RESULT" ] &&
      dpkg --compare-versions "$2" ge "$fixed" && [ "$2" = "$(candidate "$pkg")" ] ||
      { echo "$pkg: $line" >&2; return 1; }
  done <<<"$expected"
}
while read -r pkg _; do installed "$pkg" >"$T/before.$pkg"; done <<<"$expected"
# what the candidates depend on that the root lacks: installed on the way
newdeps=$(while read -r pkg _; do
  chroot "$A" apt-cache show "$pkg=$(candidate "$pkg")" | sed -n 's/^Depends: //p' |
    tr ',' '\n' | awk '{print $1}'
done <<<"$expected" | sort -u | while read -r d; do [ -z "$(installed "$d")" ] && echo "$d"; done |
  tr '\n' ' ' | sed 's/ $//')
check "apt: the fixed pwt-dep brings a new dependency ($newdeps)" test -n "$newdeps"

sim=$(api_queue simulate "{\"findings\":$ids}")
check "simulate queued by finding ids $ids" test -n "$sim"
ag run --once
check "the agent runs it" grep -q "1 jobs run" "$T/agent.out"
ag run --once
check "and delivers the result" grep -q "1 acknowledged" "$T/agent.out"
result "$sim"
check "simulate: ok" test "$(r .status)" = ok
check "simulate: from_findings kept" test "$(jq -c '.args.from_findings' <<<"$HTTP_BODY")" = "$ids"
RESULT=would
check "simulate: lists both upgrades, installed -> candidate, at least the fixed" upgrades_ok
check "nothing installed by simulate" test "$(installed pwt-vuln)" = "$(cat "$T/before.pwt-vuln")"

pat=$(api_queue patch "{\"findings\":$ids,\"emergency\":true}")
check "patch queued by the same finding ids" test -n "$pat"
ag run --once
check "the agent runs it" grep -q "1 jobs run" "$T/agent.out"
while read -r pkg adv fixed; do
  v=$(installed "$pkg")
  check "dpkg-query: $pkg $v, at least $fixed" dpkg --compare-versions "$v" ge "$fixed"
done <<<"$expected"
check "dpkg-query: the new dependency $newdeps installed" test -n "$(installed "$newdeps")"
ag run --once
check "the next check-in delivers the result" grep -q "1 acknowledged" "$T/agent.out"
check "and sends the patched inventory" grep -q "inventory sent" "$T/agent.out"
result "$pat"
check "patch: ok" test "$(r .status)" = ok
check "patch: db clean" test "$(r .output.db_state)" = clean
RESULT=ok
check "patch: both upgraded, installed -> candidate, at least the fixed" upgrades_ok

fixed_is() { [ "$(findings fixed)" = "$1" ] && [ -z "$(findings open)" ]; }
check "the recompute marks the findings fixed within 20 s, none open" \
  pw_wait_for 20 fixed_is "$expected"
pw_http GET "$U/hosts/$host/findings?limit=1000" "$admin"
closed=$(jq -c '[.findings[] | select(.state == "fixed" and .fixed_at != null) | .id] | sort' \
  <<<"$HTTP_BODY")
check "each with fixed_at, state fixed: $closed" test "$closed" = "$(jq -c 'sort' <<<"$ids")"
check "patchwarden cve $vuln_cve: the host fixed" test "$(cve_side fixed)" = "[$host]"
check "... and no longer affected" test "$(cve_side affected)" = "[]"

# ---- a network cut mid-job: the result spooled, delivered later -------------
# The server is killed while the agent runs a leased patch job (pwt-slow's
# postinst holds it); the agent keeps the result in its spool through a
# failed check-in and delivers it to the server restarted on its port.
cut=$(api_queue patch '{"packages":[{"name":"pwt-slow","version":"1.0-2"}],"emergency":true}')
port=$PW_SRV_PORT_A
ag run --once &
agent=$!
check "the agent runs the patch job (postinst started)" \
  pw_wait_for 30 test -e "$A/run/pwt-slow.started"
pw_http GET "$U/jobs/$cut" "$admin"
check "the job is leased" test "$(json 'j["state"]')" = leased
srv=${PW_SRV_PID[A]}
disown "$srv" # no "Killed" notice from the shell
kill -KILL "$srv"
unset "PW_SRV_PID[A]"
check "the server killed" pw_wait_for 10 eval '! kill -0 "$srv" 2>/dev/null'
check "... nothing answers on its port" test_never 0.3 curl -fs -o /dev/null "$U/health"
touch "$A/run/pwt-slow.go"
wait "$agent"
check "the job done on the host: $(grep -m1 'jobs run' "$T/agent.out")" \
  grep -q "1 jobs run; 1 spooled" "$T/agent.out"
check "dpkg-query: pwt-slow 1.0-2" test "$(installed pwt-slow)" = 1.0-2
spooled() { "$PW_BIN" agent status --state-dir "$T/a" | sed -n 's/^spooled_results: //p'; }
check "agent status: spooled_results 1" test "$(spooled)" = 1
ag run --once
check "a check-in without server exits 2" test "$AGENT_ST" -eq 2
check "the result stays spooled" test "$(spooled)" = 1
pw_srv_start B -c "$T/srv.conf" --db "$db" --listen "127.0.0.1:$port" || {
  pw_srv_summary
  exit 1
}
ag run --once
check "after the restart: $(grep -m1 'acknowledged' "$T/agent.out")" \
  grep -q "1 results sent, 1 acknowledged" "$T/agent.out"
check "agent status: spooled_results 0" test "$(spooled)" = 0
result "$cut"
check "the job done" test "$(json 'j["state"]')" = done
check "its result ok, 1.0-1 -> 1.0-2" test \
  "$(r '.output.packages[] | select(.name == "pwt-slow") | "\(.before) \(.after) \(.result)"')" \
  = "1.0-1 1.0-2 ok"
seqs=$(pw_delivered "$admin" "$U")
check "every result delivered once: $seqs" awk \
  '{for (i = 1; i <= NF; i++) if (seen[$i]++ || $i ~ /:/) bad = 1} END {exit bad}' <<<"$seqs"
pw_srv_summary
