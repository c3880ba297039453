#!/usr/bin/env bash
# The report formats (issue 11) checked by the reference validators, not
# only parsed: CycloneDX's own library (its strict JSON schema validator
# for 1.5) and Microsoft's SARIF multitool, both from npm
# (tests/tools/validators, installed by scripts/deps). On real scans of
# the shipped fixtures (the e2e cases of tests/data/scan and the sample
# inventories) and on the findings of a server; a document broken on
# purpose must fail both. The CSV is read with python's csv module:
# which servers are exposed to a CVE, quoting, and a formula-injection
# cell.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
trap pw_srv_cleanup EXIT
test_require_cmd jq sqlite3 python3 node
: "${PW_TEST_DATA:?PW_TEST_DATA is not set; run under ctest}"
V=${PW_SOURCE_DIR:?PW_SOURCE_DIR is not set; run under ctest}/tests/tools/validators
[ -x "$V/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool" ] &&
  [ -d "$V/node_modules/@cyclonedx/cyclonedx-library" ] ||
  test_skip "the validators are not installed (run scripts/deps)"
T=$PW_SRV_TMP
S=$PW_SOURCE_DIR/share/sample
unset PATCHWARDEN_DB PATCHWARDEN_STORE

# The documents to validate, each kind in one run at the end (the SARIF
# multitool takes seconds to start).
SARIFS=() CDXS=()
# validate KIND ERRORS FILE...: the reference validator gives each FILE
# ERRORS errors (0: valid; "some": at least one).
validate() {
  local kind=$1 want=$2 f line n
  shift 2
  node "$V/validate.js" "$kind" "$@" >"$T/validate.out" 2>&1
  local rc=$?
  grep -E '^  warning' "$T/validate.out" | sed -E 's/runs\[0\][^ ]*//' | sort -u | head -3
  for f in "$@"; do
    line=$(grep -F "$f: " "$T/validate.out" | tail -1)
    n=$(sed -nE 's/.* ([0-9]+) errors.*/\1/p' <<<"$line")
    if [ "$want" = some ]; then
      check "$(basename "$f") (broken on purpose) fails $kind validation (${n:-?} errors)" \
        test "${n:-0}" -gt 0 -a "$rc" -eq 1
    elif [ "${n:-x}" = "$want" ]; then
      ok "$(basename "$f"): ${line#*: }"
    else
      bad "$(basename "$f"): $kind validation: ${line:-no verdict}"
      grep -E '^  error|NOT valid|"' "$T/validate.out" | head -20
    fi
  done
  [ "$want" = some ] || check "$kind validation exit status 0" test "$rc" -eq 0
}

# csv_rows FILE: the data rows of a CSV file, as python's csv module reads them.
csv_rows() { python3 -c 'import csv,sys; print(len(list(csv.reader(open(sys.argv[1], newline=""))))-1)' "$1"; }

# A scan in every format; the formats agree with its JSON.
# formats NAME STORE SCAN-OPTIONS...
formats() {
  local name=$1 store=$2 f
  shift 2
  for f in json csv sarif cyclonedx; do
    "$PW_BIN" scan --store "$store" "$@" --format "$f" >"$T/$name.$f" 2>"$T/$name.err" ||
      { bad "$name: scan --format $f failed: $(head -3 "$T/$name.err")"; return; }
  done
  local n u
  n=$(jq '.findings | length' "$T/$name.json")
  u=$(jq '.unfixed | length' "$T/$name.json")
  check "$name: scan --json carries the report head" test "$(jq -c '[.schema_version,
    .tool.name, (.feed_snapshot.id == .snapshot), (.created | test("^[0-9]{4}-.*Z$"))]' \
    "$T/$name.json")" = '[1,"patchwarden",true,true]'
  check "$name: a CSV row per finding ($n)" test "$(csv_rows "$T/$name.csv")" -eq "$n"
  check "$name: a SARIF result per finding" test "$(jq '.runs[0].results | length' "$T/$name.sarif")" -eq "$n"
  check "$name: a SARIF rule per advisory" test "$(jq '.runs[0].tool.driver.rules | length' \
    "$T/$name.sarif")" -eq "$(jq '[.findings[].advisory] | unique | length' "$T/$name.json")"
  check "$name: a vulnerability per finding and per unfixed one ($n + $u)" \
    test "$(jq '.vulnerabilities | length' "$T/$name.cyclonedx")" -eq $((n + u))
  check "$name: every affects ref names a component" test "$(jq '[.components[]."bom-ref"] as $c |
    [.vulnerabilities[].affects[].ref | select(. as $r | $c | index($r) | not)] | length' \
    "$T/$name.cyclonedx")" -eq 0
  SARIFS+=("$T/$name.sarif")
  CDXS+=("$T/$name.cyclonedx")
}

# ---- the shipped fixtures --------------------------------------------------
"$PW_BIN" feed import --store "$T/sample.db" "$S/feeds" >/dev/null 2>&1
check "the sample feeds imported" test $? -eq 0
formats debian10-web "$T/sample.db" --inventory "$S/inventories/debian10-web.json" --exposure internet
formats alma8-app "$T/sample.db" --inventory "$S/inventories/alma8-app.json" --exposure internet
purls=$(jq -r '.components[].purl' "$T/debian10-web.cyclonedx")
check "a Debian package's purl" grep -qxF 'pkg:deb/debian/apt@1.8.2.1?arch=amd64&distro=debian-10' <<<"$purls"
check "a Debian epoch and + are percent-encoded" \
  grep -qxF 'pkg:deb/debian/zlib1g@1%3A1.2.11.dfsg-1%2Bdeb10u1?arch=amd64&distro=debian-10' <<<"$purls"
check "an rpm epoch is the epoch qualifier" grep -qxF \
  'pkg:rpm/almalinux/openssl-libs@1.1.1k-14.el8_6?arch=x86_64&distro=almalinux-8&epoch=1' \
  <(jq -r '.components[].purl' "$T/alma8-app.cyclonedx")
check "components: the inventory's packages" test "$(jq '.components | length' \
  "$T/debian10-web.cyclonedx")" -eq "$(jq '.packages | length' "$S/inventories/debian10-web.json")"

# The e2e cases of the scan tests (Debian, AlmaLinux, RHEL, Alpine; their
# feeds are real data in ../shared/data).
if test_have shared-data; then
  for dir in "$PW_TEST_DATA"/scan/*/; do
    dir=${dir%/}
    name=$(basename "$dir")
    [ -f "$dir/case" ] && grep -qx 'e2e' "$dir/case" || continue
    feeds=() inventory= exposure=internal
    while read -r kw arg; do
      arg=${arg//\$\{PW_SHARED_DATA\}/$PW_SHARED_DATA}
      case $kw in
      feed) for p in $arg; do feeds+=("$p"); done ;; # unquoted: the case's globs
      inventory) inventory=$dir/$arg ;;
      exposure) exposure=$arg ;;
      esac
    done <"$dir/case"
    "$PW_BIN" feed import --store "$T/$name.db" --quiet "${feeds[@]}" >/dev/null 2>&1 ||
      { bad "$name: feed import failed"; continue; }
    formats "$name" "$T/$name.db" --inventory "$inventory" --exposure "$exposure"
  done
else
  test_skip_part "the scan cases" "../shared/data is not there"
fi

# ---- broken on purpose: the validators must say so ----------------------------
jq '.vulnerabilities[0].analysis.state = "affected"' "$T/debian10-web.cyclonedx" >"$T/bad1.json"
jq 'del(.specVersion)' "$T/debian10-web.cyclonedx" >"$T/bad2.json"
jq '.runs[0].results[0].level = "fatal"' "$T/debian10-web.sarif" >"$T/bad3.sarif"
jq '.runs[0].results[0].ruleIndex = 999' "$T/debian10-web.sarif" >"$T/bad4.sarif"
validate cyclonedx some "$T/bad1.json" "$T/bad2.json"
validate sarif some "$T/bad3.sarif" "$T/bad4.sarif"

# ---- findings from a server ------------------------------------------------------
dbf=$T/server.db
db=sqlite:$dbf
conf=$(pw_srv_plain_conf)
printf '\n[feeds]\nstore = %s\n' "$T/sample.db" >>"$conf"
"$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
admin=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
"$PW_BIN" host add web-a exposure=internet category=web --db "$db" >/dev/null 2>&1
"$PW_BIN" host add web-b exposure=internal category=web --db "$db" >/dev/null 2>&1
"$PW_BIN" host add app-1 exposure=internet category=application --db "$db" >/dev/null 2>&1
give() { # HOST HASH FILE: an inventory as a check-in stores it
  sqlite3 "$dbf" "INSERT OR IGNORE INTO inventories (hash, json, first_seen)
    VALUES ('$2', readfile('$3'), '2026-01-01T00:00:00.000Z');
    UPDATE hosts SET inventory_hash = '$2',
      os_id = json_extract(readfile('$3'), '$.os.id'),
      os_version_id = json_extract(readfile('$3'), '$.os.version_id')
    WHERE hostname = '$1';"
}
give web-a deb "$S/inventories/debian10-web.json"
give web-b deb "$S/inventories/debian10-web.json"
give app-1 alma "$S/inventories/alma8-app.json"
"$PW_BIN" host recompute --store "$T/sample.db" --db "$db" >"$T/out" 2>&1
check "host recompute: $(head -1 "$T/out")" test $? -eq 0
# web-b rescanned with nothing installed: its findings are fixed now
sqlite3 "$dbf" "INSERT INTO inventories (hash, json, first_seen) VALUES ('empty',
  '{\"os\":{\"id\":\"debian\",\"version_id\":\"10\",\"codename\":\"buster\"},\"scheme\":\"deb\",\"packages\":[]}',
  'x'); UPDATE hosts SET inventory_hash = 'empty' WHERE hostname = 'web-b';"
"$PW_BIN" host recompute --store "$T/sample.db" --db "$db" >"$T/out" 2>&1
check "web-b rescanned empty" test $? -eq 0

F() { "$PW_BIN" findings -c "$conf" --db "$db" "$@"; }
F --format json >"$T/all.json"
n_open=$(jq '[.findings[] | select(.state == "open")] | length' "$T/all.json")
n_fixed=$(jq '[.findings[] | select(.state == "fixed")] | length' "$T/all.json")
check "open ($n_open) and fixed ($n_fixed) findings" test "$n_open" -gt 0 -a "$n_fixed" -gt 0
check "findings --json is --format json" test "$(F --json | jq -c 'del(.created)')" = \
  "$(jq -c 'del(.created)' "$T/all.json")"
check "the findings document's head" test "$(jq -c '[.schema_version, .tool.name,
  .feed_snapshot.id, (.findings | map(.ecosystem) | unique)]' "$T/all.json")" = \
  "[1,\"patchwarden\",$(sqlite3 "$T/sample.db" 'SELECT MAX(id) FROM feed_snapshot'),[\"almalinux:8\",\"debian:10\"]]"
F --format cyclonedx >"$T/fleet.cdx.json"
F --format sarif >"$T/fleet.sarif"
SARIFS+=("$T/fleet.sarif")
CDXS+=("$T/fleet.cdx.json")
check "VEX: open findings are exploitable (update), fixed ones resolved" test \
  "$(jq -c '[.vulnerabilities[].analysis | [.state, (.response // [])[0]]] | group_by(.) |
    map([.[0][0], .[0][1], length])' "$T/fleet.cdx.json")" = \
  "[[\"exploitable\",\"update\",$n_open],[\"resolved\",null,$n_fixed]]"
check "VEX: the installed version affected, the fixed one unaffected" test \
  "$(jq -c '[.vulnerabilities[].affects[].versions | map(.status)] | unique' "$T/fleet.cdx.json")" = \
  '[["affected","unaffected"]]'
check "each host a component holding its packages" test "$(jq -c '[.components[] |
  [.name, .type, (.components | length > 0)]] | sort' "$T/fleet.cdx.json")" = \
  '[["app-1","device",true],["web-a","device",true],["web-b","device",true]]'
check "SARIF: fixed findings pass, open ones fail" test "$(jq -c '[.runs[0].results[] |
  [.kind, .level]] | map(.[0]) | group_by(.) | map([.[0], length])' "$T/fleet.sarif")" = \
  "[[\"fail\",$n_open],[\"pass\",$n_fixed]]"

# Which servers are exposed to CVE-X: the CSV of `findings --cve X`.
cve=$(jq -r '[.findings[] | select(.hostname == "web-a") | .cves[]][0]' "$T/all.json")
F --cve "$cve" --format csv >"$T/cve.csv"
want=$(jq -r --arg c "$cve" '[.findings[] | select(.cves | index($c)) |
  [.hostname, .package, .installed, .fixed, .advisory, (.cves | join(" ")), .priority,
   (.due // ""), (if .kev then "true" else "false" end), .state]] | .[] | @json' "$T/all.json")
got=$(python3 -c 'import csv,json,sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0] == ["host","package","installed","fixed","advisory","cves","priority","due","kev","state"], rows[0]
for r in rows[1:]: print(json.dumps(r, separators=(",", ":")))' "$T/cve.csv")
check "findings --cve $cve --format csv: one row per finding, cell by cell" test "$got" = \
  "$(jq -c . <<<"$want")"
check "  exposed: $(cut -d, -f1 "$T/cve.csv" | tail -n +2 | sort -u | tr '\n' ' ')" \
  test "$(cut -d, -f1 "$T/cve.csv" | tail -n +2 | sort -u | tr '\n' ' ')" = "web-a web-b "
check "CRLF line ends (RFC 4180)" test "$(head -1 "$T/cve.csv" | od -c | grep -c '\\r')" -eq 1

# Quoting and the formula guard: cells that a spreadsheet would run.
id=$(jq '.findings[0].id' "$T/all.json")
sqlite3 "$dbf" "UPDATE findings SET package = '=cmd|'' /C calc''!A0',
  installed = '1,2 \"x\"', reason = 'x' WHERE id = $id;
  UPDATE findings SET fixed = '@SUM(1+1)' WHERE id = $((id + 1))"
F --format csv >"$T/inj.csv"
check "the injected cells come back guarded, and quoted cells whole" python3 - "$T/inj.csv" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
h = rows[0]
r1, r2 = rows[1], rows[2]
assert r1[h.index("package")] == "'=cmd|' /C calc'!A0", r1
assert r1[h.index("installed")] == '1,2 "x"', r1
assert r2[h.index("fixed")] == "'@SUM(1+1)", r2
assert not any(c[:1] in ("=", "+", "-", "@", "\t", "\r") for r in rows for c in r), "unguarded"
EOF
check "  as written: \"'=cmd...\" and \"1,2 \"\"x\"\"\"" grep -qF "\"'=cmd|' /C calc'!A0\",\"1,2 \"\"x\"\"\"" "$T/inj.csv"

# ---- every document, by the reference validators ------------------------------------
validate sarif 0 "${SARIFS[@]}"
validate cyclonedx 0 "${CDXS[@]}"

# The API pages the same document (its head and records; created differs).
pw_srv_start A -c "$conf" --db "$db" || { pw_srv_summary; exit 1; }
pw_http GET "http://127.0.0.1:$PW_SRV_PORT_A/api/v1/findings?limit=1000" "$admin"
expect_status 200 "GET /findings"
check "GET /findings = findings --json (but created and next_after)" test \
  "$(jq -c 'del(.created, .next_after)' <<<"$HTTP_BODY")" = "$(F --json | jq -c 'del(.created)')"
pw_srv_summary
