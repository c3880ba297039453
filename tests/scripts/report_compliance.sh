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
# The reports judge each host's coverage against this store's releases.
export PATCHWARDEN_STORE=$T/feeds.db
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
# fixture dates (a date as-of is its last second). A host is covered from
# its first report: its findings' first sighting (day 5, 08:00) is the
# earliest sign of an inventory (the agents' check-ins are of today);
# before it, its findings and its compliance are unknown (null).
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
    if t < at(5, 8):
        return {"last_patched": None if lp is None else dt.datetime.fromtimestamp(lp, dt.timezone.utc).strftime("%Y-%m-%d"),
                "days_since": None if lp is None else (t - lp) // DAY, "within_policy": within,
                "open": None, "past_sla": None, "compliant": None}
    return {"last_patched": None if lp is None else dt.datetime.fromtimestamp(lp, dt.timezone.utc).strftime("%Y-%m-%d"),
            "days_since": None if lp is None else (t - lp) // DAY, "within_policy": within,
            "open": open_, "past_sla": past, "compliant": within and past == 0}
d = int(sys.argv[1]); T = at(d) + DAY - 1
rows = {h: state(h, T) for h in hosts}
trend = []
for k in range(13, -1, -1):
    t = T - 7 * k * DAY
    # Hosts are in service from their enrollment (day 0); no host: no share (null).
    s = [state(h, t) for h in hosts] if at(0) <= t else []
    c = sum(1 for x in s if x["compliant"])
    trend.append([dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%d"), c,
                  round(100 * c / len(s), 1) if s else None])
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

pw report compliance --as-of "$(day 91)" >"$T/r91.txt"
check "the table: old-01 with its last patch and 101 days, not compliant" \
  grep -Eq "^old-01 +$(day -10) +101 .* no +covered$" "$T/r91.txt"
check "... and the fleet line: 1 of 4 compliant (25.0%)" grep -q "1 of 4 hosts compliant (25.0%)" "$T/r91.txt"

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

# ---- time to remediate ---------------------------------------------------------
# mid-01's findings, fixed 15 days after they were first seen; from the
# advisory's publication: the feed store's earliest date for it.
pw report mttr --as-of "$(day 91)" --json --store "$T/feeds.db" >"$T/m.json"
check "report mttr" test $? -eq 0
python3 - "$T/feeds.db" "$(day 20)" "$(sql "SELECT group_concat(advisory || ':' || priority, ' ') FROM findings WHERE host_id = $(hid mid-01)")" \
  >"$T/mwant.json" <<'PY'
import json, math, sqlite3, sys, datetime as dt, statistics
db, fixday, advs = sys.argv[1], sys.argv[2], [a.split(":") for a in sys.argv[3].split()]
fixed = dt.datetime.strptime(fixday + " 08:00", "%Y-%m-%d %H:%M").replace(tzinfo=dt.timezone.utc)
con = sqlite3.connect(db)
def pub(a):
    r = con.execute("SELECT min(substr(published, 1, 10)) FROM feed_advisory"
                    " WHERE adv_id = ? AND removed_in IS NULL", (a,)).fetchone()[0]
    return dt.datetime.strptime(r, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc) if r else None
r1 = lambda x: math.floor(x * 10 + 0.5) / 10
def row(by, group, items):
    p = [(fixed - pub(a)).total_seconds() / 86400 for a, _ in items if pub(a)]
    return {"group_by": by, "group": group, "fixed": len(items),
            "detection_median_days": 15, "detection_mean_days": 15, "published": len(p),
            "publication_median_days": r1(statistics.median(p)) if p else None,
            "publication_mean_days": r1(statistics.fmean(p)) if p else None}
rows = [row("priority", pr, [x for x in advs if x[1] == pr])
        for pr in ("emergency", "high", "normal", "low") if any(x[1] == pr for x in advs)]
rows.append(row("owner_group", "infra", advs))
print(json.dumps(rows, sort_keys=True))
PY
check "mttr: per priority and owner group (infra: mid-01), 15 days from detection, from publication as the feed store dates it" \
  test "$(jq -cS .groups "$T/m.json")" = "$(jq -cS . "$T/mwant.json")"
pw report mttr --as-of "$(day 19)" --json --store "$T/feeds.db" >"$T/m19.json"
check "mttr as of day 19: nothing fixed yet" test "$(jq '.groups | length' "$T/m19.json")" -eq 0
pw report mttr --as-of "$(day 91)" --format csv --store "$T/feeds.db" >"$T/m.csv"
check "mttr --format csv parses, one row per group" \
  test "$(python3 -c 'import csv, sys; print(len(list(csv.DictReader(open(sys.argv[1], newline="")))))' "$T/m.csv")" -eq "$(jq '.groups | length' "$T/m.json")"

# ---- CSV and HTML ---------------------------------------------------------------
# An owner group a spreadsheet would run, with markup in it.
odd='=SUM(1)<b>&"x'
pw host set new-01 "owner_group=$odd" >/dev/null
pw report compliance --as-of "$(day 91)" --format csv >"$T/r.csv"
check "--format csv" test $? -eq 0
python3 - "$T/r.csv" "$odd" "$(day -10)" >"$T/out" 2>&1 <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
by = {r["host"]: r for r in rows}
assert sorted(by) == ["db-01", "mid-01", "new-01", "old-01"], sorted(by)
o = by["old-01"]
assert (o["last_patched"], o["days_since"], o["within_policy"], o["compliant"]) == (sys.argv[3], "101", "no", "no"), o
assert by["mid-01"]["compliant"] == "yes" and by["mid-01"]["normal"] == "0", by["mid-01"]
assert by["new-01"]["owner_group"] == "'" + sys.argv[2], by["new-01"]["owner_group"]
assert "risk_accepted" in by["db-01"]["campaigns"], by["db-01"]
print("ok")
PY
check "the CSV parses with python's csv module: 4 hosts, old-01's row, the formula guard ('=...)" grep -qx ok "$T/out"
pw report compliance --as-of "$(day 91)" --format html --output "$T/r.html"
check "--format html --output FILE" test -s "$T/r.html"
python3 - "$T/r.html" >"$T/out" 2>&1 <<'PY'
import sys
from html.parser import HTMLParser
VOID = {"meta", "br", "hr", "img", "input", "link"}
class P(HTMLParser):
    def __init__(s):
        super().__init__(convert_charrefs=True)
        s.stack, s.svgs, s.titles, s.external, s.scripts, s.text = [], 0, 0, [], 0, []
    def handle_starttag(s, tag, attrs):
        s.check(tag, attrs)
        if tag not in VOID:
            s.stack.append(tag)
    def handle_startendtag(s, tag, attrs):
        s.check(tag, attrs)
    def check(s, tag, attrs):
        s.svgs += tag == "svg"
        s.titles += tag == "title" and "svg" in s.stack
        s.scripts += tag in ("script", "iframe", "object", "embed", "link", "img")
        for k, v in attrs:
            if k in ("src", "href", "xlink:href", "action") or "url(" in (v or ""):
                s.external.append((tag, k, v))
    def handle_endtag(s, tag):
        assert s.stack and s.stack[-1] == tag, f"</{tag}> closes {s.stack[-1:]}"
        s.stack.pop()
    def handle_data(s, d):
        s.text.append(d)
raw = open(sys.argv[1], encoding="utf-8").read()
p = P(); p.feed(raw); p.close()
assert not p.stack, f"unclosed: {p.stack}"
assert p.svgs == 3 and p.titles >= 3, (p.svgs, p.titles)
assert not p.external and not p.scripts, (p.external, p.scripts)
assert "http://" not in raw.replace('xmlns="http://www.w3.org/2000/svg"', "")
assert "https://" not in raw and "@media print" in raw
assert '=SUM(1)<b>&"x' in "".join(p.text) and "<b>" not in raw
print("ok")
PY
check "the HTML parses (every element closed), 3 SVG charts with titles, no script and no external reference, printable, markup escaped" \
  grep -qx ok "$T/out"
check "... the charts: compliance over time, findings by priority, time to remediate" \
  test "$(grep -o '<title id="[a-z]*-title">[^<]*' "$T/r.html" | sed 's/.*>//' | paste -sd,)" = "Compliance over time,Open findings by priority,Time to remediate"

# ---- an overwritten last_patched: the earlier value from the audit log -------
# mid-01's patch date entered by hand (day 20), then overwritten by a
# later one (now, to the second): a report as of between the two edits
# has the first, which only the first edit's audit event still holds.
pw host set mid-01 "last_patched=$(day 20)" >/dev/null
t1=$(date -u +%FT%TZ)
test_wait_for 5 test "$(date -u +%FT%TZ)" != "$t1"
t2=$(date -u +%FT%TZ)
pw host set mid-01 "last_patched=$t2" >/dev/null
check "hosts.last_patched is now $t2" test "$(sql "SELECT last_patched FROM hosts WHERE hostname = 'mid-01'")" = "${t2%Z}.000Z"
check "a report as of $t1 (between the edits): mid-01 last patched on day 20, from the audit log" \
  test "$(pw report compliance --as-of "$t1" --json | jq -r '.hosts[] | select(.host == "mid-01") | .last_patched')" = "$(day 20)"
check "... as of $t2: today" \
  test "$(pw report compliance --as-of "$t2" --json | jq -r '.hosts[] | select(.host == "mid-01") | "\(.last_patched) \(.days_since)"')" = "$(date -u +%F) 0"

# ---- the API: the same document for an auditor ----------------------------------
atok=$(pw user token create audit 2>/dev/null)
otok=$(pw user token create op 2>/dev/null)
pw_srv_start B -c "$T/pw.conf" --db "$db" || bad "the server did not start"
U=http://127.0.0.1:$PW_SRV_PORT_B/api/v1
pw_http GET "$U/reports/compliance?as_of=$(day 50)" "$atok"
check "GET /reports/compliance?as_of= (an auditor): $HTTP_STATUS" test "$HTTP_STATUS" = 200
check "... the document report compliance --json writes" \
  test "$(jq -cS . <<<"$HTTP_BODY")" = "$(pw report compliance --as-of "$(day 50)" --json | jq -cS .)"
pw_http GET "$U/reports/compliance/csv?as_of=$(day 91)" "$atok"
check "GET /reports/compliance/csv: the CLI's CSV" \
  test "$HTTP_BODY" = "$(pw report compliance --as-of "$(day 91)" --format csv)"
# The server's scheduler expired db-01's acceptance on start (today, the
# wall clock): a new ticket event, after day 50.
check "the server expired the acceptance today (db-01 awaiting approval again)" \
  test "$(sql "SELECT state FROM campaign_hosts WHERE campaign_id = $c")" = awaiting_approval
pw_http GET "$U/reports/compliance?as_of=$(day 50)" "$atok"
check "... the day-50 report still has it risk accepted, as before: fleet and campaigns unchanged" \
  test "$(jq -cS '[.fleet, .campaigns]' <<<"$HTTP_BODY")" = "$(jq -cS '[.fleet, .campaigns]' "$T/r50.json")"
pw_http GET "$U/reports/compliance" "$otok"
check "an operator may not read it (403)" test "$HTTP_STATUS" = 403
pw_http GET "$U/reports/compliance?as_of=2026-02-30" "$atok"
check "a bad as_of is a 400 naming it: $(json 'j["error"]["message"]')" \
  test "$HTTP_STATUS:$(json 'j["error"]["message"]' | grep -c 'day 30 at position 9')" = 400:1
pw_srv_stop B || bad "the server did not stop cleanly"
test_done
