#!/usr/bin/env bash
# What an adversarial review found in `patchwarden server` (issue 10),
# over plain HTTP on 127.0.0.1 and HTTPS with throwaway certificates:
# `-n` neither prints a database password nor connects anywhere; a
# request cannot forge a log line; ambiguous body framing (two
# Content-Length headers, Content-Length with Transfer-Encoding) is a
# 400; a TLS key readable by others is refused, and a key that does not
# belong to the certificate is named as such.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
trap 'kill "${LISTENER:-}" 2>/dev/null; pw_srv_cleanup' EXIT
T=$PW_SRV_TMP
db=sqlite:$T/server.db
conf=$(pw_srv_plain_conf)

# ---- -n: no password printed, no connection made ---------------------------
# A TCP listener on a free port that records every connection it gets.
python3 - "$T/listener" <<'EOF' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(sys.argv[1] + ".port", "w").write(str(s.getsockname()[1]))
s.settimeout(30)
try:
    while True:
        c, _ = s.accept()
        open(sys.argv[1] + ".hits", "a").write("hit\n")
        c.close()
except OSError:
    pass
EOF
LISTENER=$!
for _ in $(seq 1 100); do [ -s "$T/listener.port" ] && break; sleep 0.05; done
port=$(cat "$T/listener.port")
pg="postgresql://pw:s3cret-Pw@127.0.0.1:$port/fleet"
printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\n[feeds]\nstore = %s\n' \
  "postgresql://feeds:f33d-Pw@127.0.0.1:$port/feeds" >"$T/pg.conf"
for args in "-c $conf --db $pg" "-c $T/pg.conf --db $pg"; do
  # shellcheck disable=SC2086
  out=$(timeout 20 "$PW_BIN" server -n $args 2>&1)
  st=$?
  check "-n $args exits 0: $out" test "$st" -eq 0
  check "-n prints no password: $out" eval '! grep -q "s3cret-Pw\|f33d-Pw" <<<"$out"'
  check "-n names the feed store with its password hidden: $out" \
    grep -q "feed store postgresql://[a-z]*:\*\*\*@127.0.0.1:$port/" <<<"$out"
done
check "-n connected to nothing: $(cat "$T/listener.hits" 2>/dev/null | wc -l) connections" \
  test ! -e "$T/listener.hits"
kill "$LISTENER" 2>/dev/null
wait "$LISTENER" 2>/dev/null
LISTENER=

# ---- serve ------------------------------------------------------------------
pw_srv_start A -c "$conf" --db "$db" || { pw_srv_summary; exit 1; }
U=http://127.0.0.1:$PW_SRV_PORT_A/api/v1

# ---- log forging --------------------------------------------------------------
forged="access: client=203.0.113.9 method=GET path=/api/v1/audit status=200 bytes=17"
pw_http GET "$U/x%0a$(sed 's/ /%20/g' <<<"$forged")%0d%1b%5b2K"
expect_status 404 "a path with an encoded newline"
for _ in $(seq 1 50); do grep -q 'path=/api/v1/x%0A' "$T/A.log" && break; sleep 0.1; done
check "no log line begins with the forged text: $(grep -n 203.0.113.9 "$T/A.log")" \
  eval '! grep -q "^access: client=203.0.113.9\|^$forged" "$T/A.log"'
check "the newline is in the access line's path, encoded: $(grep -n 203.0.113.9 "$T/A.log")" \
  grep -qF "method=GET path=/api/v1/x%0A$(sed 's/ /%20/g' <<<"$forged")%0D%1B[2K status=404" \
  "$T/A.log"
check "no raw control character reaches the log" \
  eval '! LC_ALL=C grep -q "[[:cntrl:]]" <(tr -d "\n" <"$T/A.log")'

# ---- request smuggling ---------------------------------------------------------
# raw REQUEST: sends the bytes as they are, prints the status line's code
# and whether the server then closed the connection ("closed").
raw() {
  python3 - "$PW_SRV_PORT_A" "$1" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
data = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
except socket.timeout:
    pass
line = data.split(b"\r\n", 1)[0].decode("latin-1")
print(line.split(" ")[1] if " " in line else "none", "closed" if data.count(b"HTTP/1.1") == 1 else "more")
EOF
}
smuggle='0\r\n\r\nGET /api/v1/me HTTP/1.1\r\nHost: x\r\n\r\n'
out=$(raw "POST /api/v1/agents/enroll HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}$smuggle")
check "two Content-Length headers: 400, one reply, the rest not read as a request: $out" \
  test "$out" = "400 closed"
out=$(raw "POST /api/v1/agents/enroll HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n$smuggle")
check "Content-Length with Transfer-Encoding: 400, one reply: $out" test "$out" = "400 closed"
out=$(raw "POST /api/v1/agents/enroll HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\ncontent-length: 5\r\n\r\n$smuggle")
check "the same in the other order and case: $out" test "$out" = "400 closed"
for te in identity xchunked 'gzip, chunked' 'chunked\r\nTransfer-Encoding: chunked'; do
  out=$(raw "POST /api/v1/agents/enroll HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: $te\r\n\r\n$smuggle")
  check "Transfer-Encoding: $te: 400, one reply: $out" test "$out" = "400 closed"
done
out=$(raw "POST /api/v1/agents/enroll HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\n{}")
check "a Content-Length list: 400: $out" test "${out% *}" = 400
out=$(raw "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
check "a plain request still works: $out" test "$out" = "200 closed"
pw_srv_stop A
check "the server stopped cleanly" test $? -eq 0

# ---- TLS: the key's mode, a key of another certificate ----------------------------
if test_have cmd openssl; then
  mk() { # mk NAME: a self-signed certificate NAME.pem and its key NAME.key
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout "$T/$1.key" -out "$T/$1.pem" -days 1 -subj "/CN=127.0.0.1" \
      -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
    chmod 600 "$T/$1.key"
  }
  mk one
  mk two
  printf '[server]\nlisten = 127.0.0.1:0\n' >"$T/tls.conf"
  chmod 644 "$T/one.key"
  out=$("$PW_BIN" server -n -c "$T/tls.conf" --tls-cert "$T/one.pem" --tls-key "$T/one.key" 2>&1)
  check "-n refuses a world-readable key (exit 2): $out" test $? -eq 2
  check "saying so: $out" grep -q "one.key is open to other users (mode 0644); chmod 600" <<<"$out"
  chmod 640 "$T/one.key"
  out=$(timeout 10 "$PW_BIN" server -c "$T/tls.conf" --db "$db" --tls-cert "$T/one.pem" \
    --tls-key "$T/one.key" 2>&1)
  check "the server refuses a group-readable key (exit 2): $out" test $? -eq 2
  check "saying so: $out" grep -q "one.key is open to other users (mode 0640)" <<<"$out"
  chmod 600 "$T/one.key"
  out=$(timeout 20 "$PW_BIN" server -c "$T/tls.conf" --db "$db" --tls-cert "$T/one.pem" \
    --tls-key "$T/two.key" 2>&1)
  check "a key of another certificate: exit 2: $out" test $? -eq 2
  check "named as a mismatch: $out" grep -q "two.key does not match the certificate" <<<"$out"
  check "not blamed on the address: $out" eval '! grep -q "address in use" <<<"$out"'
  out=$("$PW_BIN" server -n -c "$T/tls.conf" --tls-cert "$T/one.pem" --tls-key "$T/two.key" 2>&1)
  check "-n finds the mismatch too: $out" grep -q "does not match the certificate" <<<"$out"
  pw_srv_start B -c "$T/tls.conf" --db "$db" --tls-cert "$T/one.pem" --tls-key "$T/one.key" &&
    pw_srv_stop B
  check "a matching pair of mode 0600 serves" test $? -eq 0
else
  test_skip_part "TLS key checks" "needs the command 'openssl' (run scripts/deps)"
fi

pw_srv_summary
