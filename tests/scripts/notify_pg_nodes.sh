#!/usr/bin/env bash
# The outbox on one real PostgreSQL 15 (lib/pg.sh) with two server nodes,
# A and B, whose notifier threads both deliver every second to a real
# exim4 (lib/mta.sh) and a webhook receiver: messages written in three
# batches while both run arrive once each, by mail and by webhook; none
# is sent by both nodes (pw_notify_deliver's lock), none is lost.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/mta.sh"
. "$here/lib/pg.sh"
cleanup() {
  mta_cleanup
  [ -n "${HOOK_PID:-}" ] && kill "$HOOK_PID" 2>/dev/null
  pw_srv_cleanup
}
trap cleanup EXIT # pw_pg_start runs pw_pg_stop before it
test_require root
test_require_cmd jq exim4
pw_pg_start || { echo "FAIL: PostgreSQL did not start"; exit 1; }
T=$PW_SRV_TMP
db=$PW_TEST_PG_URL
psql_() { timeout 30 "$PW_PG_BINDIR/psql" -q -X -At -v ON_ERROR_STOP=1 "$db" -c "$1"; }
secret=pg-hook-$$

mta_setup || { bad "exim4 configuration"; test_done; }
mta_start || { bad "exim4 did not start"; test_done; }
python3 "$PW_SOURCE_DIR/tests/tools/webhook_receiver.py" "$T/hook.port" "$T/hook.log" "$secret" &
HOOK_PID=$!
test_wait_for 10 test -s "$T/hook.port" || bad "the webhook receiver did not start"
cat >"$T/pw.conf" <<CONF
[server]
allow_plain_http = true
listen = 127.0.0.1:0
[notify]
smtp_url = smtp://127.0.0.1:$MTA_PORT
smtp_user = $MTA_USER
smtp_password = $MTA_PASSWORD
from = patchwarden@example.org
webhook_url = http://127.0.0.1:$(cat "$T/hook.port")/hook
webhook_secret = $secret
interval = 1
CONF
"$PW_BIN" user add op --role operator --no-password --db "$db" >/dev/null 2>&1
pw_srv_start A -c "$T/pw.conf" --db "$db" || { bad "node A did not start"; test_done; }
pw_srv_start B -c "$T/pw.conf" --db "$db" || { bad "node B did not start"; test_done; }

# batch N: 10 mails and 10 webhooks, as pw_notify_enqueue writes them.
batch() {
  psql_ "INSERT INTO notify_outbox (created, event, channel, recipient, subject, body, payload, next_attempt)
    SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), 'test.batch',
      c, CASE c WHEN 'email' THEN 'op@example.org' END, 'batch $1 message ' || i, 'text',
      '{\"batch\":$1,\"i\":' || i || '}', '2000-01-01T00:00:00.000Z'
    FROM generate_series(1, 10) i, (VALUES ('email'), ('webhook')) AS ch(c)"
}
for n in 1 2 3; do
  batch "$n" || bad "batch $n not written"
  sleep 0.7
done
check "30 mails and 30 webhooks in the outbox" \
  test "$(psql_ "SELECT count(*) FROM notify_outbox WHERE event = 'test.batch'")" -eq 60
sent() { [ "$(psql_ "SELECT count(*) FROM notify_outbox WHERE event = 'test.batch' AND state = 'sent'")" -eq 60 ]; }
test_wait_for 60 sent
check "all 60 marked sent" sent
arrived() { [ "$(mta_messages | wc -l)" -ge 30 ]; }
test_wait_for 60 arrived
sleep 3
check "30 mails arrived, no more" test "$(mta_messages | wc -l)" -eq 30
check "30 distinct subjects" \
  test "$(mta_messages | xargs grep -h '^Subject:' | sort -u | wc -l)" -eq 30
check "30 webhooks, each once" \
  test "$(jq -s '[.[] | .delivery] | unique | length' "$T/hook.log"):$(wc -l <"$T/hook.log")" = 30:30
check "every signature verifies" \
  test "$(jq -s '[.[] | select(.signature_ok | not)] | length' "$T/hook.log")" -eq 0
check "each row took one attempt" \
  test "$(psql_ "SELECT count(*) FROM notify_outbox WHERE event = 'test.batch' AND attempts <> 1")" -eq 0
pw_srv_stop A || bad "node A did not stop cleanly"
pw_srv_stop B || bad "node B did not stop cleanly"
test_done
