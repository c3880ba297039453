# Sourced by test scripts: starts a real, throwaway PostgreSQL 15 cluster.
#
#   . "$(dirname "$0")/lib/pg.sh"
#   pw_pg_start            # exports PW_TEST_PG_URL, PW_PG_DIR, PW_PG_PORT
#   ... tests ...          # the cluster is stopped and removed on exit
#
# The cluster lives in a mktemp directory, listens on 127.0.0.1 only (on a
# free port) and on a unix socket inside that directory, runs with
# fsync=off (it is thrown away), and authenticates with a random password
# (scram-sha-256), so other local users cannot use it meanwhile.
# initdb refuses to run as root: as root, the cluster runs as the
# `postgres` user (created by the postgresql package) via runuser.
# Every step is bounded in time. pw_pg_start puts pw_pg_stop in front of
# the EXIT trap already set, so a caller's cleanup trap (set before) still
# runs, after it; an EXIT trap set after pw_pg_start replaces both, so it
# must call pw_pg_stop itself. An INT or TERM trap of the caller is kept;
# without one, INT and TERM exit (130), which runs the EXIT trap.
# Without PostgreSQL 15 (or, as root, its `postgres` user) pw_pg_start
# skips the script (lib/test-lib.sh: exit 77, a failure in CI).

. "$(dirname "${BASH_SOURCE[0]}")/test-lib.sh"
PW_PG_BINDIR=${PW_PG_BINDIR:-/usr/lib/postgresql/15/bin}

pw_pg__as() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pw_pg__free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Runs pw_pg_stop on exit, before the EXIT trap already set (once).
pw_pg__trap_exit() {
  local cur
  eval "set -- $(trap -p EXIT)"
  cur=${3:-}
  case $cur in *pw_pg_stop*) return 0 ;; esac
  trap "pw_pg_stop${cur:+; $cur}" EXIT
  [ -n "$(trap -p INT)" ] || trap 'exit 130' INT
  [ -n "$(trap -p TERM)" ] || trap 'exit 130' TERM
}

pw_pg_stop() {
  [ -n "${PW_PG_DIR:-}" ] || return 0
  if [ -f "$PW_PG_DIR/data/postmaster.pid" ]; then
    pw_pg__as timeout 60 "$PW_PG_BINDIR/pg_ctl" -D "$PW_PG_DIR/data" -m immediate -w -t 30 \
      stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PW_PG_DIR"
  PW_PG_DIR=
}

pw_pg_start() {
  local t0 user pw port tries
  t0=$(date +%s%N)
  [ -x "$PW_PG_BINDIR/initdb" ] ||
    test_skip "needs PostgreSQL 15: $PW_PG_BINDIR/initdb not found (scripts/deps)"
  user=$(id -un)
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 ||
      test_skip "running as root needs the 'postgres' user (postgresql package)"
    user=postgres
  fi
  # /tmp, not $TMPDIR: the postgres user must be able to reach the directory.
  PW_PG_DIR=$(mktemp -d /tmp/pw-pg.XXXXXX)
  pw_pg__trap_exit
  mkdir "$PW_PG_DIR/sock"
  [ "$(id -u)" -eq 0 ] && chown -R postgres: "$PW_PG_DIR"
  pw=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
  printf '%s\n' "$pw" >"$PW_PG_DIR/pwfile"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$PW_PG_DIR/pwfile"
  chmod 600 "$PW_PG_DIR/pwfile"
  if ! pw_pg__as timeout 120 "$PW_PG_BINDIR/initdb" -D "$PW_PG_DIR/data" -U "$user" \
      --pwfile="$PW_PG_DIR/pwfile" -A scram-sha-256 -E UTF8 --locale=C --no-sync \
      >"$PW_PG_DIR/initdb.log" 2>&1; then
    echo "pg.sh: initdb failed:" >&2
    cat "$PW_PG_DIR/initdb.log" >&2
    return 1
  fi
  rm -f "$PW_PG_DIR/pwfile"
  # A free port can be taken between the probe and the start: retry.
  for tries in 1 2 3; do
    port=$(pw_pg__free_port)
    if pw_pg__as timeout 60 "$PW_PG_BINDIR/pg_ctl" -D "$PW_PG_DIR/data" -l "$PW_PG_DIR/server.log" \
        -w -t 30 -o "-c listen_addresses=127.0.0.1 -p $port -k $PW_PG_DIR/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50" \
        start >/dev/null 2>&1; then
      break
    fi
    if [ "$tries" -eq 3 ]; then
      echo "pg.sh: the PostgreSQL server did not start:" >&2
      tail -20 "$PW_PG_DIR/server.log" >&2
      return 1
    fi
  done
  if ! PGPASSWORD=$pw timeout 30 "$PW_PG_BINDIR/createdb" -h 127.0.0.1 -p "$port" -U "$user" \
      pwtest; then
    echo "pg.sh: createdb failed" >&2
    return 1
  fi
  PW_PG_PORT=$port
  PW_TEST_PG_URL="postgresql://$user:$pw@127.0.0.1:$port/pwtest"
  PW_PG_START_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
  export PW_PG_DIR PW_PG_PORT PW_TEST_PG_URL PW_PG_START_MS
}

# pw_pg_unit_tests BIN...: runs cmocka binaries that run their tests on
# SQLite and then, with PW_TEST_PG_URL set, on PostgreSQL (they print
# "== backend: NAME" before each group). Adds to PW_PG_PASSED and
# PW_PG_FAILED; fails when a binary failed, skipped a test (cmocka's
# skip(): a skipped test proves nothing) or did not run its PostgreSQL
# group.
pw_pg_unit_tests() {
  local b out status passed failed skipped ran_pg bad=0
  out=$(mktemp)
  for b in "$@"; do
    status=0
    timeout 600 "$b" >"$out" 2>&1 || status=$?
    cat "$out"
    # cmocka prints "[  PASSED  ] N test(s)." per group.
    passed=$(grep -Eo '^\[  PASSED  \] [0-9]+' "$out" | awk '{s += $4} END {print s + 0}' || true)
    failed=$(grep -Eo '^\[  FAILED  \] [0-9]+ test' "$out" | awk '{s += $4} END {print s + 0}' || true)
    skipped=$(grep -Eo '^\[  SKIPPED \] [0-9]+ test' "$out" | awk '{s += $4} END {print s + 0}' ||
      true)
    ran_pg=$(grep -c '^== backend: PostgreSQL' "$out" || true)
    PW_PG_PASSED=$((${PW_PG_PASSED:-0} + passed))
    PW_PG_FAILED=$((${PW_PG_FAILED:-0} + failed + skipped))
    if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$skipped" -ne 0 ] ||
      [ "$ran_pg" -ne 1 ]; then
      echo "$(basename "$b"): exit status $status, $failed failed, $skipped skipped," \
        "PostgreSQL group ran: $ran_pg"
      bad=1
    fi
  done
  rm -f "$out"
  return "$bad"
}
