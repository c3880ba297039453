#!/usr/bin/env bash
# GET /metrics (issue 16) scraped by a real Prometheus (Debian's) on
# loopback, and checked by promtool. Expected values come from what the
# test did, not from the server: N requests to /api/v1/hosts, one agent
# enrolled and checked in, two hosts added that never reported, one job
# queued; the token is required.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/agent.sh"
T=$PW_SRV_TMP
prom_pid=
cleanup() {
  [ -n "$prom_pid" ] && kill -KILL "$prom_pid" 2>/dev/null
  pw_srv_cleanup
}
trap cleanup EXIT
db=$T/server.db
"$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
"$PW_BIN" user add eve --role auditor --no-password --db "$db" >/dev/null 2>&1
admin=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
auditor=$("$PW_BIN" user token create eve --db "$db" 2>/dev/null)
etok=$("$PW_BIN" user enroll-token create --uses 1 --db "$db" 2>/dev/null)
"$PW_BIN" host add quiet-1 --db "$db" >/dev/null 2>&1
"$PW_BIN" host add quiet-2 --db "$db" >/dev/null 2>&1
pw_srv_start A -c "$(pw_srv_plain_conf)" --db "$db" || { pw_srv_summary; exit 1; }
S=http://127.0.0.1:$PW_SRV_PORT_A
U=$S/api/v1

for i in 1 2 3 4 5; do pw_http GET "$U/hosts" "$admin"; done
pw_http GET "$U/hosts"
expect_status 401 "a request without a token"
cp -r "$PW_TEST_DATA/inventory/debian" "$T/root"
pw_agent a enroll --server "$S" --token "$etok" --insecure --root "$T/root"
check "the agent enrolled" test "$AGENT_ST" -eq 0
pw_agent a run --once --root "$T/root"
check "the agent checked in" test "$AGENT_ST" -eq 0
pw_http POST "$U/hosts/1/jobs" "$admin" '{"kind":"inventory"}'
expect_status 201 "a job queued"

# ---- the exposition ---------------------------------------------------------
pw_http GET "$S/metrics"
expect_status 401 "/metrics without a token"
curl -sf -H "Authorization: Bearer $auditor" -D "$T/headers" "$S/metrics" >"$T/metrics"
check "/metrics for an auditor" test -s "$T/metrics"
check "... in Prometheus' text format 0.0.4" grep -qi '^Content-Type: text/plain; version=0.0.4' "$T/headers"
promtool check metrics <"$T/metrics" >"$T/promtool" 2>&1
check "promtool check metrics: clean: $(cat "$T/promtool")" test $? -eq 0
val() { awk -v k="$1" '$1 == k {print $2}' "$T/metrics"; }
check "5 GET /api/v1/hosts answered 200" \
  test "$(val 'patchwarden_http_requests_total{method="GET",route="/api/v1/hosts",code="200"}')" = 5
check "1 answered 401" \
  test "$(val 'patchwarden_http_requests_total{method="GET",route="/api/v1/hosts",code="401"}')" = 1
check "the histogram counts all 6" \
  test "$(val 'patchwarden_http_request_duration_seconds_count{method="GET",route="/api/v1/hosts"}')" = 6
check "... and its +Inf bucket too" \
  test "$(val 'patchwarden_http_request_duration_seconds_bucket{method="GET",route="/api/v1/hosts",le="+Inf"}')" = 6
check "1 enrollment" test "$(val patchwarden_agent_enrollments_total)" = 1
check "check-ins counted" test "$(val patchwarden_agent_checkins_total)" -ge 1
check "2 hosts never reported" test "$(val 'patchwarden_hosts{coverage="never_reported"}')" = 2
check "the queued inventory job" test "$(val 'patchwarden_jobs{kind="inventory",state="queued"}')" = 1
check "HEAD /metrics" grep -q '^HTTP/1.1 200' <(curl -s -I -H "Authorization: Bearer $auditor" "$S/metrics")

# ---- a real Prometheus scrapes it ---------------------------------------------
printf '%s' "$auditor" >"$T/token"
pport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$T/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: patchwarden
    metrics_path: /metrics
    authorization:
      credentials_file: $T/token
    static_configs:
      - targets: ['127.0.0.1:$PW_SRV_PORT_A']
CONF
promtool check config "$T/prometheus.yml" >"$T/promtool" 2>&1
check "promtool check config: $(cat "$T/promtool")" test $? -eq 0
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
  --web.listen-address="127.0.0.1:$pport" >"$T/prometheus.log" 2>&1 &
prom_pid=$!
query() { # query PROMQL: the first sample's value, or nothing
  curl -s --max-time 2 "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")' 2>/dev/null
}
up() { [ "$(query 'up{job="patchwarden"}')" = 1 ]; }
check "Prometheus scraped the server (up == 1)" test_wait_for 30 up
check "... and stored the requests counter" test \
  "$(query 'patchwarden_http_requests_total{route="/api/v1/hosts",code="200"}')" = 5
check "... the hosts gauge" test "$(query 'patchwarden_hosts{coverage="never_reported"}')" = 2
check "... its own scrapes counted by route" test_wait_for 10 \
  eval '[ "$(query "patchwarden_http_requests_total{route=\"/metrics\",code=\"200\"}")" -ge 2 ]'
check "no scrape error in its log" test -z "$(grep -i "scrape.*error\|err=" "$T/prometheus.log")"
test_done
