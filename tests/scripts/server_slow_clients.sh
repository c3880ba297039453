#!/usr/bin/env bash
# Slow clients (issue 10, bug 3): clients that trickle a header byte more
# often than connection_timeout must not hold every connection. Ten slow
# clients from 127.0.0.1 against a server taking 6 connections, at most 3
# per address, with a 3-second deadline for a request's headers and body:
# at most 3 of them get in, a health probe from 127.0.0.2 is answered
# throughout, and the slow ones are closed at the deadline although they
# never stop sending. Loopback only; about 10 seconds.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
trap pw_srv_cleanup EXIT
T=$PW_SRV_TMP
printf '[server]\nallow_plain_http = true\nlisten = 127.0.0.1:0\naccess_log = true\n%s\n' \
  'max_connections = 6
max_connections_per_ip = 3
connection_timeout = 30
request_timeout = 3' >"$T/slow.conf"
pw_srv_start A -c "$T/slow.conf" --db "sqlite:$T/server.db" || { pw_srv_summary; exit 1; }
port=$PW_SRV_PORT_A

# Each slow client sends a request line, then one header byte (the
# first: one body byte) every 0.3 s for at most 8 s; it prints when (seconds after its connect) the
# server closed it, or "open" when it was still open at the end.
python3 - "$port" >"$T/slow.out" <<'EOF' &
import socket, sys, time
port = int(sys.argv[1])
clients = []
for i in range(10):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setblocking(False)
    clients.append([s, time.monotonic(), None])
    # The first trickles a body instead, after whole headers.
    start = (b"POST /api/v1/agents/enroll HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"
             if i == 0 else b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    try:
        s.send(start)
    except OSError:
        pass
end = time.monotonic() + 8
while time.monotonic() < end and any(c[2] is None for c in clients):
    for c in clients:
        if c[2] is not None:
            continue
        try:
            c[0].send(b"a")
            if c[0].recv(1) == b"":
                raise OSError
        except BlockingIOError:
            pass
        except OSError:
            c[2] = time.monotonic() - c[1]
    time.sleep(0.3)
for s, _, closed in clients:
    print("open" if closed is None else "%.1f" % closed)
    s.close()
EOF
slow=$!

# The probe, from another loopback address, while the slow clients hold
# their connections.
sleep 0.5
probes=0
for i in 1 2 3 4 5 6; do
  st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --interface 127.0.0.2 \
    "http://127.0.0.1:$port/api/v1/health")
  check "health probe $i answered while slow clients hold connections: $st" test "$st" = 200
  [ "$st" = 200 ] && probes=$((probes + 1))
  sleep 0.5
done
wait "$slow"
echo "slow clients closed after (s): $(tr '\n' ' ' <"$T/slow.out")"
check "every slow client was closed: $(tr '\n' ' ' <"$T/slow.out")" \
  eval '! grep -q open "$T/slow.out"'
# Refused at once: over the per-address limit. At the deadline: let in.
early=$(awk '$1 != "open" && $1 < 1.5' "$T/slow.out" | wc -l)
late=$(awk '$1 != "open" && $1 >= 2.5 && $1 < 6' "$T/slow.out" | wc -l)
check "at most 3 were let in from one address: $((10 - early)) were" test "$early" -ge 7
check "and those were closed at the 3 s deadline: $late were" test "$late" -ge 1 -a \
  "$((early + late))" -eq 10
check "the server logged why it closed them" grep -q "request_timeout" "$T/A.log"
pw_http GET "http://127.0.0.1:$port/api/v1/health"
expect_status 200 "health after the slow clients"
pw_srv_stop A
check "the server stopped cleanly" test $? -eq 0
pw_srv_summary
