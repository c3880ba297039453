#!/usr/bin/env bash
# Two server nodes, A and B, on ONE real PostgreSQL 15 (lib/pg.sh): an
# agent enrolled and checked in (with a real inventory) through A is
# visible through B, with one audit chain; jobs created through B are
# each handed out exactly once while 20 agents check in concurrently
# through A and B; results sent through one node and resent through the
# other are stored once; and B keeps serving when A stops.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/pg.sh"
trap pw_srv_cleanup EXIT # pw_pg_start runs pw_pg_stop before it
test_require shared-data:inventories/claircore/texlive.dpkg-status
pw_pg_start || { echo "FAIL: PostgreSQL did not start"; exit 1; }
echo "PostgreSQL 15 up on 127.0.0.1:$PW_PG_PORT in ${PW_PG_START_MS} ms"
T=$PW_SRV_TMP
db=$PW_TEST_PG_URL
conf=$(pw_srv_plain_conf)
printf 'threads = 4\n' >>"$conf"

"$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
"$PW_BIN" user add ops --role operator --no-password --db "$db" >/dev/null 2>&1
admin=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
ops=$("$PW_BIN" user token create ops --db "$db" 2>/dev/null)
etok=$("$PW_BIN" user enroll-token create --uses 100 --db "$db" 2>/dev/null)
check "the CLI made tokens on PostgreSQL" test -n "$admin" -a -n "$ops" -a -n "$etok"

pw_srv_start A -c "$conf" --db "$db" || { pw_srv_summary; exit 1; }
pw_srv_start B -c "$conf" --db "$db" || { pw_srv_summary; exit 1; }
check "node A says PostgreSQL" grep -q "PostgreSQL database" "$T/A.log"
A=http://127.0.0.1:$PW_SRV_PORT_A/api/v1
B=http://127.0.0.1:$PW_SRV_PORT_B/api/v1

# ---- enrolled and checked in through A, visible through B ----------------
pw_http POST "$A/agents/enroll" "" \
  "{\"token\":\"$etok\",\"hostname\":\"db-01\",\"machine_id\":\"m-db-01\",\"os\":{\"id\":\"ubuntu\",\"version_id\":\"18.04\"},\"arch\":\"amd64\"}"
expect_status 201 "enroll through A"
cred=$(json 'j["credential"]')
host=$(json 'j["host_id"]')

# A real inventory: Ubuntu 18.04's dpkg status from claircore (357 packages).
mkdir -p "$T/root/var/lib/dpkg" "$T/root/etc"
cp "$PW_SHARED_DATA/inventories/claircore/texlive.dpkg-status" "$T/root/var/lib/dpkg/status"
printf 'ID=ubuntu\nVERSION_ID="18.04"\nVERSION_CODENAME=bionic\nPRETTY_NAME="Ubuntu 18.04.6 LTS"\n' \
  >"$T/root/etc/os-release"
"$PW_BIN" inventory --root "$T/root" --json >"$T/inv.json" 2>/dev/null
check "an inventory to send" test -s "$T/inv.json"
zero=$(printf '0%.0s' $(seq 64))
pw_http POST "$A/agents/checkin" "$cred" "{\"inventory_hash\":\"$zero\"}"
check "A asks for the inventory" test "$(json 'j["need_inventory"]')" = true
# The server computes the hash itself and says which it got when the
# agent's is wrong; the agent's own hash is pw_inventory_hash.
python3 -c 'import json, sys
print(json.dumps({"inventory_hash": sys.argv[1], "inventory": json.load(open(sys.argv[2]))}))' \
  "$zero" "$T/inv.json" >"$T/checkin.json"
pw_http POST "$A/agents/checkin" "$cred" "@$T/checkin.json"
expect_status 400 "an inventory whose hash does not match"
hash=$(sed -n 's/.*whose hash is \([0-9a-f]\{64\}\).*/\1/p' <<<"$HTTP_BODY")
check "the server named the inventory's hash" test ${#hash} -eq 64
sed -i "s/$zero/$hash/" "$T/checkin.json"
pw_http POST "$A/agents/checkin" "$cred" "@$T/checkin.json"
expect_status 200 "check-in with the inventory through A"
check "A has the inventory now" test "$(json 'j["need_inventory"]')" = false

pw_http GET "$B/hosts/$host" "$admin"
expect_status 200 "the host through B"
check "B sees the host A enrolled" test "$(json 'j["hostname"]+"/"+j["os"]["id"]')" = db-01/ubuntu
check "B sees the check-in" test "$(json 'j["last_seen"] is not None')" = true
check "B sees the inventory A stored" test "$(json 'j["inventory"]["hash"]')" = "$hash"
pw_http GET "$B/audit?limit=1000" "$admin"
check "B reads the events A wrote" test \
  "$(json '",".join(sorted({e["action"] for e in j["events"]} & {"agent.enroll","agent.checkin"}))')" \
  = "agent.checkin,agent.enroll"

# ---- 20 agents, 40 jobs created through B, concurrent check-ins ----------
n=20
declare -a creds hosts
for i in $(seq 1 $n); do
  node=$([ $((i % 2)) -eq 0 ] && echo "$A" || echo "$B")
  pw_http POST "$node/agents/enroll" "" \
    "{\"token\":\"$etok\",\"hostname\":\"web-$i\",\"machine_id\":\"m-web-$i\"}"
  creds[i]=$(json 'j["credential"]')
  hosts[i]=$(json 'j["host_id"]')
done
check "$n agents enrolled through A and B" test "${#creds[@]}" -eq $n
: >"$T/created"
for i in $(seq 1 $n); do
  for k in 1 2; do
    pw_http POST "$B/hosts/${hosts[i]}/jobs" "$ops" '{"kind":"scan"}'
    [ "$HTTP_STATUS" = 201 ] && json 'j["job_id"]' >>"$T/created"
  done
done
check "40 jobs created through B" test "$(wc -l <"$T/created")" -eq 40

# Every agent checks in 3 times through A and 3 times through B, all at
# once (120 requests in flight), as agents behind a load balancer might.
mkdir "$T/out"
pids=()
for i in $(seq 1 $n); do
  for r in 1 2 3; do
    for node in A B; do
      url=$([ $node = A ] && echo "$A" || echo "$B")/agents/checkin
      curl -s --max-time 60 -o "$T/out/$i-$r-$node" -H 'Content-Type: application/json' \
        -H "Authorization: Bearer ${creds[i]}" --data-binary "{\"inventory_hash\":\"$zero\"}" \
        "$url" &
      pids+=($!)
    done
  done
done
wait "${pids[@]}"
python3 - "$T/out" "$T/created" >"$T/handed" <<'PY'
import json, os, sys
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    for job in json.load(open(os.path.join(d, f)))["jobs"]:
        print(f.split("-")[0], job["job_id"])
PY
check "every concurrent check-in got a reply" test "$(ls "$T/out" | wc -l)" -eq $((n * 6))
check "40 jobs handed out in all" test "$(wc -l <"$T/handed")" -eq 40
check "each job exactly once" test "$(cut -d' ' -f2 "$T/handed" | sort -u | wc -l)" -eq 40
check "exactly the jobs created" test "$(cut -d' ' -f2 "$T/handed" | sort -n)" = "$(sort -n "$T/created")"
# Each job went to its own host's agent.
ok_hosts=1
while read -r i job; do
  pw_http GET "$B/hosts/${hosts[i]}/jobs" "$admin"
  json '[x["job_id"] for x in j["jobs"]]' | grep -qw "$job" || ok_hosts=0
done <"$T/handed"
check "each job went to the agent of its host" test $ok_hosts -eq 1

# ---- results through one node, resent through the other ------------------
read -r i job < <(head -1 "$T/handed")
body="{\"inventory_hash\":\"$zero\",\"results\":[{\"job_id\":$job,\"seq\":1,\"status\":\"ok\",\"exit_code\":0}]}"
pw_http POST "$A/agents/checkin" "${creds[i]}" "$body"
check "the result is acknowledged through A" test "$(json 'j["ack"]')" = "[1]"
pw_http POST "$B/agents/checkin" "${creds[i]}" "$body"
check "the resend is acknowledged through B" test "$(json 'j["ack"]')" = "[1]"
pw_http GET "$A/audit?limit=1000" "$admin"
check "the resend is audited as such" test \
  "$(json 'sum(1 for e in j["events"] if e["action"] == "agent.checkin" and (e["after"] or {}).get("results", [{}])[0].get("resent"))')" = 1
pw_http GET "$B/hosts/${hosts[i]}/jobs" "$admin"
check "the job is done, seen through B" test \
  "$(json '[x["state"] for x in j["jobs"] if x["job_id"] == '"$job"'][0]')" = done
pw_http GET "$B/audit/verify" "$admin"
check "one intact audit chain for both nodes" test "$(json 'j["intact"]')" = true

# ---- A stops; B serves on --------------------------------------------------
check "A stops with status 0" pw_srv_stop A
pw_http POST "$B/agents/checkin" "$cred" "{\"inventory_hash\":\"$hash\"}"
expect_status 200 "the first agent checks in through B after A stopped"
check "B knows its inventory" test "$(json 'j["need_inventory"]')" = false
check "B stops with status 0" pw_srv_stop B

pw_srv_summary
