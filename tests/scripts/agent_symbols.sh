#!/usr/bin/env bash
# patchwarden-agent links no server code by construction (issue 9): no
# symbol defined by the server-side libraries (server, fleet, identity,
# schema, feedsync) or the PostgreSQL backend is defined in the agent
# binary, and neither libpq nor libmicrohttpd is among its DT_NEEDED.
set -uo pipefail
: "${PW_AGENT_BIN:?PW_AGENT_BIN is not set; run under ctest}"
: "${PW_BUILD_DIR:?PW_BUILD_DIR is not set; run under ctest}"
. "$(dirname "$0")/lib/test-lib.sh"
test_require_cmd nm readelf
lib=$PW_BUILD_DIR/src/lib
agent_syms=$(nm --defined-only "$PW_AGENT_BIN" | awk '$2 ~ /^[TDBR]$/ {print $3}' | sort -u)
for a in server fleet identity schema feedsync; do
  f=$lib/libpw_$a.a
  if [ ! -f "$f" ]; then bad "$f was not built"; continue; fi
  leaked=$(comm -12 <(nm --defined-only "$f" 2>/dev/null | awk '$2 ~ /^[TDBR]$/ {print $3}' | sort -u) \
    <(echo "$agent_syms"))
  if [ -n "$leaked" ]; then
    bad "symbols of pw_$a in patchwarden-agent: $(echo $leaked | head -c 300)"
  else
    ok "no symbol of pw_$a in patchwarden-agent"
  fi
done
pg=$(find "$lib" -name 'db_pg.c.o')
if [ -z "$pg" ]; then
  bad "the PostgreSQL backend's object was not found under $lib"
elif grep -qE ' [Tt] (pg_register|pg_open)$' <<<"$(nm "$PW_AGENT_BIN")"; then
  bad "the PostgreSQL backend is linked into patchwarden-agent"
else
  ok "no PostgreSQL backend in patchwarden-agent"
fi
needed=$(readelf -d "$PW_AGENT_BIN" | awk '/NEEDED/ {print $5}')
if grep -qE 'libpq|libmicrohttpd' <<<"$needed"; then
  bad "patchwarden-agent needs $(tr '\n' ' ' <<<"$needed")"
else
  ok "patchwarden-agent needs neither libpq nor libmicrohttpd"
fi
# The check can fail: the full binary does carry those symbols.
if grep -qE ' [Tt] pg_register$' <<<"$(nm "${PW_BIN:?}")"; then ok "pg_register in patchwarden"
else bad "the check found no pg_register in patchwarden either"; fi
test_done
