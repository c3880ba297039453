#!/usr/bin/env bash
# The multi-node deployment (issue 16, docs/deployment.md), all on
# loopback, every process started here: a one-node etcd, two PostgreSQL
# 15 nodes managed by Patroni (a primary and a synchronous streaming
# replica), two server nodes A and B on both (libpq's multi-host URL with
# target_session_attrs=read-write follows the primary), HAProxy in front
# of A and B (health: HEAD /api/v1/health/ready), agents checking in
# through HAProxy; TLS everywhere but to PostgreSQL and etcd (a test CA).
# The configuration files are the blocks of docs/deployment.md, ports and
# paths filled in.
#   1. A is killed (SIGKILL): the agents' next check-ins succeed through
#      B, and the jobs queued before are each handed out once.
#   2. A is back; the PostgreSQL primary is killed (Patroni and every
#      postgres process, SIGKILL) while a writer creates jobs through
#      HAProxy: Patroni promotes the replica, both nodes reconnect (and a
#      third with no traffic meanwhile serves its first request), the
#      agents continue, and no acknowledged job, result or audit event is
#      lost; the audit chain verifies on the new primary.
# Prints both failover times (kill -> first success).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/agent.sh"
test_require root
test_require_cmd haproxy patroni etcd etcdctl
id postgres >/dev/null 2>&1 || test_skip "needs the 'postgres' user (postgresql package)"
PGBIN=/usr/lib/postgresql/15/bin
[ -x "$PGBIN/postgres" ] || test_skip "needs PostgreSQL 15 (scripts/deps)"

T=$PW_SRV_TMP
chmod 711 "$T"
declare -A PID # etcd, haproxy, patroni pg1 and pg2, the writer, the watchdog
# kill_now PID...: SIGKILL, without bash's "Killed" line for its own jobs.
kill_now() {
  local p
  for p; do disown "$p" 2>/dev/null; done
  kill -KILL "$@" 2>/dev/null
}
cleanup() {
  local n pm
  [ -n "${PID[watchdog]:-}" ] && kill -TERM "${PID[watchdog]}" 2>/dev/null
  unset "PID[watchdog]"
  kill_now "${PID[@]}" "${PW_SRV_PID[@]}"
  for n in pg1 pg2; do
    pm=$(head -1 "$T/$n/data/postmaster.pid" 2>/dev/null)
    [ -n "$pm" ] && kill_now "$pm" $(ps -o pid= --ppid "$pm")
  done
  pw_srv_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT
# Bounded: past 240 s (ctest's TIMEOUT for this script is 300), stop and
# clean up rather than be killed with the cluster left running.
trap 'bad "stopped: over 240 s or terminated"; dump_logs; exit 1' TERM
(
  sleep 240 &
  trap 'kill $!; exit 0' TERM
  wait $!
  kill -TERM $$
) &
PID[watchdog]=$!

free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# code URL: the HTTP status of a GET, 000 when nothing answered.
code() { curl -s -o /dev/null --max-time 5 -w '%{http_code}' "$1" || true; }
dump_logs() {
  local f
  for f in "$T"/*.log "$T"/pg?/patroni.log; do
    [ -f "$f" ] && { echo "--- $f"; tail -15 "$f"; }
  done
}
die() {
  bad "$*"
  dump_logs
  test_done
}

# doc_file NAME KEY=VALUE...: the block "ha_deployment.sh: NAME" of
# docs/deployment.md with its @KEY@ placeholders filled in: the test runs
# the configuration files the documentation shows.
doc_file() {
  python3 - "$PW_SOURCE_DIR/docs/deployment.md" "$@" <<'PY'
import re, sys
doc, name, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
m = re.search(r"<!-- ha_deployment\.sh: " + re.escape(name) + r" -->\n```[a-z]*\n(.*?)```\n",
              open(doc).read(), re.S)
if not m:
    sys.exit("docs/deployment.md has no block " + name)
out = m.group(1)
for p in pairs:
    k, v = p.split("=", 1)
    out = out.replace("@" + k + "@", v)
left = re.findall(r"@[A-Z0-9_]+@", out)
if left:
    sys.exit(name + ": placeholders left: " + " ".join(left))
sys.stdout.write(out)
PY
}

# ---- certificates: a CA, HAProxy's (127.0.0.1), the nodes' ------------------
# cert NAME SAN: a P-256 key and a one-day certificate signed by the CA.
cert() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$1" \
    -keyout "$T/$1.key" -out "$T/$1.csr" 2>>"$T/openssl.log" &&
    openssl x509 -req -in "$T/$1.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial \
      -days 1 -out "$T/$1.crt" -extfile <(printf 'subjectAltName=%s\n' "$2") \
      2>>"$T/openssl.log"
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj "/CN=patchwarden test CA" -keyout "$T/ca.key" -out "$T/ca.crt" 2>"$T/openssl.log" &&
  cert lb IP:127.0.0.1 && cert node DNS:patchwarden-node,IP:127.0.0.1 ||
  die "openssl could not make the certificates: $(tail -3 "$T/openssl.log")"
cat "$T/lb.crt" "$T/lb.key" >"$T/lb.pem"
chmod 600 "$T"/*.key "$T/lb.pem"
# curl (not the agent) trusts the test CA.
export CURL_CA_BUNDLE=$T/ca.crt

# ---- etcd -------------------------------------------------------------------
etcd_port=$(free_port)
etcd_peer=$(free_port)
etcd --name pw-etcd --data-dir "$T/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$etcd_peer" \
  --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
  --initial-cluster "pw-etcd=http://127.0.0.1:$etcd_peer" >"$T/etcd.log" 2>&1 &
PID[etcd]=$!
test_wait_for 30 etcdctl --endpoints "127.0.0.1:$etcd_port" --dial-timeout 1s endpoint health \
  >/dev/null 2>&1 || die "etcd did not start"

# ---- PostgreSQL under Patroni -------------------------------------------------
supw=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
replpw=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
pwpw=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
declare -A PGPORT REST
for n in pg1 pg2; do
  PGPORT[$n]=$(free_port)
  REST[$n]=$(free_port)
  mkdir -m 700 "$T/$n"
  # The bootstrap section is read by the first node only (it writes the
  # cluster-wide settings to etcd); both carry it, as in production.
  doc_file patroni.yml NAME=$n REST_PORT=${REST[$n]} ETCD_PORT=$etcd_port PG_PORT=${PGPORT[$n]} \
    DIR="$T/$n" SUPERUSER_PASSWORD=$supw REPLICATION_PASSWORD=$replpw >"$T/$n/patroni.yml" ||
    die "docs/deployment.md: no patroni.yml"
  chown -R postgres: "$T/$n"
  chmod 600 "$T/$n/patroni.yml"
done
start_patroni() {
  setpriv --reuid=postgres --regid=postgres --init-groups --reset-env \
    patroni "$T/$1/patroni.yml" >"$T/$1/patroni.log" 2>&1 &
  PID[$1]=$!
}
start_patroni pg1
test_wait_for 60 eval '[ "$(code "http://127.0.0.1:${REST[pg1]}/primary")" = 200 ]' ||
  die "Patroni did not bootstrap pg1 as the primary"
start_patroni pg2
# /sync answers 200 on the synchronous standby: pg2 streams and every
# commit on pg1 waits for it from now on.
test_wait_for 90 eval '[ "$(code "http://127.0.0.1:${REST[pg2]}/sync")" = 200 ]' ||
  die "pg2 did not become the synchronous replica"
ok "Patroni: pg1 primary, pg2 synchronous replica"

psql_on() { # NODE SQL: as the superuser, on NODE's port
  PGPASSWORD=$supw psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "${PGPORT[$1]}" \
    -U postgres -d "${3:-patchwarden}" -c "$2"
}
psql_on pg1 "CREATE ROLE patchwarden LOGIN PASSWORD '$pwpw'" postgres &&
  psql_on pg1 "CREATE DATABASE patchwarden OWNER patchwarden" postgres ||
  die "could not create the patchwarden role and database"

# ---- users, the two server nodes, HAProxy ------------------------------------
# The nodes' configuration; the CLI uses its database URL too.
doc_file patchwarden.conf NODE_CERT="$T/node.crt" NODE_KEY="$T/node.key" DB_PASSWORD=$pwpw \
  PG1_PORT=${PGPORT[pg1]} PG2_PORT=${PGPORT[pg2]} >"$T/node.conf" ||
  die "docs/deployment.md: no patchwarden.conf"
chmod 600 "$T/node.conf"
db=$(sed -n 's/^db = //p' "$T/node.conf")
"$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
"$PW_BIN" user add ops --role operator --no-password --db "$db" >/dev/null 2>&1
admin=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
ops=$("$PW_BIN" user token create ops --db "$db" 2>/dev/null)
etok=$("$PW_BIN" user enroll-token create --uses 10 --db "$db" 2>/dev/null)
[ -n "$admin" ] && [ -n "$ops" ] && [ -n "$etok" ] || die "the CLI could not make tokens"
conf=$T/node.conf
pw_srv_start A -c "$conf" --db "$db" || die "node A did not start"
pw_srv_start B -c "$conf" --db "$db" || die "node B did not start"
portA=$PW_SRV_PORT_A
portB=$PW_SRV_PORT_B

lb_port=$(free_port)
doc_file haproxy.cfg LB_PORT=$lb_port LB_PEM="$T/lb.pem" CA="$T/ca.crt" A_PORT=$portA \
  B_PORT=$portB >"$T/haproxy.cfg" || die "docs/deployment.md: no haproxy.cfg"
haproxy -c -q -f "$T/haproxy.cfg" || die "haproxy.cfg: $(haproxy -c -f "$T/haproxy.cfg" 2>&1)"
haproxy -db -f "$T/haproxy.cfg" >"$T/haproxy.log" 2>&1 &
PID[haproxy]=$!
S=https://127.0.0.1:$lb_port
U=$S/api/v1
test_wait_for 10 eval '[ "$(code "$U/health/ready")" = 200 ]' || die "HAProxy does not answer"

# access_log: one line per request; which node served a request.
served() { grep -c 'method=POST path=/api/v1/agents/checkin ' "$T/$1.log"; }

# ---- agents enrolled and checking in through HAProxy --------------------------
agents="a1 a2 a3"
declare -A HOST
for a in $agents; do
  cp -r "$PW_TEST_DATA/inventory/debian" "$T/root-$a"
  echo "ha-$a" >"$T/root-$a/etc/hostname"
  pw_agent "$a" enroll --server "$S" --token "$etok" --ca "$T/ca.crt" --root "$T/root-$a"
  [ "$AGENT_ST" -eq 0 ] || die "enroll $a: $(cat "$T/agent.out")"
done
pw_http GET "$U/hosts" "$admin"
for a in $agents; do
  HOST[$a]=$(json "[h['id'] for h in j['hosts'] if h['hostname'] == 'ha-$a'][0]")
done
ag() { pw_agent "$1" run --once --root "$T/root-$1"; }
all_checkin() {
  local a
  for a in $agents; do
    ag "$a"
    [ "$AGENT_ST" -eq 0 ] || { bad "check-in of $a: $(head -3 "$T/agent.out")"; return 1; }
  done
}
all_checkin && ok "three agents check in through HAProxy"
check "both nodes served check-ins" test "$(served A)" -gt 0 -a "$(served B)" -gt 0

# jobs_run: how many jobs the last check-in ran.
jobs_run() {
  sed -n 's/.* \([0-9]*\) jobs run.*/\1/p' "$T/agent.out" | awk '{ s += $1 } END { print s + 0 }'
}

# ---- 1. node A killed --------------------------------------------------------
t=$(now_ms)
ag a1
base_ms=$(($(now_ms) - t))
check "a check-in before the kill" test "$AGENT_ST" -eq 0
: >"$T/queued1"
for a in $agents; do
  for k in 1 2; do
    pw_job "$ops" "$U" "${HOST[$a]}" inventory >>"$T/queued1"
  done
done
check "six jobs queued through HAProxy" test "$(grep -c '^[0-9]' "$T/queued1")" -eq 6
b0=$(served B)
kill_now "${PW_SRV_PID[A]}"
t0=$(now_ms)
unset "PW_SRV_PID[A]"
ran=0
tries=0
end=$(($(date +%s) + 30))
until tries=$((tries + 1)) && ag a1 && [ "$AGENT_ST" -eq 0 ]; do
  [ "$(date +%s)" -ge "$end" ] && break
done
t1=$(now_ms)
check "a1 checks in after A was killed: $(tail -1 "$T/agent.out")" test "$AGENT_ST" -eq 0
ran=$((ran + $(jobs_run)))
node_failover_ms=$((t1 - t0))
check "through B" test "$(served B)" -gt "$b0"
for a in a2 a3; do
  ag "$a"
  check "$a checks in through B: $(tail -1 "$T/agent.out")" test "$AGENT_ST" -eq 0
  ran=$((ran + $(jobs_run)))
done
for r in 1 2; do
  for a in $agents; do
    ag "$a"
    check "$a again: $(tail -1 "$T/agent.out")" test "$AGENT_ST" -eq 0
    ran=$((ran + $(jobs_run)))
  done
done
check "the six queued jobs ran, each once ($ran)" test "$ran" -eq 6
for a in $agents; do
  check "$a's results are all acknowledged" test "$(pw_spooled "$a")" -eq 0
done
pw_http GET "$U/audit?limit=1000" "$admin"
check "each job handed out once and done" test "$(json '",".join(sorted(str(r["job_id"])
  for e in j["events"] if e["action"] == "agent.checkin" and e["after"]
  for r in e["after"].get("results", []) if not r.get("resent")))')" = \
  "$(sort "$T/queued1" | paste -sd,)"

# ---- A back on its port --------------------------------------------------------
PW_SRV_LISTEN=127.0.0.1:$portA pw_srv_start A2 -c "$conf" --db "$db" || die "A did not restart"
# HAProxy takes A back after two passed health checks (rise 2).
test_wait_for 15 eval '[ "$(grep -c "method=HEAD path=/api/v1/health/ready status=200" "$T/A2.log")" -ge 2 ]' ||
  die "HAProxy did not check A again"
a0=$(served A2)
all_checkin && all_checkin
check "A takes check-ins again" test "$(served A2)" -gt "$a0"

# ---- 2. the PostgreSQL primary killed ------------------------------------------
# Results acknowledged just before: a job each, run, then delivered.
: >"$T/queued2"
for a in $agents; do
  pw_job "$ops" "$U" "${HOST[$a]}" inventory >>"$T/queued2"
done
all_checkin && all_checkin
for a in $agents; do
  check "$a's result acknowledged before the kill" test "$(pw_spooled "$a")" -eq 0
done
# A writer creates jobs through HAProxy for a host without an agent and
# notes when each request started and ended, and the job acknowledged (201)
# or the refusal.
pw_http POST "$U/agents/enroll" "" \
  "{\"token\":\"$etok\",\"hostname\":\"ha-idle\",\"machine_id\":\"m-ha-idle\"}"
idle=$(json 'j["host_id"]')
writer() {
  local st t
  while [ ! -e "$T/writer.stop" ]; do
    t=$(now_ms)
    st=$(curl -s --max-time 10 -o "$T/writer.body" -w '%{http_code}' -X POST \
      -H 'Content-Type: application/json' -H "Authorization: Bearer $ops" \
      --data-binary '{"kind":"inventory"}' "$U/hosts/$idle/jobs") || st=000
    t="$t $(now_ms)"
    if [ "$st" = 201 ]; then
      echo "$t $(python3 -c 'import json,sys; print(json.load(sys.stdin)["job_id"])' \
        <"$T/writer.body")" >>"$T/writer.acked"
    else
      echo "$t $st $(head -c 200 "$T/writer.body" 2>/dev/null | tr -s '\n' ' ')" \
        >>"$T/writer.failed"
    fi
    sleep 0.05
  done
}
: >"$T/writer.acked"
: >"$T/writer.failed"
writer &
PID[writer]=$!
test_wait_for 10 eval '[ "$(wc -l <"$T/writer.acked")" -ge 5 ]' || die "the writer gets no 201"
# C, a node with one worker thread and no traffic during the failover (it
# is not behind HAProxy): its one connection, made now, dies unnoticed.
sed 's/^threads = .*/threads = 1/' "$conf" >"$T/quiet.conf"
chmod 600 "$T/quiet.conf"
pw_srv_start C -c "$T/quiet.conf" --db "$db" || die "node C did not start"
pw_http GET "https://127.0.0.1:$PW_SRV_PORT_C/api/v1/hosts" "$admin"
expect_status 200 "the quiet node C reads the hosts"
check "pg1 is the primary" test "$(code "http://127.0.0.1:${REST[pg1]}/primary")" = 200
before_jobs=$(psql_on pg1 "SELECT count(*) FROM jobs")
before_results=$(psql_on pg1 "SELECT count(*) FROM job_results")
before_audit=$(psql_on pg1 "SELECT count(*) || ' ' || max(id) FROM audit_events")
pm=$(head -1 "$T/pg1/data/postmaster.pid")
t0=$(now_ms)
kill_now "${PID[pg1]}" "$pm" $(ps -o pid= --ppid "$pm")
unset "PID[pg1]"
# The first write started after the kill and acknowledged: when it ended.
first_write() { awk -v t="$t0" '$1 > t { print $2; exit }' "$T/writer.acked"; }
test_wait_for 60 eval '[ "$(code "http://127.0.0.1:${REST[pg2]}/primary")" = 200 ]'
promoted_ms=$(($(now_ms) - t0))
test_wait_for 60 eval '[ -n "$(first_write)" ]'
t1=$(first_write)
check "a write through the API succeeds after the kill" test -n "$t1"
pg_failover_ms=$(( ${t1:-0} - t0 ))
check "Patroni promoted pg2" test "$(code "http://127.0.0.1:${REST[pg2]}/primary")" = 200
# A few more writes after the promotion, then the writer stops.
n=$(wc -l <"$T/writer.acked")
test_wait_for 10 eval '[ "$(wc -l <"$T/writer.acked")" -ge $((n + 5)) ]'
touch "$T/writer.stop"
wait "${PID[writer]}"
unset "PID[writer]"
echo "writer: $(wc -l <"$T/writer.acked") jobs acknowledged, $(wc -l <"$T/writer.failed") refused during the failover:"
cut -d' ' -f3- "$T/writer.failed" | sort | uniq -c | sort -rn | head -5
# Once one write went through, none may fail: a node's other database
# connections, dead since the kill, must not fail a request each.
late=$(awk -v t="${t1:-0}" '$1 > t' "$T/writer.failed" | wc -l)
check "no write refused after the first one through: $late ($(awk -v t="${t1:-0}" '$1 > t' \
  "$T/writer.failed" | head -1 | cut -c1-200))" test "$late" -eq 0

# Both nodes write again, each on its own.
for node in A2 B; do
  p=$([ $node = B ] && echo "$portB" || echo "$portA")
  test_wait_for 30 eval '[ "$(code "https://127.0.0.1:$p/api/v1/health/ready")" = 200 ]'
  check "node $node is ready again" test "$(code "https://127.0.0.1:$p/api/v1/health/ready")" = 200
  pw_http POST "https://127.0.0.1:$p/api/v1/hosts/$idle/jobs" "$ops" '{"kind":"inventory"}'
  expect_status 201 "node $node writes to the new primary"
done
# The quiet node's first request after the failover is served: its dead
# connection is noticed and replaced before the request uses it.
pw_http GET "https://127.0.0.1:$PW_SRV_PORT_C/api/v1/hosts" "$admin"
expect_status 200 "the quiet node C's first request after the failover"
# Agents continue: a job each, run and acknowledged through HAProxy.
: >"$T/queued3"
for a in $agents; do
  pw_job "$ops" "$U" "${HOST[$a]}" inventory >>"$T/queued3"
done
all_checkin && all_checkin && ok "the agents check in after the failover"
for a in $agents; do
  check "$a's new result acknowledged" test "$(pw_spooled "$a")" -eq 0
done

# Nothing acknowledged is missing on the new primary.
read -r bcount bmax <<<"$before_audit"
check "the $bcount audit events before the kill are all there" \
  test "$(psql_on pg2 "SELECT count(*) FROM audit_events WHERE id <= $bmax")" = "$bcount"
check "no fewer jobs ($before_jobs before)" \
  test "$(psql_on pg2 "SELECT count(*) FROM jobs")" -ge "$before_jobs"
check "no fewer results ($before_results before)" \
  test "$(psql_on pg2 "SELECT count(*) FROM job_results")" -ge "$before_results"
cut -d' ' -f3 "$T/writer.acked" | sort >"$T/acked.ids"
psql_on pg2 "SELECT id FROM jobs WHERE host_id = $idle ORDER BY id" >"$T/have.ids"
missing=$(comm -23 "$T/acked.ids" <(sort "$T/have.ids") | wc -l)
check "every job the writer saw acknowledged ($(wc -l <"$T/acked.ids")) is there: $missing missing" \
  test "$missing" -eq 0
psql_on pg2 "SELECT (after_json::json->>'job_id') FROM audit_events WHERE action = 'job.create'" |
  sort >"$T/audited.ids"
check "and its job.create audit event" \
  test "$(comm -23 "$T/acked.ids" "$T/audited.ids" | wc -l)" -eq 0
for q in queued1 queued2 queued3; do
  check "the agents' results for $q are there" test "$(psql_on pg2 \
    "SELECT count(DISTINCT job_id) FROM job_results WHERE job_id IN ($(paste -sd, "$T/$q"))")" \
    = "$(wc -l <"$T/$q")"
done
# The old primary rejoins as the new one's replica (Patroni rewinds it to
# the promotion point with pg_rewind) and becomes its synchronous standby.
t=$(now_ms)
start_patroni pg1
test_wait_for 90 eval '[ "$(code "http://127.0.0.1:${REST[pg1]}/sync")" = 200 ]'
echo "pg1 back as the synchronous replica in $(($(now_ms) - t)) ms;" \
  "$(grep -ci 'rewind' "$T/pg1/patroni.log") log lines on pg_rewind"
check "pg1 rejoined as the synchronous replica" \
  test "$(code "http://127.0.0.1:${REST[pg1]}/sync")" = 200
pw_http POST "$U/hosts/$idle/jobs" "$ops" '{"kind":"inventory"}'
expect_status 201 "a write with pg1 back"
jid=$(json 'j["job_id"]')
test_wait_for 10 eval '[ "$(psql_on pg1 "SELECT count(*) FROM jobs WHERE id = $jid")" = 1 ]'
check "it reached pg1" test "$(psql_on pg1 "SELECT count(*) FROM jobs WHERE id = $jid")" = 1

out=$("$PW_BIN" audit verify --db "$db" 2>&1)
check "audit verify on the new primary: $out" test $? -eq 0

echo "server node killed -> first check-in through the other node: ${node_failover_ms} ms" \
  "(attempt $tries; a check-in takes ${base_ms} ms when nothing fails)"
echo "PostgreSQL primary killed -> replica promoted: ${promoted_ms} ms (Patroni ttl 10 s)"
echo "PostgreSQL primary killed -> first write through the API: ${pg_failover_ms} ms"
test_done
