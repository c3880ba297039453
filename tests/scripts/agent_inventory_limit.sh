#!/usr/bin/env bash
# Check-ins over the server's body limit (issue 10, bug 4) and jobs an
# agent cannot keep, against the real server on 127.0.0.1:
#  * a 100,000-package host (14 MB of inventory JSON, over the 8 MiB
#    check-in limit) gets its inventory and an inventory job's result
#    through gzip-compressed;
#  * with an inventory over the limit even compressed ([server]
#    inflated_max = 1 MiB), the agent keeps checking in without it (last
#    seen advances, jobs are handed out and answered), tells the server
#    why, and `host show` and GET /hosts/{id} show it; a result over the
#    limit comes back as a failed result saying so, not a blocked spool;
#  * a gzip bomb (256 MiB of zeros in 250 KB) is a 413 and the server's
#    memory stays bounded; a damaged gzip body is a 400, another encoding
#    a 415;
#  * an agent that cannot spool a job's result (spool full) gives the
#    lease back at once instead of holding it until it runs out;
#  * against a server older than gzip check-ins (a 400 to the gzip body),
#    the agent sends the body again plain.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/agent.sh"
old_pid=
cleanup() {
  [ -n "$old_pid" ] && kill "$old_pid" 2>/dev/null
  pw_srv_cleanup
}
trap cleanup EXIT
T=$PW_SRV_TMP
out_has() { grep -qF -- "$1" "$T/agent.out"; }
show() { sed 's/^/  | /' "$T/agent.out" | head -5; }
hwm_kb() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/${PW_SRV_PID[$1]}/status"; }
job_state() { # job_state TOKEN URL HOST JOB: the job's state
  pw_http GET "$2/hosts/$3/jobs" "$1"
  json "[x['state'] for x in j['jobs'] if x['job_id'] == $4][0]"
}

# setup DB: users and an enrollment token for many agents in DB
setup() {
  "$PW_BIN" user add root --role admin --no-password --db "$1" >/dev/null 2>&1
  admin=$("$PW_BIN" user token create root --db "$1" 2>/dev/null)
  etok=$("$PW_BIN" user enroll-token create --uses 10 --db "$1" 2>/dev/null)
}

# ---- a 100,000-package host, default limits ---------------------------------
"$PW_SOURCE_DIR/bench/make-inventory-root" "$T/big-root" 100000 big-host
db=sqlite:$T/a.db
setup "$db"
printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\naccess_log = true\n' \
  >"$T/a.conf"
pw_srv_start A -c "$T/a.conf" --db "$db" || { pw_srv_summary; exit 1; }
U=http://127.0.0.1:$PW_SRV_PORT_A/api/v1
big() { pw_agent big "$@" --root "$T/big-root"; }
big enroll --server "http://127.0.0.1:$PW_SRV_PORT_A" --token "$etok" --insecure
check "enroll the big host: $(show)" test "$AGENT_ST" -eq 0
pw_http GET "$U/hosts" "$admin"
host=$(json 'j["hosts"][0]["id"]')
raw=$("$PW_BIN" inventory --root "$T/big-root" --json | python3 -c \
  'import json, sys; print(len(json.dumps(json.load(sys.stdin), separators=(",", ":"))))')
check "the inventory is over the 8 MiB check-in limit uncompressed ($raw bytes)" \
  test "$raw" -gt 8388608
big run --once
check "the 100,000-package inventory gets through: $(show)" test "$AGENT_ST" -eq 0
check "and is acknowledged" out_has "inventory sent"
hash=$("$PW_BIN" agent status --state-dir "$T/big" | sed -n 's/^inventory_hash_acked: //p')
pw_http GET "$U/hosts/$host" "$admin"
check "the server stored it" test -n "$hash" -a "$(json 'j["inventory"]["hash"]')" = "$hash"
check "with no refusal" test "$(json 'j["inventory"]["refused"]')" = null
job=$(pw_job "$admin" "$U" "$host" inventory)
big run --once
check "an inventory job runs" out_has "1 jobs run"
big run --once
check "its 14 MB result is delivered: $(show)" out_has "1 acknowledged"
check "the job is done" test "$(job_state "$admin" "$U" "$host" "$job")" = done
check "no check-in was refused" test "$(grep -c 'method=POST path=/api/v1/agents/checkin status=413' "$T/A.log")" -eq 0
check "the access log saw the check-ins" grep -q 'method=POST path=/api/v1/agents/checkin status=200' "$T/A.log"
pw_srv_stop A
check "server A stops" test $? -eq 0

# ---- over the limit even compressed -------------------------------------------
db=sqlite:$T/b.db
setup "$db"
printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\ncheckin_interval = 10\n%s\n' \
  'inflated_max = 1048576' >"$T/b.conf"
pw_srv_start B -c "$T/b.conf" --db "$db" || { pw_srv_summary; exit 1; }
U=http://127.0.0.1:$PW_SRV_PORT_B/api/v1
"$PW_SOURCE_DIR/bench/make-inventory-root" "$T/mid-root" 20000 mid-host
mid() { pw_agent mid "$@" --root "$T/mid-root"; }
mid enroll --server "http://127.0.0.1:$PW_SRV_PORT_B" --token "$etok" --insecure
check "enroll the mid host: $(show)" test "$AGENT_ST" -eq 0
pw_http GET "$U/hosts" "$admin"
host=$(json 'j["hosts"][0]["id"]')
mid run --once
check "a refused inventory is not a failed check-in: $(show)" test "$AGENT_ST" -eq 0
check "the agent says why" out_has "refused the check-in with the inventory"
check "naming the server's limit" out_has "more than 1 MiB"
pw_http GET "$U/hosts/$host" "$admin"
seen1=$(json 'j["last_seen"]')
check "the host was seen" test "$seen1" != null
refused=$(json 'j["inventory"]["refused"]')
check "GET /hosts/{id} shows the refusal: $refused" grep -q "over the server's limit of 1048576 bytes" <<<"$refused"
check "it has no inventory yet" test "$(json 'j["inventory"]["hash"]')" = null
"$PW_BIN" host show mid-host --db "$db" >"$T/show.out" 2>&1
check "host show shows it" grep -q "^inventory_refused .*gzip) refused as over the server's limit" "$T/show.out"
sleep 1.1 # last_seen has millisecond resolution; make the advance certain
job=$(pw_job "$admin" "$U" "$host" scan)
mid run --once
check "the next check-in works: $(show)" test "$AGENT_ST" -eq 0
check "without uploading the inventory again" out_has "checked in without it"
check "and the job was handed out and run" out_has "1 jobs run"
pw_http GET "$U/hosts/$host" "$admin"
check "last seen advances" test "$(json 'j["last_seen"]')" != "$seen1"
# The scan job fails (no feed store here) with the inventory attached:
# a result over the limit too, which comes back as a failed result.
mid run --once
check "the result over the limit does not block the check-in: $(show)" test "$AGENT_ST" -eq 0
check "the agent says so" out_has "was refused by the server as too large"
check "and nothing stays spooled" test "$(pw_spooled mid)" -eq 0
check "the job is answered (failed)" test "$(job_state "$admin" "$U" "$host" "$job")" = failed
pw_http GET "$U/hosts/$host/jobs" "$admin"
check "the refused result became a failed one" test "$(json 'j["jobs"][0]["result"]["status"]')" = failed

# ---- gzip bombs and other encodings -------------------------------------------
cred=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["credential"])' "$T/mid/credential")
mid_hash=$(printf '0%.0s' {1..64}) # unknown to the server: it asks for the inventory
hwm0=$(hwm_kb B)
head -c 268435456 /dev/zero | gzip -9 >"$T/bomb.gz"
check "the bomb is small ($(stat -c %s "$T/bomb.gz") bytes)" test "$(stat -c %s "$T/bomb.gz")" -lt 1048576
pw_http POST "$U/agents/checkin" "$cred" "@$T/bomb.gz" -H 'Content-Encoding: gzip'
expect_status 413 "a gzip bomb"
check "it says the inflated limit: $HTTP_BODY" grep -q "inflates to more than 1 MiB" <<<"$HTTP_BODY"
hwm1=$(hwm_kb B)
check "the server's peak memory grew by less than 16 MiB ($hwm0 -> $hwm1 kB)" \
  test $((hwm1 - hwm0)) -lt 16384
printf '{"inventory_hash":"%s"}' "$mid_hash" | gzip >"$T/ok.gz"
head -c -6 "$T/ok.gz" >"$T/cut.gz" # the trailer cut
pw_http POST "$U/agents/checkin" "$cred" "@$T/cut.gz" -H 'Content-Encoding: gzip'
expect_status 400 "a truncated gzip body"
pw_http POST "$U/agents/checkin" "$cred" "@$T/ok.gz" -H 'Content-Encoding: gzip'
expect_status 200 "a small gzip check-in"
pw_http POST "$U/agents/checkin" "$cred" "@$T/ok.gz" -H 'Content-Encoding: br'
expect_status 415 "Content-Encoding br"
pw_http POST "$U/hosts/$host/jobs" "$admin" "@$T/ok.gz" -H 'Content-Encoding: gzip'
expect_status 415 "gzip on a user's route"
pw_http GET "$U/hosts/$host" "$admin"
check "a check-in without a refusal clears it" test "$(json 'j["inventory"]["refused"]')" = null

# ---- a job whose result cannot be kept is given back --------------------------
cp -r "$PW_TEST_DATA/inventory/debian" "$T/small-root"
printf 'small-host\n' >"$T/small-root/etc/hostname"
small() { pw_agent small "$@" --root "$T/small-root"; }
small enroll --server "http://127.0.0.1:$PW_SRV_PORT_B" --token "$etok" --insecure
small run --once
pw_http GET "$U/hosts?limit=10" "$admin"
shost=$(json '[h["id"] for h in j["hosts"] if h["hostname"] == "small-host"][0]')
job=$(pw_job "$admin" "$U" "$shost" inventory)
printf '[agent]\nspool_max_bytes = 200\n' >"$T/agent.conf"
small run --once --config "$T/agent.conf"
check "the result does not fit the spool: $(show)" out_has "1 jobs failed"
check "the agent gives the job back" out_has "1 jobs given back"
check "the job is queued again, not held for its lease" \
  test "$(job_state "$admin" "$U" "$shost" "$job")" = queued
pw_http GET "$U/audit?limit=1000" "$admin"
check "the release is audited" test "$(json '[e["after"].get("released") for e in j["events"] if e["action"] == "agent.checkin" and e["after"] and "release" in e["after"]]')" = "[1]"
small run --once
check "with room, the job is run again" out_has "1 jobs run"
small run --once
check "and answered" test "$(job_state "$admin" "$U" "$shost" "$job")" = done

pw_srv_stop B
check "server B stops" test $? -eq 0

# ---- a server older than gzip check-ins ------------------------------------------
# It reads a gzip body as JSON (400): the agent sends it again plain.
cat >"$T/old_server.py" <<'PY'
import http.server, json, sys
log = open(sys.argv[1], "a")
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        enc = self.headers.get("Content-Encoding", "none")
        log.write("%s %d\n" % (enc, len(body))); log.flush()
        try:
            json.loads(body)
            st, reply = 200, {"ack": [], "need_inventory": False, "jobs": [],
                              "checkin_interval": 10}
        except ValueError:
            st, reply = 400, {"error": {"code": "bad_request", "message": "malformed JSON"}}
        out = json.dumps(reply).encode()
        self.send_response(st)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
coproc OLD { exec python3 "$T/old_server.py" "$T/old.log" 2>/dev/null; }
old_pid=$OLD_PID
read -r -t 10 old_port <&"${OLD[0]}"
rm -f "$T/mid/state" # as if the inventory had never been sent
pw_agent mid run --once --root "$T/mid-root" --server "http://127.0.0.1:$old_port"
kill "$old_pid" 2>/dev/null
old_pid=
check "against an old server the check-in works: $(show)" test "$AGENT_ST" -eq 0
check "with the inventory sent" out_has "inventory sent"
check "first gzip, then plain: $(tr '\n' ' ' <"$T/old.log")" \
  test "$(cut -d' ' -f1 "$T/old.log" | tr '\n' ' ')" = "gzip none "
pw_srv_summary
