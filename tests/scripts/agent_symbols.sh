#!/usr/bin/env bash
# patchwarden-agent links no server code by construction (issue 9): no
# symbol defined by the server-side libraries (server, fleet, identity,
# schema, feedsync) or the PostgreSQL backend is defined in the agent
# binary, and neither libpq nor libmicrohttpd is among its DT_NEEDED.
set -uo pipefail
: "${PW_AGENT_BIN:?PW_AGENT_BIN is not set; run under ctest}"
: "${PW_BUILD_DIR:?PW_BUILD_DIR is not set; run under ctest}"
fail=0
pass=0
lib=$PW_BUILD_DIR/src/lib
agent_syms=$(nm --defined-only "$PW_AGENT_BIN" | awk '$2 ~ /^[TDBR]$/ {print $3}' | sort -u)
for a in server fleet identity schema feedsync; do
  f=$lib/libpw_$a.a
  if [ ! -f "$f" ]; then echo "FAIL: $f was not built"; fail=$((fail + 1)); continue; fi
  leaked=$(comm -12 <(nm --defined-only "$f" 2>/dev/null | awk '$2 ~ /^[TDBR]$/ {print $3}' | sort -u) \
    <(echo "$agent_syms"))
  if [ -n "$leaked" ]; then
    echo "FAIL: symbols of pw_$a in patchwarden-agent: $(echo $leaked | head -c 300)"
    fail=$((fail + 1))
  else
    pass=$((pass + 1))
  fi
done
pg=$(find "$lib" -name 'db_pg.c.o')
if [ -z "$pg" ]; then
  echo "FAIL: the PostgreSQL backend's object was not found under $lib"; fail=$((fail + 1))
elif grep -qE ' [Tt] (pg_register|pg_open)$' <<<"$(nm "$PW_AGENT_BIN")"; then
  echo "FAIL: the PostgreSQL backend is linked into patchwarden-agent"; fail=$((fail + 1))
else
  pass=$((pass + 1))
fi
needed=$(readelf -d "$PW_AGENT_BIN" | awk '/NEEDED/ {print $5}')
if grep -qE 'libpq|libmicrohttpd' <<<"$needed"; then
  echo "FAIL: patchwarden-agent needs $(tr '\n' ' ' <<<"$needed")"; fail=$((fail + 1))
else
  pass=$((pass + 1))
fi
# The check can fail: the full binary does carry those symbols.
if grep -qE ' [Tt] pg_register$' <<<"$(nm "${PW_BIN:?}")"; then pass=$((pass + 1)); else
  echo "FAIL: the check found no pg_register in patchwarden either"; fail=$((fail + 1)); fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
