#!/usr/bin/env bash
# Executor jobs through the real agent and server: an agent enrolled for
# a real bookworm root (lib/debroot.sh) whose packages come from a real
# apt repository on loopback (lib/aptrepo.sh) gets simulate and patch
# jobs at a check-in, runs them through its exec hook (as root: the
# privileged parent of a separated agent), delivers the results, and
# reports the patched inventory. The jobs are queued through the API
# (admin, emergency: the host has no maintenance window); one the server
# would refuse is written into its database directly, to show that the
# agent refuses it too.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/agent.sh"
. "$here/lib/debroot.sh"
. "$here/lib/aptrepo.sh"
test_require root
test_require_cmd mmdebstrap dpkg-deb apt-ftparchive python3 curl jq chroot sqlite3

cleanup() {
  [ -n "${APTREPO_PID:-}" ] && kill "$APTREPO_PID" 2>/dev/null
  pw_srv_cleanup
}
trap cleanup EXIT
T=$PW_SRV_TMP
db=sqlite:$T/server.db

check "packages built and indexed" aptrepo_test_packages "$T/repo"
check "served on loopback" aptrepo_serve "$T/repo"
A=$T/root
check "bookworm root with vulnerable versions" \
  aptrepo_root "$A" pwt-vuln=1.0-1 pwt-failpost=1.0-1
installed() {
  chroot "$A" dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$1" 2>/dev/null |
    sed -n 's/^[ih]i *//p'
}

printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\n' >"$T/srv.conf"
ag() { pw_agent a "$@" --root "$A"; }
pw_agent_server_enrolled "$T/srv.conf" "$db" ||
  { bad "server up, agent enrolled"; pw_srv_summary; exit 1; }
ag run --once
check "first check-in sends the inventory" grep -q "inventory sent" "$T/agent.out"
pw_http GET "$U/hosts" "$admin"
host=$(json 'j["hosts"][0]["id"]')

# api_queue KIND ARGS: POST /hosts/HOST/jobs as admin; prints the job id
api_queue() {
  pw_http POST "$U/hosts/$host/jobs" "$admin" "{\"kind\":\"$1\",\"args\":$2}"
  [ "$HTTP_STATUS" = 201 ] || { echo "queue $1: $HTTP_STATUS $HTTP_BODY" >&2; return 1; }
  json 'j["job_id"]'
}
# queue KIND ARGS: a job row written past the server's checks; prints its id
queue() {
  sqlite3 "$T/server.db" "INSERT INTO jobs (host_id, kind, args, state, created, created_by)
    VALUES ($host, '$1', '$2', 'queued', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), 'test')
    RETURNING id;"
}
sim=$(api_queue simulate '{"packages":[{"name":"pwt-vuln","version":"1.0-2"}]}')
pat=$(api_queue patch '{"packages":[{"name":"pwt-vuln","version":"1.0-2"}],"emergency":true}')
check "simulate and patch queued through the API" test -n "$sim" -a -n "$pat"
bad=$(queue patch '{"packages":[{"name":"pwt-vuln","version":"1.0-2","x":1}]}')
ag run --once
check "three jobs run" grep -q "3 jobs run" "$T/agent.out"
# As root the agent separates privileges (agent_privsep.sh): the sandboxed
# child asked, the privileged parent ran apt.
check "the child is separated" grep -q "separated: user nobody" "$T/agent.out"
check "the parent ran simulate and patch for it" \
  test "$(grep -cE 'privileged parent: running (simulate|patch) \(1 packages\)' "$T/agent.out")" -eq 2
check "dpkg-query: pwt-vuln patched to 1.0-2" test "$(installed pwt-vuln)" = 1.0-2
ag run --once
check "results delivered" grep -q "3 acknowledged" "$T/agent.out"
check "the patched inventory is sent" grep -q "inventory sent" "$T/agent.out"

result() { # JOB: GET /jobs/JOB into HTTP_BODY
  pw_http GET "$U/jobs/$1" "$admin"
}
r() { jq -r ".result$1" <<<"$HTTP_BODY"; } # r FILTER: of the job's newest result
change() { r '.output.packages[0] | "\(.before) \(.after) \(.result)"'; }
result "$sim"
check "simulate: result ok" test "$(r .status)" = ok
check "simulate: would upgrade 1.0-1 -> 1.0-2" test \
  "$(change)" \
  = "1.0-1 1.0-2 would"
result "$pat"
check "patch: result ok" test "$(r .status)" = ok
check "patch: output status done" test "$(r .output.status)" = done
check "patch: db clean" test "$(r .output.db_state)" = clean
check "patch: before/after" test \
  "$(change)" \
  = "1.0-1 1.0-2 ok"
result "$bad"
check "bad arguments: failed" test "$(r .status)" = failed
check "... exit code 2" test "$(r .exit_code)" = 2
check "... naming the member" eval 'r .output.message | grep -q "\"x\""'

# a failing postinst: a failed job with the log and the dpkg state
fp=$(api_queue patch '{"packages":[{"name":"pwt-failpost","version":"1.0-2"}],"emergency":true}')
ag run --once
ag run --once
result "$fp"
check "failing postinst: result failed" test "$(r .status)" = failed
check "... db half-configured" test "$(r .output.db_state)" = half-configured
check "... the script's output in the log" eval \
  'r .output.log | grep -q "fails on purpose"'
pw_srv_summary
