#!/usr/bin/env bash
# An agent whose result counter goes back loses nothing (issue 10, bug 1),
# on SQLite and on a real PostgreSQL 15: results are told apart by their
# content, not by (agent, seq) alone.
#  * spool/next-seq deleted: the next check-in's reply carries the
#    server's high-water mark, so the next result is numbered above it
#    (before: numbered 1 again, acknowledged as a "resend" and lost);
#  * a state directory restored from a backup, with a result spooled
#    under a seq the server holds another result under: the server
#    answers "conflict", the agent renumbers it and delivers it, and the
#    audit log says what happened (before: acknowledged, deleted, lost,
#    audited as "resent");
#  * a true resend (the same result after a lost reply) is acknowledged
#    once more and stored once.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/pg.sh"
. "$here/lib/agent.sh"
trap pw_srv_cleanup EXIT # pw_pg_start runs pw_pg_stop before it
T=$PW_SRV_TMP
conf=$(pw_srv_plain_conf)
out_has() { grep -qF -- "$1" "$T/agent.out"; }
show() { sed 's/^/  | /' "$T/agent.out" | head -5; }
spool_file() { printf '%s/%s/spool/%020d.result' "$T" "$1" "$2"; }

# job_state TOKEN URL HOST JOB
job_state() {
  pw_http GET "$2/hosts/$3/jobs" "$1"
  json "[x['state'] for x in j['jobs'] if x['job_id'] == $4][0]"
}

# run_case NAME DB: one server on DB, one agent (state dir $T/NAME).
run_case() {
  local name=$1 db=$2 admin ops etok U host root j1 j2 j3 j4
  "$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
  "$PW_BIN" user add ops --role operator --no-password --db "$db" >/dev/null 2>&1
  admin=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
  ops=$("$PW_BIN" user token create ops --db "$db" 2>/dev/null)
  etok=$("$PW_BIN" user enroll-token create --uses 1 --db "$db" 2>/dev/null)
  pw_srv_start "$name" -c "$conf" --db "$db" || return 1
  local port_var=PW_SRV_PORT_$name
  U=http://127.0.0.1:${!port_var}/api/v1
  root=$T/root-$name
  cp -r "$PW_TEST_DATA/inventory/debian" "$root"
  ag() { pw_agent "$name" "$@" --root "$root"; }
  ag enroll --server "${U%/api/v1}" --token "$etok" --insecure
  check "$name: enroll: $(show)" test "$AGENT_ST" -eq 0
  pw_http GET "$U/hosts" "$admin"
  host=$(json 'j["hosts"][0]["id"]')

  j1=$(pw_job "$ops" "$U" "$host" inventory)
  ag run --once
  ag run --once
  check "$name: the first result is delivered as seq 1: $(show)" \
    test "$(pw_delivered "$admin" "$U")" = "1"

  # ---- spool/next-seq deleted with an empty spool ---------------------------
  rm "$T/$name/spool/next-seq"
  j2=$(pw_job "$ops" "$U" "$host" inventory)
  ag run --once
  check "$name: after next-seq was deleted the new result is numbered above the server's" \
    test -f "$(spool_file "$name" 2)"
  ag run --once
  check "$name: and delivered: $(show)" out_has "1 results sent, 1 acknowledged"
  check "$name: stored as a new result, not taken for a resend" \
    test "$(pw_delivered "$admin" "$U")" = "1 2"
  check "$name: its job completes" test "$(job_state "$admin" "$U" "$host" "$j2")" = done

  # ---- a restored state directory: a spooled result under a used seq ----------
  j3=$(pw_job "$ops" "$U" "$host" inventory)
  ag run --once
  check "$name: a third result spooled" test -f "$(spool_file "$name" 3)"
  mv "$(spool_file "$name" 3)" "$(spool_file "$name" 1)"
  rm "$T/$name/spool/next-seq"
  ag run --once
  check "$name: the server answers conflict, the agent renumbers: $(show)" \
    out_has "1 results renumbered"
  check "$name: nothing is acknowledged" out_has "1 results sent, 0 acknowledged"
  check "$name: the result is kept, above the server's seqs" test -f "$(spool_file "$name" 3)" \
    -a ! -e "$(spool_file "$name" 1)"
  check "$name: its job is not done yet" test "$(job_state "$admin" "$U" "$host" "$j3")" = leased
  ag run --once
  check "$name: the renumbered result is delivered: $(show)" \
    out_has "1 results sent, 1 acknowledged"
  check "$name: the spool is empty" test "$(pw_spooled "$name")" -eq 0
  check "$name: its job completes" test "$(job_state "$admin" "$U" "$host" "$j3")" = done
  check "$name: the audit log says conflict, then the delivery; never resent" \
    test "$(pw_delivered "$admin" "$U")" = "1 2 1:conflict 3"

  # ---- a true resend after a lost reply ------------------------------------
  j4=$(pw_job "$ops" "$U" "$host" inventory)
  ag run --once
  cp "$(spool_file "$name" 4)" "$T/resend-$name"
  ag run --once
  check "$name: result 4 delivered" test "$(pw_delivered "$admin" "$U")" = "1 2 1:conflict 3 4"
  cp "$T/resend-$name" "$(spool_file "$name" 4)"
  ag run --once
  check "$name: the same result again is acknowledged: $(show)" \
    out_has "1 results sent, 1 acknowledged"
  check "$name: and audited as a resend" \
    test "$(pw_delivered "$admin" "$U")" = "1 2 1:conflict 3 4 4:resent"
  check "$name: the job is done" test "$(job_state "$admin" "$U" "$host" "$j4")" = done
  pw_http GET "$U/hosts/$host/jobs" "$admin"
  check "$name: all four jobs done" \
    test "$(json '",".join(x["state"] for x in sorted(j["jobs"], key=lambda x: x["job_id"]))')" \
    = "done,done,done,done"
  check "$name: the audit chain verifies" \
    "$PW_BIN" audit verify --db "$db" >/dev/null 2>&1
  pw_srv_stop "$name"
  check "$name: the server stopped cleanly" test $? -eq 0
}

run_case sqlite "sqlite:$T/server.db"
if pw_pg_start; then
  echo "PostgreSQL 15 up on 127.0.0.1:$PW_PG_PORT in ${PW_PG_START_MS} ms"
  run_case pg "$PW_TEST_PG_URL"
else
  bad "PostgreSQL did not start"
fi
pw_srv_summary
