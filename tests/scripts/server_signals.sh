#!/usr/bin/env bash
# Signals and the configuration check (issue 16): SIGHUP no longer kills
# the server: it reads the configuration again, applies access_log and the
# TLS certificate and key (read again, as a renewal keeps the file names;
# a new daemon takes over the listening socket), names every other change
# as waiting for a restart, and changes nothing when the file is bad or
# the new pair is refused. -n refuses a misspelt section, a key outside
# any section and a key set twice. SIGTERM still stops it with status 0.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
trap pw_srv_cleanup EXIT
T=$PW_SRV_TMP
db=sqlite:$T/server.db

# cert NAME: a P-256 key and a one-day certificate for 127.0.0.1.
cert() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$T/$1.key" -out "$T/$1.pem" -days 1 -subj "/CN=127.0.0.1 $1" \
    -addext "subjectAltName=IP:127.0.0.1" >"$T/openssl.log" 2>&1 &&
    chmod 600 "$T/$1.key"
}
not() { ! "$@"; }
# logged N TEXT: the server's log holds TEXT at least N times (5 s at most).
logged() {
  local i
  for i in $(seq 50); do
    [ "$(grep -cF -- "$2" "$T/A.log")" -ge "$1" ] && return 0
    sleep 0.1
  done
  return 1
}

# ---- -n: sections and keys --------------------------------------------------
printf '[serevr]\nlisten = 127.0.0.1:0\n' >"$T/bad.conf"
out=$("$PW_BIN" server -n -c "$T/bad.conf" 2>&1)
check "-n: a misspelt section exits 2" test $? -eq 2
check "... naming file:line and the section: $out" \
  grep -qF "$T/bad.conf:1: patchwarden has no section [serevr]" <<<"$out"
printf 'listen = 127.0.0.1:0\n[server]\n' >"$T/bad.conf"
out=$("$PW_BIN" server -n -c "$T/bad.conf" 2>&1)
check "-n: a key outside any section: $out" \
  grep -qF "$T/bad.conf:1: 'listen' is outside any section" <<<"$out"
printf '[server]\nthreads = 2\n\n[feeds]\n[server]\nthreads = 4\n' >"$T/bad.conf"
out=$("$PW_BIN" server -n -c "$T/bad.conf" 2>&1)
check "-n: a key set twice: $out" \
  grep -qF "$T/bad.conf:6: [server] threads is set again (first on line 2)" <<<"$out"
printf '[server]\n[feeds]\n[jobs]\n[policy]\n[scan]\n[sync]\n[agent]\n[source x]\n' \
  >"$T/all.conf"
out=$("$PW_BIN" server -n -c "$T/all.conf" --tls-cert /dev/null --tls-key /dev/null 2>&1)
check "-n: every section of the sample is known" not grep -q "no section" <<<"$out"
out=$("$PW_BIN" server -n -c "$here/../../dist/patchwarden.conf" 2>&1)
check "-n: the shipped configuration has no unknown section or key: $out" \
  not grep -qE "no section|has no key|set again|outside any" <<<"$out"

# ---- SIGHUP on plain HTTP: access_log now, threads at the next restart ------
printf '[server]\nallow_plain_http = true\naccess_log = false\nthreads = 2\n' >"$T/plain.conf"
pw_srv_start A -c "$T/plain.conf" --db "$db" || { pw_srv_summary; exit 1; }
pid=${PW_SRV_PID[A]}
U=http://127.0.0.1:$PW_SRV_PORT_A/api/v1
pw_http GET "$U/health/live"
check "no access line while access_log is off" not grep -q "access: " "$T/A.log"
printf '[server]\nallow_plain_http = true\naccess_log = true\nthreads = 3\n' >"$T/plain.conf"
kill -HUP "$pid"
check "SIGHUP: reloaded" logged 1 "SIGHUP: reloaded $T/plain.conf: access_log on"
check "... threads named as waiting for a restart" \
  grep -qF "SIGHUP: changed, applied at the next restart: [server] threads" "$T/A.log"
check "... and still running" kill -0 "$pid"
pw_http GET "$U/health/live"
expect_status 200 "served after SIGHUP"
check "access_log applies at once" logged 1 "access: client=127.0.0.1 method=GET path=/api/v1/health/live status=200"
printf '[server]\nallow_plain_http = true\naccess_log = false\naccess_log = true\n' \
  >"$T/plain.conf"
kill -HUP "$pid"
check "a bad file: nothing changed" logged 1 "set again (first on line 3): keep one; nothing changed"
pw_http GET "$U/health/live"
expect_status 200 "served after a bad SIGHUP"
check "... access_log still on" logged 2 "access: client=127.0.0.1 method=GET path=/api/v1/health/live status=200"
# log_level: warning drops the access lines (info) at the next SIGHUP.
printf '[server]\nallow_plain_http = true\naccess_log = true\nlog_level = warning\n' \
  >"$T/plain.conf"
kill -HUP "$pid"
check "SIGHUP: log_level warning" logged 1 "log_level warning"
n=$(grep -c "access: " "$T/A.log")
pw_http GET "$U/health/live"
pw_http GET "$U/health/ready"
check "... no access line at warning" test "$(grep -c "access: " "$T/A.log")" = "$n"
kill -TERM "$pid"
wait "$pid"
check "SIGTERM: exit 0" test $? -eq 0
unset "PW_SRV_PID[A]"

# ---- the journal: "<N>" priorities when stderr is $JOURNAL_STREAM ----------
printf '[server]\nallow_plain_http = true\naccess_log = true\n' >"$T/plain.conf"
: >"$T/J.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/J.log") pw_srv_start J -c "$T/plain.conf" --db "$db" ||
  { pw_srv_summary; exit 1; }
pw_http GET "http://127.0.0.1:$PW_SRV_PORT_J/api/v1/health/live"
check "an access line at info: <6>" test_wait_for 5 grep -q '^<6>access: client=127.0.0.1' "$T/J.log"
pw_srv_stop J
: >"$T/K.log"
JOURNAL_STREAM=1:1 pw_srv_start K -c "$T/plain.conf" --db "$db" || { pw_srv_summary; exit 1; }
pw_http GET "http://127.0.0.1:$PW_SRV_PORT_K/api/v1/health/live"
check "another stream: plain lines" test_wait_for 5 grep -q '^patchwarden server: access: ' "$T/K.log"
pw_srv_stop K
printf '[server]\nlog_level = loud\n' >"$T/loud.conf"
out=$("$PW_BIN" server -n -c "$T/loud.conf" 2>&1)
check "-n: a log_level that is none: $out" grep -qF "log_level = 'loud': use err, warning" <<<"$out"

# ---- SIGHUP with HTTPS: a renewed certificate under the same names ----------
cert one && cert two && cert bad || { cat "$T/openssl.log"; echo "FAIL: openssl"; exit 1; }
cp "$T/one.pem" "$T/cert.pem" && cp "$T/one.key" "$T/key.pem" && chmod 600 "$T/key.pem"
printf '[server]\ntls_cert = %s\ntls_key = %s\n' "$T/cert.pem" "$T/key.pem" >"$T/tls.conf"
: >"$T/A.log"
pw_srv_start A -c "$T/tls.conf" --db "$db" || { pw_srv_summary; exit 1; }
pid=${PW_SRV_PID[A]}
S=https://127.0.0.1:$PW_SRV_PORT_A/api/v1
served() { curl -sf -o /dev/null --max-time 5 --cacert "$T/$1.pem" "$S/health/live"; }
check "serves certificate one" served one
check "... not two" not served two
cp "$T/two.pem" "$T/cert.pem" && cp "$T/two.key" "$T/key.pem"
kill -HUP "$pid"
check "SIGHUP: the pair read again" logged 1 "TLS certificate and key read again"
check "serves certificate two" served two
check "... no longer one" not served one
check "still the same process" kill -0 "$pid"
cp "$T/bad.key" "$T/key.pem"
kill -HUP "$pid"
check "a key of another certificate: refused" logged 1 "still serving the previous certificate"
check "... and certificate two still served" served two
kill -TERM "$pid"
wait "$pid"
check "SIGTERM: exit 0" test $? -eq 0
unset "PW_SRV_PID[A]"
test_done
