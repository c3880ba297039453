#!/usr/bin/env bash
# `patchwarden-agent` (and `patchwarden agent`, the same command in the
# full binary) against the real `patchwarden server` on 127.0.0.1
# (plain HTTP, --insecure): argument and URL refusals, enrollment, the
# inventory sent the first time and only its hash after that (again when
# it changes), jobs run and their results spooled before delivery, the
# server stopped (results wait in the spool) and restarted on the same
# port (delivered in seq order, exactly once), the daemon (`run`) with
# backoff while the server is down, its RSS, SIGTERM, a damaged spool
# file quarantined, the spool size limit, and an unreadable package
# database.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/agent.sh"
agent_pid=
cleanup() {
  [ -n "$agent_pid" ] && kill -KILL "$agent_pid" 2>/dev/null
  pw_srv_cleanup
}
trap cleanup EXIT
T=$PW_SRV_TMP
db=sqlite:$T/server.db
printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\ncheckin_interval = 10\n' \
  >"$T/srv.conf"
out_has() { grep -qF -- "$1" "$T/agent.out"; }
show() { sed 's/^/  | /' "$T/agent.out" | head -5; }

# ---- refusals before any server -------------------------------------------
pw_agent a enroll --server http://127.0.0.1:1 --insecure
check "enroll without a token exits 2" test "$AGENT_ST" -eq 2
pw_agent a enroll --server http://127.0.0.1:1 --token x
check "plain http without --insecure is refused" out_has "plain http sends the credential"
pw_agent a enroll --server http://10.0.0.1:1 --token x --insecure
check "--insecure to a non-loopback host is refused" out_has "loopback address only"
pw_agent a enroll --server https://127.0.0.1:1 --token x --insecure
check "--insecure with https is refused" out_has "always verified"
pw_agent a enroll --server ftp://127.0.0.1 --token x
check "an ftp URL is refused ($AGENT_ST)" test "$AGENT_ST" -eq 2
pw_agent a run --once
check "run before enroll exits 2" test "$AGENT_ST" -eq 2
check "and says to enroll" out_has "run 'patchwarden agent enroll"
pw_agent a frobnicate
check "an unknown action exits 2" test "$AGENT_ST" -eq 2
pw_agent a status --once
check "--once is for run only" out_has "--once is for run only"
"$PW_BIN" agent --help >"$T/agent.out" 2>&1
check "--help shows the usage" out_has "usage: patchwarden agent enroll --server URL --token TOKEN"
check "patchwarden-agent --help shows the same" cmp -s "$T/agent.out" <("$PW_AGENT_BIN" --help 2>&1)
check "patchwarden-agent --version" test "$("$PW_AGENT_BIN" --version)" = "$("$PW_BIN" --version)"
# What keeps the daemon small: none of the server's or feed tools' libraries.
needed=$(readelf -d "$PW_AGENT_BIN" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
check "patchwarden-agent does not link libpq, libmicrohttpd, libarchive, libyaml: $needed" \
  test -z "$(grep -oE 'lib(pq|microhttpd|archive|yaml)[^ ]*' <<<"$needed")"
# cmake --install puts it where the systemd unit runs it from.
unit_bin=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$PW_SOURCE_DIR/dist/patchwarden-agent.service")
cmake --install "$PW_BUILD_DIR" --prefix "$T/inst" >/dev/null 2>&1
check "installed as $unit_bin (the unit's ExecStart)" test -x "$T/inst/bin/$(basename "$unit_bin")" \
  -a "$(dirname "$unit_bin")" = /usr/bin

# ---- a server, users, tokens ------------------------------------------------
"$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
"$PW_BIN" user add ops --role operator --no-password --db "$db" >/dev/null 2>&1
admin=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
ops=$("$PW_BIN" user token create ops --db "$db" 2>/dev/null)
etok=$("$PW_BIN" user enroll-token create --uses 1 --db "$db" 2>/dev/null)
pw_srv_start A -c "$T/srv.conf" --db "$db" || { pw_srv_summary; exit 1; }
port=$PW_SRV_PORT_A
S=http://127.0.0.1:$port
U=$S/api/v1

# The agent reports a copy of a test system, so the test can change it.
root=$T/root
cp -r "$PW_TEST_DATA/inventory/debian" "$root"
ag() { pw_agent a "$@" --root "$root"; }

ag enroll --server "$S" --token pwe_1.0000000000000000000000000000000000000000000000000000000000000000 --insecure
check "a wrong token exits 2" test "$AGENT_ST" -eq 2
check "with the server's reason" out_has "the server answered 401"
ag enroll --server "$S/" --token "$etok" --insecure
check "enroll: $(show)" test "$AGENT_ST" -eq 0
check "enroll prints the agent id" grep -q "^enrolled as ag_" "$T/agent.out"
check "the credential file is 0600" test "$(stat -c %a "$T/a/credential")" = 600
check "the state directory is 0700" test "$(stat -c %a "$T/a")" = 700
pw_http GET "$U/hosts" "$admin"
host=$(json 'j["hosts"][0]["id"]')
check "the host is known with its OS" test "$(json 'j["hosts"][0]["os"]["id"]')" = debian

# ---- inventory by hash ------------------------------------------------------
ag run --once
check "first check-in: $(show)" test "$AGENT_ST" -eq 0
check "the first check-in sends the inventory" out_has "inventory sent"
hash1=$("$PW_BIN" agent status --state-dir "$T/a" | sed -n 's/^inventory_hash_acked: //p')
pw_http GET "$U/hosts/$host" "$admin"
check "the server has that inventory" test "$(json 'j["inventory"]["hash"]')" = "$hash1"
ag run --once
check "the second check-in sends the hash only" out_has "hash only"
echo "Package: zz-new
Status: install ok installed
Architecture: all
Version: 1.0

" >>"$root/var/lib/dpkg/status"
ag run --once
check "a changed inventory is sent again" out_has "inventory sent"
hash2=$("$PW_BIN" agent status --state-dir "$T/a" | sed -n 's/^inventory_hash_acked: //p')
check "under a new hash" test -n "$hash2" -a "$hash2" != "$hash1"
ag run --once
check "then the hash only" out_has "hash only"

# ---- results spooled, server stopped and restarted --------------------------
j1=$(pw_job "$ops" "$U" "$host" inventory)
j2=$(pw_job "$ops" "$U" "$host" scan)
j3=$(pw_job "$ops" "$U" "$host" inventory)
ag run --once
check "three jobs run: $(show)" out_has "3 jobs run; 3 spooled"
check "three results in the spool" test "$(pw_spooled a)" -eq 3
check "named by seq" test -f "$T/a/spool/00000000000000000001.result"
check "the scan job without a feed store says why" \
  grep -q "no feed store on this host" "$T/a/spool/00000000000000000002.result"
pw_srv_stop A
check "the server stopped" test $? -eq 0
ag run --once
check "a check-in without server exits 2" test "$AGENT_ST" -eq 2
check "and says so" out_has "check-in failed"
check "the results wait in the spool" test "$(pw_spooled a)" -eq 3
pw_srv_start B -c "$T/srv.conf" --db "$db" --listen "127.0.0.1:$port" || { pw_srv_summary; exit 1; }
ag run --once
check "after the restart: $(show)" out_has "3 results sent, 3 acknowledged"
check "the spool is empty" test "$(pw_spooled a)" -eq 0
check "delivered in order, once" test "$(pw_delivered "$admin" "$U")" = "1 2 3"
pw_http GET "$U/hosts/$host/jobs" "$admin"
check "the inventory jobs are done, the scan job failed" test \
  "$(json '",".join(x["state"] for x in sorted(j["jobs"], key=lambda x: x["job_id"]))')" \
  = "done,failed,done"
ag run --once
check "nothing is sent twice" out_has "0 results sent"

# ---- scan jobs with a local feed store ----------------------------------------
"$PW_BIN" feed import --store "$T/feeds.db" --quiet \
  "$PW_SHARED_DATA/debian-security-tracker/data/DSA/list" >/dev/null 2>&1
check "a feed store for the agent" test -s "$T/feeds.db"
# Where the agent's sandboxed child may open it (SQLite writes beside it):
# the state directory, the default place.
mv "$T/feeds.db" "$T/a/feeds.db"
# The shared DSA list's releases end before bookworm: the host becomes buster.
sed -i 's/VERSION_ID="12"/VERSION_ID="10"/; s/bookworm/buster/g' "$root/etc/os-release"
jscan=$(pw_job "$ops" "$U" "$host" scan)
ag run --once --store "$T/a/feeds.db"
check "the scan job ran: $(show)" out_has "1 jobs run; 1 spooled"
check "its result is the scan JSON" grep -q '"summary":{' "$T/a/spool/00000000000000000004.result"
ag run --once --store "$T/a/feeds.db"
check "and is delivered" out_has "1 results sent, 1 acknowledged"
pw_http GET "$U/hosts/$host/jobs" "$admin"
check "the scan job is done" test "$(json "[x['state'] for x in j['jobs'] if x['job_id'] == $jscan][0]")" = done

# ---- the daemon: backoff while the server is down, then delivery -------------
pw_job "$ops" "$U" "$host" inventory >/dev/null
pw_job "$ops" "$U" "$host" inventory >/dev/null
ag run --once
check "two more results spooled" test "$(pw_spooled a)" -eq 2
pw_srv_stop B
"$PW_AGENT_BIN" run --state-dir "$T/a" --root "$root" 2>"$T/run.log" &
agent_pid=$!
pw_wait_for 10 grep -q "retry in 4s" "$T/run.log"
check "the daemon backs off 2 s, then 4 s: $(head -3 "$T/run.log")" grep -q "retry in 2s" "$T/run.log"
pw_srv_start C -c "$T/srv.conf" --db "$db" --listen "127.0.0.1:$port" || { pw_srv_summary; exit 1; }
pw_wait_for 20 eval '[ "$(pw_spooled a)" -eq 0 ]'
check "the daemon delivers once the server is back" test "$(pw_spooled a)" -eq 0
check "in order, exactly once" test "$(pw_delivered "$admin" "$U")" = "1 2 3 4 5 6"
# A job queued while the daemon waits is picked up at the next check-in
# (interval 10 s +-10%) and its result delivered right after.
pw_job "$ops" "$U" "$host" inventory >/dev/null
pw_wait_for 20 eval '[ "$(pw_delivered "$admin" "$U")" = "1 2 3 4 5 6 7" ]'
check "the daemon runs a new job and delivers it: $(tail -2 "$T/run.log")" \
  test "$(pw_delivered "$admin" "$U")" = "1 2 3 4 5 6 7"
hwm=$(sed -n 's/^VmHWM:[[:space:]]*//p' "/proc/$agent_pid/status")
anon=$(sed -n 's/^RssAnon:[[:space:]]*//p' "/proc/$agent_pid/status")
echo "agent run: VmHWM $hwm, RssAnon $anon (goal: under 8 MB)"
kill -TERM "$agent_pid"
pw_wait_for 10 bash -c "! kill -0 $agent_pid 2>/dev/null"
wait "$agent_pid"
st=$?
agent_pid=
check "SIGTERM stops the daemon cleanly ($st)" test "$st" -eq 0
check "and it says so" grep -q "stopping; 0 results stay spooled" "$T/run.log"

# ---- a damaged spool file ----------------------------------------------------
pw_job "$ops" "$U" "$host" inventory >/dev/null
pw_job "$ops" "$U" "$host" inventory >/dev/null
ag run --once
check "two results spooled" test "$(pw_spooled a)" -eq 2
truncate -s 30 "$T/a/spool/00000000000000000008.result"
ag run --once
check "the damaged one is reported: $(show)" out_has "damaged"
check "and moved to quarantine" test -f "$T/a/spool/quarantine/00000000000000000008.result"
check "the other is delivered" test "$(pw_delivered "$admin" "$U")" = "1 2 3 4 5 6 7 9"

# ---- the spool limit ----------------------------------------------------------
printf '[agent]\nspool_max_bytes = 200\n' >"$T/agent.conf"
pw_job "$ops" "$U" "$host" inventory >/dev/null
ag run --once --config "$T/agent.conf"
check "a result over the spool limit is reported: $(show)" out_has "does not fit"
check "nothing was spooled" test "$(pw_spooled a)" -eq 0
check "the job is given back" out_has "1 jobs given back"

# ---- an unreadable package database does not hold up the spool ------------------
mv "$root/var/lib/dpkg/status" "$T/status.away"
jbad=$(pw_job "$ops" "$U" "$host" inventory)
ag run --once
check "the check-in goes on without an inventory: $(show)" test "$AGENT_ST" -eq 0
check "and warns" out_has "the inventory could not be read"
check "with the last hash" out_has "hash only"
ag run --once
# Two: the failure, and that of the job given back above, handed out again.
check "the job's failure is delivered" test "$(pw_delivered "$admin" "$U")" = "1 2 3 4 5 6 7 9 10 11"
pw_http GET "$U/hosts/$host/jobs" "$admin"
check "the job failed" test "$(json "[x['state'] for x in j['jobs'] if x['job_id'] == $jbad][0]")" = failed
mv "$T/status.away" "$root/var/lib/dpkg/status"

pw_srv_stop C
pw_srv_summary
