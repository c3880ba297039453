#!/usr/bin/env bash
# The agent's memory while it patches for real: the privilege-separated
# agent (`patchwarden-agent run` as root: a privileged parent that runs
# apt, an unprivileged sandboxed child that talks to the server) beside
# the single-process agent (the same binary run as another user, which
# does not separate privileges). Each daemon checks in with a real
# `patchwarden server` on 127.0.0.1 (HTTPS, its certificate given with
# --ca, check-in interval 10 s) for its own fresh Debian 12 root (the
# cached mmdebstrap bookworm, tests/scripts/lib/debroot.sh) with four old
# packages from the test repository (tests/scripts/lib/aptrepo.sh, served
# on loopback), and gets one patch job upgrading all four (one pulling in
# a new dependency; pwt-slow's postinst waits for this script, so the
# figures "during the job" are read while dpkg runs).
#
# The single-process agent cannot patch as a plain user (dpkg wants root),
# so it runs as nobody with the capabilities a job needs kept across exec
# (setpriv: chown, dac_override, fowner, sys_chroot, setuid, setgid as
# ambient capabilities, securebit no_setuid_fixup so that access(2) honours
# them) and its root tells dpkg --force-not-root; it is one process either
# way, which is what is measured.
#
#   bench/agent_memory.sh        (needs root; PW_BIN, PW_AGENT_BIN default
#                                 to the release build)
#
# Output: one row per process, KiB from /proc/PID/status: VmRSS, VmHWM and
# RssAnon once idle (after a full and a hash-only check-in) with Pss from
# smaps_rollup (shared pages divided among their users), VmRSS at its largest
# over the job (sampled every 50 ms from queuing to the result's
# delivery; apt and dpkg are other processes, not counted), VmHWM after
# the job, and VmRSS back in the wait.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
: "${PW_BIN:=$src/build/release/patchwarden}"
: "${PW_AGENT_BIN:=$src/build/release/patchwarden-agent}"
export PW_BIN PW_AGENT_BIN
[ "$(id -u)" = 0 ] || { echo "agent_memory.sh: needs root (chroot, setpriv)" >&2; exit 2; }
. "$src/tests/scripts/lib/aptfindings.sh"
T=$PW_SRV_TMP
daemon=
sampler=
cleanup() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null
  [ -n "$daemon" ] && kill -KILL "$daemon" 2>/dev/null
  [ -n "${APTREPO_PID:-}" ] && kill "$APTREPO_PID" 2>/dev/null
  for r in "$T"/root-*; do [ -d "$r/run" ] && aptf_slow_go "$r"; done
  pw_srv_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() {
  echo "agent_memory.sh: $*" >&2
  exit 1
}

aptf_packages "$T/repo" || die "cannot build the test repository"
aptrepo_serve "$T/repo" || die "cannot serve the test repository"
db=sqlite:$T/server.db
pw_srv_cert "$T" server 127.0.0.1 || die "openssl could not make a certificate"
export CURL_CA_BUNDLE=$T/server.pem # pw_http's curl; the agents get --ca
printf '[server]\ntls_cert = %s\ntls_key = %s\ncheckin_interval = 10\n' "$T/server.pem" \
  "$T/server.key" >"$T/srv.conf"
aptf_server 2 >/dev/null
[ -n "$admin" ] && [ -n "$etok" ] || die "cannot create the tokens"
pw_srv_start A -c "$T/srv.conf" --db "$db" || die "the server did not start"
S=https://127.0.0.1:$PW_SRV_PORT_A
U=$S/api/v1
# the release build reads the separated child's user from here only
printf '[agent]\nuser = nobody\n' >"$T/agent.conf"
caps=+chown,+dac_override,+fowner,+sys_chroot,+setuid,+setgid
single=(setpriv --securebits=+no_setuid_fixup --reuid=65534 --regid=65534 --clear-groups
  --inh-caps="$caps" --ambient-caps="$caps" --)
args='{"packages":[{"name":"pwt-vuln","version":"1.0-2"},{"name":"pwt-dep","version":"2.0-1"},
  {"name":"pwt-reboot","version":"1.0-2"},{"name":"pwt-slow","version":"1.0-2"}],"emergency":true}'

kib() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$2/status"; }
# sample OUT PID...: the largest VmRSS of each PID, every 50 ms, into OUT.PID
sample() {
  local out=$1 p v
  shift
  for p in "$@"; do echo 0 >"$out.$p"; done
  while :; do
    for p in "$@"; do
      v=$(kib VmRSS "$p")
      [ -n "$v" ] && [ "$v" -gt "$(cat "$out.$p")" ] && echo "$v" >"$out.$p"
    done
    sleep 0.05
  done
}

measure() { # measure NAME WRAPPER...: one agent, its rows in $T/table
  local name=$1 root=$T/root-$1 log=$T/$1.log st=$T/$1 host job pids p label
  shift
  aptrepo_root "$root" pwt-vuln=1.0-1 pwt-dep=1.0-1 pwt-reboot=1.0-1 pwt-slow=1.0-1 ||
    die "$name: cannot make the root"
  echo "bench-$name" >"$root/etc/hostname"
  [ "$name" = single ] &&
    echo 'DPkg::Options:: "--force-not-root";' >"$root/etc/apt/apt.conf.d/99pw-not-root"
  "$@" "$PW_AGENT_BIN" -c "$T/agent.conf" enroll --state-dir "$st" --root "$root" \
    --server "$S" --ca "$T/server.pem" --token "$etok" >"$T/enroll.out" 2>&1 ||
    die "$name: enroll: $(cat "$T/enroll.out")"
  "$@" "$PW_AGENT_BIN" -c "$T/agent.conf" run --state-dir "$st" --root "$root" 2>"$log" &
  daemon=$!
  test_wait_for 30 grep -q "hash only" "$log" || die "$name: no regular check-in: $(cat "$log")"
  sleep 0.5 # back in its wait
  pids=$daemon
  if [ "$name" = separated ]; then
    pids="$daemon $(cat "/proc/$daemon/task/$daemon/children")"
    [ "$(wc -w <<<"$pids")" -eq 2 ] || die "separated: not two processes: $pids"
  fi
  for p in $pids; do
    echo "$(kib VmRSS "$p") $(kib VmHWM "$p") $(kib RssAnon "$p")" \
      "$(sed -n 's/^Pss:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$p/smaps_rollup")" >"$T/idle.$p"
  done
  pw_http GET "$U/hosts" "$admin"
  host=$(json "[h['id'] for h in j['hosts'] if h['hostname'] == 'bench-$name'][0]")
  aptf_slow_reset "$root"
  sample "$T/max" $pids &
  sampler=$!
  job=$(aptf_queue "$host" patch "$args") || die "$name: cannot queue the job"
  aptf_slow_wait "$root" || die "$name: the job did not start: $(cat "$log")"
  aptf_slow_go "$root"
  test_wait_for 60 grep -q "1 results sent, 1 acknowledged" "$log" ||
    die "$name: the result was not delivered: $(cat "$log")"
  kill "$sampler"
  wait "$sampler" 2>/dev/null
  sampler=
  aptf_result "$job"
  [ "$(aptf_r .status)" = ok ] || die "$name: the job failed: $HTTP_BODY"
  [ "$(aptf_installed "$root" pwt-slow)" = 1.0-2 ] || die "$name: pwt-slow not patched"
  sleep 1.5 # back in its wait
  for p in $pids; do
    if [ "$name" = separated ]; then
      [ "$p" = "$daemon" ] && label="separated: privileged parent" ||
        label="separated: unprivileged child"
    else
      label="single process (uid nobody)"
    fi
    read -r ir ih ia ip <"$T/idle.$p"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$ir" "$ih" "$ia" "$ip" \
      "$(cat "$T/max.$p")" \
      "$(kib VmHWM "$p")" "$(kib VmRSS "$p")" >>"$T/table"
  done
  kill -TERM "$daemon"
  wait "$daemon" || die "$name: exit status $? after SIGTERM"
  daemon=
}

measure separated
measure single "${single[@]}"
echo "agent run: 2 check-ins idle, then 1 patch job (4 packages + 1 new dependency) through apt"
echo "| process | idle VmRSS | idle VmHWM | idle RssAnon | idle Pss | job VmRSS (max) |" \
  "VmHWM after the job | VmRSS after |"
echo "|---|---|---|---|---|---|---|---|"
cat "$T/table"
echo "(KiB, /proc/PID/status)"
