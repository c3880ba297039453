#!/usr/bin/env bash
# Vulnerable -> simulate -> patch -> re-inventory -> the server's findings
# for that host closed, end to end with a real server, a real agent and
# real apt: a bookworm root (lib/debroot.sh) with old versions from the
# test repository (lib/aptrepo.sh), and a Debian DSA list written here
# that says which versions of the repository's packages fix made-up CVEs
# (lib/aptfindings.sh). The open findings expected are derived from that
# file, dpkg-query on the root and `dpkg --compare-versions`, not from
# patchwarden; the jobs are queued by finding ids through the API, and the
# findings must end fixed (state, fixed_at), `patchwarden cve` moving the
# host from affected to fixed. Then the server killed while the agent
# runs a leased patch job: the result waits in the agent's spool (a
# failed check-in) and is delivered, once, to the restarted server.
# apt_fleet_netns.sh does the same for several agents, each in its own
# network namespace.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/aptfindings.sh"
aptf_require

cleanup() {
  [ -n "${APTREPO_PID:-}" ] && kill "$APTREPO_PID" 2>/dev/null
  [ -d "${A:-}/run" ] && aptf_slow_go "$A"
  pw_srv_cleanup
}
trap cleanup EXIT
T=$PW_SRV_TMP
db=sqlite:$T/server.db

check "packages built and indexed" aptf_packages "$T/repo"
check "served on loopback" aptrepo_serve "$T/repo"
A=$T/root
check "bookworm root with vulnerable versions" \
  aptrepo_root "$A" pwt-vuln=1.0-1 pwt-dep=1.0-1 pwt-reboot=1.0-1 pwt-slow=1.0-1
vuln_cve=CVE-2099-10000

printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\n' >"$T/srv.conf"
aptf_server 1
pw_srv_start A -c "$T/srv.conf" --db "$db" || { pw_srv_summary; exit 1; }
S=http://127.0.0.1:$PW_SRV_PORT_A
U=$S/api/v1
ag() { pw_agent "$1" "${@:2}" --root "$A"; }
ag a enroll --server "$S" --token "$etok" --insecure
check "enrolled" test "$AGENT_ST" -eq 0
ag a run --once
check "first check-in sends the vulnerable inventory" grep -q "inventory sent" "$T/agent.out"
pw_http GET "$U/hosts" "$admin"
host=$(json 'j["hosts"][0]["id"]')

cve_side() { # SIDE: host ids in `patchwarden cve $vuln_cve`'s SIDE list
  "$PW_BIN" cve "$vuln_cve" --json -c "$T/srv.conf" --db "$db" 2>/dev/null |
    jq -c "[.$1[].host_id]"
}
check "patchwarden cve $vuln_cve: the host affected" \
  test_wait_for 20 eval '[ "$(cve_side affected)" = "[$host]" ]'
check "... and not fixed" test "$(cve_side fixed)" = "[]"
aptf_patch_closes a "$A" "$host" 2
check "patchwarden cve $vuln_cve: the host fixed" test "$(cve_side fixed)" = "[$host]"
check "... and no longer affected" test "$(cve_side affected)" = "[]"

aptf_server_killed a "$A" "$host" A B 1.0-2 || { pw_srv_summary; exit 1; }
seqs=$(pw_delivered "$admin" "$U")
check "every result delivered once: $seqs" awk \
  '{for (i = 1; i <= NF; i++) if (seen[$i]++ || $i ~ /:/) bad = 1} END {exit bad}' <<<"$seqs"
pw_srv_summary
