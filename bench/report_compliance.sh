#!/usr/bin/env bash
# report compliance and report mttr on a fleet of 10,000 hosts on SQLite:
# the whole command's wall time (open, read the history, evaluate the
# report's time and 13 weekly trend points, write) per format.
#
# The fleet: 10,000 hosts from `host import-csv` (owners, categories and
# last patches varied over 200 days), each given 20 findings first seen
# over the last 120 days (200,000 rows, priorities spread over the four),
# a third of them fixed 15 days after their first sighting, straight in
# SQLite, as recomputes would leave them. Every host reported Debian 10
# (the sample Debian feeds are in the store, so each one is covered from
# its first report) and has 10 agent check-ins carrying an inventory in
# the audit log (100,000 events), which the report reads for first
# reports.
#
#   bench/report_compliance.sh [RUNS]   (default 5 runs per format; PW_BIN
#                                        defaults to the release build)
#
# Output: one row per report and format: median and slowest in ms, the
# output's size.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
: "${PW_BIN:=$src/build/release/patchwarden}"
RUNS=${1:-5}
unset PATCHWARDEN_STORE PATCHWARDEN_DB
HOSTS=${PW_BENCH_HOSTS:-10000}
T=$(mktemp -d /tmp/pw-reportbench.XXXXXX)
trap 'rm -rf "$T"' EXIT
db=sqlite://$T/pw.db

echo "== $HOSTS hosts, 20 findings each" >&2
"$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
python3 - "$HOSTS" >"$T/hosts.csv" <<'PY'
import sys, datetime as dt
cats = ["core", "security", "file-print", "mail", "application", "database", "web"]
today = dt.date.today()
print("hostname,location,purpose,category,owner_group,app_owner,criticality,exposure,"
      "environment,maintenance_window,backup_check,health_check,last_patched,ticket")
for i in range(int(sys.argv[1])):
    lp = (today - dt.timedelta(days=i % 200)).isoformat() if i % 10 else ""
    print("h%05d.example.net,dc%d,bench,%s,team%d,app%d,%d,internal,production,,,,%s,"
          % (i, i % 3, cats[i % 7], i % 20, i % 50, i % 5 + 1, lp))
PY
"$PW_BIN" host import-csv "$T/hosts.csv" --db "$db" >/dev/null || exit 1
"$PW_BIN" feed import --store "$db" "$src/share/sample/feeds/debian" >/dev/null 2>&1 || exit 1
sqlite3 "$T/pw.db" <<SQL || exit 1
UPDATE hosts SET created = '$(date -u -d '-150 days' +%F)T00:00:00.000Z',
  os_id = 'debian', os_version_id = '10', os_codename = 'buster',
  inventory_at = strftime('%Y-%m-%dT08:00:00.000Z', 'now', '-1 days');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)
INSERT INTO audit_events (id, ts, actor, action, target, after_json, prev_hash, hash)
SELECT 1000000 + h.id * 10 + n.i,
       strftime('%Y-%m-%dT08:00:00.000Z', 'now', '-' || (150 - n.i * 14) || ' days'),
       'agent:bench', 'agent.checkin', 'host:' || h.id,
       '{"inventory_hash":"' || printf('%064d', h.id) || '"}', '', ''
FROM hosts h, n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)
INSERT INTO findings (host_id, package, advisory, installed, fixed, priority, cves, first_seen,
                      due, fixed_at)
SELECT h.id, 'pkg' || n.i, 'DSA-' || (5000 + n.i) || '-1', '1.0-1', '1.0-2',
       CASE n.i % 4 WHEN 0 THEN 'emergency' WHEN 1 THEN 'high' WHEN 2 THEN 'normal' ELSE 'low' END,
       '["CVE-2026-' || (1000 + n.i) || '"]',
       strftime('%Y-%m-%dT08:00:00.000Z', 'now', '-' || ((h.id * 7 + n.i * 5) % 120) || ' days'),
       date('now', '-' || ((h.id * 7 + n.i * 5) % 120) || ' days', '+30 days'),
       CASE WHEN n.i % 3 = 0 THEN strftime('%Y-%m-%dT08:00:00.000Z', 'now',
            '-' || ((h.id * 7 + n.i * 5) % 120) || ' days', '+15 days') END
FROM hosts h, n;
SQL

# timed NAME CMD...: CMD's wall time over RUNS runs (its output in $T/out).
timed() {
  local name=$1
  shift
  local times=()
  for _ in $(seq 1 "$RUNS"); do
    local t0 t1
    t0=$(date +%s%N)
    "$@" >"$T/out" || { echo "$name failed" >&2; exit 1; }
    t1=$(date +%s%N)
    times+=($(((t1 - t0) / 1000000)))
  done
  printf '%s\n' "${times[@]}" | sort -n |
    awk -v n="$name" -v b="$(stat -c %s "$T/out")" \
      '{v[NR] = $1} END {printf "%-24s median %6d ms   slowest %6d ms   %9d bytes\n", n, v[int((NR + 1) / 2)], v[NR], b}'
}
run() {
  local name=$1
  shift
  timed "$name" "$PW_BIN" report "$@" --db "$db"
}
run "compliance table" compliance
run "compliance json" compliance --json
run "compliance csv" compliance --format csv
run "compliance html" compliance --format html
run "compliance 52 weeks" compliance --json --weeks 52
run "mttr table" mttr

# The reference in the same run: sqlite3(1) itself reading the same rows
# for one point in time (each host's open findings per priority and past
# SLA now, one GROUP BY, no trend, no campaigns): the floor any report
# from this database pays.
timed "sqlite3 (reference)" sqlite3 "$T/pw.db" "SELECT h.id, f.priority, count(f.id),
  sum(f.due < date('now')) FROM hosts h LEFT JOIN findings f ON f.host_id = h.id
  AND f.fixed_at IS NULL GROUP BY h.id, f.priority"
