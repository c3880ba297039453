#!/usr/bin/env bash
# SIGHUP to the agent (issue 16): the daemon reads its configuration file
# again and starts again with it (same process id: it executes itself
# again; the spool and the enrollment stay in the state directory). A
# file that does not load changes nothing: the agent says why and goes on
# with the configuration it has. Separated as root (the privileged parent
# reads the file: the sandboxed child cannot) and as a single process
# (uid nobody). SIGTERM still stops it with status 0.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/agent.sh"
test_require root
daemon=
cleanup() {
  [ -n "$daemon" ] && kill -KILL "$daemon" 2>/dev/null
  pw_srv_cleanup
}
trap cleanup EXIT
T=$PW_SRV_TMP
db=sqlite:$T/server.db
root=$T/root
cp -r "$PW_TEST_DATA/inventory/debian" "$root"
chmod -R a+rX "$root"
ag() { pw_agent a "$@" --root "$root"; }
pw_agent_server_enrolled "$(pw_srv_plain_conf)" "$db" ||
  { bad "server up, agent enrolled"; pw_srv_summary; exit 1; }
# count TEXT: lines of the daemon's log holding TEXT.
count() { grep -cF -- "$1" "$T/daemon.log"; }
# logged N TEXT: the daemon's log holds TEXT N times or more (20 s at most).
logged() { test_wait_for 20 eval "[ \"\$(count \"$2\")\" -ge $1 ]"; }

# start NAME [SETPRIV...]: the daemon on state directory NAME, checking in every 10 s.
start() {
  local name=$1
  shift
  : >"$T/daemon.log"
  "$@" "$PW_AGENT_BIN" run -c "$T/agent.conf" --state-dir "$T/$name" --root "$root" \
    >>"$T/daemon.log" 2>&1 &
  daemon=$!
}
stop() {
  kill -TERM "$daemon"
  wait "$daemon"
  check "SIGTERM: exit 0" test $? -eq 0
  daemon=
}

for mode in separated single; do
  if [ "$mode" = separated ]; then
    printf '[agent]\ntimeout = 30\n' >"$T/agent.conf"
    start a
  else
    cp -a "$T/a" "$T/b"
    chown -R nobody "$T/b" "$T/agent.conf"
    chmod 755 "$T"
    # setpriv executes the agent in its own process: signals reach it.
    start b setpriv --reuid=nobody --regid=nogroup --clear-groups --
  fi
  pid=$daemon
  check "$mode: checked in" logged 1 "check-in ok"
  [ "$mode" = separated ] &&
    check "$mode: privileges separated" logged 1 "privileged parent $pid serves child"
  printf '[agent]\ntimeout = 31\n' >"$T/agent.conf"
  before=$(count "check-in ok")
  kill -HUP "$pid"
  check "$mode: SIGHUP: read again, starting again" logged 1 "SIGHUP: configuration read again: starting again with it"
  check "$mode: checks in again after it" logged $((before + 1)) "check-in ok"
  check "$mode: the same process" kill -0 "$pid"
  [ "$mode" = separated ] &&
    check "$mode: a new child under the same parent" logged 2 "privileged parent $pid serves child"
  check "$mode: started again with its arguments" \
    grep -q -- "-c $T/agent.conf" <(tr '\0' ' ' </proc/"$pid"/cmdline)
  printf '[agent]\ntimeout = -1\n' >"$T/agent.conf"
  before=$(count "check-in ok")
  kill -HUP "$pid"
  check "$mode: a bad file: the previous configuration kept" \
    logged 1 "SIGHUP: [agent] timeout must be positive and spool_max_bytes not negative; "
  check "$mode: ... and it goes on" logged $((before + 1)) "check-in ok"
  printf '[agent]\ntimeout = 30\ntimeout = 31\n' >"$T/agent.conf"
  kill -HUP "$pid"
  check "$mode: a key set twice: kept too" logged 1 "timeout is set again (first on line 2)"
  check "$mode: still the same process" kill -0 "$pid"
  printf '[agent]\ntimeout = 30\n' >"$T/agent.conf"
  stop
done
pw_srv_summary
