#!/usr/bin/env bash
# patchwarden report compliance|mttr (issue 14) over a simulated quarter:
# four sample hosts enrolled on day 0 (D0, 91 days ago), their history
# written as fixture dates (first sighting day 5, mid-01's fix day 20,
# patch dates), then campaigns driven with the clock moved
# (PATCHWARDEN_TEST_NOW): a KEV/emergency draft by the policy run on day
# 45, a risk acceptance signed on day 30 that expires on day 50. Every
# expected value is worked out here from those fixture dates (date(1),
# sqlite3 over the stored rows, python3), never read from the report.
# Then --as-of of an earlier day gives the earlier picture, the CSV
# parses with python3's csv module, the HTML with html.parser, has no
# external reference and carries its three charts; the API gives the
# same document to an auditor.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/samplefleet.sh"
trap pw_srv_cleanup EXIT
test_require_cmd jq sqlite3 python3
: "${PW_SOURCE_DIR:?PW_SOURCE_DIR is not set; run under ctest}"
T=$PW_SRV_TMP
unset PATCHWARDEN_DB PATCHWARDEN_STORE PATCHWARDEN_TEST_NOW
db=$T/pw.db
pw() { "$PW_BIN" "$@" --db "$db"; }
sql() { sqlite3 "$db" "$@"; }
printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\n[feeds]\nstore = %s\n' \
  "$T/feeds.db" >"$T/pw.conf"

for u in op:operator boss:manager erp:app-owner audit:auditor; do
  pw user add "${u%%:*}" --role "${u#*:}" --no-password >/dev/null 2>&1
done
sample_fleet_init "$db"
pw_srv_start A -c "$T/pw.conf" --db "$db" || { bad "the server did not start"; test_done; }
U=http://127.0.0.1:$PW_SRV_PORT_A/api/v1
sample_enroll old-01 category=core owner_group=infra
sample_enroll mid-01 category=core owner_group=infra
sample_enroll new-01 category=core
sample_enroll db-01 category=database owner_group=dba app_owner=erp
# The KEV listing: a snapshot whose KEV catalogue lists one of the fleet's
# CVEs (the sample's own KEV entries are of other CVEs).
cve=$(sql "SELECT cves FROM findings ORDER BY id LIMIT 1" | grep -o 'CVE-[0-9]*-[0-9]*' | head -1)
mkdir -p "$T/kev"
python3 - "$PW_SOURCE_DIR/share/sample/feeds/kev/known_exploited_vulnerabilities.json" "$cve" \
  >"$T/kev/known_exploited_vulnerabilities.json" <<'PY'
import json, sys
k = json.load(open(sys.argv[1]))
k["vulnerabilities"] = [dict(k["vulnerabilities"][0], cveID=sys.argv[2])]
k["count"] = 1
json.dump(k, sys.stdout)
PY
"$PW_BIN" feed import --store "$T/feeds.db" "$PW_SOURCE_DIR/share/sample/feeds/debian" "$T/kev" \
  >/dev/null 2>&1 || bad "the KEV snapshot did not import"
pw_srv_stop A || bad "the server did not stop cleanly"
pw host recompute --store "$T/feeds.db" >/dev/null 2>&1
nf=$(sql "SELECT count(*) FROM findings WHERE fixed_at IS NULL")
nkev=$(sql "SELECT count(*) FROM findings WHERE fixed_at IS NULL AND kev_cve = '$cve'")
check "findings computed ($nf open, $nkev of them of $cve, KEV-listed)" test "$nf" -gt 0 -a "$nkev" -eq 4

# ---- the quarter's history as fixture dates ---------------------------------
# Day N is D0 + N days; every host enrolled on day 0. Patches: old-01 on
# day -10, mid-01 on day 20, db-01 on day 60, new-01 never. Every finding
# first seen on day 5 at 08:00, due 30 days later (normal) or, the
# KEV-listed one, on day 47; mid-01's all fixed on day 20 at 08:00 (its
# patch).
D0=$(date -u -d '-91 days' +%F)
day() { date -u -d "$D0 + $1 days" +%F; }
epoch() { date -u -d "$1" +%s; }
hid() { sql "SELECT id FROM hosts WHERE hostname = '$1'"; }
sql "UPDATE hosts SET created = '${D0}T00:00:00.000Z'"
sql "UPDATE hosts SET last_patched = '$(day -10)' WHERE hostname = 'old-01'"
sql "UPDATE hosts SET last_patched = '$(day 20)' WHERE hostname = 'mid-01'"
sql "UPDATE hosts SET last_patched = '$(day 60)' WHERE hostname = 'db-01'"
sql "UPDATE findings SET first_seen = '$(day 5)T08:00:00.000Z', due = '$(day 35)'"
sql "UPDATE findings SET due = '$(day 47)' WHERE kev_cve IS NOT NULL"
sql "UPDATE findings SET fixed_at = '$(day 20)T08:00:00.000Z' WHERE host_id = $(hid mid-01)"
prio_of() { sql "SELECT group_concat(n, ',') FROM (SELECT priority || ':' || count(*) n FROM findings WHERE host_id = $(hid "$1") GROUP BY priority ORDER BY priority)"; }
echo "D0=$D0 ($nf findings; per host: $(prio_of old-01))" >&2

# ---- campaigns with the clock moved ------------------------------------------
noon() { epoch "$(day "$1") 12:00"; }
export PATCHWARDEN_TEST_NOW
PATCHWARDEN_TEST_NOW=$(noon 30)
pw campaign create --name erp --hosts category=database --as op --json >"$T/c.json"
c=$(jq -r .id "$T/c.json")
pw campaign confirm-backup "$c" --host db-01 --as op --note "tape 1" >/dev/null
pw campaign decline "$c" --host db-01 --as erp --reason "quarter end" --data-value low \
  --threat-frequency low --impact low --cost-benefit "not now" >/dev/null
pw campaign sign-off "$c" --host db-01 --as boss --expires "$(day 50)" >/dev/null
check "day 30: db-01's risk accepted until day 50 ($(day 50))" \
  test "$(sql "SELECT state FROM campaign_hosts WHERE campaign_id = $c")" = risk_accepted
PATCHWARDEN_TEST_NOW=$(noon 45)
pw policy run --json >"$T/policy.json"
k=$(sql "SELECT id FROM campaigns WHERE emergency = 1 AND name LIKE 'policy: emergency%' ORDER BY id LIMIT 1")
check "day 45: the policy run drafted the KEV emergency campaign ($k)" test -n "$k"
kh=$(sql "SELECT group_concat(hostname, ',') FROM (SELECT hostname FROM campaign_hosts WHERE campaign_id = ${k:-0} ORDER BY hostname)")
check "... for the hosts with the open KEV finding: db-01, new-01, old-01 (mid-01 fixed it)" \
  test "$kh" = db-01,new-01,old-01
unset PATCHWARDEN_TEST_NOW

# ---- the expectations, from the fixture alone ----------------------------------
# expect.py AS_OF_DAY: the report's rows as the rules give them for these
# fixture dates (a date as-of is its last second).
cat >"$T/expect.py" <<PY
import json, sys, datetime as dt
D0 = dt.datetime.strptime("$D0", "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
DAY = 86400
def at(d, h=0): return int((D0 + dt.timedelta(days=d, hours=h)).timestamp())
hosts = {"old-01": -10, "mid-01": 20, "new-01": None, "db-01": 60}
prios = {h: dict(p.split(":") for p in s.split(",")) for h, s in
         (("old-01", "$(prio_of old-01)"), ("mid-01", "$(prio_of mid-01)"),
          ("new-01", "$(prio_of new-01)"), ("db-01", "$(prio_of db-01)"))}
nkev_prio = "$(sql "SELECT priority FROM findings WHERE kev_cve IS NOT NULL LIMIT 1")"
def state(h, t):
    lp = hosts[h]
    lp = at(lp) if lp is not None and at(lp) <= t else None
    today = t - t % DAY
    open_ = {p: 0 for p in ("emergency", "high", "normal", "low")}
    past = 0
    for p, n in prios[h].items():
        n = int(n)
        for i in range(n):
            kev = p == nkev_prio and i == 0
            first, fixed = at(5, 8), (at(20, 8) if h == "mid-01" else None)
            due = at(47) if kev else at(35)
            if first <= t and (fixed is None or fixed > t):
                open_[p] += 1
                past += due < today
    within = (lp if lp is not None else at(0)) >= t - 90 * DAY
    return {"last_patched": None if lp is None else dt.datetime.fromtimestamp(lp, dt.timezone.utc).strftime("%Y-%m-%d"),
            "days_since": None if lp is None else (t - lp) // DAY, "within_policy": within,
            "open": open_, "past_sla": past, "compliant": within and past == 0}
d = int(sys.argv[1]); T = at(d) + DAY - 1
rows = {h: state(h, T) for h in hosts}
trend = []
for k in range(13, -1, -1):
    t = T - 7 * k * DAY
    # Hosts are in service from their enrollment (day 0); no host: 100%.
    s = [state(h, t) for h in hosts] if at(0) <= t else []
    c = sum(x["compliant"] for x in s)
    trend.append([dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%d"), c,
                  round(100 * c / len(s), 1) if s else 100])
print(json.dumps({"hosts": rows, "trend": trend}, sort_keys=True))
PY
# The report's rows in the expectation's shape.
got() {
  jq -S '{hosts: (.hosts | map({key: .host, value: {last_patched, days_since, within_policy, open, past_sla, compliant}}) | from_entries),
          trend: [.trend[] | [.date, .compliant, .percent]]}' "$1"
}
for d in 30 40 50 91; do
  pw report compliance --as-of "$(day "$d")" --json >"$T/r$d.json"
  check "report compliance --as-of day $d ($(day "$d"))" test $? -eq 0
  python3 "$T/expect.py" "$d" | jq -S . >"$T/want$d.json"
  got "$T/r$d.json" >"$T/got$d.json"
  check "day $d: every host's last patch, days since, open findings, past SLA, compliance and the 13-week trend as worked out from the fixture" \
    diff -u "$T/want$d.json" "$T/got$d.json"
done
# The rules, said in words (the python above computes them):
check "day 30: nothing past SLA yet (due day 35), everyone within 90 days: 100%" \
  test "$(jq '.fleet.percent' "$T/r30.json")" = 100
check "day 40: the normal findings past SLA (day 35) on old-01, new-01, db-01: 25%" \
  test "$(jq -r '[.hosts[] | select(.compliant) | .host] | join(",")' "$T/r40.json")" = mid-01
check "day 91: old-01 (101 days) and new-01 (never, enrolled 91 days ago) break the 90-day rule" \
  test "$(jq -r '[.hosts[] | select(.within_policy | not) | .host] | join(",")' "$T/r91.json")" = new-01,old-01
check "... old-01 last patched $(day -10), 101 days" \
  test "$(jq -r '.hosts[] | select(.host == "old-01") | "\(.last_patched) \(.days_since)"' "$T/r91.json")" = "$(day -10) 101"

# ---- the risk acceptance, the campaigns, as of their days ------------------------
check "day 29: no campaign yet (created on day 30)" test "$(pw report compliance --as-of "$(day 29)" --json | jq '.campaigns | length')" -eq 0
check "day 40: db-01's accepted risk in force, until day 50" \
  test "$(jq -r '.hosts[] | select(.host == "db-01") | .accepted_risks[] | "\(.campaign) \(.signed_by) \(.expires)"' "$T/r40.json")" = "$c cli:boss $(day 50)T00:00:00.000Z"
check "... counted in the fleet (1 in force, 0 expired)" test "$(jq -r '"\(.fleet.accepted_risks) \(.fleet.expired_risks)"' "$T/r40.json")" = "1 0"
check "day 50: it expired (its end day): none in force, 1 expired" \
  test "$(jq -r '"\(.fleet.accepted_risks) \(.fleet.expired_risks) \([.hosts[].accepted_risks[]] | length)"' "$T/r50.json")" = "0 1 0"
check "day 40: the erp campaign, db-01 risk accepted; no emergency campaign yet (day 45)" \
  test "$(jq -c '[.campaigns[] | [.id, .states]]' "$T/r40.json")" = "[[$c,{\"risk_accepted\":1}]]"
check "day 50: the KEV emergency campaign with its 3 hosts awaiting backup" \
  test "$(jq -c ".campaigns[] | select(.id == $k) | [.emergency, .hosts, .states, .outcome]" "$T/r50.json")" = '[true,3,{"awaiting_backup":3},"in progress"]'
check "... on old-01's row with its state" \
  test "$(jq -r ".hosts[] | select(.host == \"old-01\") | .campaigns[] | select(.id == $k) | .state" "$T/r50.json")" = awaiting_backup
check "day 50: the KEV-listed finding (due day 47) is past SLA on the 3 hosts: 1 open KEV finding each" \
  test "$(jq '.fleet.kev_open' "$T/r50.json")" -eq 3
pw report compliance --as-of "$(day 50)T11:00:00Z" --owner infra --json >"$T/ri.json"
check "--owner infra: old-01 and mid-01 only" test "$(jq -r '[.hosts[].host] | join(",")' "$T/ri.json")" = mid-01,old-01
pw report compliance --as-of "$(day 50)x" >"$T/out" 2>&1
check "a bad --as-of is refused naming the input and the position: $(head -1 "$T/out")" \
  grep -q "'$(day 50)x': unexpected character at position 11" "$T/out"
pw report compliance --as-of "$(day 50 | sed 's/-[0-9]*$/-32/')" >"$T/out" 2>&1
check "... a day 32: $(head -1 "$T/out")" grep -q "day 32 at position 9 is out of range" "$T/out"
test_done
