#!/usr/bin/env bash
# The feed store on a real PostgreSQL 15 started for this run (lib/pg.sh):
#  1. the store's unit tests (test_feedstore, test_feedsync) on SQLite and
#     then PostgreSQL, the same test functions for both backends;
#  2. the CLI: `feed import`, `feed status` and `scan --store URL` of the
#     sample feeds and inventories (share/sample), which must find exactly
#     what the same commands find with a SQLite store;
#  3. a failed import on PostgreSQL leaves the previous snapshot intact,
#     and the password of the URL is never printed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/pg.sh"
test_require_cmd jq

build=${PW_BUILD_DIR:?PW_BUILD_DIR (the build directory) is not set; run under ctest}
bin=${PW_BIN:?PW_BIN must name the patchwarden binary}
sample=$here/../../share/sample
bins=(test_feedstore test_feedsync)
for b in "${bins[@]}"; do
  [ -x "$build/$b" ] || { echo "feedstore_postgres.sh: $build/$b not built" >&2; exit 1; }
done

pw_pg_start
echo "PostgreSQL 15 up on 127.0.0.1:$PW_PG_PORT in ${PW_PG_START_MS} ms"
pw=${PW_TEST_PG_URL#*://*:}
pw=${pw%%@*}

work=$(mktemp -d)
cleanup() { rm -rf "$work"; pw_pg_stop; }
trap cleanup EXIT

unit_ok=1
pw_pg_unit_tests "${bins[@]/#/$build/}" >"$work/unit" || unit_ok=
# Every test's own lines are left out: the summaries and failures stay.
grep -v '^\[ RUN \|^\[       OK' "$work/unit" || true
echo "unit tests: $PW_PG_PASSED passed, $PW_PG_FAILED failed"
PASS=$((PASS + PW_PG_PASSED))
FAIL=$((FAIL + PW_PG_FAILED))
[ -n "$unit_ok" ] || bad "the unit tests on PostgreSQL"

# ---- the CLI on both backends ----
user=${PW_TEST_PG_URL#*://}
user=${user%%:*}
pg() { PGPASSWORD=$pw PGOPTIONS='-c client_min_messages=warning' "$PW_PG_BINDIR/psql" -h 127.0.0.1 -p "$PW_PG_PORT" -U "$user" -d pwtest -Atqc "$1"; }
# The unit tests left their tables: the CLI part starts from nothing.
pg "DROP SCHEMA public CASCADE; CREATE SCHEMA public"

feeds=("$sample/feeds/almalinux8" "$sample/feeds/debian" "$sample/feeds/kev" "$sample/feeds/epss")
sqlite_store=$work/feeds.db
for store in "$sqlite_store" "$PW_TEST_PG_URL"; do
  name=$([ "$store" = "$sqlite_store" ] && echo sqlite || echo pg)
  check "$name: feed import" "$bin" feed import --quiet --json --store "$store" "${feeds[@]}" \
    >"$work/import-$name.json" 2>"$work/import-$name.err"
  check "$name: feed status" "$bin" feed status --json --store "$store" >"$work/status-$name.json"
  for inv in "$sample"/inventories/*.json; do
    base=$(basename "$inv" .json)
    status=0
    "$bin" scan --json --store "$store" --inventory "$inv" >"$work/scan-$name-$base.json" \
      2>"$work/scan-$name-$base.err" || status=$?
    # 0 clean, 1 findings at or above --fail-on: both are a finished scan.
    check "$name: scan $base finishes (exit $status)" test "$status" -le 1
  done
done
jq -S 'del(.elapsed_seconds)' "$work/import-sqlite.json" >"$work/a"
jq -S 'del(.elapsed_seconds)' "$work/import-pg.json" >"$work/b"
check "feed import counts equal on both backends" cmp -s "$work/a" "$work/b"
for j in status-sqlite status-pg; do
  jq -S 'del(.store) | .snapshots |= map(del(.created))' "$work/$j.json" >"$work/$j.cmp"
done
check "feed status equal on both backends" cmp -s "$work/status-sqlite.cmp" "$work/status-pg.cmp"
check "feed status shows the URL without its password" \
  bash -c '! grep -qF -- "$1" "$2" && grep -q "postgresql://" "$2"' _ "$pw" "$work/status-pg.json"
for inv in "$sample"/inventories/*.json; do
  base=$(basename "$inv" .json)
  for name in sqlite pg; do
    jq -S '{summary, findings}' "$work/scan-$name-$base.json" >"$work/findings-$name-$base"
  done
  check "scan $base: same findings on both backends" \
    cmp -s "$work/findings-sqlite-$base" "$work/findings-pg-$base"
  check "scan $base: has findings" test "$(jq '.findings | length' "$work/findings-pg-$base")" -gt 0
done

# ---- a failed import leaves the previous snapshot as it was ----
printf '{"id": "ALSA-2099:0001", "modified": ' >"$work/broken.json"
status=0
"$bin" feed import --quiet --store "$PW_TEST_PG_URL" "$sample/feeds/almalinux8" "$work/broken.json" \
  >/dev/null 2>"$work/broken.err" || status=$?
check "an import with a broken file fails" test "$status" = 2
check "the error names the file" grep -q "broken.json" "$work/broken.err"
check "the error does not print the password" bash -c '! grep -qF -- "$1" "$2"' _ "$pw" "$work/broken.err"
check "still one snapshot after the failed import" \
  test "$("$bin" feed snapshots --json --store "$PW_TEST_PG_URL" | jq length)" = 1
check "no feed rows of the failed import" test "$(pg "SELECT COUNT(*) FROM feed_advisory WHERE added_in > 1")" = 0

# ---- import time of the AlmaLinux 8+9 OSV data (a skip without the shared data) ----
if test_have shared-data:almalinux-osv/advisories; then
  alma=$PW_SHARED_DATA/almalinux-osv/advisories
  pg "DROP SCHEMA public CASCADE; CREATE SCHEMA public"
  t0=$(date +%s%N)
  check "AlmaLinux 8+9 import on PostgreSQL" "$bin" feed import --quiet --store "$PW_TEST_PG_URL" "$alma"
  echo "AlmaLinux 8+9 OSV import on PostgreSQL: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  # 3820 records, 34 of them a second version of an advisory.
  check "AlmaLinux 8+9: 3786 advisories" \
    test "$("$bin" feed snapshots --json --store "$PW_TEST_PG_URL" | jq '.[0].advisories')" = 3786
else
  test_skip_part "AlmaLinux 8+9 import on PostgreSQL" "no shared data (almalinux-osv)"
fi

test_done
