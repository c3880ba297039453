#!/usr/bin/env bash
# The web console's server time on a fleet of 10,000 hosts on SQLite
# (issue 15's goal: under 100 ms): the fleet page (GET /, the summary of
# GET /api/v1/summary, the compliance chart from the node's cache and the
# campaigns; its first request, which fills the cache, apart) and host
# list pages (GET /hosts,
# the API's default page of 100 hosts and its largest, 1,000), beside
# nginx serving the very same HTML, saved from the server, as static files.
#
# The fleet: 10,000 hosts from `host import-csv` (categories, criticality,
# environments, owners varied), each given 20 open findings (200,000 rows,
# priorities spread over the four) straight in SQLite, as a recompute would
# leave them. Server time is the access log's duration_ms (from the whole
# request in to the reply sent); the client's time_total (curl, keep-
# alive off, one request at a time) is given for both servers.
#
#   bench/web_pages.sh [RUNS]     (default 30 runs per page; PW_BIN defaults
#                                 to the release build)
#
# Output: one row per page and server: median and 90th percentile in ms.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
: "${PW_BIN:=$src/build/release/patchwarden}"
RUNS=${1:-30}
HOSTS=${PW_BENCH_HOSTS:-10000}
T=$(mktemp -d /tmp/pw-webbench.XXXXXX)
NGINX_PID=
SRV_PID=
cleanup() {
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null
  [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null
  [ -n "${PW_BENCH_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
export PATCHWARDEN_PWHASH=fast
db=sqlite://$T/pw.db
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

echo "== $HOSTS hosts, 20 open findings each" >&2
"$PW_BIN" user add root --role admin --password-stdin --db "$db" <<<"correct horse" >/dev/null
python3 - "$HOSTS" >"$T/hosts.csv" <<'PY'
import sys
cats = ["core", "security", "file-print", "mail", "application", "database", "web"]
print("hostname,location,purpose,category,owner_group,app_owner,criticality,exposure,"
      "environment,maintenance_window,backup_check,health_check,last_patched,ticket")
for i in range(int(sys.argv[1])):
    print("h%05d.example.net,dc%d,bench,%s,team%d,app%d,%d,%s,%s,,,,,"
          % (i, i % 3, cats[i % 7], i % 20, i % 50, i % 5 + 1,
             ["internet", "internal", "isolated"][i % 3], ["test", "production"][i % 2]))
PY
"$PW_BIN" host import-csv "$T/hosts.csv" --db "$db" >/dev/null || exit 1
sqlite3 "$T/pw.db" <<'SQL' || exit 1
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)
INSERT INTO findings (host_id, package, advisory, installed, fixed, priority, cves, first_seen)
SELECT h.id, 'pkg' || n.i, 'DSA-' || (5000 + n.i) || '-1', '1.0-1', '1.0-2',
       CASE n.i % 4 WHEN 0 THEN 'emergency' WHEN 1 THEN 'high' WHEN 2 THEN 'normal' ELSE 'low' END,
       '["CVE-2026-' || (1000 + n.i) || '"]', '2026-01-0' || (1 + n.i % 9) || 'T00:00:00.000Z'
FROM hosts h, n;
SQL

port=$(free_port)
printf '[server]\nallow_plain_http = true\naccess_log = true\n' >"$T/pw.conf"
"$PW_BIN" server --listen "127.0.0.1:$port" -c "$T/pw.conf" --db "$db" 2>"$T/server.log" &
SRV_PID=$!
for i in $(seq 1 200); do
  grep -q "listening on" "$T/server.log" && break
  sleep 0.05
done
P=http://127.0.0.1:$port
# The login form's token comes in its cookie and in the form.
curl -s -c "$T/jar" -o "$T/login.html" "$P/login"
csrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$T/login.html")
cookie=$(curl -s -b "$T/jar" -o /dev/null -D - -d "csrf=$csrf&user=root&password=correct+horse" \
  "$P/login" | sed -n 's/^Set-Cookie: \(pw_session=[^;]*\);.*/\1/p')
[ -n "$cookie" ] || { echo "web_pages.sh: the login failed" >&2; exit 1; }

token=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
# The API's summary beside the fleet page: the same library call, so the
# difference is what the page adds (the session, the campaigns, the HTML).
pages=("/" "/api/v1/summary" "/hosts" "/hosts?limit=1000")
names=("fleet" "api-summary" "hosts-100" "hosts-1000")
mkdir -p "$T/www" "$T/nginx"
# The first fleet page computes the compliance chart's series (web_chart.c),
# which the node keeps for 5 minutes: the runs below draw it from there.
mark=$(wc -l <"$T/server.log")
for k in "${!pages[@]}"; do
  curl -s -b "$cookie" -H "Authorization: Bearer $token" -o "$T/www/${names[$k]}.html" \
    "$P${pages[$k]}"
done

cold=$(tail -n "+$((mark + 1))" "$T/server.log" | grep -F "access: " | head -1 |
  sed -n 's/.*duration_ms=\([0-9.]*\).*/\1/p')
printf 'fleet, its first request (the chart series computed): %s ms server time\n' "$cold"

# stats FILE: median and p90 of the numbers in FILE (one a line), in ms.
stats() { sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%8.2f %8.2f", v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)] }'; }

printf '%-12s %-22s %8s %8s %9s\n' page server median p90 bytes
for k in "${!pages[@]}"; do
  : >"$T/client"
  mark=$(wc -l <"$T/server.log")
  for r in $(seq 1 "$RUNS"); do
    curl -s -b "$cookie" -H "Authorization: Bearer $token" -o /dev/null \
      -w '%{time_total}\n' "$P${pages[$k]}" |
      awk '{ print $1 * 1000 }' >>"$T/client"
  done
  # This page's access lines (the log has the path without the query).
  tail -n "+$((mark + 1))" "$T/server.log" | grep -F "access: " |
    sed -n 's/.*duration_ms=\([0-9.]*\).*/\1/p' >"$T/server"
  bytes=$(wc -c <"$T/www/${names[$k]}.html")
  printf '%-12s %-22s %s %9s\n' "${names[$k]}" "patchwarden (server)" "$(stats "$T/server")" "$bytes"
  printf '%-12s %-22s %s %9s\n' "${names[$k]}" "patchwarden (client)" "$(stats "$T/client")" "$bytes"
done

nport=$(free_port)
cat >"$T/nginx.conf" <<NGX
worker_processes 1;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $T/nginx;
  proxy_temp_path $T/nginx;
  fastcgi_temp_path $T/nginx;
  uwsgi_temp_path $T/nginx;
  scgi_temp_path $T/nginx;
  server {
    listen 127.0.0.1:$nport;
    root $T/www;
    default_type text/html;
  }
}
NGX
nginx -c "$T/nginx.conf" -e "$T/nginx/error.log" &
NGINX_PID=$!
for i in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$nport/fleet.html" && break
  sleep 0.05
done
for k in "${!pages[@]}"; do
  : >"$T/client"
  for r in $(seq 1 "$RUNS"); do
    curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$nport/${names[$k]}.html" |
      awk '{ print $1 * 1000 }' >>"$T/client"
  done
  printf '%-12s %-22s %s %9s\n' "${names[$k]}" "nginx static (client)" "$(stats "$T/client")" \
    "$(wc -c <"$T/www/${names[$k]}.html")"
done
