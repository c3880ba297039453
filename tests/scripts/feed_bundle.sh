#!/usr/bin/env bash
# `patchwarden feed bundle` end to end: keygen, create, verify, import,
# and every damaged bundle refused with the store left as it was.
set -uo pipefail

: "${PW_BIN:?}"
. "$(dirname "$0")/lib/test-lib.sh"
test_require_cmd python3 zip gzip sha256sum
for d in cisa-kev debian-security-tracker/data/DSA almalinux-osv/advisories/almalinux8 \
	vunnel-fixtures/providers/epss/test-fixtures; do
	test_require shared-data:$d
done
PY=$(python3 -c 'import sys; print(sys.executable)')
T=$(mktemp -d /tmp/pw-feed-bundle-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

pw() { "$PW_BIN" "$@" > out.txt 2> err.txt; RC=$?; }
refused() { # refused MESSAGE: the last command failed with exit 2 and MESSAGE on stderr
	test "$RC" = 2 && grep -qF -- "$1" err.txt
}
jtrue() { "$PY" -c 'import json,sys; d=json.load(open("out.txt")); sys.exit(0 if eval(sys.argv[1]) else 1)' "$1"; }
store_sum() { sha256sum feeds.db | cut -d' ' -f1; }

# Real feed data, small subsets.
mkdir -p feeds/debian feeds/kev
cp "$PW_SHARED_DATA/cisa-kev/known_exploited_vulnerabilities.json" feeds/kev/
head -n 300 "$PW_SHARED_DATA/debian-security-tracker/data/DSA/list" > feeds/debian/list
(cd "$PW_SHARED_DATA/almalinux-osv/advisories/almalinux8" && ls | head -n 30 | zip -q -@ "$T/feeds/alma8.zip")
gzip -9nc "$PW_SHARED_DATA/vunnel-fixtures/providers/epss/test-fixtures/example-1.csv" > feeds/epss.csv.gz
touch feeds/.partial-download

# keygen
pw feed bundle keygen --output signer
check "keygen writes a key pair" test "$RC" = 0 -a -f signer.pub -a -f signer.sec
check "the secret key is mode 0600" test "$(stat -c %a signer.sec)" = 600
check "keygen prints the key id" grep -qE '^key [0-9a-f]{16}: wrote signer.sec' out.txt
pw feed bundle keygen --output signer
check "keygen refuses to overwrite a key" refused "signer.pub exists"
"$PW_BIN" feed bundle keygen -o stranger > /dev/null

# create and verify
pw feed bundle create --key signer.sec --output feeds.bundle feeds
check "create bundles the four feed files" sh -c "test $RC = 0 && grep -q 'feeds.bundle: 4 files' out.txt"
check "hidden files are not bundled" sh -c "! tar tzf feeds.bundle | grep -q partial"
check "members: MANIFEST, MANIFEST.sig, then the feeds" \
	test "$(tar tzf feeds.bundle | head -n 2 | tr '\n' ' ')" = "MANIFEST MANIFEST.sig "
pw feed bundle verify --key signer.pub feeds.bundle
check "verify accepts the bundle" sh -c "test $RC = 0 && grep -q 'feeds.bundle: OK: 4 files' out.txt"
pw feed bundle verify --key signer.pub --json feeds.bundle
check "verify --json" jtrue "d['files'] == 4 and len(d['key']) == 16"

# import
pw feed bundle import --key signer.pub --store feeds.db --json feeds.bundle
check "import makes one snapshot from the whole bundle" \
	jtrue "d['snapshot'] == 1 and d['advisories'] > 0 and d['kev'] == 1404 and d['epss'] == 5"

# Every damaged bundle is refused and the store is left as it was.
before=$(store_sum)
mkdir x && tar xzf feeds.bundle -C x
repack() { # repack OUT: the members of x/ in bundle order
	(cd x && tar czf "../$1" MANIFEST MANIFEST.sig $(find feeds -type f | sort))
}
repack same.bundle
pw feed bundle verify --key signer.pub same.bundle
check "a faithful repack still verifies (the checks are not about tar details)" test "$RC" = 0

cp x/feeds/debian/list list.orig
sed -i '1s/DSA-/DSB-/' x/feeds/debian/list
repack tampered-file.bundle
cp list.orig x/feeds/debian/list
pw feed bundle import --key signer.pub --store feeds.db tampered-file.bundle
check "tampered file refused" refused "debian/list does not match its SHA-256 in the signed manifest"

cp x/MANIFEST manifest.orig
sed -i 's/^created \(....\)/created 1999/' x/MANIFEST
repack tampered-manifest.bundle
cp manifest.orig x/MANIFEST
pw feed bundle import --key signer.pub --store feeds.db tampered-manifest.bundle
check "tampered manifest refused" refused "the signature does not verify"

pw feed bundle import --key stranger.pub --store feeds.db feeds.bundle
check "wrong key refused, naming both keys" refused "but stranger.pub is key"

head -c $(( $(stat -c %s feeds.bundle) / 2 )) feeds.bundle > truncated.bundle
pw feed bundle import --key signer.pub --store feeds.db truncated.bundle
check "truncated bundle refused" refused "damaged or truncated bundle"

echo '{"id": "EVIL-1", "affected": []}' > x/feeds/evil.json
repack extra.bundle
rm x/feeds/evil.json
pw feed bundle import --key signer.pub --store feeds.db extra.bundle
check "extra member refused" refused "member 'feeds/evil.json' is not listed in the signed manifest"

mv x/feeds/epss.csv.gz epss.keep
repack missing.bundle
mv epss.keep x/feeds/epss.csv.gz
pw feed bundle import --key signer.pub --store feeds.db missing.bundle
check "missing member refused" refused "epss.csv.gz is listed in the manifest but missing"

pw feed bundle import --key signer.pub --store fresh.db tampered-file.bundle
check "a refused bundle does not even create the store" sh -c "test $RC = 2 && test ! -e fresh.db"

echo "not a bundle" > garbage.bundle
pw feed bundle import --key signer.pub --store feeds.db garbage.bundle
check "garbage refused" refused "not a patchwarden bundle"

check "refused bundles left the store unchanged" test "$(store_sum)" = "$before"
check "refused imports left no temporary directories" \
	sh -c "! ls -d \${TMPDIR:-/tmp}/pw-bundle-* 2>/dev/null | grep -q ."

# The next good import gets the next snapshot: none was used up above.
pw feed bundle import --key signer.pub --store feeds.db --json feeds.bundle
check "re-import: snapshot 2 with nothing new" jtrue "d['snapshot'] == 2 and d['added'] == 0"

# A full bundle imported with --replace retires what it no longer holds.
awk '/^\[/ { n++ } n >= 2' feeds/debian/list > list.short && mv list.short feeds/debian/list
pw feed bundle create -k signer.sec -o newer.bundle feeds
pw feed bundle import --key signer.pub --store feeds.db --replace --json newer.bundle
check "--replace retires advisories the bundle no longer holds" jtrue "d['snapshot'] == 3 and d['retired'] >= 1"

# Keys and usage errors.
chmod 644 signer.sec
pw feed bundle create --key signer.sec --output loose.bundle feeds
check "a secret key readable by others is refused" refused "chmod 600 signer.sec"
chmod 600 signer.sec
pw feed bundle create --key signer.pub --output wrongkind.bundle feeds
check "a public key given to create is refused" refused "this is a public key; give the secret"
pw feed bundle frobnicate
check "unknown action" refused "unknown action 'frobnicate'"
pw feed bundle verify feeds.bundle
check "verify without --key" refused "verify needs --key PUBLIC-KEY"

test_done
