#!/usr/bin/env bash
# The agent behind a link that goes down: the server serves HTTPS on the
# host side of a veth pair, the agent runs in its own network namespace
# on the other end (lib/netns.sh: a bridge on 10.213.N.0/24, traffic only
# on that subnet) and verifies the server's certificate with --ca. Results spooled while
# the link is down are delivered, in order and once, when it comes back;
# a CA that did not sign the server's certificate is refused.
# Needs root for `ip netns`: otherwise a skip (exit 77; a failure in CI).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/agent.sh"
. "$here/lib/netns.sh"
T=$PW_SRV_TMP
agent_pid=
cleanup() {
  [ -n "$agent_pid" ] && kill -KILL "$agent_pid" 2>/dev/null
  netns_cleanup
  pw_srv_cleanup
}
trap cleanup EXIT
netns_bridge || exit 1
netns_add a 2 || exit 1
ns=$(netns_ns a)
net=$NETNS_NET

# ---- an HTTPS server on the host end ---------------------------------------
if ! netns_cert "$T" server || ! netns_cert "$T" other; then
  echo "FAIL: openssl could not make a certificate"
  exit 1
fi
db=sqlite:$T/server.db
printf '[server]\ntls_cert = %s\ntls_key = %s\ncheckin_interval = 10\n' "$T/server.pem" \
  "$T/server.key" >"$T/srv.conf"
"$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
admin=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
etok=$("$PW_BIN" user enroll-token create --uses 2 --db "$db" 2>/dev/null)
if ! PW_SRV_LISTEN=$net.1:0 pw_srv_start N -c "$T/srv.conf" --db "$db"; then
  echo "FAIL: the server did not start"
  exit 1
fi
S=https://$net.1:$PW_SRV_PORT_N
U=$S/api/v1
pw_http GET "$U/health" "" "" --cacert "$T/server.pem"
expect_status 200 "the server answers on the host end"
reach() { ip netns exec "$ns" curl -s -o /dev/null --max-time 3 --cacert "$T/server.pem" "$U/health"; }
pw_wait_for 10 reach
check "the namespace reaches the server" reach

root=$T/root
cp -r "$PW_TEST_DATA/inventory/debian" "$root"
agent() { # agent ARGS...: the agent in the namespace
  timeout 60 ip netns exec "$ns" "$PW_BIN" agent "$@" --state-dir "$T/a" --root "$root" \
    --timeout 3 >"$T/agent.out" 2>&1
  AGENT_ST=$?
}
out_has() { grep -qF -- "$1" "$T/agent.out"; }
show() { sed 's/^/  | /' "$T/agent.out" | head -5; }

agent enroll --server "$S" --token "$etok" --ca "$T/other.pem"
check "a CA that did not sign the certificate is refused: $(show)" test "$AGENT_ST" -eq 2
check "with a certificate error" grep -qi "certificate" "$T/agent.out"
agent enroll --server "$S" --token "$etok"
check "the system's CAs do not vouch for a self-signed server" test "$AGENT_ST" -eq 2
agent enroll --server "$S" --token "$etok" --ca "$T/server.pem"
check "enroll over the veth with --ca: $(show)" test "$AGENT_ST" -eq 0
agent run --once
check "first check-in over HTTPS: $(show)" out_has "inventory sent"
pw_http GET "$U/hosts" "$admin" "" --cacert "$T/server.pem"
host=$(json 'j["hosts"][0]["id"]')
job() {
  pw_http POST "$U/hosts/$host/jobs" "$admin" "{\"kind\":\"$1\"}" --cacert "$T/server.pem"
}

# ---- results made before the cut --------------------------------------------
job inventory
job scan
agent run --once
check "two results spooled: $(show)" test "$(pw_spooled a)" -eq 2

# ---- the link goes down ------------------------------------------------------
netns_cut a
agent run --once
check "a check-in over the cut link fails: $(show)" test "$AGENT_ST" -eq 2
check "the results stay spooled" test "$(pw_spooled a)" -eq 2
ip netns exec "$ns" "$PW_BIN" agent run --state-dir "$T/a" --root "$root" --timeout 3 \
  2>"$T/run.log" &
agent_pid=$!
job inventory # queued on the server while the agent cannot reach it
pw_wait_for 20 eval '[ "$(grep -c "check-in failed" "$T/run.log")" -ge 2 ]'
check "the daemon keeps retrying: $(head -2 "$T/run.log")" \
  test "$(grep -c "check-in failed" "$T/run.log")" -ge 2
check "nothing arrived meanwhile" test -z "$(pw_delivered "$admin" "$U" --cacert "$T/server.pem" 2>/dev/null)"

# ---- the link comes back -----------------------------------------------------
netns_mend a
pw_wait_for 40 eval \
  '[ "$(pw_delivered "$admin" "$U" --cacert "$T/server.pem")" = "1 2 3" ]'
check "after the link is back everything arrives in order, once: $(tail -3 "$T/run.log")" \
  test "$(pw_delivered "$admin" "$U" --cacert "$T/server.pem")" = "1 2 3"
check "the spool is empty" test "$(pw_spooled a)" -eq 0
hwm=$(sed -n 's/^VmHWM:[[:space:]]*//p' "/proc/$agent_pid/status")
echo "agent run (TLS, netns): VmHWM $hwm"
kill -TERM "$agent_pid"
wait "$agent_pid"
st=$?
agent_pid=
check "SIGTERM stops the daemon cleanly ($st)" test "$st" -eq 0
pw_srv_summary
