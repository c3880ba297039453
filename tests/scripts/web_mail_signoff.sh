#!/usr/bin/env bash
# Issue 15's "done means": a manager who has never used a terminal signs
# off a risk acceptance from the link in a mail. A real MTA (Debian's
# exim4, lib/mta.sh) takes the server's mail; the server's public_url is
# its own address on 127.0.0.1. A Flow 2 campaign's owner declines with a
# risk assessment (the CLI), the manager's mail arrives in the maildir,
# its link is read out of it with Python's email parser, and headless
# Chromium (tests/tools/web_mail_signoff.py) opens it with no session:
# the login form brings the manager back to the linked page, where the
# sign-off is done. The CLI then shows the risk accepted, signed by the
# manager. The login's next= cannot send anyone to another site.
# Screenshots: $PW_WEB_SHOTS (kept) or the test's temporary directory.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/samplehosts.sh"
. "$here/lib/mta.sh"
cleanup() {
  mta_cleanup
  pw_srv_cleanup
}
trap cleanup EXIT
test_require root
test_require_cmd jq exim4 openssl curl
. "$here/lib/browser.sh"
: "${PW_CAMPAIGN_OUTCOME:?PW_CAMPAIGN_OUTCOME is not set; run under ctest}"
S=${PW_SOURCE_DIR:?PW_SOURCE_DIR is not set; run under ctest}/share/sample
T=$PW_SRV_TMP
db=sqlite://$T/pw.db
feeds=$T/feeds.db
unset PATCHWARDEN_DB PATCHWARDEN_STORE
pw() { "$PW_BIN" "$@" --db "$db"; }
"$PW_BIN" feed import --store "$feeds" "$S/feeds" >/dev/null 2>&1
check "the sample feeds imported" test $? -eq 0

MTA_TLS=1 mta_setup || { bad "exim4 configuration"; test_done; }
mta_start || { bad "exim4 did not start"; test_done; }
# The links point at the server itself: its port is chosen before it starts.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
B=http://127.0.0.1:$port
cat >"$T/pw.conf" <<CONF
[server]
allow_plain_http = true
listen = 127.0.0.1:$port
public_url = $B
[feeds]
store = "$feeds"
$(mta_notify_conf)
interval = 1
CONF

for u in op:operator: own:app-owner:own@example.org boss:manager:boss@example.org; do
  IFS=: read -r name role mail <<<"$u"
  pw user add "$name" --role "$role" --password-stdin <<<"correct horse" >/dev/null 2>&1 ||
    bad "user add $name"
  [ -n "$mail" ] && pw user email "$name" "$mail" >/dev/null
done
etok=$(pw user enroll-token create --uses 5 2>/dev/null)
PW_SRV_LISTEN=127.0.0.1:$port pw_srv_start A -c "$T/pw.conf" --db "$db" || { pw_srv_summary; exit 1; }
U=$B/api/v1

sample_enroll db-01 category=database environment=production app_owner=own criticality=5
pw host recompute --store "$feeds" >/dev/null 2>&1
pw campaign create --name erp --hosts category=database --flow 2 --as op --json >"$T/c.json"
c=$(jq -r .id "$T/c.json")
check "a Flow 2 campaign ($c) for db-01" test -n "$c"
"$PW_CAMPAIGN_OUTCOME" "$db" "$c" db-01 backup-check-passed 2>"$T/outcome.err"
check "db-01 waits for its owner" \
  test "$(pw campaign show "$c" --json | jq -r '.host_list[0].state')" = awaiting_approval
pw campaign decline "$c" --host db-01 --as own --reason "month-end close" --data-value high \
  --threat-frequency low --impact medium --cost-benefit "an outage costs more" >/dev/null
check "the owner declined with a risk assessment" \
  test "$(pw campaign show "$c" --json | jq -r '.host_list[0].state')" = declined

# ---- the manager's mail ------------------------------------------------------
to_boss() { mta_messages | xargs -r grep -l '^To: <boss@example.org>' 2>/dev/null; }
boss_mail() { [ -n "$(to_boss)" ]; }
test_wait_for 60 boss_mail
mail=$(to_boss | head -1)
check "the manager's sign-off mail arrived in the maildir" test -n "$mail"
[ -n "$mail" ] || test_done
python3 -c '
import email, email.policy, re, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
body = m.get_content()
print(str(m["Subject"]))
print(" ".join(re.findall(r"^In the web console: (\S+)$", body, re.M)))
print("command" if sys.argv[2] in body else "")' "$mail" "campaign sign-off $c --host db-01" >"$T/mail.txt"
link=$(sed -n 2p "$T/mail.txt")
check "the mail asks for the sign-off: $(sed -n 1p "$T/mail.txt")" grep -q "sign off the risk acceptance" "$T/mail.txt"
check "it keeps the command" test "$(sed -n 3p "$T/mail.txt")" = command
check "its link is this server's My actions ($link)" test "$link" = "$B/actions"

# ---- the browser, from the link ---------------------------------------------
browser_py web_mail_signoff.py "$link" "$c" db-01 boss "$shots" \
  >"$T/browser.out" 2>&1
st=$?
grep -E '^(ok|not ok) - ' "$T/browser.out" | while IFS= read -r line; do echo "browser: $line"; done
check "the browser's checks all passed" test "$st" -eq 0
[ "$st" -eq 0 ] || tail -30 "$T/browser.out" >&2
check "every browser check ran" test "$(grep -c '^ok - ' "$T/browser.out")" -eq 4
check "the screenshot of the signed-off page is kept" test -s "$shots/mail-link-signed-off.png"

# ---- what the browser did, seen by the CLI -----------------------------------
check "db-01 is risk accepted" \
  test "$(pw campaign show "$c" --json | jq -r '.host_list[0].state')" = risk_accepted
pw ticket show "$(pw campaign show "$c" --json | jq -r '.host_list[0].ticket_id')" --json >"$T/t.json"
check "declined by user:own (the CLI), signed off by user:boss (the browser)" \
  test "$(jq -r '.risk_acceptances[0] | [.declined_by, .signed_by] | join(",")' "$T/t.json")" = "cli:own,user:boss"
check "the ticket's history has the browser's sign-off" \
  test "$(jq '[.events[] | select(.actor == "user:boss" and .to == "risk_accepted")] | length' "$T/t.json")" -eq 1

# ---- the login's next= stays on this server ----------------------------------
check "a page without a session sends to the login with next=" \
  test "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$B/campaigns/$c")" = "303 $B/login?next=/campaigns/$c"
login_to() { # NEXT: where a good login with next=NEXT goes
  rm -f "$T/jar"
  curl -s -c "$T/jar" -o "$T/login.html" "$B/login?next=$(jq -rn --arg v "$1" '$v | @uri')"
  csrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$T/login.html")
  curl -s -b "$T/jar" -o /dev/null -w '%{http_code} %{redirect_url}' \
    --data-urlencode "csrf=$csrf" --data-urlencode "user=boss" \
    --data-urlencode "password=correct horse" --data-urlencode "next=$1" "$B/login"
}
check "a login with next=/actions goes there" test "$(login_to /actions)" = "303 $B/actions"
for evil in //evil.example/actions https://evil.example/ '/\evil.example' \
  '/actions/../..//evil.example' 'javascript:alert(1)' '/%2F%2Fevil.example' ' /actions'; do
  check "an open redirect to '$evil' is refused (the fleet page instead)" \
    test "$(login_to "$evil")" = "303 $B/"
  check "... and the login form does not carry it" \
    eval "! grep -q 'name=\"next\"' '$T/login.html'"
done
check "the form carries a good next" \
  eval "curl -s '$B/login?next=/actions' | grep -q 'name=\"next\" value=\"/actions\"'"

pw_srv_stop A || bad "the server did not stop cleanly"
pw audit verify >/dev/null 2>&1
check "the audit log verifies" test $? -eq 0
test_done
