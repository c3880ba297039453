#!/usr/bin/env bash
# A reboot job end to end with the real server and the privilege-separated
# agent (issue 12): the agent marks the job in its state directory, its
# privileged parent runs the reboot command, and the job stays leased
# while the machine is (still) in the same boot; only the first check-in
# in another boot reports it, with the kernel running then (uname -r,
# read here). A reboot that never comes back is failed by the server
# after [jobs] reboot_timeout, and a late report does not revive it.
# Test hooks of a PW_TEST_HOOKS build play the machine:
# PATCHWARDEN_TEST_REBOOT_CMD is run by the parent instead of systemctl
# reboot, PATCHWARDEN_TEST_BOOT_ID names the file the boot id is read from
# instead of /proc/sys/kernel/random/boot_id ("agent stopped, boot id
# changed, agent started" is: change the file, run the agent again).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/agent.sh"
test_require root
test_require_cmd jq python3 uname
trap pw_srv_cleanup EXIT
T=$PW_SRV_TMP
db=sqlite:$T/server.db
root=$T/root
cp -r "$PW_TEST_DATA/inventory/debian" "$root"
chmod -R a+rX "$root"
# Under the root: the sandboxed child may read it there.
export PATCHWARDEN_TEST_BOOT_ID=$root/boot_id
export PATCHWARDEN_TEST_REBOOT_CMD="/usr/bin/touch $T/rebooted"
echo 11111111-aaaa-4aaa-8aaa-000000000001 >"$PATCHWARDEN_TEST_BOOT_ID"
chmod 644 "$PATCHWARDEN_TEST_BOOT_ID"

cp "$(pw_srv_plain_conf)" "$T/srv.conf"
printf '[jobs]\nreboot_timeout = 60\n' >>"$T/srv.conf"
ag() { pw_agent a "$@" --root "$root"; }
pw_agent_server_enrolled "$T/srv.conf" "$db" ||
  { bad "server up, agent enrolled"; pw_srv_summary; exit 1; }
out_has() { grep -qF -- "$1" "$T/agent.out"; }
ag run --once
check "checked in" out_has "check-in ok"
pw_http GET "$U/hosts" "$admin"
host=$(json 'j["hosts"][0]["id"]')
queue_reboot() {
  pw_http POST "$U/hosts/$host/jobs" "$admin" '{"kind":"reboot","args":{"emergency":true}}'
  [ "$HTTP_STATUS" = 201 ] && json 'j["job_id"]'
}
state() { pw_http GET "$U/jobs/$1" "$admin" && json 'j["state"]'; }

job=$(queue_reboot)
check "a reboot queued (emergency: the host has no window)" test -n "$job"
ag run --once
check "the agent takes it: reboot started" out_has "reboot started for job $job"
check "its privileged parent ran the reboot command" test -e "$T/rebooted"
check "the mark is in the state directory" test -e "$T/a/reboot"
check "the job is leased, not done: no result before the reboot" test "$(state "$job")" = leased
ag run --once
check "a check-in in the same boot reports nothing" sh -c "! grep -q 'back after' '$T/agent.out'"
check "the job is still leased" test "$(state "$job")" = leased
other=$(queue_reboot)
ag run --once
ag run --once
check "another reboot while one is under way fails at once" test "$(state "$other")" = failed
pw_http GET "$U/jobs/$other" "$admin"
check "saying which" grep -qF "not rebooted: the reboot of job $job is under way" <<<"$HTTP_BODY"
check "the first one is still leased" test "$(state "$job")" = leased

# ---- the agent stopped, the boot id changed, the agent started ---------------
echo 11111111-aaaa-4aaa-8aaa-000000000002 >"$PATCHWARDEN_TEST_BOOT_ID"
ag run --once
check "the first check-in in the new boot reports the reboot" out_has "back after the reboot of job $job"
check "and delivers it at once" out_has "1 acknowledged"
check "the job is done" test "$(state "$job")" = done
pw_http GET "$U/jobs/$job" "$admin"
kernel=$(uname -r)
check "its result has the running kernel ($kernel)" \
  test "$(jq -r .result.output.kernel <<<"$HTTP_BODY")" = "$kernel"
check "and both boot ids" test "$(jq -r '.result.output.boot_id_before + " " + .result.output.boot_id' \
  <<<"$HTTP_BODY")" = "11111111-aaaa-4aaa-8aaa-000000000001 11111111-aaaa-4aaa-8aaa-000000000002"
check "the mark is gone" test ! -e "$T/a/reboot"

# ---- a host that does not come back: failed after reboot_timeout -------------
job2=$(queue_reboot)
ag run --once
check "a second reboot started" out_has "reboot started for job $job2"
pw_srv_stop A
PATCHWARDEN_TEST_NOW=$(($(date +%s) + 61)) pw_srv_start A -c "$T/srv.conf" --db "$db" ||
  { pw_srv_summary; exit 1; }
U=http://127.0.0.1:$PW_SRV_PORT_A/api/v1
failed() { [ "$(state "$job2")" = failed ]; }
check "the server fails it within 30 s (no report within 60 s)" test_wait_for 30 failed
pw_http GET "$U/jobs/$job2" "$admin"
check "saying why" grep -qF "did not report back within [jobs] reboot_timeout" <<<"$HTTP_BODY"
echo 11111111-aaaa-4aaa-8aaa-000000000003 >"$PATCHWARDEN_TEST_BOOT_ID"
pw_srv_stop A
pw_srv_start A -c "$T/srv.conf" --db "$db" || { pw_srv_summary; exit 1; }
S=http://127.0.0.1:$PW_SRV_PORT_A
U=$S/api/v1
ag run --once --server "$S"
check "a late report is delivered" out_has "back after the reboot of job $job2"
check "but the job stays failed" test "$(state "$job2")" = failed
pw_srv_summary
