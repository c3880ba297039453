# Sourced by the server_*.sh scripts: start and stop `patchwarden server`
# on 127.0.0.1 (a free port chosen by the kernel: --listen 127.0.0.1:0),
# talk to it with curl, read JSON with python3, and count checks (the
# vocabulary of lib/test-lib.sh: ok, bad, check, test_done).
#
#   . "$(dirname "$0")/lib/server.sh"
#   pw_srv_start A --db URL -c CONF     # sets PW_SRV_PORT_A, log in $PW_SRV_TMP/A.log
#   PW_SRV_LISTEN=10.0.0.1:0 pw_srv_start B ...   # another address
#   pw_http GET "http://127.0.0.1:$PW_SRV_PORT_A/api/v1/health"   # sets HTTP_STATUS, HTTP_BODY
#   pw_srv_stop A                       # SIGTERM, waits (bounded), checks exit 0
#
# Every request has a time limit; pw_srv_cleanup (the EXIT trap the
# caller installs) kills whatever is still running.

: "${PW_BIN:?PW_BIN (the patchwarden binary) is not set; run under ctest}"
. "$(dirname "${BASH_SOURCE[0]}")/test-lib.sh"
PW_SRV_TMP=$(mktemp -d /tmp/pw-srv.XXXXXX)
export PATCHWARDEN_PWHASH=fast # test users only: minimum Argon2id cost
declare -A PW_SRV_PID

pw_srv_cleanup() {
  local n
  for n in "${!PW_SRV_PID[@]}"; do
    kill -KILL "${PW_SRV_PID[$n]}" 2>/dev/null || true
  done
  rm -rf "$PW_SRV_TMP"
}

# pw_srv_start NAME ARGS...: starts the server on ${PW_SRV_LISTEN:-127.0.0.1:0},
# waits for its "listening on" line (10 s at most), sets PW_SRV_PORT_<NAME>.
pw_srv_start() {
  local name=$1 log i port
  shift
  log=$PW_SRV_TMP/$name.log
  : >"$log" # there before the first look at it
  "$PW_BIN" server --listen "${PW_SRV_LISTEN:-127.0.0.1:0}" "$@" 2>"$log" &
  PW_SRV_PID[$name]=$!
  for i in $(seq 1 200); do
    port=$(sed -n 's/.*listening on https\{0,1\}:\/\/[^ ]*:\([0-9]*\) .*/\1/p' "$log")
    if [ -n "$port" ]; then
      printf -v "PW_SRV_PORT_$name" '%s' "$port"
      return 0
    fi
    if ! kill -0 "${PW_SRV_PID[$name]}" 2>/dev/null; then
      echo "server $name exited:" >&2
      cat "$log" >&2
      unset "PW_SRV_PID[$name]"
      return 1
    fi
    sleep 0.05
  done
  echo "server $name did not start within 10 s:" >&2
  cat "$log" >&2
  return 1
}

# pw_srv_stop NAME: SIGTERM, then the server must exit 0 within 15 s.
pw_srv_stop() {
  local name=$1 pid=${PW_SRV_PID[$1]} i st
  kill -TERM "$pid"
  for i in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null
    unset "PW_SRV_PID[$name]"
    return 1
  fi
  wait "$pid"
  st=$?
  unset "PW_SRV_PID[$name]"
  return "$st"
}

# pw_http METHOD URL [TOKEN [BODY]] [curl options...]: HTTP_STATUS and
# HTTP_BODY. A BODY starting with @ is a file.
pw_http() {
  local method=$1 url=$2 token=${3:-} body=${4:-}
  shift $(($# < 4 ? $# : 4))
  local args=(-s -S --max-time 30 -o "$PW_SRV_TMP/body" -w '%{http_code}' -X "$method"
    -H 'Content-Type: application/json' -H 'Expect:')
  [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
  [ -n "$body" ] && args+=(--data-binary "$body")
  HTTP_STATUS=$(curl "${args[@]}" "$@" "$url" 2>"$PW_SRV_TMP/curl.err") || HTTP_STATUS=000
  HTTP_BODY=$(cat "$PW_SRV_TMP/body" 2>/dev/null)
}

# json EXPR: evaluates a Python expression over the parsed HTTP_BODY (j).
json() {
  python3 -c 'import json, sys
j = json.loads(sys.stdin.read())
v = eval(sys.argv[1])
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)' "$1" <<<"$HTTP_BODY"
}

# expect_status WANT WHAT: the last reply had status WANT, and an error
# reply was {"error":{"code","message"}}.
expect_status() {
  local want=$1 what=$2
  if [ "$HTTP_STATUS" != "$want" ]; then
    bad "$what: status $HTTP_STATUS, expected $want: $HTTP_BODY"
    return 1
  fi
  if [ "$want" -ge 400 ] &&
    ! python3 -c 'import json, sys
j = json.loads(sys.stdin.read())
e = j["error"]
assert set(j) == {"error"} and set(e) == {"code", "message"} and e["message"]' <<<"$HTTP_BODY" 2>/dev/null; then
    bad "$what: not an error object: $HTTP_BODY"
    return 1
  fi
  ok
}

# pw_srv_cert DIR NAME IP: a one-day self-signed certificate for IP,
# DIR/NAME.pem and DIR/NAME.key (0600).
pw_srv_cert() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$1/$2.key" -out "$1/$2.pem" -days 1 -subj "/CN=$3" \
    -addext "subjectAltName=IP:$3" >"$1/openssl.log" 2>&1 &&
    chmod 600 "$1/$2.key" || { cat "$1/openssl.log" >&2; return 1; }
}

# A plain-HTTP loopback configuration for tests.
pw_srv_plain_conf() {
  printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\naccess_log = true\n' \
    >"$PW_SRV_TMP/plain.conf"
  echo "$PW_SRV_TMP/plain.conf"
}

# pw_srv_summary: the closing line and exit status (test_done).
pw_srv_summary() { test_done; }
