# Sourced by the notification and policy tests (after lib/server.sh): hosts
# that enroll and check in the sample Debian 10 inventory as agents do,
# with findings computed against the sample feeds.
#
#   sample_fleet_init DB          # the feeds in $PW_SRV_TMP/feeds.db, an enrollment token
#   U=http://127.0.0.1:PORT/api/v1  # a running server on DB
#   sample_enroll NAME FIELD=VALUE...   # enrolls, checks in twice, sets the fields

sample_fleet_init() {
  SAMPLE_DB=$1
  local s=$PW_SOURCE_DIR/share/sample
  "$PW_BIN" feed import --store "$PW_SRV_TMP/feeds.db" "$s/feeds" >/dev/null 2>&1 ||
    bad "the sample feeds did not import"
  SAMPLE_ETOK=$("$PW_BIN" user enroll-token create --uses 20 --db "$SAMPLE_DB" 2>/dev/null)
  SAMPLE_ZERO=$(printf '0%.0s' $(seq 64))
  python3 -c 'import json, sys
print(json.dumps({"inventory_hash": sys.argv[1], "inventory": json.load(open(sys.argv[2]))}))' \
    "$SAMPLE_ZERO" "$s/inventories/debian10-web.json" >"$PW_SRV_TMP/inventory.json"
}

# The first check-in is refused with the inventory's hash, which the
# second one names.
sample_enroll() {
  local name=$1 cred hash
  shift
  pw_http POST "$U/agents/enroll" "" "{\"token\":\"$SAMPLE_ETOK\",\"hostname\":\"$name\",
    \"machine_id\":\"m-$name\",\"os\":{\"id\":\"debian\",\"version_id\":\"10\"}}"
  cred=$(json 'j["credential"]')
  pw_http POST "$U/agents/checkin" "$cred" "@$PW_SRV_TMP/inventory.json"
  hash=$(sed -n 's/.*whose hash is \([0-9a-f]\{64\}\).*/\1/p' <<<"$HTTP_BODY")
  [ -n "$hash" ] && sed "s/$SAMPLE_ZERO/$hash/" "$PW_SRV_TMP/inventory.json" >"$PW_SRV_TMP/ci.json"
  pw_http POST "$U/agents/checkin" "$cred" "@$PW_SRV_TMP/ci.json"
  "$PW_BIN" host set "$name" "$@" --db "$SAMPLE_DB" >/dev/null
}
