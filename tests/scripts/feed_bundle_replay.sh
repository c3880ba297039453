#!/usr/bin/env bash
# A signed bundle older than the newest one a store imported is a replay
# (it would bring back what the newer one changed): `feed bundle import`
# refuses it, and imports it only with --allow-older.
set -uo pipefail

: "${PW_BIN:?}"
. "$(dirname "$0")/lib/test-lib.sh"
test_require_cmd jq gzip
test_require shared-data:vunnel-fixtures/providers/epss/test-fixtures
T=$(mktemp -d /tmp/pw-feed-bundle-replay-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

pw() { "$PW_BIN" "$@" > out.txt 2> err.txt; RC=$?; }
snapshots() { "$PW_BIN" feed snapshots --store feeds.db --json | jq length; }

mkdir feeds
gzip -9nc "$PW_SHARED_DATA/vunnel-fixtures/providers/epss/test-fixtures/example-1.csv" > feeds/epss.csv.gz
"$PW_BIN" feed bundle keygen --output signer > /dev/null
pw feed bundle create --key signer.sec --output monday.bundle feeds
check "the first bundle is made" test "$RC" = 0
# Bundles carry their creation time to the second: wait for the next one.
start=$(date +%s)
while [ "$(date +%s)" = "$start" ]; do sleep 0.05; done
pw feed bundle create --key signer.sec --output tuesday.bundle feeds
check "the second bundle is made" test "$RC" = 0

pw feed bundle import --key signer.pub --store feeds.db tuesday.bundle
check "the newer bundle imports" test "$RC" = 0
pw feed bundle import --key signer.pub --store feeds.db monday.bundle
check "the older bundle is refused (rc $RC)" test "$RC" = 2
check "the refusal names both bundles and the way out" \
	grep -q "monday.bundle: created .*, before the newest bundle this store imported (tuesday.bundle, created .*--allow-older" err.txt
check "the refused bundle made no snapshot" test "$(snapshots)" = 1
pw feed bundle import --key signer.pub --store feeds.db --allow-older --json monday.bundle
check "--allow-older imports it" test "$RC:$(jq -r .snapshot out.txt)" = "0:2"
pw feed bundle import --key signer.pub --store feeds.db monday.bundle
check "still refused without --allow-older afterwards" test "$RC" = 2
pw feed bundle import --key signer.pub --store feeds.db tuesday.bundle
check "the newest bundle imports again" test "$RC" = 0
pw feed status --store feeds.db --json
check "feed status shows the newest bundle" \
	test "$(jq -r '.sources[] | select(.name == "(bundle)") | .url' out.txt)" = tuesday.bundle

test_done
