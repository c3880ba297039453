# Sourced by the agent_*.sh scripts (after lib/server.sh): run the agent
# against a real `patchwarden server` and read what the server recorded.
#
#   pw_agent NAME ARGS...       runs `patchwarden-agent ARGS...` (what the
#                               systemd unit runs; $PW_AGENT_BIN) with the
#                               state directory $T/NAME; stdout and stderr
#                               in $T/agent.out, status in AGENT_ST; in the
#                               network namespace $PW_AGENT_NETNS if set
#   pw_spooled NAME             number of results in NAME's spool
#   pw_admin_tokens DB USES     an admin user (its token in $admin) and an
#                               enrollment token for USES agents ($etok)
#                               in the server database DB
#   pw_agent_server_enrolled CONF DB
#                               pw_admin_tokens, server A started with
#                               CONF and DB ($S, $U), and the agent the
#                               caller's `ag ARGS...` runs (pw_agent with
#                               its name and --root) enrolled
#   pw_delivered TOKEN URL [CURL-ARGS...]
#                               the result seqs the server's audit log
#                               recorded, in order, "seq", "seq:resent"
#                               (acknowledged again, stored before) or
#                               "seq:conflict" (not stored: renumbered)

. "$(dirname "${BASH_SOURCE[0]}")/test-lib.sh"

# As root, `run` separates privileges (agent_privsep.sh): its child runs as
# this user (a test build's default when no [agent] user is configured)
# and must reach the state directories under $PW_SRV_TMP.
export PATCHWARDEN_AGENT_USER=nobody
[ -n "${PW_SRV_TMP:-}" ] && chmod 711 "$PW_SRV_TMP"

pw_agent() {
  local name=$1 ns=()
  shift
  [ -n "${PW_AGENT_NETNS:-}" ] && ns=(ip netns exec "$PW_AGENT_NETNS")
  timeout 60 "${ns[@]}" "${PW_AGENT_BIN:?PW_AGENT_BIN (patchwarden-agent) is not set; run under ctest}" "$@" --state-dir "$PW_SRV_TMP/$name" >"$PW_SRV_TMP/agent.out" 2>&1
  AGENT_ST=$?
}

pw_admin_tokens() {
  "$PW_BIN" user add root --role admin --no-password --db "$1" >/dev/null 2>&1
  admin=$("$PW_BIN" user token create root --db "$1" 2>/dev/null)
  etok=$("$PW_BIN" user enroll-token create --uses "$2" --db "$1" 2>/dev/null)
}

pw_agent_server_enrolled() {
  pw_admin_tokens "$2" 1
  pw_srv_start A -c "$1" --db "$2" || return 1
  S=http://127.0.0.1:$PW_SRV_PORT_A
  U=$S/api/v1
  ag enroll --server "$S" --token "$etok" --insecure
  [ "$AGENT_ST" -eq 0 ]
}

pw_spooled() {
  find "$PW_SRV_TMP/$1/spool" -maxdepth 1 -name '*.result' 2>/dev/null | wc -l
}

pw_delivered() {
  pw_http GET "$2/audit?limit=1000" "$1" "" "${@:3}"
  python3 -c 'import json, sys
out = []
for e in json.load(sys.stdin)["events"]:
    if e["action"] == "agent.checkin" and e["after"]:
        for r in e["after"].get("results", []):
            out.append(str(r["seq"]) + (":resent" if r.get("resent") else "")
                       + (":conflict" if r.get("conflict") else ""))
print(" ".join(out))' <<<"$HTTP_BODY"
}

# pw_job TOKEN URL HOST KIND: queues a job, prints its id.
pw_job() {
  pw_http POST "$2/hosts/$3/jobs" "$1" "{\"kind\":\"$4\"}"
  json 'j["job_id"]'
}

# pw_wait_for SECONDS COMMAND...: test_wait_for (lib/test-lib.sh).
pw_wait_for() { test_wait_for "$@"; }
