#!/usr/bin/env bash
# Notifications (issue 14) through a real MTA and a real webhook
# receiver: Debian's exim4 run by the test on 127.0.0.1 with its own
# configuration and spool (lib/mta.sh), requiring AUTH and delivering to
# a maildir read here with Python's email parser, and an HTTP receiver
# (tests/tools/webhook_receiver.py) that checks each HMAC itself with
# Python's hmac. Campaign steps taken with the CLI write their messages
# in their own transaction; the server's notifier thread sends them.
# The MTA is down at first: the mail waits (attempts and the error kept),
# then arrives once it is up, each message once; the receiver refuses
# its first requests and the webhooks arrive after their retries. A
# subject carrying CR LF and a Bcc header reaches no header.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/samplefleet.sh"
. "$here/lib/mta.sh"
cleanup() {
  mta_cleanup
  [ -n "${HOOK_PID:-}" ] && kill "$HOOK_PID" 2>/dev/null
  pw_srv_cleanup
}
trap cleanup EXIT
test_require root
test_require_cmd jq exim4 openssl
: "${PW_SOURCE_DIR:?PW_SOURCE_DIR is not set; run under ctest}"
: "${PW_CAMPAIGN_OUTCOME:?PW_CAMPAIGN_OUTCOME is not set; run under ctest}"
T=$PW_SRV_TMP
unset PATCHWARDEN_DB PATCHWARDEN_STORE
db=$T/pw.db
secret=hook-secret-$$
pw() { "$PW_BIN" "$@" --db "$db"; }
sql() { sqlite3 "$db" "$@"; }

MTA_TLS=1 mta_setup || { bad "exim4 configuration"; test_done; }
python3 "$PW_SOURCE_DIR/tests/tools/webhook_receiver.py" "$T/hook.port" "$T/hook.log" "$secret" 2 &
HOOK_PID=$!
test_wait_for 10 test -s "$T/hook.port" || bad "the webhook receiver did not start"
hook_port=$(cat "$T/hook.port")

cat >"$T/pw.conf" <<CONF
[server]
allow_plain_http = true
listen = 127.0.0.1:0
public_url = https://patch.example.org/pw/
$(mta_notify_conf)
webhook_url = http://127.0.0.1:$hook_port/hook
webhook_secret = $secret
interval = 1
backoff_min = 1
backoff_max = 2
CONF

for u in op:operator:op@example.org shop:app-owner:shop-owner@example.org \
  boss:manager:boss@example.org hd:helpdesk:helpdesk@example.org aud:auditor:; do
  IFS=: read -r name role mail <<<"$u"
  pw user add "$name" --role "$role" --no-password >/dev/null 2>&1
  [ -n "$mail" ] && pw user email "$name" "$mail" >/dev/null
done
pw user email aud $'x@example.org\r\nBcc: evil@example.org' >"$T/out" 2>&1
check "an address with CR LF and a header is refused" grep -q "is not a plain address" "$T/out"
pw user email aud 'Someone <x@example.org>' >"$T/out" 2>&1
check "a display name is refused: plain addresses only" grep -q "is not a plain address" "$T/out"
check "user email is audited" test "$(sql "SELECT count(*) FROM audit_events WHERE action = 'user.email'")" -eq 4

# The hosts, enrolled as campaign_flows.sh does (the sample Debian 10
# inventory, findings against the sample feeds).
sample_fleet_init "$db"
pw_srv_start A -c "$T/pw.conf" --db "$db" || { bad "the server did not start"; test_done; }
U=http://127.0.0.1:$PW_SRV_PORT_A/api/v1
sample_enroll dns-01 category=core criticality=2
sample_enroll db-01 category=database environment=production app_owner=shop criticality=5
pw host recompute --store "$T/feeds.db" >/dev/null 2>&1

# ---- the MTA is down: the steps' mail waits ---------------------------------
pw campaign create --name core --hosts category=core --upgrades zlib --as op --json >"$T/c1.json"
c1=$(jq -r .id "$T/c1.json")
check "campaign $c1 created" test -n "$c1"
check "its ticket's notification is in the outbox with the step" \
  test "$(sql "SELECT count(*) FROM notify_outbox WHERE channel = 'email' AND recipient = 'op@example.org'")" -eq 1
pw campaign confirm-backup "$c1" --host dns-01 --as op --note "tape 2291" >/dev/null
pw campaign create --name erp --hosts category=database --as op --json >"$T/c2.json"
c2=$(jq -r .id "$T/c2.json")
"$PW_CAMPAIGN_OUTCOME" "$db" "$c2" db-01 backup-check-passed 2>"$T/outcome.err"
check "db-01 waits for its owner" test $? -eq 0
pw campaign decline "$c2" --host db-01 --as shop --reason "month-end close" --data-value high \
  --threat-frequency low --impact medium --cost-benefit "an outage costs more" >/dev/null
check "db-01 declined" test $? -eq 0
pw campaign start "$c1" --as op >/dev/null
"$PW_CAMPAIGN_OUTCOME" "$db" "$c1" dns-01 pre-scan-done 2>>"$T/outcome.err"
"$PW_CAMPAIGN_OUTCOME" "$db" "$c1" dns-01 patch-failed 2>>"$T/outcome.err"
check "campaign $c1 halted by a failed patch" \
  test "$(sql "SELECT state FROM campaigns WHERE id = $c1")" = halted

# Names people type cannot carry control bytes, but a subject is any
# text: one with CR LF, a header and non-ASCII (two-byte characters across
# the 45-byte encoded words) goes in as a row, as an event would write it.
hostile=$'x\r\nBcc: evil@example.org\r\n\r\nbody? '"$(printf 'é%.0s' $(seq 40))"
sql "INSERT INTO notify_outbox (created, event, channel, recipient, subject, body, payload, next_attempt)
  VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'test.hostile', 'email', 'op@example.org',
  '$(printf '%s' "$hostile" | sed "s/'/''/g")', 'text', '{}', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
# Expected, worked out from the steps: op (c1 opened: backup), hd (dns-01
# scheduled), op (c2 opened: backup), shop (db-01 awaits approval), boss
# (db-01 declined: sign-off), op (c1 halted); and the hostile row.
want_mail=7
got=$(sql "SELECT group_concat(recipient || ' ' || event, ', ') FROM notify_outbox WHERE channel = 'email'")
check "$want_mail mails in the outbox: $got" \
  test "$(sql "SELECT count(*) FROM notify_outbox WHERE channel = 'email'")" -eq $want_mail
tried() { [ "$(sql "SELECT count(*) FROM notify_outbox WHERE channel = 'email' AND attempts >= 2 AND state = 'pending'")" -eq $want_mail ]; }
test_wait_for 30 tried
check "with the MTA down, every mail stays pending after failed attempts" tried
check "... the connection error kept in last_error" \
  test "$(sql "SELECT count(*) FROM notify_outbox WHERE last_error LIKE '%onnect%'")" -ge 1
check "no mail arrived" test "$(mta_messages | wc -l)" -eq 0

# ---- the MTA comes up: each message once -----------------------------------
mta_start || bad "exim4 did not start"
arrived() { [ "$(mta_messages | wc -l)" -ge $want_mail ]; }
test_wait_for 60 arrived
check "all $want_mail mails delivered once the MTA is up" arrived
sleep 3
check "none twice: $want_mail files, $want_mail distinct Message-IDs" test "$(mta_messages | wc -l)" -eq $want_mail
check "the outbox marks them sent" \
  test "$(sql "SELECT count(*) FROM notify_outbox WHERE channel = 'email' AND state = 'sent' AND sent IS NOT NULL")" -eq $want_mail
mta_messages | python3 -c '
import email, email.header, email.policy, json, sys
out = []
for path in sys.stdin.read().split():
    m = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)
    out.append({"to": str(m["To"]), "subject": str(m["Subject"]), "date": m["Date"] is not None,
                "mid": str(m["Message-ID"]), "from": str(m["From"]), "bcc": m["Bcc"] is not None,
                "envelope": str(m["Envelope-to"]), "body": m.get_content()})
json.dump(out, sys.stdout)' >"$T/mails.json"
check "distinct Message-IDs" test "$(jq '[.[].mid] | unique | length' "$T/mails.json")" -eq $want_mail
check "every mail has Date, From and a Message-ID of the sender's domain" \
  test "$(jq '[.[] | select(.date and .from == "patchwarden@example.org" and (.mid | test("@example.org>$")))] | length' "$T/mails.json")" -eq $want_mail
check "no Bcc header anywhere" test "$(jq '[.[] | select(.bcc)] | length' "$T/mails.json")" -eq 0
check "... and no envelope recipient at evil@" test "$(jq '[.[] | select(.envelope | test("evil"))] | length' "$T/mails.json")" -eq 0
check "the hostile subject arrives whole, decoded, as the Subject alone" \
  test "$(jq -r --arg s "$hostile" '[.[] | select(.subject == $s)] | length' "$T/mails.json")" -eq 1
by() { jq -r --arg to "$1" '[.[] | select(.to == $to)]' "$T/mails.json"; }
check "the operator: confirm the backup, with the command" \
  eval "by op@example.org | jq -e '[.[] | select(.body | contains(\"campaign confirm-backup $c1 --host dns-01\"))] | length == 1' >/dev/null"
check "the operator: the halt, with resume or cancel" \
  eval "by op@example.org | jq -e '[.[] | select((.subject | contains(\"campaign $c1 halted\")) and (.body | contains(\"campaign resume $c1\")))] | length == 1' >/dev/null"
check "the help desk: dns-01 to be patched, when and the downtime" \
  eval "by helpdesk@example.org | jq -e '.[0].body | contains(\"dns-01\") and contains(\"What: the upgrades of zlib\") and contains(\"maintenance window\") and contains(\"downtime\")' >/dev/null"
check "the owner (the host's app_owner user): approve or decline" \
  eval "by shop-owner@example.org | jq -e '.[0].body | contains(\"campaign approve $c2 --host db-01\")' >/dev/null"
check "the manager: the sign-off command" \
  eval "by boss@example.org | jq -e '.[0].body | contains(\"campaign sign-off $c2 --host db-01\")' >/dev/null"
# The links, by the page where each recipient acts (the hosts' ids from
# the database): the trailing '/' of public_url is not doubled.
L="In the web console: https://patch.example.org/pw"
dns_id=$(sql "SELECT id FROM hosts WHERE hostname = 'dns-01'")
check "the operator's backup mail links to My actions" \
  eval "by op@example.org | jq -e --arg l \"$L/actions\" '[.[] | select((.body | contains(\"confirm-backup $c1\")) and (.body | contains(\$l)))] | length == 1' >/dev/null"
check "the halt links to the campaign" \
  eval "by op@example.org | jq -e --arg l \"$L/campaigns/$c1\" '[.[] | select((.subject | contains(\"halted\")) and (.body | contains(\$l)))] | length == 1' >/dev/null"
check "the help desk's mail links to the host" \
  eval "by helpdesk@example.org | jq -e --arg l \"$L/hosts/$dns_id\" '.[0].body | contains(\$l)' >/dev/null"
check "the owner's and the manager's link to My actions, the command kept" \
  eval "jq -e --arg l \"$L/actions\" '[.[] | select((.to == \"shop-owner@example.org\" or .to == \"boss@example.org\") and (.body | contains(\$l)) and (.body | contains(\"patchwarden campaign \")))] | length == 2' \"$T/mails.json\" >/dev/null"
check "the hostile row (no link) has none" \
  test "$(jq '[.[] | select(.subject | startswith("x")) | select(.body | contains("web console"))] | length' "$T/mails.json")" -eq 0
check "the auditor (no address) got nothing" test "$(jq '[.[] | select(.to | test("x@"))] | length' "$T/mails.json")" -eq 0
grep -q "A=plain:$MTA_USER" "$MTA_DIR/log/mainlog"
check "exim logged the AUTH (A=plain:$MTA_USER)" test $? -eq 0
grep -q "X=TLS" "$MTA_DIR/log/mainlog"
check "the mail went over STARTTLS (X=TLS in exim's log)" test $? -eq 0

# ---- webhooks: signed, retried until the receiver takes them ---------------
want_hooks=$(sql "SELECT count(*) FROM notify_outbox WHERE channel = 'webhook'")
check "one webhook per campaign event (6 events)" test "$want_hooks" -eq 6
hooked() { [ "$(jq -s '[.[] | select(.answered == 200)] | length' "$T/hook.log")" -ge "$want_hooks" ]; }
test_wait_for 30 hooked
check "every webhook delivered" hooked
check "the first two requests were refused (503) and retried" \
  test "$(jq -s '[.[] | select(.answered == 503)] | length' "$T/hook.log")" -eq 2
check "every signature verifies with Python's hmac" \
  test "$(jq -s '[.[] | select(.signature_ok | not)] | length' "$T/hook.log")" -eq 0
check "each delivered once" \
  test "$(jq -s '[.[] | select(.answered == 200) | .delivery] | unique | length' "$T/hook.log")" -eq "$want_hooks"
check "JSON bodies naming the event" \
  test "$(jq -s '[.[] | select(.answered == 200) | .body | fromjson | .event] | unique | sort | join(",")' -r "$T/hook.log")" \
  = "campaign.halted,campaign.scheduled,campaign.waiting"
check "every webhook carries its link as \"url\", the signature over it" \
  test "$(jq -s '[.[] | select(.answered == 200) | .body | fromjson | .url | strings | select(startswith("https://patch.example.org/pw/"))] | length' "$T/hook.log")" -eq "$want_hooks"
check "the retried rows count their attempts" \
  test "$(sql "SELECT max(attempts) FROM notify_outbox WHERE channel = 'webhook'")" -ge 2

pw_srv_stop A || bad "the server did not stop cleanly"
pw audit verify >/dev/null 2>&1
check "the audit log verifies" test $? -eq 0
test_done
