#!/usr/bin/env bash
# Check-in benchmark, one run, three servers on 127.0.0.1, one client
# (bench_checkin: an epoll loop, CONNS keep-alive connections):
#
#   1. patchwarden server on SQLite     2. patchwarden server on PostgreSQL 15
#   3. nginx serving a static file of the size of a check-in reply
#
# For each patchwarden backend: AGENTS agents enroll and check in once
# with real inventories (uploaded once per distinct content); then
# unchanged-inventory check-ins for SECONDS; then every agent gets a job,
# takes it and delivers its result (lost results are counted); then more
# agents enroll until HOSTS hosts are registered. The server's RSS is read
# at AGENTS and at HOSTS registered hosts.
#
# PostgreSQL runs with fsync on and synchronous_commit off: like SQLite
# in WAL mode with synchronous=NORMAL (the server's setting), a power
# loss may lose the last commits but never corrupts the database.
#
# Environment: PW_BIN, PW_BENCH_CLIENT (set by bench_checkin), and
# PW_BENCH_AGENTS (10000), PW_BENCH_HOSTS (100000), PW_BENCH_SECONDS (10),
# PW_BENCH_CONNS (64), PW_BENCH_THREADS (0: the server's default).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
: "${PW_BIN:?PW_BIN is not set}" "${PW_BENCH_CLIENT:?PW_BENCH_CLIENT is not set}"
AGENTS=${PW_BENCH_AGENTS:-10000}
HOSTS=${PW_BENCH_HOSTS:-100000}
SECS=${PW_BENCH_SECONDS:-10}
CONNS=${PW_BENCH_CONNS:-64}
THREADS=${PW_BENCH_THREADS:-0}
CLIENT=$PW_BENCH_CLIENT
export PATCHWARDEN_PWHASH=fast
T=$(mktemp -d /tmp/pw-bench.XXXXXX)
chmod 755 "$T"
SRV_PID=
NGINX_PID=
. "$src/tests/scripts/lib/pg.sh"
cleanup() {
  [ -n "$SRV_PID" ] && kill -KILL "$SRV_PID" 2>/dev/null
  [ -n "$NGINX_PID" ] && kill -KILL "$NGINX_PID" 2>/dev/null
  pw_pg_stop
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
command -v nginx >/dev/null || { echo "bench: nginx is missing; run scripts/deps" >&2; exit 1; }

field() { # field KEY LINE
  sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# CPU time (user + system, clock ticks) of a process, or of PostgreSQL's
# postmaster and all its children.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# The postmaster's own time plus that of its children: live ones, and
# those that exited (cutime + cstime), so a backend ending in between
# does not take its time away.
pg_ticks() {
  local pm t p
  [ -n "${PW_PG_DIR:-}" ] && [ -f "$PW_PG_DIR/data/postmaster.pid" ] || { echo 0; return; }
  pm=$(head -1 "$PW_PG_DIR/data/postmaster.pid")
  t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat")
  for p in $(ps -o pid= --ppid "$pm"); do
    [ -r "/proc/$p/stat" ] && t=$((t + $(cpu_ticks "$p")))
  done
  echo $t
}
HZ=$(getconf CLK_TCK)
us_per() { # us_per TICKS REQUESTS
  awk -v t="$1" -v n="$2" -v hz="$HZ" 'BEGIN { printf "%.0f", n ? t * 1e6 / hz / n : 0 }'
}

start_server() { # start_server DB_URL LOG
  printf '[server]\nallow_plain_http = true\nthreads = %s\n' "$THREADS" >"$T/server.conf"
  "$PW_BIN" server -c "$T/server.conf" --db "$1" --listen 127.0.0.1:0 2>"$2" &
  SRV_PID=$!
  local i port
  for i in $(seq 1 200); do
    port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$2")
    [ -n "$port" ] && { SRV_URL=http://127.0.0.1:$port; return 0; }
    sleep 0.05
  done
  cat "$2" >&2
  return 1
}

stop_server() {
  kill -TERM "$SRV_PID"
  wait "$SRV_PID"
  SRV_PID=
}

declare -A R
bench_backend() { # bench_backend NAME DB_URL
  local name=$1 db=$2 etok ops out
  "$PW_BIN" user add ops --role operator --no-password --db "$db" >/dev/null 2>&1
  ops=$("$PW_BIN" user token create ops --db "$db" 2>/dev/null)
  etok=$("$PW_BIN" user enroll-token create --uses 1000000 --expires 1d --db "$db" 2>/dev/null)
  [ -n "$ops" ] && [ -n "$etok" ] || { echo "bench: $name: no tokens" >&2; return 1; }
  start_server "$db" "$T/$name.log" || return 1
  echo "== $name: $AGENTS agents enroll and check in with their inventories" >&2
  out=$("$CLIENT" setup "$SRV_URL" "$etok" 0 "$AGENTS" "$T/$name.creds" --conns "$CONNS")
  echo "$out" >&2
  R[$name.enroll_rps]=$(field rps "$(grep 'mode=enroll' <<<"$out")")
  R[$name.uploads]=$(field uploads "$(grep 'mode=first-checkin' <<<"$out")")
  R[$name.rss_a]=$(rss_kib "$SRV_PID")
  echo "== $name: unchanged-inventory check-ins, ${SECS}s, $CONNS connections" >&2
  "$CLIENT" checkin "$SRV_URL" "$T/$name.creds" --seconds 2 --conns "$CONNS" >/dev/null
  local s0 p0
  s0=$(cpu_ticks "$SRV_PID")
  p0=$(pg_ticks)
  out=$("$CLIENT" checkin "$SRV_URL" "$T/$name.creds" --seconds "$SECS" --conns "$CONNS")
  echo "$out" >&2
  R[$name.srv_us]=$(us_per $(($(cpu_ticks "$SRV_PID") - s0)) "$(field requests "$out")")
  R[$name.pg_us]=$(us_per $(($(pg_ticks) - p0)) "$(field requests "$out")")
  R[$name.rps]=$(field rps "$out")
  R[$name.p50]=$(field p50_ms "$out")
  R[$name.p99]=$(field p99_ms "$out")
  R[$name.errors]=$(field errors "$out")
  echo "== $name: a job for each of $AGENTS agents, handed out and answered" >&2
  out=$("$CLIENT" results "$SRV_URL" "$T/$name.creds" "$ops" --conns "$CONNS")
  echo "$out" >&2
  R[$name.jobs]=$(field jobs_created "$out")
  R[$name.acked]=$(field acknowledged "$out")
  R[$name.lost]=$(field lost "$out")
  R[$name.rss_b]=$(rss_kib "$SRV_PID")
  echo "== $name: enrolling up to $HOSTS hosts" >&2
  out=$("$CLIENT" setup "$SRV_URL" "$etok" "$AGENTS" $((HOSTS - AGENTS)) "$T/$name.more" \
    --conns "$CONNS" --no-checkin)
  echo "$out" >&2
  R[$name.rss_c]=$(rss_kib "$SRV_PID")
  R[$name.hwm]=$(awk '/^VmHWM:/ {print $2}' "/proc/$SRV_PID/status")
  stop_server
}

LOAD=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- 1. SQLite ----------------------------------------------------------------
bench_backend sqlite "sqlite:$T/bench.db" || exit 1
R[sqlite.dbsize]=$(du -k "$T/bench.db" | cut -f1)

# ---- 2. PostgreSQL --------------------------------------------------------------
pw_pg_start >&2 || exit 1
psql "$PW_TEST_PG_URL" -q -c "ALTER SYSTEM SET fsync = on" \
  -c "ALTER SYSTEM SET full_page_writes = on" -c "ALTER SYSTEM SET synchronous_commit = off" \
  -c "SELECT pg_reload_conf()" >/dev/null || exit 1
bench_backend postgresql "$PW_TEST_PG_URL" || exit 1
pw_pg_stop

# ---- 3. nginx, a static file ------------------------------------------------------
mkdir -p "$T/www" "$T/nginx"
printf '%s' '{"ack":[],"conflict":[],"seq_high":0,"need_inventory":false,"jobs":[],' \
  '"checkin_interval":900}' >"$T/www/checkin.json"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$T/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $T/nginx;
  proxy_temp_path $T/nginx;
  fastcgi_temp_path $T/nginx;
  uwsgi_temp_path $T/nginx;
  scgi_temp_path $T/nginx;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port;
    root $T/www;
    default_type application/json;
  }
}
EOF
nginx -c "$T/nginx.conf" -e "$T/nginx/error.log" &
NGINX_PID=$!
for i in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$port/checkin.json" && break
  sleep 0.05
done
echo "== nginx: GET of a static file, ${SECS}s, $CONNS connections" >&2
"$CLIENT" get "http://127.0.0.1:$port/checkin.json" --seconds 2 --conns "$CONNS" >/dev/null
nginx_ticks() {
  local t=0 p
  for p in $NGINX_PID $(ps -o pid= --ppid "$NGINX_PID"); do
    t=$((t + $(cpu_ticks "$p")))
  done
  echo $t
}
ng0=$(nginx_ticks)
out=$("$CLIENT" get "http://127.0.0.1:$port/checkin.json" --seconds "$SECS" --conns "$CONNS")
echo "$out" >&2
ng1=$(nginx_ticks)
kill -TERM "$NGINX_PID"
wait "$NGINX_PID" 2>/dev/null
NGINX_PID=

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
cat <<EOF

Check-in benchmark: $(nproc) cores, $CONNS connections, ${SECS}s each, client and servers on 127.0.0.1
(patchwarden threads: ${THREADS/#0/default}; load average before the run: $LOAD).

| server | requests/s | p50 ms | p99 ms | errors | server CPU µs/request | PostgreSQL CPU µs/request |
| --- | --- | --- | --- | --- | --- | --- |
| patchwarden + SQLite, unchanged check-in | ${R[sqlite.rps]} | ${R[sqlite.p50]} | ${R[sqlite.p99]} | ${R[sqlite.errors]} | ${R[sqlite.srv_us]} | - |
| patchwarden + PostgreSQL 15, unchanged check-in | ${R[postgresql.rps]} | ${R[postgresql.p50]} | ${R[postgresql.p99]} | ${R[postgresql.errors]} | ${R[postgresql.srv_us]} | ${R[postgresql.pg_us]} |
| nginx 1.22, static file of the reply's size | $(field rps "$out") | $(field p50_ms "$out") | $(field p99_ms "$out") | $(field errors "$out") | $(us_per $((ng1 - ng0)) "$(field requests "$out")") | - |

| backend | enroll/s | inventories uploaded | jobs for $AGENTS agents: created / acknowledged / lost | RSS at $AGENTS hosts | RSS after the jobs | RSS at $HOSTS hosts | peak RSS |
| --- | --- | --- | --- | --- | --- | --- | --- |
| SQLite | ${R[sqlite.enroll_rps]} | ${R[sqlite.uploads]} | ${R[sqlite.jobs]} / ${R[sqlite.acked]} / ${R[sqlite.lost]} | $(mib "${R[sqlite.rss_a]}") MiB | $(mib "${R[sqlite.rss_b]}") MiB | $(mib "${R[sqlite.rss_c]}") MiB | $(mib "${R[sqlite.hwm]}") MiB |
| PostgreSQL | ${R[postgresql.enroll_rps]} | ${R[postgresql.uploads]} | ${R[postgresql.jobs]} / ${R[postgresql.acked]} / ${R[postgresql.lost]} | $(mib "${R[postgresql.rss_a]}") MiB | $(mib "${R[postgresql.rss_b]}") MiB | $(mib "${R[postgresql.rss_c]}") MiB | $(mib "${R[postgresql.hwm]}") MiB |
EOF
[ "${R[sqlite.lost]}" = 0 ] && [ "${R[postgresql.lost]}" = 0 ]
