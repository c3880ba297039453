#!/usr/bin/env bash
# report compliance and report mttr on a real PostgreSQL 15 (lib/pg.sh):
# the same history reads as on SQLite (report_compliance.sh has the rules
# in full). Three sample hosts enrolled 60 days ago, their findings first seen
# 40 days ago and due 10 days ago (fixture dates through psql), one of
# them patched 100 days ago, one fixed 20 days ago: the expectations are
# worked out with date(1) from those dates.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/samplefleet.sh"
. "$here/lib/pg.sh"
trap pw_srv_cleanup EXIT # pw_pg_start runs pw_pg_stop before it
test_require_cmd jq python3
pw_pg_start || { echo "FAIL: PostgreSQL did not start"; exit 1; }
unset PATCHWARDEN_DB PATCHWARDEN_STORE PATCHWARDEN_TEST_NOW
T=$PW_SRV_TMP
db=$PW_TEST_PG_URL
psql_() { timeout 30 "$PW_PG_BINDIR/psql" -q -X -At -v ON_ERROR_STOP=1 "$db" -c "$1"; }
pw() { "$PW_BIN" "$@" --db "$db"; }
# The reports judge each host's coverage against the feed store's releases:
# the same store for the CLI and the server.
printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\n[feeds]\nstore = %s\n' \
  "$T/feeds.db" >"$T/pw.conf"
export PATCHWARDEN_STORE=$T/feeds.db
pw user add audit --role auditor --no-password >/dev/null 2>&1
sample_fleet_init "$db"
pw_srv_start A -c "$T/pw.conf" --db "$db" || { bad "the server did not start"; test_done; }
U=http://127.0.0.1:$PW_SRV_PORT_A/api/v1
sample_enroll pg-old category=core owner_group=infra
sample_enroll pg-fixed category=core owner_group=infra
sample_enroll pg-new category=web owner_group=web
pw host recompute --store "$T/feeds.db" >/dev/null 2>&1
n=$(psql_ "SELECT count(*) FROM findings WHERE host_id = (SELECT id FROM hosts WHERE hostname = 'pg-old')")
check "findings computed on PostgreSQL ($n per host)" test "$n" -gt 0

ago() { date -u -d "-$1 days" +%F; }
psql_ "UPDATE hosts SET created = '$(ago 60)T00:00:00.000Z'" &&
  psql_ "UPDATE hosts SET last_patched = '$(ago 100)' WHERE hostname = 'pg-old'" &&
  psql_ "UPDATE hosts SET last_patched = '$(ago 20)' WHERE hostname = 'pg-fixed'" &&
  psql_ "UPDATE findings SET first_seen = '$(ago 40)T06:00:00.000Z', due = '$(ago 10)'" &&
  psql_ "UPDATE findings SET fixed_at = '$(ago 20)T06:00:00.000Z' WHERE host_id = (SELECT id FROM hosts WHERE hostname = 'pg-fixed')" ||
  bad "the fixture dates were not written"

pw report compliance --json >"$T/r.json"
check "report compliance on PostgreSQL" test $? -eq 0
check "pg-old: patched $(ago 100), 100 days, outside the policy, $n open, all past SLA" \
  test "$(jq -r '.hosts[] | select(.host == "pg-old") | "\(.last_patched) \(.days_since) \(.within_policy) \([.open[]] | add) \(.past_sla)"' "$T/r.json")" = "$(ago 100) 100 false $n $n"
check "pg-fixed compliant (patched 20 days ago, nothing open); pg-new not (past SLA): 1 of 3" \
  test "$(jq -r '"\([.hosts[] | select(.compliant) | .host] | join(",")) \(.fleet.compliant)/\(.fleet.hosts)"' "$T/r.json")" = "pg-fixed 1/3"
pw report compliance --as-of "$(ago 30)" --owner infra --json >"$T/r30.json"
check "--as-of 30 days ago, --owner infra: pg-fixed not patched yet (its patch was 20 days ago), findings open, none past due" \
  test "$(jq -r '.hosts[] | select(.host == "pg-fixed") | "\(.last_patched) \([.open[]] | add) \(.past_sla) \(.compliant)"' "$T/r30.json")" = "null $n 0 true"
check "... and only infra's two hosts" test "$(jq '.hosts | length' "$T/r30.json")" -eq 2
pw report mttr --json --store "$T/feeds.db" >"$T/m.json"
check "report mttr on PostgreSQL: pg-fixed's $n fixes, 20 days from detection" \
  test "$(jq -r '.groups[] | select(.group_by == "owner_group") | "\(.group) \(.fixed) \(.detection_median_days)"' "$T/m.json")" = "infra $n 20"
atok=$(pw user token create audit 2>/dev/null)
pw_http GET "$U/reports/compliance?as_of=$(ago 30)&owner=infra" "$atok"
check "GET /reports/compliance on PostgreSQL: the CLI's document" \
  test "$(jq -cS . <<<"$HTTP_BODY")" = "$(jq -cS . "$T/r30.json")"
pw_srv_stop A || bad "the server did not stop cleanly"
test_done
