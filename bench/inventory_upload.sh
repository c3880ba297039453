#!/usr/bin/env bash
# Large inventories over the check-in: for hosts of N synthetic dpkg
# packages (bench/make-inventory-root), the inventory JSON's size as the
# agent sends it (compact) raw and gzip (zlib levels 1, 6 = the agent's,
# 9), the agent's first check-in (inventory upload, gzip) and the next
# one (hash only) in wall-clock time, the agent's and the server's peak
# RSS, and a 256 MiB gzip bomb against [server] inflated_max. Real
# `patchwarden server` (SQLite, plain HTTP on 127.0.0.1), one agent per
# size, best of RUNS first uploads (each from a fresh enrollment).
#
#   bench/inventory_upload.sh [RUNS [N...]]     (default 3 runs; 10000 100000)
#
# Environment: PW_BIN and PW_AGENT_BIN (the binaries).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
: "${PW_BIN:?PW_BIN (the patchwarden binary) is not set}"
: "${PW_AGENT_BIN:?PW_AGENT_BIN (patchwarden-agent) is not set}"
. "$src/tests/scripts/lib/server.sh"
. "$src/tests/scripts/lib/agent.sh"
trap pw_srv_cleanup EXIT
T=$PW_SRV_TMP
runs=${1:-3}
shift
sizes=("${@:-10000 100000}")
read -r -a sizes <<<"${sizes[*]}"
db=sqlite:$T/bench.db
"$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
etok=$("$PW_BIN" user enroll-token create --uses 1000 --db "$db" 2>/dev/null)
printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\ninflated_max = 33554432\n' \
  >"$T/srv.conf"
pw_srv_start S -c "$T/srv.conf" --db "$db" || exit 1
url=http://127.0.0.1:$PW_SRV_PORT_S
now() { date +%s.%N; }
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status"; }
printf '| packages | JSON raw | gzip -1 | gzip -6 (agent) | gzip -9 | first check-in (upload) | next check-in (hash only) | agent peak RSS | server peak RSS |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for n in "${sizes[@]}"; do
  root=$T/root-$n
  "$src/bench/make-inventory-root" "$root" "$n" "host-$n"
  read -r raw g1 g6 g9 < <("$PW_BIN" inventory --root "$root" --json | python3 -c '
import json, sys, zlib
b = json.dumps(json.load(sys.stdin), separators=(",", ":")).encode()
def gz(level):
    c = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return len(c.compress(b) + c.flush())
print(len(b), gz(1), gz(6), gz(9))')
  best_up=999 best_hash=999 agent_hwm=0
  for r in $(seq 1 "$runs"); do
    # A new host (state directory, so machine id; hostname) with a new
    # inventory each run: the server stores an inventory once by content,
    # and another host with the same one sends only its hash.
    rm -rf "$T/a"
    printf 'host-%s-%s\n' "$n" "$r" >"$root/etc/hostname"
    printf 'Package: bench-run-%s\nStatus: install ok installed\nArchitecture: all\nVersion: 1\n\n' \
      "$r" >>"$root/var/lib/dpkg/status"
    pw_agent a enroll --server "$url" --token "$etok" --insecure --root "$root"
    t0=$(now)
    /usr/bin/time -f %M -o "$T/rss" "$PW_AGENT_BIN" run --once --state-dir "$T/a" \
      --root "$root" >"$T/out" 2>&1
    t1=$(now)
    grep -q "inventory sent" "$T/out" || { cat "$T/out"; exit 1; }
    "$PW_AGENT_BIN" run --once --state-dir "$T/a" --root "$root" >"$T/out" 2>&1
    t2=$(now)
    grep -q "hash only" "$T/out" || { cat "$T/out"; exit 1; }
    best_up=$(python3 -c "print(min($best_up, $t1 - $t0))")
    best_hash=$(python3 -c "print(min($best_hash, $t2 - $t1))")
    agent_hwm=$(cat "$T/rss")
  done
  printf '| %s | %s | %s | %s | %s | %.2f s | %.2f s | %s MiB | %s MiB |\n' "$n" "$raw" "$g1" \
    "$g6" "$g9" "$best_up" "$best_hash" "$((agent_hwm / 1024))" \
    "$(($(hwm "${PW_SRV_PID[S]}") / 1024))"
done
head -c 268435456 /dev/zero | gzip -9 >"$T/bomb.gz"
cred=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["credential"])' "$T/a/credential")
before=$(hwm "${PW_SRV_PID[S]}")
t0=$(now)
pw_http POST "$url/api/v1/agents/checkin" "$cred" "@$T/bomb.gz" -H 'Content-Encoding: gzip'
t1=$(now)
printf '\ngzip bomb: %s bytes claiming 268435456: HTTP %s in %.2f s; server peak RSS %s -> %s MiB\n' \
  "$(stat -c %s "$T/bomb.gz")" "$HTTP_STATUS" "$(python3 -c "print($t1 - $t0)")" \
  "$((before / 1024))" "$(($(hwm "${PW_SRV_PID[S]}") / 1024))"
pw_srv_stop S
