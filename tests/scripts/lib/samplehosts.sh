# Sourced after lib/server.sh by the scripts that need hosts with real
# findings (campaign_flows.sh, web_console.sh): agents enroll and check in
# the sample Debian 10 inventory (share/sample) as the real agent does,
# first with a placeholder hash, then with the one the server asks for.
#
#   sample_enroll NAME [FIELD=VALUE...]   # needs U (the API's URL), etok
#                                         # (an enrollment token) and db;
#                                         # then `host set NAME FIELD=VALUE...`

: "${PW_SOURCE_DIR:?PW_SOURCE_DIR is not set; run under ctest}"
SAMPLE_ZERO=$(printf '0%.0s' $(seq 64))
python3 -c 'import json, sys
print(json.dumps({"inventory_hash": sys.argv[1], "inventory": json.load(open(sys.argv[2]))}))' \
  "$SAMPLE_ZERO" "$PW_SOURCE_DIR/share/sample/inventories/debian10-web.json" \
  >"$PW_SRV_TMP/sample-inventory.json"

sample_enroll() {
  local name=$1 cred hash
  shift
  pw_http POST "$U/agents/enroll" "" "{\"token\":\"$etok\",\"hostname\":\"$name\",
    \"machine_id\":\"m-$name\",\"os\":{\"id\":\"debian\",\"version_id\":\"10\"}}"
  cred=$(json 'j["credential"]')
  pw_http POST "$U/agents/checkin" "$cred" "@$PW_SRV_TMP/sample-inventory.json"
  hash=$(sed -n 's/.*whose hash is \([0-9a-f]\{64\}\).*/\1/p' <<<"$HTTP_BODY")
  [ -n "$hash" ] && sed "s/$SAMPLE_ZERO/$hash/" "$PW_SRV_TMP/sample-inventory.json" \
    >"$PW_SRV_TMP/sample-checkin.json"
  pw_http POST "$U/agents/checkin" "$cred" "@$PW_SRV_TMP/sample-checkin.json"
  "$PW_BIN" host set "$name" "$@" --db "$db" >/dev/null
}
