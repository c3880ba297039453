#!/usr/bin/env bash
# Agent memory benchmark: the check-in daemon (`agent run`) against a
# real `patchwarden server` on 127.0.0.1 (SQLite, HTTPS to
# https://localhost:PORT with a self-signed certificate the agent gets
# with --ca, check-in interval 10 s), reporting what the kernel charges to the agent.
#
# The reported host is this machine's dpkg database (every installed
# package) under a buster os-release, so the scan jobs match against the
# Debian tracker's DSA list imported into the agent's feed store. Per
# agent command, in a fresh state directory:
#   enroll; queue an inventory and a scan job; start the daemon; wait for
#   its first check-in (full inventory), the jobs' results delivered, one
#   regular check-in (hash only), a second scan job delivered and a
#   changed inventory sent in full; then read /proc/PID/status,
#   smaps_rollup and smaps while it sleeps, and stop it with SIGTERM.
#
#   bench/agent_rss.sh [AGENT-COMMAND...]
#
# Each AGENT-COMMAND is a command line that takes the `agent` actions
# (default: "$PW_BIN agent"); give several to compare them in one run.
# Output: one row per command (KiB), then the mappings with the most
# resident memory per command. Environment: PW_BIN (the patchwarden
# binary, for the server and the setup), PW_SHARED_DATA, and
# PW_CURL_FLOOR: when set, the bench/curl_floor binary, whose rows (libcurl
# alone, with two HTTPS requests to the same server) are added.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
: "${PW_BIN:?PW_BIN (the patchwarden binary) is not set}"
PW_SHARED_DATA=${PW_SHARED_DATA:-$(dirname "$src")/shared/data}
. "$src/tests/scripts/lib/server.sh"
. "$src/tests/scripts/lib/agent.sh"
agent_pid=
cleanup() {
  [ -n "$agent_pid" ] && kill -KILL "$agent_pid" 2>/dev/null
  pw_srv_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM
T=$PW_SRV_TMP
[ $# -gt 0 ] || set -- "$PW_BIN agent"
die() {
  echo "agent_rss: $*" >&2
  exit 1
}

db=sqlite:$T/server.db
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/srv.key" \
  -out "$T/srv.pem" -days 1 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  >"$T/openssl.log" 2>&1 || die "openssl could not make a certificate: $(cat "$T/openssl.log")"
export CURL_CA_BUNDLE=$T/srv.pem # for the curl tool behind pw_http (libcurl ignores it)
printf '[server]\ntls_cert = %s\ntls_key = %s\ncheckin_interval = 10\n' "$T/srv.pem" \
  "$T/srv.key" >"$T/srv.conf"
"$PW_BIN" user add ops --role admin --no-password --db "$db" >/dev/null 2>&1
ops=$("$PW_BIN" user token create ops --db "$db" 2>/dev/null)
etok=$("$PW_BIN" user enroll-token create --uses $# --db "$db" 2>/dev/null)
[ -n "$ops" ] && [ -n "$etok" ] || die "cannot create the tokens"
"$PW_BIN" feed import --store "$T/feeds.db" --quiet \
  "$PW_SHARED_DATA/debian-security-tracker/data/DSA/list" >/dev/null 2>&1 ||
  die "cannot import the DSA list from $PW_SHARED_DATA"
pw_srv_start A -c "$T/srv.conf" --db "$db" || die "the server did not start"
S=https://localhost:$PW_SRV_PORT_A # a name: the agent resolves it as on a real host
U=$S/api/v1

npkg=$(grep -c '^Package:' /var/lib/dpkg/status)

sent_twice() { test "$(grep -c "inventory sent" "$1")" -ge 2; }
kib() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "$2"; }

# Resident memory per mapping (file name, [heap], [anon]...), largest first.
by_mapping() {
  awk '/^[0-9a-f]+-[0-9a-f]+ / { name = NF >= 6 ? $6 : "[anon]"; sub(/.*\//, "", name); next }
       $1 == "Rss:" { rss[name] += $2 }
       $1 == "Pss:" { pss[name] += $2 }
       $1 == "Anonymous:" { anon[name] += $2 }
       END { for (n in rss) if (rss[n]) printf "%8d %8d %8d  %s\n", rss[n], pss[n], anon[n], n }' \
    "$1" | sort -rn
}

measure() { # measure NAME AGENT-COMMAND
  local name=$1 cmd=$2 host hosts_before
  local st=$T/$name root=$T/$name.root
  mkdir -p "$root/etc" "$root/var/lib/dpkg"
  cp /var/lib/dpkg/status "$root/var/lib/dpkg/status"
  printf '%s\n' 'PRETTY_NAME="Debian GNU/Linux 10 (buster)"' 'ID=debian' 'VERSION_ID="10"' \
    'VERSION_CODENAME=buster' >"$root/etc/os-release"
  echo "$name" >"$root/etc/hostname" # one host per agent measured (enrollment adopts by name)
  local -a ag
  read -ra ag <<<"$cmd"
  pw_http GET "$U/hosts" "$ops"
  hosts_before=$(json 'len(j["hosts"])')
  "${ag[@]}" enroll --state-dir "$st" --root "$root" --server "$S" --ca "$T/srv.pem" \
    --token "$etok" >"$T/enroll.out" 2>&1 || die "$cmd enroll: $(cat "$T/enroll.out")"
  pw_http GET "$U/hosts" "$ops"
  [ "$(json 'len(j["hosts"])')" -gt "$hosts_before" ] || die "$cmd: no new host after enroll"
  host=$(json 'max(h["id"] for h in j["hosts"])')
  pw_job "$ops" "$U" "$host" inventory >/dev/null
  pw_job "$ops" "$U" "$host" scan >/dev/null
  "${ag[@]}" run --state-dir "$st" --root "$root" --store "$T/feeds.db" 2>"$T/$name.log" &
  agent_pid=$!
  local log=$T/$name.log
  pw_wait_for 30 grep -q "2 results sent, 2 acknowledged" "$log" ||
    die "$cmd: the first jobs were not delivered: $(cat "$log")"
  pw_wait_for 30 grep -q "hash only, .* 0 results sent" "$log" ||
    die "$cmd: no regular check-in: $(cat "$log")"
  pw_job "$ops" "$U" "$host" scan >/dev/null
  pw_wait_for 30 grep -q "1 results sent, 1 acknowledged" "$log" ||
    die "$cmd: the second scan was not delivered: $(cat "$log")"
  printf 'Package: zz-bench\nStatus: install ok installed\nArchitecture: all\nVersion: 1.0\n\n' \
    >>"$root/var/lib/dpkg/status"
  pw_wait_for 30 sent_twice "$log" ||
    die "$cmd: the changed inventory was not sent: $(cat "$log")"
  grep -q "jobs failed" "$log" && die "$cmd: a job failed: $(cat "$log")"
  sleep 0.5 # the daemon is back in its wait
  cp "/proc/$agent_pid/status" "$T/$name.status"
  cp "/proc/$agent_pid/smaps_rollup" "$T/$name.rollup"
  cp "/proc/$agent_pid/smaps" "$T/$name.smaps"
  local libs
  libs=$(grep -c '\.so' <(awk '/^[0-9a-f]+-[0-9a-f]+ / && NF >= 6 { print $6 }' \
    "$T/$name.smaps" | sort -u))
  kill -TERM "$agent_pid"
  wait "$agent_pid"
  local rc=$?
  agent_pid=
  [ "$rc" -eq 0 ] || die "$cmd: exit status $rc after SIGTERM"
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$cmd" \
    "$(kib VmHWM "$T/$name.status")" "$(kib VmRSS "$T/$name.status")" \
    "$(kib RssAnon "$T/$name.status")" "$(kib RssFile "$T/$name.status")" \
    "$(kib Pss "$T/$name.rollup")" "$(kib Private_Dirty "$T/$name.rollup")" "$libs" >>"$T/table"
}

i=0
for cmd in "$@"; do
  i=$((i + 1))
  measure "agent$i" "$cmd"
done
if [ -n "${PW_CURL_FLOOR:-}" ]; then
  "$PW_CURL_FLOOR" "$U/health" "$T/srv.pem" >>"$T/table" || die "curl_floor failed"
fi

echo "agent run: $npkg packages, 4 check-ins (2 with the full inventory), 3 jobs (1 inventory, 2 scan)"
echo "| agent command | VmHWM | VmRSS | RssAnon | RssFile | Pss | Private_Dirty | shared objects |"
echo "|---|---|---|---|---|---|---|---|"
cat "$T/table"
echo "(KiB; VmHWM is the peak, the rest are read while the daemon waits for its next check-in)"
i=0
for cmd in "$@"; do
  i=$((i + 1))
  echo
  echo "== $cmd: resident memory by mapping (KiB), largest first"
  echo "     Rss      Pss     Anon  mapping"
  by_mapping "$T/agent$i.smaps" | head -"${PW_BENCH_TOP:-25}"
done
