#!/usr/bin/env bash
# The web console (issue 15) in a real headless browser: Debian's
# chromium and chromium-driver, driven by Debian's python3-selenium
# (tests/tools/web_browser.py), against a real server holding demo data
# set up as tests/scripts/campaign_flows.sh does: the sample Debian 10
# inventory checked in by agents, findings against the sample feeds, a
# Flow 2 campaign whose database host waits for its owner. The browser
# logs in, reads the fleet, finds the exposed host by CVE, declines as
# the application owner with a risk assessment (and sees no other
# owner's host) and signs off as the manager; the operator creates a
# campaign from the hosts page through its dry run and edits a host's
# fields; the auditor reads the tickets and the audit log with its
# verification, and gets 403 for forged posts; the admin adds a user,
# changes its role, disables it, creates and revokes an API token and
# an enrollment token; CSRF, the cookie's flags, the headers, logout, the lockout and
# the idle expiry are checked over plain HTTP. Afterwards the API and the audit log must
# agree with what the pages did. Screenshots: $PW_WEB_SHOTS (kept) or the
# test's temporary directory.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/samplehosts.sh"
trap pw_srv_cleanup EXIT
test_require_cmd jq
. "$here/lib/browser.sh"
: "${PW_CAMPAIGN_OUTCOME:?PW_CAMPAIGN_OUTCOME is not set; run under ctest}"
S=${PW_SOURCE_DIR:?PW_SOURCE_DIR is not set; run under ctest}/share/sample
T=$PW_SRV_TMP
db=sqlite://$T/pw.db
feeds=$T/feeds.db
conf=$(pw_srv_plain_conf)
# Session keys other than the defaults, to see them used: 10 minutes
# idle, 4 failed logins lock a name out.
printf 'session_idle = 600\nlogin_failures = 4\n' >>"$conf"
unset PATCHWARDEN_DB PATCHWARDEN_STORE
pw() { "$PW_BIN" "$@" --db "$db"; }
"$PW_BIN" feed import --store "$feeds" "$S/feeds" >/dev/null 2>&1
check "the sample feeds imported" test $? -eq 0
printf '[feeds]\nstore = "%s"\n' "$feeds" >>"$conf"

for u in root:admin op:operator own:app-owner boss:manager locky:manager aud:auditor; do
  pw user add "${u%%:*}" --role "${u#*:}" --password-stdin <<<"correct horse" >/dev/null 2>&1 ||
    bad "user add ${u%%:*}"
done
tok=$(pw user token create aud 2>/dev/null)
etok=$(pw user enroll-token create --uses 10 2>/dev/null)
pw_srv_start A -c "$conf" --db "$db" || { pw_srv_summary; exit 1; }
B=http://127.0.0.1:$PW_SRV_PORT_A
U=$B/api/v1

sample_enroll db-01 category=database environment=production app_owner=own criticality=5 \
  'location=<script>alert(1)</script>'
sample_enroll web-01 category=web environment=production app_owner=shop criticality=4
sample_enroll app-01 category=application environment=production app_owner=shop criticality=3
pw host recompute --store "$feeds" >"$T/out" 2>&1
check "the hosts' findings computed: $(head -1 "$T/out")" test $? -eq 0
pw campaign create --name erp --hosts category=database --as op --json >"$T/c.json"
c=$(jq -r .id "$T/c.json")
"$PW_CAMPAIGN_OUTCOME" "$db" "$c" db-01 backup-check-passed 2>"$T/outcome.err"
check "db-01 waits for its owner's approval" \
  test "$(pw campaign show "$c" --json | jq -r '.host_list[0].state')" = awaiting_approval
# Another owner's host waiting for approval, which "own" must not be offered.
pw campaign create --name shop --hosts category=application --as op --json >"$T/c2.json"
c2=$(jq -r .id "$T/c2.json")
"$PW_CAMPAIGN_OUTCOME" "$db" "$c2" app-01 backup-check-passed 2>>"$T/outcome.err"
check "app-01 waits for its owner's (shop's) approval" \
  test "$(pw campaign show "$c2" --json | jq -r '.host_list[0].state')" = awaiting_approval
# A CVE db-01 is exposed to, from its findings (the API, not the console).
id=$(pw host list --json | jq -r '.[] | select(.hostname == "db-01") | .id' 2>/dev/null)
pw_http GET "$U/hosts/$id/findings" "$tok"
cve=$(json '[c for f in j["findings"] for c in f["cves"]][0]')
check "db-01 has a CVE finding ($cve)" test -n "$cve"

browser_py web_browser.py "$B" "$c" "$cve" db-01 "$shots" "$id" app-01 \
  >"$T/browser.out" 2>&1
st=$?
grep -E '^(ok|not ok) - ' "$T/browser.out" | while IFS= read -r line; do echo "browser: $line"; done
check "the browser's checks all passed" test "$st" -eq 0
[ "$st" -eq 0 ] || grep -v -e '^ok - ' -e '^#[0-9]' "$T/browser.out" | tail -30 >&2
check "every browser check ran (none missing)" \
  test "$(grep -c '^ok - ' "$T/browser.out")" -ge 68

# Idle expiry: a session whose last request is older than the idle limit
# ([server] session_idle, 10 minutes here) opens no page; its user logs in again.
curl -s -c "$T/jar" -o "$T/login.html" "$B/login"
csrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$T/login.html")
curl -s -b "$T/jar" -c "$T/jar" -o /dev/null -d "csrf=$csrf&user=aud&password=correct+horse" "$B/login"
check "the auditor's session opens the fleet page" \
  test "$(curl -s -b "$T/jar" -o /dev/null -w '%{http_code}' "$B/")" = 200
sqlite3 "$T/pw.db" "UPDATE sessions SET last_seen = '$(date -u -d '-9 min' +%FT%T.000Z)'
  WHERE user_id = (SELECT id FROM users WHERE name = 'aud')"
check "9 minutes idle: the session still opens the fleet page" \
  test "$(curl -s -b "$T/jar" -o /dev/null -w '%{http_code}' "$B/")" = 200
sqlite3 "$T/pw.db" "UPDATE sessions SET last_seen = '$(date -u -d '-11 min' +%FT%T.000Z)'
  WHERE user_id = (SELECT id FROM users WHERE name = 'aud')"
check "11 minutes idle: the session has ended (to the login form)" \
  test "$(curl -s -b "$T/jar" -o /dev/null -w '%{http_code} %{redirect_url}' "$B/")" = "303 $B/login"

# Over HTTPS the session cookie is Secure too (the same database, a second node).
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" >"$T/openssl.log" 2>&1; then
  printf '[server]\ntls_cert = %s\ntls_key = %s\n[feeds]\nstore = "%s"\n' \
    "$T/cert.pem" "$T/key.pem" "$feeds" >"$T/tls.conf"
  pw_srv_start TLS -c "$T/tls.conf" --db "$db" || { pw_srv_summary; exit 1; }
  H=https://127.0.0.1:$PW_SRV_PORT_TLS
  curl -s --cacert "$T/cert.pem" -c "$T/tjar" -o "$T/login.html" "$H/login"
  csrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$T/login.html")
  curl -s --cacert "$T/cert.pem" -b "$T/tjar" -D "$T/tls.headers" -o /dev/null \
    -d "csrf=$csrf&user=aud&password=correct+horse" "$H/login"
  check "HTTPS: the session cookie is Secure, HttpOnly, SameSite=Strict" \
    grep -qi '^Set-Cookie: pw_session=pws_[^;]*; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict; Secure' "$T/tls.headers"
  pw_srv_stop TLS || bad "the HTTPS server did not stop cleanly"
else
  bad "openssl could not make a certificate: $(cat "$T/openssl.log")"
fi

# What the pages did, seen through the API and the audit log.
check "db-01 is risk accepted after the pages' decline and sign-off" \
  test "$(pw campaign show "$c" --json | jq -r '.host_list[0].state')" = risk_accepted
pw ticket show "$(pw campaign show "$c" --json | jq -r '.host_list[0].ticket_id')" --json >"$T/t.json"
check "the decline is by user:own with the assessment, the sign-off by user:boss" \
  test "$(jq -r '[.risk_acceptances[0] | .declined_by, .data_value, .threat_frequency, .impact, .signed_by] | join(",")' "$T/t.json")" \
  = "user:own,high,low,medium,user:boss"
check "the pages' campaign: web-01, created by user:op, soak 30 minutes" \
  test "$(pw campaign list --json | jq -r '.[] | select(.name == "web December") |
    [.created_by, .hosts, .soak_seconds] | map(tostring) | join(",")')" = "user:op,1,1800"
check "the pages' host fields: db-01's ticket and window" \
  test "$(pw host show db-01 --json | jq -r '[.ticket, .maintenance_window] | join(",")')" \
  = "CHG-4711,Sun 01:00-04:00"
check "the pages' user: newbie, auditor, disabled" \
  test "$(pw user list --json | jq -r '.[] | select(.name == "newbie") | [.role, .disabled] |
    map(tostring) | join(",")')" = "auditor,true"
check "the pages' API token is revoked, the enrollment token (3 uses) too" \
  test "$(pw user token list newbie --json | jq -r '.[0].revoked != null'),$(pw user enroll-token list --json |
    jq -r '.[] | select(.label == "rack 12") | [.uses_total, .revoked != null] | map(tostring) | join(",")')" \
  = "true,3,true"
pw audit list --json >"$T/audit.json" 2>/dev/null
check "logins, failures and logouts are audited" \
  test "$(jq -r '[(map(select(.action == "session.create")) | length) >= 4,
                 (map(select(.action == "login.fail")) | length) == 6,
                 (map(select(.action == "session.revoke")) | length) >= 3] | all' "$T/audit.json")" = true
pw audit verify >/dev/null 2>&1
check "the audit log verifies" test $? -eq 0
pw_srv_stop A || bad "the server did not stop cleanly"
test_done
