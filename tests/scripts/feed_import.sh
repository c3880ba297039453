#!/usr/bin/env bash
# End to end: `patchwarden feed import/status/snapshots` on real feed
# files from ../shared/data: every format (AlmaLinux OSV, Debian DSA list,
# Ubuntu CVE tracker, Alpine secdb YAML, CISA KEV, EPSS .csv.gz), an
# osv.dev-style all.zip, tar and gzip inputs, re-imports, --replace, and
# failures (truncated zip, a named truncated JSON) that must leave the
# store as it was.
set -u
: "${PW_BIN:?PW_BIN must name the patchwarden binary}"
. "$(dirname "$0")/lib/test-lib.sh"
test_require_cmd jq sqlite3 python3 tar gzip
for d in almalinux-osv/advisories epss cisa-kev debian-security-tracker/data/DSA \
	alpine-secdb ubuntu-cve-tracker-2020/active; do
	test_require shared-data:$d
done
D=$PW_SHARED_DATA
ALMA=$D/almalinux-osv/advisories
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PATCHWARDEN_STORE=$work/store.db

# run CMD...: stdout in $out, stderr in $err, exit status in $rc
run() {
	"$@" >"$work/out" 2>"$work/err"
	rc=$?
	out=$(cat "$work/out")
	err=$(cat "$work/err")
}
jnum() { jq -r "$1" <<<"$out"; }
snapshots() { "$PW_BIN" feed snapshots --json | jq length; }
sql() { sqlite3 "$PATCHWARDEN_STORE" "$1"; }

# --- usage and unreadable input ---
run "$PW_BIN" feed import
check "import without PATH is a usage error" test "$rc" = 2
run "$PW_BIN" feed import --bogus "$ALMA"
check "unknown option is a usage error" test "$rc" = 2
run "$PW_BIN" feed status --store "$work/nowhere.db"
check "status of a missing store fails" test "$rc" = 2
check "status names the missing store" grep -q "nowhere.db: no feed store" <<<"$err"
check "status does not create a store" test ! -e "$work/nowhere.db"
run "$PW_BIN" feed import "$D/almalinux-osv/SOURCE.txt"
check "a named file of unknown format fails" test "$rc" = 2
check "the error names the file" grep -q "SOURCE.txt: not a feed format" <<<"$err"
run "$PW_BIN" feed import "$work/does-not-exist"
check "a missing path fails" test "$rc" = 2
run "$PW_BIN" feed status
check "status after failed imports" test "$rc" = 0
check "no snapshot after failed imports" grep -q "No snapshots yet" <<<"$out"

# --- AlmaLinux 8 + 9 OSV directory ---
run "$PW_BIN" feed import --json --label "alma 8+9" "$ALMA"
check "AlmaLinux import succeeds" test "$rc" = 0
check "AlmaLinux import is snapshot 1" test "$(jnum .snapshot)" = 1
check "3820 files read" test "$(jnum .files)" = 3820
check "3820 advisories" test "$(jnum .advisories)" = 3820
# 34 advisories are in both almalinux8/ and almalinux9/, identical.
check "3786 added, 34 unchanged" test "$(jnum '"\(.added) \(.unchanged)"')" = "3786 34"
check "no warnings on AlmaLinux data" test "$(jnum .warnings)" = 0
echo "AlmaLinux 8+9 import: $(jnum .elapsed_seconds) s"
rows=$(sql "SELECT COUNT(*) FROM feed_advisory")
affected=$(sql "SELECT COUNT(*) FROM feed_affected")

run "$PW_BIN" feed import --json "$ALMA"
check "re-import succeeds" test "$rc" = 0
check "re-import is snapshot 2" test "$(jnum .snapshot)" = 2
check "re-import adds nothing" test "$(jnum '"\(.added) \(.unchanged) \(.retired)"')" = "0 3820 0"
check "re-import writes no advisory rows" test "$(sql "SELECT COUNT(*) FROM feed_advisory")" = "$rows"
check "re-import writes no affected rows" test "$(sql "SELECT COUNT(*) FROM feed_affected")" = "$affected"
echo "AlmaLinux 8+9 re-import: $(jnum .elapsed_seconds) s"

# --- every other format in one import ---
uct=$(ls "$D"/ubuntu-cve-tracker-2020/active/CVE-2020-1* | head -40)
epss=$D/epss/CVE_2021_EPSS.csv.gz
epss_lines=$(zcat "$epss" | grep -c '^CVE-')
kev_count=$(jq '.vulnerabilities | length' "$D/cisa-kev/known_exploited_vulnerabilities.json")
# shellcheck disable=SC2086
run "$PW_BIN" feed import --json "$D/debian-security-tracker/data/DSA/list" $uct \
	"$D/alpine-secdb/v3.10/main.yaml" "$D/cisa-kev/known_exploited_vulnerabilities.json" "$epss"
check "mixed import succeeds: $err" test "$rc" = 0
check "mixed import reads every file" test "$(jnum .files)" = $((40 + 4))
check "KEV entries all imported" test "$(jnum .kev)" = "$kev_count"
check "EPSS scores all imported" test "$(jnum .epss)" = "$epss_lines"
check "DSA, UCT and Alpine advisories imported" test "$(jnum .added)" -gt 1000
mixed=$(jnum .snapshot)

run "$PW_BIN" feed status --json
check "status succeeds" test "$rc" = 0
for eco in almalinux:8 almalinux:9 alpine:3.10 debian:11 debian:10 ubuntu:16.04 ubuntu:18.04; do
	n=$(jq -r --arg e "$eco" '.ecosystems[] | select(.ecosystem == $e) | .advisories' <<<"$out")
	check "status lists $eco" test "${n:-0}" -gt 0
done
check "status counts KEV" test "$(jnum .kev)" = "$kev_count"
check "status counts EPSS" test "$(jnum .epss)" = "$epss_lines"
alma8=$(jq -r '.ecosystems[] | select(.ecosystem == "almalinux:8") | .advisories' <<<"$out")
check "almalinux:8 has the 2040 advisories of its directory" test "$alma8" -ge 2040
run "$PW_BIN" feed status
check "status text shows the ecosystems" grep -q "almalinux:9" <<<"$out"
check "status text shows KEV and EPSS" grep -q "$kev_count KEV entries, $epss_lines EPSS" <<<"$out"

# --- an osv.dev-style all.zip, with a changed advisory and a README ---
mkdir -p "$work/zipsrc"
python3 - "$ALMA/almalinux9" "$work/all.zip" <<'EOF'
import json, os, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
names = sorted(os.listdir(src))[:10]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
    for i, n in enumerate(names):
        data = open(os.path.join(src, n), "rb").read()
        if i < 2:  # two advisories changed upstream since the last import
            rec = json.loads(data)
            rec["summary"] = rec.get("summary", "") + " (revised)"
            data = json.dumps(rec, indent=2).encode()
        z.writestr(n, data)
    z.writestr("README.txt", "osv.dev export\n")
EOF
run "$PW_BIN" feed import --json "$work/all.zip"
check "all.zip import succeeds: $err" test "$rc" = 0
check "all.zip: 11 members read" test "$(jnum .files)" = 11
check "all.zip: 2 changed, 8 unchanged" test "$(jnum '"\(.added) \(.unchanged)"')" = "2 8"
check "all.zip: README skipped with a warning" test "$(jnum .warnings)" = 1
check "the warning names the member" grep -q "all.zip:README.txt: format not recognised" <<<"$err"
zipsnap=$(jnum .snapshot)

# --- a truncated zip and a truncated JSON change nothing ---
before=$(snapshots)
head -c $(($(stat -c %s "$work/all.zip") / 2)) "$work/all.zip" >"$work/cut.zip"
run "$PW_BIN" feed import "$work/cut.zip"
check "truncated zip fails with exit 2" test "$rc" = 2
check "the error names the zip" grep -q "cut.zip" <<<"$err"
check "the operator is told nothing was imported" grep -q "nothing was imported" <<<"$err"
check "no snapshot after the truncated zip" test "$(snapshots)" = "$before"
check "store intact after the truncated zip" test "$(sql 'PRAGMA integrity_check')" = ok

mkdir -p "$work/broken"
for f in $(ls "$ALMA/almalinux8" | head -5); do cp "$ALMA/almalinux8/$f" "$work/broken/"; done
third=$(ls "$work/broken" | sed -n 3p)
head -c 300 "$ALMA/almalinux8/$third" >"$work/broken/$third"
run "$PW_BIN" feed import "$work/broken/$third"
check "a named truncated JSON file fails with exit 2" test "$rc" = 2
check "the error names the broken file" grep -q "$third" <<<"$err"
check "no snapshot after the truncated JSON" test "$(snapshots)" = "$before"
# Inside a directory one truncated file is skipped, not the whole import.
run "$PW_BIN" feed import --json "$work/broken"
check "truncated JSON in a directory is skipped: $err" test "$rc" = 0
check "the skipped file is counted" test "$(jnum .skipped):$(jnum .advisories)" = "1:4"
check "the warning names the broken file" grep -q "$third:[0-9]*:[0-9]*: malformed JSON.*truncated file?.*; file skipped" <<<"$err"

# --- tar.gz and a single .gz file; unknown files in a walk are skipped ---
mkdir -p "$work/tree/sub"
cp "$ALMA/almalinux8/$third" "$work/tree/sub/"
echo "notes" >"$work/tree/NOTES"
# Two of the UCT files imported above, so all is known already.
# shellcheck disable=SC2046
tar -C "$D/ubuntu-cve-tracker-2020/active" -czf "$work/tree/uct.tar.gz" \
	$(for f in $(head -2 <<<"$uct"); do basename "$f"; done)
gzip -c "$ALMA/almalinux9/$(ls "$ALMA/almalinux9" | tail -1)" >"$work/one.json.gz"
run "$PW_BIN" feed import --json --progress "$work/tree" "$work/one.json.gz"
check "tree + .gz import succeeds: $err" test "$rc" = 0
check "tree + .gz: 5 files (NOTES, 2 tar members, 1 JSON, 1 gz)" test "$(jnum .files)" = 5
check "tree: NOTES skipped with a warning" test "$(jnum .warnings)" = 1
check "tree + .gz: everything already known" test "$(jnum .unchanged)" = 4
check "--progress reports files" grep -q "files" <<<"$err"

# --- --replace retires what a full refresh no longer has ---
# The refresh is the AlmaLinux tree without 10 early AlmaLinux 8 advisories.
others_before=$(sql "SELECT COUNT(*) FROM feed_advisory WHERE adv_id NOT LIKE 'ALSA-%' AND removed_in IS NULL")
cp -r "$ALMA" "$work/refresh"
gone=$(ls "$ALMA/almalinux8" | head -10)
for f in $gone; do rm "$work/refresh/almalinux8/$f"; done
run "$PW_BIN" feed status --json
alma9=$(jq -r '.ecosystems[] | select(.ecosystem == "almalinux:9") | .advisories' <<<"$out")
run "$PW_BIN" feed import --json --replace "$work/refresh"
check "replace import succeeds" test "$rc" = 0
check "replace retires the 10 missing advisories" test "$(jnum .retired)" = 10
# The all.zip import above revised two advisories; the refresh has the originals.
check "replace brings back the 2 originals" test "$(jnum .added)" = 2
check "replace keeps other sources" test \
	"$(sql "SELECT COUNT(*) FROM feed_advisory WHERE adv_id NOT LIKE 'ALSA-%' AND removed_in IS NULL")" = "$others_before"
check "the missing ones are retired" test \
	"$(sql "SELECT COUNT(*) FROM feed_advisory WHERE adv_id = '$(basename "$(head -1 <<<"$gone")" .json)' AND removed_in IS NULL")" = 0
replaced=$(jnum .snapshot)
run "$PW_BIN" feed status --json
check "after replace almalinux:8 has 10 fewer advisories" test \
	"$(jq -r '.ecosystems[] | select(.ecosystem == "almalinux:8") | .advisories' <<<"$out")" = $((alma8 - 10))
check "after replace almalinux:9 is unchanged" test \
	"$(jq -r '.ecosystems[] | select(.ecosystem == "almalinux:9") | .advisories' <<<"$out")" = "$alma9"
run "$PW_BIN" feed status --json --snapshot "$zipsnap"
check "an older snapshot still sees every advisory" test \
	"$(jq -r '.ecosystems[] | select(.ecosystem == "almalinux:8") | .advisories' <<<"$out")" = "$alma8"
check "an older snapshot keeps its KEV" test "$(jnum .kev)" = "$kev_count"
run "$PW_BIN" feed status --snapshot 99
check "status of an unknown snapshot fails" test "$rc" = 2

# --- the snapshot list ---
run "$PW_BIN" feed snapshots --json
check "snapshots are numbered 1..N" test "$(jq -r '[.[].id] == [range(1; length + 1)]' <<<"$out")" = true
check "the mixed snapshot has KEV" test "$(jq -r ".[] | select(.id == $mixed) | .kev" <<<"$out")" = "$kev_count"
check "the last snapshot is the replace" test "$(jq -r '.[-1].id' <<<"$out")" = "$replaced"
run "$PW_BIN" feed snapshots
check "snapshots text has a header and labels" grep -q "alma 8+9" <<<"$out"
run "$PW_BIN" feed import --quiet "$D/cisa-kev/known_exploited_vulnerabilities.json"
check "--quiet import succeeds silently" test "$rc:$out:$err" = "0::"
check "store intact at the end" test "$(sql 'PRAGMA integrity_check')" = ok

test_done
