#!/usr/bin/env bash
# `patchwarden feed sync` end to end, against a real nginx (static files,
# ETag/Last-Modified, 304) and tests/tools/feed_server.py (errors,
# Retry-After, slow and truncated replies), both on 127.0.0.1 only.
set -uo pipefail

: "${PW_BIN:?}" "${PW_SOURCE_DIR:?}"
. "$(dirname "$0")/lib/test-lib.sh"
# nginx lives in /usr/sbin, which is not on every user's PATH.
PATH=$PATH:/usr/sbin
test_require_cmd python3 nginx curl zip gzip base64
for d in cisa-kev debian-security-tracker/data/DSA almalinux-osv/advisories/almalinux9 \
	vunnel-fixtures/providers/epss/test-fixtures; do
	test_require shared-data:$d
done
# Loopback only: a proxy from the environment must not see these requests.
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost
# Resolved once: version-manager shims make every python3 start slow.
PY=$(python3 -c 'import sys; print(sys.executable)')
T=$(mktemp -d /tmp/pw-feed-sync-XXXXXX)
chmod 755 "$T"
NGINX_PID= PY_PID=
cleanup() {
	for p in $PY_PID $NGINX_PID; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

# jq-like assertions on the last --json output: jtrue 'python expression over d'
jtrue() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$T/out.json" "$1"; }
src() { # the report of one source, for jtrue expressions
	echo "[s for s in d['sources'] if s['name']=='$1'][0]"
}
elapsed_since() { # milliseconds since an $EPOCHREALTIME value
	local now=$EPOCHREALTIME
	echo $(( (${now/./} - ${1/./}) / 1000 ))
}
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- fixtures: real feed data, small enough to be quick ----
W=$T/www
mkdir -p "$W/dsa" "$T/nginx"
cp "$PW_SHARED_DATA/cisa-kev/known_exploited_vulnerabilities.json" "$W/kev.json"
head -n 400 "$PW_SHARED_DATA/debian-security-tracker/data/DSA/list" > "$W/dsa/list"
cp "$W/dsa/list" "$T/dsa-list.orig"
(cd "$PW_SHARED_DATA/almalinux-osv/advisories/almalinux9" && ls | head -n 40 | zip -q -@ "$W/alma.zip")
gzip -9nc "$PW_SHARED_DATA/vunnel-fixtures/providers/epss/test-fixtures/example-1.csv" > "$W/epss.csv.gz"
head -c 300000 /dev/urandom | base64 > "$W/big.txt"
chmod -R a+rX "$W"

# ---- nginx: static files with ETag and Last-Modified ----
NGINX=$(command -v nginx)
start_nginx() {
	PORT=$(free_port)
	TLS_PORT=$(free_port)
	cat > "$T/nginx/nginx.conf" <<EOF
worker_processes 1;
error_log $T/nginx/error.log;
pid $T/nginx/nginx.pid;
events { worker_connections 64; }
http {
	access_log $T/nginx/access.log;
	client_body_temp_path $T/nginx/body;
	proxy_temp_path $T/nginx/proxy;
	fastcgi_temp_path $T/nginx/fastcgi;
	uwsgi_temp_path $T/nginx/uwsgi;
	scgi_temp_path $T/nginx/scgi;
	default_type application/octet-stream;
	server { listen 127.0.0.1:$PORT; root $W; }
	server {
		listen 127.0.0.1:$TLS_PORT ssl;
		ssl_certificate $PW_SOURCE_DIR/tests/data/tls/server.pem;
		ssl_certificate_key $PW_SOURCE_DIR/tests/data/tls/server.key;
		root $W;
		location = /downgrade { return 302 http://127.0.0.1:$PORT/kev.json; }
	}
}
EOF
	"$NGINX" -e "$T/nginx/error.log" -p "$T/nginx" -c "$T/nginx/nginx.conf" -g 'daemon off;' &
	NGINX_PID=$!
	for _ in $(seq 50); do
		curl -fs -o /dev/null "http://127.0.0.1:$PORT/kev.json" && return 0
		sleep 0.1
	done
	return 1
}
start_nginx || { cat "$T/nginx/error.log"; echo "nginx did not start"; exit 1; }
N=http://127.0.0.1:$PORT
NS=https://127.0.0.1:$TLS_PORT

"$PY" "$PW_SOURCE_DIR/tests/tools/feed_server.py" "$W" "$T/pyport" &
PY_PID=$!
for _ in $(seq 50); do [ -s "$T/pyport" ] && break; sleep 0.1; done
P=http://127.0.0.1:$(cat "$T/pyport")
CLOSED_PORT=$(free_port)

STORE=$T/feeds.db
CACHE=$STORE.cache
write_config() { # extra config text on stdin is appended
	{
		cat <<EOF
[sync]
retries = 2
retry_delay = 0.05
retry_max_delay = 2
connect_timeout = 2
timeout = 1

[source cisa-kev]
url = $N/kev.json
format = kev

[source debian-dsa]
url = $N/dsa/list

[source almalinux]
url = $N/alma.zip

[source epss]
url = $N/epss.csv.gz
format = epss
EOF
		cat
	} > "$T/pw.conf"
}
sync() { # sync [ARGS...]: runs feed sync --json, keeps stdout/stderr/exit code
	"$PW_BIN" feed sync --config "$T/pw.conf" --sources '' --store "$STORE" --json "$@" \
		> "$T/out.json" 2> "$T/err.txt"
	RC=$?
}

# 1. First sync: everything is downloaded and imported as one snapshot.
write_config < /dev/null
sync
check "first sync exits 0" test "$RC" = 0
check "first sync makes snapshot 1 from 4 downloads" \
	jtrue "d['snapshot'] == 1 and d['downloaded'] == 4 and d['failed'] == 0 and d['replaced']"
check "first sync imported advisories, KEV and EPSS" \
	jtrue "d['stats']['advisories'] > 0 and d['stats']['kev'] == 1404 and d['stats']['epss'] == 5"
check "cache holds the last good download of each source" \
	test -f "$CACHE/debian-dsa/list" -a -f "$CACHE/almalinux/alma.zip" -a -f "$CACHE/epss/epss.csv.gz"
check "no temporary files are left in the cache" \
	test -z "$(find "$CACHE" -name '.*' ! -name .lock)"

# 2. Nothing changed upstream: conditional requests get 304, no snapshot.
sync
check "second sync exits 0" test "$RC" = 0
check "second sync: all 304, no new snapshot" \
	jtrue "d['snapshot'] is None and d['unchanged'] == 4 and all(s['http_status'] == 304 for s in d['sources'])"
check "nginx answered the conditional requests with 304" \
	test "$(grep -c '" 304 ' "$T/nginx/access.log")" -ge 4

# 3. A new DSA upstream: only that source is downloaded, one new snapshot.
{ printf '[02 Apr 2023] DSA-9999-1 patchwarden-test - security update\n\t{CVE-2023-99999}\n\t[bullseye] - patchwarden-test 1.0-1+deb11u1\n'; cat "$T/dsa-list.orig"; } > "$W/dsa/list"
sync --progress
check "changed feed: snapshot 2" jtrue "d['snapshot'] == 2 and d['downloaded'] == 1 and d['unchanged'] == 3"
check "changed feed: the changed source was downloaded, the others got 304" \
	jtrue "$(src debian-dsa)['status'] == 'downloaded' and $(src cisa-kev)['http_status'] == 304"
check "changed feed: the new advisory is counted as new" jtrue "d['stats']['added'] >= 1"
check "--progress: download progress on stderr" grep -q "^debian-dsa: .* of " "$T/err.txt"

# 4. Same bytes under a new ETag (touched file): no snapshot.
touch -d '+1 minute' "$W/kev.json"
sync
check "touched file: 200 with identical content makes no snapshot" \
	jtrue "d['snapshot'] is None and $(src cisa-kev)['http_status'] == 200 and $(src cisa-kev)['status'] == 'unchanged'"

# 5. An advisory withdrawn upstream is retired.
cp "$T/dsa-list.orig" "$W/dsa/list"
sync
check "withdrawn advisory: snapshot 3 retires it" \
	jtrue "d['snapshot'] == 3 and d['stats']['retired'] >= 1 and d['replaced']"

# 6. Failing sources: retries with backoff, a clear error each, and the
#    others still import in the same run.
"$PY" - "$W/kev.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["vulnerabilities"] = d["vulnerabilities"][1:]
d["count"] = len(d["vulnerabilities"])
json.dump(d, open(sys.argv[1], "w"))
EOF
write_config <<EOF

[source broken]
url = $P/status/503/feed.json

[source unreachable]
url = http://127.0.0.1:$CLOSED_PORT/feed.json

[source truncated]
url = $P/truncate

[source oversize]
url = $N/big.txt
max_size = 100K

[source streamed-oversize]
url = $P/big/300000
max_size = 100K

[source slow]
url = $P/slow/3

[source redirect-to-file]
url = $P/redirect?to=file:///etc/passwd
EOF
start=$EPOCHREALTIME
sync
elapsed=$(elapsed_since "$start")
check "failures: exit status 2" test "$RC" = 2
check "failures: the changed KEV still made snapshot 4" \
	jtrue "d['snapshot'] == 4 and $(src cisa-kev)['status'] == 'downloaded' and d['stats']['kev'] == 1403"
check "failures: withdrawn advisories are not retired while a source has no data" \
	jtrue "not d['replaced'] and d['stats']['retired'] == 0"
check "server error: retried, then a clear error" \
	jtrue "$(src broken)['attempts'] == 3 and 'HTTP 503' in $(src broken)['error'] and 'gave up after 3 attempts' in $(src broken)['error']"
check "server error: the server saw exactly 3 requests" \
	test "$(curl -fs "$P/hits?path=/status/503/feed.json")" = 3
check "server error: retries were announced on stderr" \
	grep -q "HTTP 503; attempt 3 of 3 in" "$T/err.txt"
check "unreachable server: clear error after retries" \
	jtrue "$(src unreachable)['attempts'] == 3 and 'connect' in $(src unreachable)['error'] and $(src unreachable)['http_status'] == 0"
check "truncated transfer: refused" jtrue "'truncated transfer' in $(src truncated)['error']"
check "oversize (Content-Length): refused without retry" \
	jtrue "'larger than the limit of 102400 bytes' in $(src oversize)['error'] and $(src oversize)['attempts'] == 1"
check "oversize (streamed): refused" jtrue "'larger than the limit' in $(src streamed-oversize)['error']"
check "slow server: timed out" jtrue "'imed out' in $(src slow)['error']"
check "redirect to file:// refused" jtrue "'redirect' in $(src redirect-to-file)['error']"
check "failed sources leave no cached data" test ! -e "$CACHE/broken/feed.json" -a ! -e "$CACHE/truncated/truncate"
check "failures are recorded per source on stderr" grep -q "broken: .*HTTP 503" "$T/err.txt"
check "the failing run stayed under 20 s" test "$elapsed" -lt 20000

# 7. Retry-After is honoured; a source that recovers imports.
cp "$W/kev.json" "$W/kev2.json"
write_config <<EOF

[source rate-limited]
url = $P/flaky/1/429/kev2.json?retry_after=1
format = kev
EOF
start=$EPOCHREALTIME
sync
elapsed=$(elapsed_since "$start")
check "Retry-After: the source recovered on the second attempt" \
	jtrue "$(src rate-limited)['status'] == 'downloaded' and $(src rate-limited)['attempts'] == 2"
check "Retry-After: waited at least the second asked for" test "$elapsed" -ge 1000

# 8. A source that fails keeps its previous data in the next snapshot.
mv "$W/dsa/list" "$W/dsa/list.gone"
"$PY" - "$W/kev.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["vulnerabilities"] = d["vulnerabilities"][1:]
json.dump(d, open(sys.argv[1], "w"))
EOF
sync
check "404: no retry, clear error, previous data kept" \
	jtrue "$(src debian-dsa)['attempts'] == 1 and 'HTTP 404' in $(src debian-dsa)['error'] and $(src debian-dsa)['kept_previous']"
check "404: the snapshot still holds the source's advisories (nothing retired)" \
	jtrue "d['snapshot'] is not None and d['stats']['retired'] == 0 and d['replaced']"
mv "$W/dsa/list.gone" "$W/dsa/list"

# 9. --source syncs only the named sources.
sync --source epss --source almalinux
check "--source: only the named sources are fetched" \
	jtrue "sorted(s['name'] for s in d['sources']) == ['almalinux', 'epss'] and d['snapshot'] is None"
sync --source nonesuch
check "--source with an unknown name is an error naming the known ones" \
	sh -c "test $RC = 2 && grep -q \"no enabled source named 'nonesuch'\" '$T/err.txt' && grep -q 'cisa-kev' '$T/err.txt'"
write_config <<EOF

[source off]
url = $N/kev.json
enabled = no
EOF
sync --source off
check "--source with a disabled source says how to enable it" \
	sh -c "test $RC = 2 && grep -q 'source off is disabled' '$T/err.txt'"

# 10. Bad configuration: clear error, store untouched.
before=$(sqlite3 "$STORE" 'select count(*) from sqlite_master' 2>/dev/null; ls -l --time-style=+%s "$STORE" | awk '{print $5 $6}')
write_config <<EOF

[source weird]
url = $N/kev.json
format = yaml-please
EOF
sync
check "unknown format: exit 2 and the valid formats listed" \
	sh -c "test $RC = 2 && grep -q \"format = 'yaml-please' is not a feed format; use one of\" '$T/err.txt'"
write_config <<EOF

[source nourl]
format = kev
EOF
sync
check "source without url: exit 2 naming the source" \
	sh -c "test $RC = 2 && grep -q '\[source nourl\] has no url' '$T/err.txt'"
after=$(sqlite3 "$STORE" 'select count(*) from sqlite_master' 2>/dev/null; ls -l --time-style=+%s "$STORE" | awk '{print $5 $6}')
check "bad configuration left the store untouched" test "$before" = "$after"

# 11. A second sync on the same cache waits for nobody: it refuses.
write_config < /dev/null
exec 9> "$CACHE/.lock"
flock -n 9
sync
check "concurrent sync on one cache is refused" \
	sh -c "test $RC = 2 && grep -q 'another feed sync is using this cache' '$T/err.txt'"
exec 9>&-

# 12. Human output: one line per source and a summary.
"$PW_BIN" feed sync --config "$T/pw.conf" --sources '' --store "$STORE" > "$T/out.txt" 2> "$T/err.txt"
cat "$T/out.txt"
check "table output: a line per source and a summary" \
	sh -c "grep -q '^cisa-kev .* unchanged .*304' '$T/out.txt' && grep -q '^no new snapshot' '$T/out.txt'"

# 13. HTTPS: the CA file is used, verification failures are not retried,
#     and a redirect from https down to http is refused.
tls_sync() { # tls_sync CA_FILE_LINE: one https source and a downgrading one
	cat > "$T/tls.conf" <<EOF
[sync]
$1
retries = 2
retry_delay = 0.05

[source tls-kev]
url = $NS/kev.json
format = kev

[source downgrade]
url = $NS/downgrade
format = kev
EOF
	"$PW_BIN" feed sync --config "$T/tls.conf" --sources '' --store "$T/tls.db" --json \
		> "$T/out.json" 2> "$T/err.txt"
	RC=$?
}
tls_sync "ca_file = $PW_SOURCE_DIR/tests/data/tls/ca.pem"
check "https with ca_file: downloaded" jtrue "$(src tls-kev)['status'] == 'downloaded' and d['snapshot'] == 1"
check "https to http redirect refused" \
	jtrue "$(src downgrade)['status'] == 'failed' and 'leaves https' in $(src downgrade)['error']"
tls_sync ""
check "https without the CA: verification error, not retried" \
	jtrue "'TLS verification failed' in $(src tls-kev)['error'] and $(src tls-kev)['attempts'] == 1"

# 14. The shipped source list parses, names only valid formats and https URLs.
"$PW_BIN" feed sync --config /dev/null --sources "$PW_SOURCE_DIR/dist/sources.conf" \
	--store "$T/shipped.db" --source nonesuch > /dev/null 2> "$T/err.txt"
check "dist/sources.conf is valid (KEV and EPSS enabled by default)" \
	grep -q "no enabled source named 'nonesuch' in the configuration (enabled: cisa-kev, epss)" "$T/err.txt"
check "dist/sources.conf uses https only" \
	sh -c "! grep '^url' '$PW_SOURCE_DIR/dist/sources.conf' | grep -v '= https://'"

test_done
