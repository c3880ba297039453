#!/usr/bin/env bash
# Who a host is (issue 10), with the real agent, server and CLI: an agent
# that enrolls again with its state directory re-keys its host at once (it
# proves the old credential); one whose state directory was wiped, or
# anyone with a token and the machine id, only asks, and waits until an
# operator approves or refuses ('host show', 'host rekey', the API);
# hostnames are checked the same way at enrollment and by 'host set'; and
# 'host export-csv' writes no cell a spreadsheet runs as a formula, while
# 'host import-csv' of the export gives the same records back.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/agent.sh"
trap pw_srv_cleanup EXIT
T=$PW_SRV_TMP
db=sqlite:$T/server.db
printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\n' >"$T/srv.conf"
show() { sed 's/^/  | /' "$T/agent.out" | head -5; }
out_has() { grep -qF -- "$1" "$T/agent.out"; }
host() { "$PW_BIN" host "$@" --db "$db" >"$T/host.out" 2>&1; }

"$PW_BIN" user add ops --role operator --no-password --db "$db" >/dev/null 2>&1
ops=$("$PW_BIN" user token create ops --db "$db" 2>/dev/null)
etok=$("$PW_BIN" user enroll-token create --uses 20 --db "$db" 2>/dev/null)
pw_srv_start A -c "$T/srv.conf" --db "$db" || { pw_srv_summary; exit 1; }
S=http://127.0.0.1:$PW_SRV_PORT_A
U=$S/api/v1

root=$T/root
cp -r "$PW_TEST_DATA/inventory/debian" "$root"
echo 4c4c4544004d3510804ab4c04f4d3232 >"$root/etc/machine-id"
echo DB-01 >"$root/etc/hostname"
ag() { pw_agent "$1" "${@:2}" --root "$root"; }

# ---- hostnames ----------------------------------------------------------------
echo db_01 >"$root/etc/hostname"
ag a enroll --server "$S" --token "$etok" --insecure
check "a hostname that is not RFC 1123 is refused at enrollment: $(show)" test "$AGENT_ST" -eq 2
check "with the reason" out_has "not a valid host name"
echo DB-01 >"$root/etc/hostname"
ag a enroll --server "$S" --token "$etok" --insecure
check "enroll: $(show)" test "$AGENT_ST" -eq 0
pw_http GET "$U/hosts" "$ops"
id=$(json 'j["hosts"][0]["id"]')
check "stored in lower case" test "$(json 'j["hosts"][0]["hostname"]')" = db-01
host add db-02
pw_http PATCH "$U/hosts/$id" "$ops" '{"hostname":"DB-02"}'
check "a rename onto another host's name (other case) is a 409: $HTTP_BODY" test "$HTTP_STATUS" = 409
host set db-02 hostname=DB-01
check "and refused by host set" test $? -ne 0
check "naming the holder" grep -q "db-01 is already the name of host $id" "$T/host.out"

# ---- re-keys ----------------------------------------------------------------------
ag a run --once
check "the agent checks in: $(show)" test "$AGENT_ST" -eq 0
old=$(sed -n 's/.*"agent_id": *"\([^"]*\)".*/\1/p' "$T/a/credential")
ag a enroll --server "$S" --token "$etok" --insecure
check "enrolling again with its state directory re-keys at once: $(show)" \
  grep -q "^enrolled as ag_[0-9a-f]*$" "$T/agent.out"
ag a run --once
check "and the new credential checks in: $(show)" test "$AGENT_ST" -eq 0
live=$(sed -n 's/.*"agent_id": *"\([^"]*\)".*/\1/p' "$T/a/credential")
check "a new agent id" test -n "$live" -a "$live" != "$old"

# The state directory is lost (or someone else read /etc/machine-id).
ag b enroll --server "$S" --token "$etok" --insecure
check "without the old credential the re-key waits: $(show)" out_has "waiting: the server knows"
waiting=$(sed -n 's/.*"agent_id": *"\([^"]*\)".*/\1/p' "$T/b/credential")
ag a run --once
check "the live agent still checks in: $(show)" test "$AGENT_ST" -eq 0
ag b run --once
check "the waiting one is refused: $(show)" test "$AGENT_ST" -eq 2
check "and told why" out_has "waits for an operator to approve"
host show db-01
check "host show lists the waiting re-key" grep -q "^pending_rekey  *agent $waiting" "$T/host.out"
pw_http GET "$U/hosts/$id" "$ops"
check "so does GET /hosts/{id}" test "$(json 'j["pending_rekey"]["agent_id"]')" = "$waiting"

host rekey db-01 refuse
check "host rekey refuse: $(cat "$T/host.out")" test $? -eq 0
ag b run --once
check "the refused agent stays out" test "$AGENT_ST" -eq 2
ag a run --once
check "the live one stays in" test "$AGENT_ST" -eq 0

ag b enroll --server "$S" --token "$etok" --insecure
waiting=$(sed -n 's/.*"agent_id": *"\([^"]*\)".*/\1/p' "$T/b/credential")
pw_http POST "$U/hosts/$id/rekey" "$ops" '{"approve":true}'
check "POST /hosts/{id}/rekey approves: $HTTP_BODY" test "$HTTP_STATUS" = 200
ag b run --once
check "the approved agent checks in: $(show)" test "$AGENT_ST" -eq 0
ag a run --once
check "the old one is revoked" test "$AGENT_ST" -eq 2
host show db-01 --json
check "nothing waits any more" grep -qE '"pending_rekey":[[:space:]]*null' "$T/host.out"
"$PW_BIN" audit list --db "$db" >"$T/audit.out" 2>&1
for a in agent.rekey agent.rekey_request agent.rekey_refuse agent.rekey_approve; do
  check "audited: $a" grep -qw "$a" "$T/audit.out"
done

# ---- CSV formulas ---------------------------------------------------------------
host set db-02 "location==HYPERLINK(\"http://x\")" "purpose=@SUM(A1)" "ticket='-1" \
  "owner_group=-2+3"
host export-csv "$T/one.csv"
check "export-csv: $(cat "$T/host.out")" test $? -eq 0
check "no cell starts a formula" test -z "$(tail -n +2 "$T/one.csv" | tr ',' '\n' | grep -E '^[=+@-]')"
check "guarded cells are quoted with a quote before them" \
  grep -qF "\"'=HYPERLINK(\"\"http://x\"\")\",\"'@SUM(A1)\"" "$T/one.csv"
check "a value that begins with a quote gets another" grep -qF "\"''-1\"" "$T/one.csv"
host set db-02 location= purpose= ticket= owner_group=
host import-csv "$T/one.csv"
check "import-csv of the export: $(cat "$T/host.out")" test $? -eq 0
host export-csv "$T/two.csv"
check "gives the same records back" cmp -s "$T/one.csv" "$T/two.csv"
pw_http GET "$U/hosts/export-csv" "$ops"
check "the API exports the same" test "$(tr -d '\r' <<<"$HTTP_BODY")" = "$(tr -d '\r' <"$T/one.csv")"

pw_srv_stop A
pw_srv_summary
