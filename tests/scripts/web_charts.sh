#!/usr/bin/env bash
# The console's compliance chart and Reports page (issues 14 and 15) in
# Debian's headless Chromium (tests/tools/web_charts.py): the fleet page's
# chart for the roles that may read the compliance report (auditor,
# manager), its points against the trend of `patchwarden report compliance
# --json` (the percentages recomputed here from its host counts), no chart
# and no Reports link for the operator and the help desk; the report page
# with its date field, its CSV and its own CSP, a bad date's 400.
# Screenshots: $PW_WEB_SHOTS (kept) or the test's temporary directory.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/samplehosts.sh"
trap pw_srv_cleanup EXIT
test_require_cmd jq sqlite3
. "$here/lib/browser.sh"
S=${PW_SOURCE_DIR:?PW_SOURCE_DIR is not set; run under ctest}/share/sample
T=$PW_SRV_TMP
db=sqlite://$T/pw.db
feeds=$T/feeds.db
conf=$(pw_srv_plain_conf)
unset PATCHWARDEN_DB PATCHWARDEN_STORE
pw() { "$PW_BIN" "$@" --db "$db"; }
"$PW_BIN" feed import --store "$feeds" "$S/feeds" >/dev/null 2>&1
check "the sample feeds imported" test $? -eq 0
printf '[feeds]\nstore = "%s"\n' "$feeds" >>"$conf"
for u in op:operator hd:helpdesk boss:manager aud:auditor; do
  pw user add "${u%%:*}" --role "${u#*:}" --password-stdin <<<"correct horse" >/dev/null 2>&1 ||
    bad "user add ${u%%:*}"
done
etok=$(pw user enroll-token create --uses 10 2>/dev/null)
pw_srv_start A -c "$conf" --db "$db" || { pw_srv_summary; exit 1; }
B=http://127.0.0.1:$PW_SRV_PORT_A
U=$B/api/v1
# Three hosts, one patched long before the policy's 90 days: not compliant.
sample_enroll db-01 category=database last_patched=2026-01-05
sample_enroll web-01 category=web
sample_enroll app-01 category=application
pw host recompute --store "$feeds" >"$T/out" 2>&1
check "the hosts' findings computed: $(head -1 "$T/out")" test $? -eq 0

# The hosts in service for the last three weeks (enrolled 20 days ago), so
# the trend has 3 points with a share and 11 without (no host: no point).
sqlite3 "$T/pw.db" "UPDATE hosts SET created = '$(date -u -d '-20 days' +%F)T00:00:00.000Z'" ||
  bad "the hosts' enrollment dates were not written"
# The expected points: the report's trend dates with the percentage
# recomputed from its counts, one decimal; a week without a host has none.
pw report compliance --store "$feeds" --json >"$T/report.json"
jq -r '.trend[] | select(.hosts > 0) | [.date, (.compliant * 1000 / .hosts | round / 10)]
  | map(tostring) | join(" ")' "$T/report.json" >"$T/expected"
check "the report has 14 weekly points (13 weeks)" test "$(jq '.trend | length' "$T/report.json")" -eq 14
check "... 3 of them with hosts in service (enrolled 20 days ago), the others with no share" \
  test "$(wc -l <"$T/expected")" -eq 3 -a "$(jq '[.trend[] | select(.percent == null)] | length' "$T/report.json")" -eq 11
check "the last point is 1 of 3 hosts or less (db-01 unpatched)" \
  test "$(jq '.trend[-1] | .hosts == 3 and .compliant <= 2' "$T/report.json")" = true

browser_py web_charts.py "$B" "$T/expected" "$shots" >"$T/browser.out" 2>&1
st=$?
grep -E '^(ok|not ok) - ' "$T/browser.out" | while IFS= read -r line; do echo "browser: $line"; done
check "the browser's checks all passed" test "$st" -eq 0
[ "$st" -eq 0 ] || grep -v -e '^ok - ' "$T/browser.out" | tail -30 >&2
check "every browser check ran (none missing)" \
  test "$(grep -c '^ok - ' "$T/browser.out")" -ge 29
pw_srv_stop A || bad "the server did not stop cleanly"
test_done
