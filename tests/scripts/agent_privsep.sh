#!/usr/bin/env bash
# Privilege separation of `patchwarden-agent run` as root (docs/agent.md,
# "Privilege separation"): a compromised child, played by the test hook
# PATCHWARDEN_PRIVSEP_FRAMES of a PW_TEST_HOOKS build, sends the parent
# requests outside the closed set, option- and shell-looking package
# names, a version with a newline, oversize counts and lengths and frames
# cut short: each is refused and logged, nothing runs, no file is written,
# no package database changes, and after 16 refusals or a malformed frame
# the parent ends the channel and the child. Then the real daemon against
# a real server: the child runs as the agent user with no capabilities,
# no_new_privs, a seccomp filter and Landlock (/proc/PID/status), checks
# in and runs a job from inside that sandbox, and `status` says so.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/agent.sh"
test_require root
test_require_cmd python3 sha256sum
agent_pid=
cleanup() {
  [ -n "$agent_pid" ] && kill -KILL "$agent_pid" 2>/dev/null
  pw_srv_cleanup
}
trap cleanup EXIT
T=$PW_SRV_TMP
chmod 755 "$T" # the agent user must reach its state directory below
out_has() { grep -qF -- "$1" "$T/agent.out"; }
show() { sed 's/^/  | /' "$T/agent.out" | head -8; }
frames() { python3 "$PW_SOURCE_DIR/tests/tools/privsep_frames.py" "$@"; }
# The agent user: `nobody` here (the package makes patchwarden-agent).
printf '[agent]\nuser = nobody\n' >"$T/agent.conf"
root=$T/root
cp -r "$PW_TEST_DATA/inventory/debian" "$root"
chmod -R a+rX "$root"
canary=$T/canary
hostdb() { cat /var/lib/dpkg/status "$root/var/lib/dpkg/status" 2>/dev/null | sha256sum; }
before=$(hostdb)
hooked() {
  PATCHWARDEN_PRIVSEP_FRAMES=$T/frames pw_agent "$1" -c "$T/agent.conf" run --root "$root"
}

# ---- a compromised child --------------------------------------------------------
frames bad "$T/frames" "$canary"
hooked hk
check "the hook ran in a sandboxed child: $(show)" \
  out_has "separated: user nobody (uid $(id -u nobody)), no capabilities, no_new_privs, seccomp"
refusal() { grep -E "^reply $1: refused: refused by the privileged side: " "$T/agent.out" | grep -qF -- "$2"; }
check "a kind outside the set is refused" refusal 1 "kind at offset 1: unknown kind 99"
check "kind 0 is refused" refusal 2 "unknown kind 0"
check "an option as a package name is refused" refusal 3 "packages[0].name: starts with '-'"
check "'foo; rm -rf /' is refused" refusal 4 "packages[0].name: holds a"
check "a version with a newline is refused" refusal 5 \
  "packages[0].version at offset"
check "naming the newline" refusal 5 "byte 0x0a is not allowed"
check "513 packages are refused" refusal 6 "n_packages at offset 9: 513, more than 512"
check "a count of 2^32-1 is refused" refusal 7 "n_packages at offset 9: 4294967295"
check "allow_reboot on simulate is refused" refusal 8 "flags: 0x2 not allowed on simulate"
check "a reboot without allow_reboot is refused" refusal 9 "needs the job's allow_reboot"
check "an unknown flag is refused" refusal 10 "unknown flags 0x40"
check "trailing bytes are refused" refusal 11 "1 trailing bytes"
check "a \$(command) version is refused" refusal 12 "packages[0].version: holds a shell"
check "a duplicate package is refused" refusal 13 "openssl is also packages[0]"
check "a path as a package name is refused" refusal 14 "packages[0].name: holds a shell"
check "a valid request reaches the executor" grep -qE "^reply 15: (done|failed): " "$T/agent.out"
check "and only it was run" test "$(grep -c 'privileged parent: running ' "$T/agent.out")" -eq 1
check "it ran simulate, nothing else" out_has "privileged parent: running simulate (1 packages)"
check "every refusal is logged by the parent" \
  test "$(grep -c 'privileged parent: request refused: ' "$T/agent.out")" -eq 14
check "a frame cut short ends the channel" \
  out_has "privileged parent: channel closed: a message of 100 bytes cut short after 10"
check "the process exits 2 then" test "$AGENT_ST" -eq 2
check "log lines are escaped (the newline shows as \\x0a)" \
  sh -c "! grep -q '^touch ' '$T/agent.out'"
check "no command ran (the canary does not exist)" test ! -e "$canary"
check "no package database changed" test "$(hostdb)" = "$before"
check "the child wrote nothing but its sandbox note: $(ls "$T/hk")" \
  test "$(ls -A "$T/hk")" = sandbox
check "the state directory belongs to the agent user" \
  test "$(stat -c %U "$T/hk")" = nobody

frames flood "$T/frames"
hooked hf
check "16 refused requests: the parent closes the channel" \
  out_has "16 requests refused: closing the channel"
check "the 17th gets no answer" sh -c "! grep -qE '^reply 17: (done|failed|refused)' '$T/agent.out'"
check "and the process exits 2" test "$AGENT_ST" -eq 2
frames huge "$T/frames"
hooked hh
check "a 64 MiB frame header is refused unread" \
  out_has "a message of 67108864 bytes announced, more than"
check "no reply to it" sh -c "! grep -qE '^reply 1: (done|failed|refused)' '$T/agent.out'"
check "still no canary" test ! -e "$canary"

# What the compromised child would try next, outside the message channel.
try() { PATCHWARDEN_PRIVSEP_TRY=$2 pw_agent "$1" -c "$T/agent.conf" run --root "$root"; }
try tw "write:$canary"
check "a file outside the state directory cannot be made: $(show)" out_has "try write:$canary: refused"
check "the canary still does not exist" test ! -e "$canary"
try tw "write:$T/tw/inside"
check "one inside the state directory can" out_has "try write:$T/tw/inside: allowed"
# TCP (Landlock ABI 4 and later): connect to the server's port only, no bind.
tcp() { PATCHWARDEN_PRIVSEP_TRY=$2 pw_agent "$1" -c "$T/agent.conf" run --root "$root" \
  --server http://127.0.0.1:1 --insecure; }
tcp tn connect:1
if out_has "tcp: connect to port 1 and 53 only, no bind"; then
  check "TCP to the server's port is allowed (nothing listens: refused)" \
    out_has "try connect:1: Connection refused"
  tcp tn connect:2
  check "TCP to another port is not: $(show)" out_has "try connect:2: Permission denied"
  tcp tn bind:0
  check "no TCP bind" out_has "try bind:0: Permission denied"
else
  check "the kernel has no Landlock TCP rules (ABI < 4): said so" \
    sh -c "grep -q 'no landlock (kernel)\|landlock ABI [123] ' '$T/agent.out'"
fi
try tx exec:/bin/true
check "execve kills the child (SIGSYS): $(show)" out_has "the child was killed by signal 31"
check "before it could say anything" sh -c "! grep -q 'try exec' '$T/agent.out'"
try tu setuid
check "setuid kills the child" out_has "the child was killed by signal 31"
try tp ptrace
if out_has "open for LeakSanitizer"; then # a sanitizer build (separate.c: PW_LSAN)
  check "ptrace: open for LeakSanitizer in this sanitizer build" out_has "try ptrace: "
else
  check "ptrace kills the child" out_has "the child was killed by signal 31"
fi

printf '[agent]\nuser = no-such-agent-user\n' >"$T/nouser.conf"
pw_agent hn -c "$T/nouser.conf" run --once
check "a missing agent user stops the start (no fallback): $(show)" \
  out_has "the agent user 'no-such-agent-user' does not exist"
check "exit 2" test "$AGENT_ST" -eq 2

# ---- the daemon against a real server ----------------------------------------------
db=sqlite:$T/server.db
printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\ncheckin_interval = 10\n' \
  >"$T/srv.conf"
"$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
"$PW_BIN" user add ops --role operator --no-password --db "$db" >/dev/null 2>&1
admin=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
ops=$("$PW_BIN" user token create ops --db "$db" 2>/dev/null)
etok=$("$PW_BIN" user enroll-token create --uses 1 --db "$db" 2>/dev/null)
pw_srv_start A -c "$T/srv.conf" --db "$db" || { pw_srv_summary; exit 1; }
S=http://127.0.0.1:$PW_SRV_PORT_A
pw_agent d enroll --server "$S" --token "$etok" --insecure --root "$root"
check "enrolled as root" test "$AGENT_ST" -eq 0
pw_http GET "$S/api/v1/hosts" "$admin"
host=$(json 'j["hosts"][0]["id"]')
"$PW_AGENT_BIN" -c "$T/agent.conf" run --root "$root" --state-dir "$T/d" >"$T/run.out" 2>&1 &
agent_pid=$!
run_has() { grep -qF -- "$1" "$T/run.out"; }
pw_wait_for 20 run_has "check-in ok"
check "the sandboxed child checks in: $(sed 's/^/  | /' "$T/run.out" | head -4)" \
  run_has "check-in ok: inventory sent"
child=$(cat "/proc/$agent_pid/task/$agent_pid/children" 2>/dev/null | awk '{print $1}')
field() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
fields() { awk -v k="$2:" '$1 == k {$1 = ""; print substr($0, 2)}' "/proc/$1/status"; }
nob=$(id -u nobody)
check "the parent keeps root" test "$(field "$agent_pid" Uid)" = 0
check "the child ($child) runs as nobody (real, effective, saved, fs)" \
  test "$(fields "$child" Uid)" = "$nob $nob $nob $nob"
check "with no groups" test -z "$(fields "$child" Groups)"
check "no effective capabilities" test "$(field "$child" CapEff)" = 0000000000000000
check "no permitted capabilities" test "$(field "$child" CapPrm)" = 0000000000000000
check "an empty bounding set" test "$(field "$child" CapBnd)" = 0000000000000000
check "no_new_privs" test "$(field "$child" NoNewPrivs)" = 1
check "a seccomp filter (mode 2)" test "$(field "$child" Seccomp)" = 2
check "the parent has no seccomp filter" test "$(field "$agent_pid" Seccomp)" = 0
echo "agent run, separated: parent VmRSS $(fields "$agent_pid" VmRSS), child VmRSS" \
  "$(fields "$child" VmRSS) (VmHWM $(fields "$child" VmHWM))"
check "the log says what was applied" run_has "separated: user nobody"
check "TCP only to the server's port where Landlock has TCP rules" \
  sh -c "grep -q 'tcp: connect to port $PW_SRV_PORT_A and 53 only' '$T/run.out' ||
    ! grep -q 'landlock ABI \([4-9]\|[1-9][0-9]\)' '$T/run.out'"
if [ -e /sys/kernel/security/landlock ] || grep -q "landlock ABI" "$T/run.out"; then
  check "Landlock applied" run_has "landlock ABI"
fi
j=$(pw_job "$ops" "$S/api/v1" "$host" inventory)
done_job() {
  pw_http GET "$S/api/v1/hosts/$host/jobs" "$admin"
  test "$(json '[x["state"] for x in j["jobs"] if x["job_id"] == '"$j"'][0]')" = done
}
pw_wait_for 40 done_job
check "a job run and delivered from inside the sandbox" done_job
"$PW_AGENT_BIN" -c "$T/agent.conf" status --state-dir "$T/d" >"$T/agent.out" 2>&1
check "status shows the separation: $(grep privileges "$T/agent.out")" \
  out_has "privileges: separated: user nobody (uid $nob), no capabilities, no_new_privs, seccomp"
kill -TERM "$agent_pid" # the parent only, as systemd's KillMode=mixed does
st=0
wait "$agent_pid" || st=$?
agent_pid=
check "SIGTERM to the parent: it passes it on, both stop, exit 0 ($st)" test "$st" -eq 0
check "the child is gone" test ! -e "/proc/$child"
check "the child finished cleanly" run_has "stopping; 0 results stay spooled"
check "the parent reports the channel closed by the child" \
  run_has "requests served, 0 refused; the other process closed the channel"

# ---- the systemd unit ------------------------------------------------------------
unit=$PW_SOURCE_DIR/dist/patchwarden-agent.service
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr '\n' ' ')
check "the unit runs as root (no DynamicUser/User): the parent needs it" \
  sh -c "! grep -qE '^(DynamicUser|User)=' '$unit'"
check "the parent keeps no kernel-level capability: $caps" \
  sh -c "! echo '$caps' | grep -qE 'CAP_(SYS_ADMIN|SYS_MODULE|SYS_RAWIO|SYS_PTRACE|NET_ADMIN|BPF|SYS_TIME)'"
check "but CAP_SETPCAP, for the child to empty its bounding set" grep -q CAP_SETPCAP <<<"$caps"
check "SIGTERM to the parent only (KillMode=mixed)" grep -qx "KillMode=mixed" "$unit"
check "the sysusers file makes the agent user" \
  grep -q "^u patchwarden-agent " "$PW_SOURCE_DIR/dist/patchwarden-agent.sysusers"

# ---- not root: one process, said so ------------------------------------------------
mkdir -p "$T/u" && chown nobody "$T/u"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$PW_AGENT_BIN" run --once \
  --state-dir "$T/u" --server "$S" --insecure >"$T/agent.out" 2>&1
check "as a user: 'privileges are not separated': $(show)" out_has "privileges are not separated"
test_done
