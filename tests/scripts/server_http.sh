#!/usr/bin/env bash
# `patchwarden server` as an operator runs it, over plain HTTP on
# 127.0.0.1: the -n configuration check and its refusals, start-up, the
# API through curl (enrollment, check-in, jobs, users, audit), limits
# (413 on an oversize body, 400 on too-deep JSON and bad JSON, all as
# JSON errors), the access log, a port already in use, and a graceful
# stop on SIGTERM.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
trap pw_srv_cleanup EXIT
T=$PW_SRV_TMP
db=sqlite:$T/server.db
conf=$(pw_srv_plain_conf)

# ---- -n: the configuration check -----------------------------------------
out=$("$PW_BIN" server -n -c "$conf" 2>&1)
check "-n accepts a plain-HTTP loopback config: $out" test $? -eq 0
check "-n says so" grep -q "configuration OK" <<<"$out"

refuse() { # refuse WHAT NEEDLE CONFIG-TEXT [ARGS...]
  local what=$1 needle=$2 text=$3 st
  shift 3
  printf '%b' "$text" >"$T/bad.conf"
  out=$("$PW_BIN" server -n -c "$T/bad.conf" "$@" 2>&1)
  st=$?
  if [ "$st" -ne 2 ] || ! grep -qF -- "$needle" <<<"$out"; then
    bad "-n $what: exit $st, output: $out"
  else
    ok
  fi
}
refuse "plain HTTP on 0.0.0.0" "loopback addresses only" \
  '[server]\nallow_plain_http = true\nlisten = 0.0.0.0:8080\n'
refuse "plain HTTP on a LAN address" "loopback addresses only" \
  '[server]\nallow_plain_http = true\n' --listen 10.1.2.3:8080
refuse "no certificate, plain HTTP not allowed" "allow_plain_http" \
  '[server]\nlisten = 127.0.0.1:8080\n'
refuse "a misspelt key" "bad.conf:3: [server] has no key 'acces_log'" \
  '[server]\nallow_plain_http = true\nacces_log = true\n'
refuse "a value of the wrong type" "is not a whole number" \
  '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:1\nthreads = two\n'
refuse "a value out of range" "out of range" \
  '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:1\nconnection_timeout = 0\n'
refuse "a host name as listen address" "numeric address" \
  '[server]\nallow_plain_http = true\nlisten = localhost:8080\n'
refuse "a missing certificate file" "$T/none.pem" '[server]\n' \
  --tls-cert "$T/none.pem" --tls-key "$T/none.pem"
out=$("$PW_BIN" server -n -c "$T/missing.conf" 2>&1)
check "-n on a missing -c file exits 2: $out" test $? -eq 2
out=$("$PW_BIN" server --bogus 2>&1)
check "an unknown option exits 2" test $? -eq 2

# ---- users and tokens made with the CLI on the same database -------------
"$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
"$PW_BIN" user add ops --role operator --no-password --db "$db" >/dev/null 2>&1
"$PW_BIN" user add desk --role helpdesk --no-password --db "$db" >/dev/null 2>&1
admin=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
ops=$("$PW_BIN" user token create ops --db "$db" 2>/dev/null)
desk=$("$PW_BIN" user token create desk --db "$db" 2>/dev/null)
etok=$("$PW_BIN" user enroll-token create --uses 5 --db "$db" 2>/dev/null)
check "the CLI made tokens" test -n "$admin" -a -n "$ops" -a -n "$desk" -a -n "$etok"

# ---- serve ------------------------------------------------------------------
pw_srv_start A -c "$conf" --db "$db" || { pw_srv_summary; exit 1; }
U=http://127.0.0.1:$PW_SRV_PORT_A/api/v1

pw_http GET "$U/health"
expect_status 200 "health"
check "health names the database" test "$(json 'j["database"]')" = sqlite
pw_http GET "$U/hosts"
expect_status 401 "hosts without a token"
pw_http GET "$U/me" "$desk"
expect_status 200 "me"
check "me is desk" test "$(json 'j["name"]+"/"+j["role"]')" = desk/helpdesk
pw_http GET "$U/users" "$desk"
expect_status 403 "users as helpdesk"
pw_http GET "$U/nowhere" "$admin"
expect_status 404 "an unknown path"
pw_http DELETE "$U/hosts" "$admin"
expect_status 405 "DELETE on /hosts"

# Enrollment and check-ins.
pw_http POST "$U/agents/enroll" "" \
  "{\"token\":\"$etok\",\"hostname\":\"web-01\",\"machine_id\":\"m-web-01\",\"os\":{\"id\":\"debian\",\"version_id\":\"12\",\"codename\":\"bookworm\"},\"arch\":\"amd64\"}"
expect_status 201 "enroll"
cred=$(json 'j["credential"]')
host=$(json 'j["host_id"]')
pw_http POST "$U/agents/enroll" "" \
  '{"token":"pwe_1.0000000000000000000000000000000000000000000000000000000000000000","hostname":"x","machine_id":"y"}'
expect_status 401 "enroll with a wrong token"
zero=$(printf '0%.0s' $(seq 64))
pw_http POST "$U/agents/checkin" "$cred" "{\"inventory_hash\":\"$zero\"}"
expect_status 200 "check-in"
check "the server asks for the inventory" test "$(json 'j["need_inventory"]')" = true
pw_http POST "$U/hosts/$host/jobs" "$desk" '{"kind":"scan"}'
expect_status 403 "a job by helpdesk"
pw_http POST "$U/hosts/$host/jobs" "$ops" '{"kind":"scan"}'
expect_status 201 "a job by the operator"
job=$(json 'j["job_id"]')
pw_http POST "$U/agents/checkin" "$cred" "{\"inventory_hash\":\"$zero\"}"
check "the check-in hands out the job" test "$(json '[x["job_id"] for x in j["jobs"]]')" = "[$job]"
pw_http POST "$U/agents/checkin" "$cred" \
  "{\"inventory_hash\":\"$zero\",\"results\":[{\"job_id\":$job,\"seq\":1,\"status\":\"ok\",\"exit_code\":0,\"output\":{\"findings\":0}}]}"
check "the result is acknowledged" test "$(json 'j["ack"]')" = "[1]"
pw_http GET "$U/hosts/$host/jobs" "$desk"
check "the job is done" test "$(json 'j["jobs"][0]["state"]+"/"+j["jobs"][0]["result"]["status"]')" = done/ok
pw_http GET "$U/hosts/$host" "$desk"
check "the host was seen" test "$(json 'j["last_seen"] is not None')" = true

# Users, tokens and the audit log over the API.
pw_http POST "$U/users" "$admin" '{"name":"carol","role":"auditor"}'
expect_status 201 "add a user"
carol=$(json 'j["id"]')
pw_http POST "$U/users/$carol/tokens" "$admin" '{"label":"audit script","ttl_seconds":3600}'
expect_status 201 "a token for carol"
carol_tok=$(json 'j["token"]')
pw_http GET "$U/audit?limit=1000" "$carol_tok"
expect_status 200 "the audit log as auditor"
check "the log has the job, the result and the user" test \
  "$(json '",".join(sorted({e["action"] for e in j["events"]} & {"job.create","agent.checkin","user.add","agent.enroll"}))')" \
  = "agent.checkin,agent.enroll,job.create,user.add"
pw_http GET "$U/audit/verify" "$carol_tok"
check "the audit chain is intact" test "$(json 'j["intact"]')" = true
pw_http POST "$U/users" "$carol_tok" '{"name":"eve","role":"admin"}'
expect_status 403 "an auditor adding a user"

# ---- limits -----------------------------------------------------------------
head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$T/big"
pw_http POST "$U/agents/checkin" "$cred" "@$T/big"
expect_status 413 "a 9 MiB check-in (limit 8 MiB)"
pw_http POST "$U/agents/checkin" "$cred" "@$T/big" -H 'Transfer-Encoding: chunked'
expect_status 413 "a 9 MiB chunked check-in"
pw_http POST "$U/agents/checkin" "" "@$T/big"
expect_status 401 "a 9 MiB check-in without credential"
# Past 16 MiB the server stops reading: 413 at once, or the connection cut
# under a client still sending; either way it keeps serving.
head -c $((20 * 1024 * 1024)) /dev/zero >"$T/huge"
pw_http POST "$U/agents/checkin" "$cred" "@$T/huge" -H 'Transfer-Encoding: chunked'
check "a 20 MiB chunked body is refused ($HTTP_STATUS)" test "$HTTP_STATUS" = 413 -o "$HTTP_STATUS" = 000
pw_http POST "$U/agents/checkin" "$cred" "@$T/huge"
check "a 20 MiB body is refused ($HTTP_STATUS)" test "$HTTP_STATUS" = 413 -o "$HTTP_STATUS" = 000
pw_http GET "$U/health"
expect_status 200 "health after the oversize bodies"
deep=$(printf '[%.0s' $(seq 40))$(printf ']%.0s' $(seq 40))
pw_http POST "$U/agents/checkin" "$cred" "{\"inventory_hash\":$deep}"
expect_status 400 "JSON 41 levels deep"
check "the message says why" grep -q "nested deeper than 32" <<<"$HTTP_BODY"
pw_http POST "$U/agents/checkin" "$cred" '{"inventory_hash": "abc",,}'
expect_status 400 "bad JSON"
check "the message has the position" grep -q "line 1, column" <<<"$HTTP_BODY"
pw_http POST "$U/agents/checkin" "$cred" '{"inventory_hash":"'"$(head -c 70000 /dev/zero | tr '\0' x)"'"}'
expect_status 400 "a 70000-byte string"
check "the message says why" grep -q "a string longer than 65536 bytes" <<<"$HTTP_BODY"

# ---- another server on the same port fails to start -----------------------
out=$("$PW_BIN" server -c "$conf" --db "$db" --listen "127.0.0.1:$PW_SRV_PORT_A" 2>&1)
st=$?
check "a second server on a taken port exits 2 ($st): $out" test "$st" -eq 2
check "and says why" grep -q "cannot serve on 127.0.0.1:$PW_SRV_PORT_A" <<<"$out"

# ---- the access log and a graceful stop -----------------------------------
check "the access log has the requests" \
  grep -q "access: client=127.0.0.1 method=POST path=/api/v1/agents/checkin status=200" "$T/A.log"
check "the access log names the caller" grep -q "method=GET path=/api/v1/me status=200 .* user=user:desk" "$T/A.log"
check "SIGTERM stops the server with status 0" pw_srv_stop A
check "it says it is stopping" grep -q "SIGTERM: stopping" "$T/A.log"

pw_srv_summary
