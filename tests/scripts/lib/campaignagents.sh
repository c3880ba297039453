# Sourced by the campaign driver's end-to-end scripts (campaign_driver.sh,
# campaign_kill.sh) after lib/aptfindings.sh and lib/pg.sh: real agents
# on chroots of the test apt repository, each checking in every second as
# its timer would, and one walk (the caller's `run KIND DB`) on SQLite,
# then on PostgreSQL. The caller sets T (its folder), S (the server's URL)
# and etok (an enrollment token).
#
#   camp_agents KIND N          enrolls agents h1..hN (roots $R1..$RN,
#                               configuration $T/hN.conf) and starts their
#                               loops (LOOPS)
#   camp_agent_loop NAME ROOT   one agent's loop, until $T/stop or
#                               $T/stop.NAME exists
#   camp_end KIND               the audit log verifies; agents and servers stop
#   camp_backends               run sqlite, then run pg (q: sqlite3 or psql)

camp_agent_loop() {
  while [ ! -e "$T/stop" ] && [ ! -e "$T/stop.$1" ]; do
    timeout 90 "$PW_AGENT_BIN" run --once -c "$T/$1.conf" --root "$2" --state-dir "$T/$1" \
      >>"$T/$1.log" 2>&1
    sleep 1
  done
}

camp_agents() {
  local n r
  for n in $(seq 1 "$2"); do
    r=R$n
    timeout 60 "$PW_AGENT_BIN" enroll --server "$S" --token "$etok" --insecure --root "${!r}" \
      --state-dir "$T/h$n" >"$T/enroll$n.out" 2>&1
    check "$1: h$n enrolled" test $? -eq 0
  done
  LOOPS=
  for n in $(seq 1 "$2"); do
    r=R$n
    camp_agent_loop "h$n" "${!r}" &
    LOOPS="$LOOPS $!"
  done
}

camp_end() {
  local p n
  "$PW_BIN" audit verify --db "$db" >"$T/verify.out" 2>&1
  check "$1: the audit log verifies" test $? -eq 0
  touch "$T/stop"
  for p in $LOOPS; do wait "$p"; done
  LOOPS=
  for n in "${!PW_SRV_PID[@]}"; do pw_srv_stop "$n" || bad "$1: $n did not stop cleanly"; done
}

camp_backends() {
  q() { sqlite3 "$PW_SRV_TMP/sqlite/server.db" "$1"; }
  run sqlite "sqlite:$PW_SRV_TMP/sqlite/server.db"
  pw_pg_start || { bad "PostgreSQL did not start"; test_done; }
  trap 'cleanup; pw_pg_stop' EXIT
  q() { psql "$PW_TEST_PG_URL" -Atq -c "$1"; }
  run pg "$PW_TEST_PG_URL"
  pw_srv_summary
}
