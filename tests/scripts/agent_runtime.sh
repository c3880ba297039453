#!/usr/bin/env bash
# What the agent sees as root goes with its inventory (issue 12): a real
# process runs a program of a package in a bookworm root (lib/debroot.sh,
# chrooted there), a second package's files no process uses. The agent
# (privilege-separated: its parent reads /proc) sends the runtime facts,
# and the real server ranks as a scan of / does: the unused package's
# finding low, "installed, but no running process uses its files"; the
# used one not. Then a real apt patch replaces the program on disk while
# the process still runs the old one: the finding stays open, its reason
# naming the process, until the process is gone. What is in use and what
# runs deleted code the test reads itself from /proc/PID/maps and the
# dpkg file lists, not from patchwarden.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/aptfindings.sh"
aptf_require

runner=
cleanup() {
  [ -n "$runner" ] && kill -KILL "$runner" 2>/dev/null
  [ -n "${APTREPO_PID:-}" ] && kill "$APTREPO_PID" 2>/dev/null
  pw_srv_cleanup
}
trap cleanup EXIT
T=$PW_SRV_TMP
db=sqlite:$T/server.db
feeds=$T/feeds.db

# pwt-run ships a program (a copy of sleep(1), its version appended so the
# two differ); pwt-idle only data.
for v in 1.0-1 1.0-2; do
  mkdir -p "$T/payload-$v/usr/bin"
  { cat /usr/bin/sleep && echo "pwt-run $v"; } >"$T/payload-$v/usr/bin/pwt-run"
  chmod 755 "$T/payload-$v/usr/bin/pwt-run"
done
check "packages built and indexed" eval 'aptrepo_pkg "$T/repo" pwt-run 1.0-1 "" "" "$T/payload-1.0-1" &&
  aptrepo_pkg "$T/repo" pwt-run 1.0-2 "" "" "$T/payload-1.0-2" &&
  aptrepo_pkg "$T/repo" pwt-idle 1.0-1 && aptrepo_pkg "$T/repo" pwt-idle 1.0-2 &&
  aptrepo_index "$T/repo"'
check "served on loopback" aptrepo_serve "$T/repo"
A=$T/root
check "bookworm root with pwt-run and pwt-idle 1.0-1" \
  aptrepo_root "$A" pwt-run=1.0-1 pwt-idle=1.0-1
chroot "$A" /usr/bin/pwt-run 600 &
runner=$!
maps_has() { grep -qF -- "$1" "/proc/$runner/maps"; }
check "the process runs pwt-run from the root" test_wait_for 10 maps_has "$A/usr/bin/pwt-run"
check "its file is in pwt-run's dpkg file list" grep -qx /usr/bin/pwt-run "$A/var/lib/dpkg/info/pwt-run.list"
idle_used=$(grep -lF -- "$A/usr/share/pwt-idle" /proc/[0-9]*/maps 2>/dev/null | wc -l)
check "no process maps a file of pwt-idle" test "$idle_used" -eq 0

cat >"$T/DSA.list" <<'EOF'
[07 Dec 2026] DSA-9921-1 pwt-idle - security update
	{CVE-2099-20002}
	[bookworm] - pwt-idle 1.0-2
[07 Dec 2026] DSA-9920-1 pwt-run - security update
	{CVE-2099-20001}
	[bookworm] - pwt-run 1.0-2
EOF
printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\n' >"$T/srv.conf"
printf '[feeds]\nstore = %s\nrecompute_interval = 1\n' "$feeds" >>"$T/srv.conf"
"$PW_BIN" feed import --store "$feeds" "$T/DSA.list" >"$T/import.out" 2>&1
check "the feed file imported" test $? -eq 0
ag() { pw_agent a "$@" --root "$A"; }
pw_agent_server_enrolled "$T/srv.conf" "$db" ||
  { bad "server up, agent enrolled"; pw_srv_summary; exit 1; }
ag run --once
check "the first check-in sends the inventory" grep -q "inventory sent" "$T/agent.out"
check "and the runtime facts (read by the privileged parent)" grep -q "runtime sent" "$T/agent.out"
pw_http GET "$U/hosts" "$admin"
host=$(json 'j["hosts"][0]["id"]')

# finding PACKAGE STATE: "priority|reason" of the host's PACKAGE finding in STATE
finding() {
  pw_http GET "$U/hosts/$host/findings?state=$2&limit=1000" "$admin" &&
    jq -r ".findings[] | select(.package == \"$1\") | \"\(.priority)|\(.reason)\"" <<<"$HTTP_BODY"
}
both_open() { [ -n "$(finding pwt-run open)" ] && [ -n "$(finding pwt-idle open)" ]; }
check "both findings open within 20 s" pw_wait_for 20 both_open
idle=$(finding pwt-idle open)
check "pwt-idle, used by no process, is low: $idle" \
  test "$idle" = "low|installed, but no running process uses its files"
run=$(finding pwt-run open)
check "pwt-run, in use, is not: $run" test "${run%%|*}" != low
pw_http GET "$U/hosts/$host/findings?state=open&limit=1000" "$admin"
fid=$(jq -r '.findings[] | select(.package == "pwt-run") | .id' <<<"$HTTP_BODY")

pw_http POST "$U/hosts/$host/jobs" "$admin" "{\"kind\":\"patch\",\"args\":{\"findings\":[$fid],\"emergency\":true}}"
check "a patch of pwt-run queued" test "$HTTP_STATUS" = 201
ag run --once
check "the agent runs it" grep -q "1 jobs run" "$T/agent.out"
check "dpkg: pwt-run 1.0-2 on disk" test "$(aptf_installed "$A" pwt-run)" = 1.0-2
check "the process still runs the old, deleted program (its maps say so)" \
  maps_has "$A/usr/bin/pwt-run (deleted)"
ag run --once
check "the next check-in sends the patched inventory" grep -q "inventory sent" "$T/agent.out"
check "and the new runtime facts" grep -q "runtime sent" "$T/agent.out"
comm=$(cat "/proc/$runner/comm")
held() { finding pwt-run open | grep -qF "fixed on disk (pwt-run 1.0-2 installed), but $comm (pid $runner"; }
check "the pwt-run finding stays open, fixed on disk but the old code running" \
  pw_wait_for 20 held
check "its reason names the deleted file and when it closes" \
  eval 'finding pwt-run open | grep -qF "the deleted /usr/bin/pwt-run; open until it restarts or the host reboots"'
check "pwt-idle is still open (not patched)" test -n "$(finding pwt-idle open)"

kill -KILL "$runner" && wait "$runner" 2>/dev/null
runner=
ag run --once
check "the check-in after the process ended sends the runtime facts" grep -q "runtime sent" "$T/agent.out"
closed() { [ -z "$(finding pwt-run open)" ] && [ -n "$(finding pwt-run fixed)" ]; }
check "the pwt-run finding is fixed once no process runs the old code" pw_wait_for 20 closed
ag run --once
check "unchanged facts are not sent again" sh -c "! grep -q 'runtime sent' '$T/agent.out'"
pw_srv_summary
