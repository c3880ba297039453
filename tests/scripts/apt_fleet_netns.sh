#!/usr/bin/env bash
# A small fleet patched for real: two agents, each in its own network
# namespace behind a veth pair (lib/netns.sh) and with its own copy of the
# cached bookworm (lib/debroot.sh), one real server (HTTPS, its
# certificate given to the agents with --ca) and the real apt repository
# (lib/aptrepo.sh), both listening on the host side of the bridge. For
# each agent: vulnerable -> simulate -> patch, queued by finding ids
# through the API -> re-inventory -> the server's findings for that host
# fixed, the expected ones derived from the feed file written here,
# dpkg-query in its root and `dpkg --compare-versions`
# (lib/aptfindings.sh). On agent a then: the server SIGKILLed while a
# postinst holds a leased patch job, restarted, nothing lost; its link
# cut while a postinst holds the job (the daemon running), the result
# spooled and delivered once the link is back; a failing postinst, a
# failed job with its log and dpkg's half-configured state.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/aptfindings.sh"
. "$here/lib/netns.sh"
aptf_require openssl ip
T=$PW_SRV_TMP
daemon=
cleanup() {
  [ -n "$daemon" ] && kill -KILL "$daemon" 2>/dev/null
  [ -n "${APTREPO_PID:-}" ] && kill "$APTREPO_PID" 2>/dev/null
  for r in "$T"/root-*; do [ -d "$r/run" ] && aptf_slow_go "$r"; done
  netns_cleanup
  pw_srv_cleanup
}
trap cleanup EXIT
netns_bridge || exit 1
netns_add a 2 || exit 1
netns_add b 3 || exit 1
db=sqlite:$T/server.db
addr=$NETNS_NET.1

check "packages built and indexed" aptf_packages "$T/repo"
check "the repository served on the bridge ($addr)" aptrepo_serve "$T/repo" "$addr"
# a: pwt-vuln and pwt-dep vulnerable; b: pwt-vuln only (pwt-dep already fixed)
check "a: its own bookworm root with vulnerable versions" aptrepo_root "$T/root-a" \
  pwt-vuln=1.0-1 pwt-dep=1.0-1 pwt-reboot=1.0-1 pwt-slow=1.0-1 pwt-failpost=1.0-1
check "b: its own bookworm root with vulnerable versions" aptrepo_root "$T/root-b" \
  pwt-vuln=1.0-1 pwt-dep=2.0-1 pwt-reboot=1.0-1
echo fleet-a >"$T/root-a/etc/hostname"
echo fleet-b >"$T/root-b/etc/hostname"

netns_cert "$T" server || exit 1
export CURL_CA_BUNDLE=$T/server.pem # pw_http's curl; the agents get --ca
printf '[server]\ntls_cert = %s\ntls_key = %s\ncheckin_interval = 10\n' "$T/server.pem" \
  "$T/server.key" >"$T/srv.conf"
aptf_server 2
export PW_SRV_LISTEN=$addr:0
pw_srv_start A -c "$T/srv.conf" --db "$db" || { pw_srv_summary; exit 1; }
S=https://$addr:$PW_SRV_PORT_A
U=$S/api/v1

ag() { PW_AGENT_NETNS=$(netns_ns "$1") pw_agent "$1" "${@:2}" --root "$T/root-$1"; }
declare -A host
for n in a b; do
  ns=$(netns_ns "$n")
  check "$n: no route to anything but the bridge" test "$(ip -n "$ns" route | grep -c .)" -eq 1
  ag "$n" enroll --server "$S" --token "$etok" --ca "$T/server.pem"
  check "$n: enrolled from its namespace over HTTPS" test "$AGENT_ST" -eq 0
  ag "$n" run --once
  check "$n: first check-in sends the vulnerable inventory" grep -q "inventory sent" "$T/agent.out"
  check "$n: the child is separated" grep -q "separated: user nobody" "$T/agent.out"
  pw_http GET "$U/hosts" "$admin"
  host[$n]=$(json "[h['id'] for h in j['hosts'] if h['hostname'] == 'fleet-$n'][0]")
done
check "two hosts: ${host[a]} ${host[b]}" test "${host[a]}" != "${host[b]}"

aptf_patch_closes a "$T/root-a" "${host[a]}" 2
aptf_patch_closes b "$T/root-b" "${host[b]}" 1

# ---- agent a: the server killed mid-job -------------------------------------
aptf_server_killed a "$T/root-a" "${host[a]}" A B 1.0-2 || { pw_srv_summary; exit 1; }

# ---- agent a: its link cut mid-job, the daemon running ----------------------
A=$T/root-a
ns=$(netns_ns a)
reach() { ip netns exec "$ns" curl -fs -o /dev/null --max-time 2 --cacert "$T/server.pem" "$U/health"; }
check "a reaches the server" reach
cut=$(aptf_queue "${host[a]}" patch \
  '{"packages":[{"name":"pwt-slow","version":"1.0-3"}],"emergency":true}')
aptf_slow_reset "$A"
ip netns exec "$ns" "$PW_AGENT_BIN" run --state-dir "$T/a" --root "$A" --timeout 3 \
  2>"$T/daemon.log" &
daemon=$!
check "a: the daemon runs the patch job (postinst started)" aptf_slow_wait "$A"
netns_cut a
check "a: the link is cut" test_wait_for 10 eval '! reach'
aptf_slow_go "$A"
check "a: the daemon cannot deliver (check-in failed)" \
  test_wait_for 30 grep -q "check-in failed" "$T/daemon.log"
check "a: dpkg-query: pwt-slow 1.0-3" test "$(aptf_installed "$A" pwt-slow)" = 1.0-3
check "a: the result spooled" test "$(pw_spooled a)" = 1
aptf_result "$cut"
check "a: the server still has the job leased" test "$(json 'j["state"]')" = leased
netns_mend a
check "a: after the link is back the result arrives" \
  test_wait_for 60 grep -q "1 results sent, 1 acknowledged" "$T/daemon.log"
check "a: the spool is empty" test "$(pw_spooled a)" = 0
aptf_result "$cut"
check "a: the job done" test "$(json 'j["state"]')" = done
check "a: its result ok, 1.0-2 -> 1.0-3" test \
  "$(aptf_r '.output.packages[] | select(.name == "pwt-slow") | "\(.before) \(.after) \(.result)"')" \
  = "1.0-2 1.0-3 ok"
kill -TERM "$daemon"
wait "$daemon"
st=$?
daemon=
check "a: SIGTERM stops the daemon cleanly ($st)" test "$st" -eq 0

# ---- agent a: a failing postinst --------------------------------------------
fp=$(aptf_queue "${host[a]}" patch \
  '{"packages":[{"name":"pwt-failpost","version":"1.0-2"}],"emergency":true}')
ag a run --once
ag a run --once
check "a: the result delivered" grep -q "1 acknowledged" "$T/agent.out"
aptf_result "$fp"
check "a: failing postinst: the job failed, dpkg half-configured, pwt-failpost 1.0-1 -> 1.0-2 failed" \
  test "$(aptf_r ' | "\(.status) \(.output.db_state) " + (.output.packages[]
    | select(.name == "pwt-failpost") | "\(.before) \(.after) \(.result)")')" \
  = "failed half-configured 1.0-1 1.0-2 failed"
check "a: ... as dpkg-query says" test "$(chroot "$A" dpkg-query -W -f='${Status}' pwt-failpost)" \
  = "install ok half-configured"
check "a: ... the postinst's output in the job's log" eval \
  'aptf_r .output.log | grep -q "fails on purpose"'

# What the server stored per host, in order (a result sent again after a
# reply lost to the cut is acknowledged as "resent", not stored twice).
pw_http GET "$U/audit?limit=1000" "$admin"
stored() {
  jq -r --arg t "host:$1" '[.events[] | select(.action == "agent.checkin" and .target == $t)
    | .after.results // [] | .[] | select(.resent != true)
    | if .conflict then "conflict" else .seq end | tostring] | join(" ")' <<<"$HTTP_BODY"
}
resent=$(jq '[.events[] | select(.action == "agent.checkin") | .after.results // [] | .[]
  | select(.resent == true)] | length' <<<"$HTTP_BODY")
check "a: every result stored once, in order ($resent acknowledged again)" \
  test "$(stored "${host[a]}")" = "1 2 3 4 5"
check "b: every result stored once, in order" test "$(stored "${host[b]}")" = "1 2"
pw_srv_summary
