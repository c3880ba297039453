#!/usr/bin/env bash
# A host's open findings grouped by package upgrade (issue 11), on SQLite
# and then on PostgreSQL: the sample feeds imported, a Debian 10 web
# server (systemd, apt, ... : several binaries from one source) and an
# AlmaLinux 8 host given the sample inventories as a check-in stores them,
# `host recompute`; then GET /api/v1/hosts/{id}/upgrades and `host upgrades
# HOST --json` give the same bytes, and each upgrade is what this script
# works out by itself from `patchwarden scan --json` of the same inventory
# and the inventory file: one per package, its binaries those installed
# from that source, the target the highest fixed version by
# `dpkg --compare-versions` or rpm's own rpm.vercmp (never string order),
# the advisories, the unique CVEs, the highest priority, the earliest due
# date, KEV, the finding ids; sorted by priority, then package. And the
# fleet's upgrades (GET /api/v1/upgrades, `upgrades --json`) are those
# hosts' upgrades grouped by package and target, with the host filters.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
. "$here/lib/pg.sh"
trap 'pw_srv_cleanup; pw_pg_stop' EXIT
test_require_cmd jq sqlite3 psql dpkg rpm
T=$PW_SRV_TMP
S=${PW_SOURCE_DIR:?PW_SOURCE_DIR is not set; run under ctest}/share/sample
feeds=$T/feeds.db
conf=$(pw_srv_plain_conf)
unset PATCHWARDEN_DB PATCHWARDEN_STORE

"$PW_BIN" feed import --store "$feeds" "$S/feeds" >/dev/null 2>&1
check "the sample feeds imported" test $? -eq 0

# ---- the oracle: scan --json of the inventory, grouped here -----------------------
# newer SCHEME A B: whether A is a higher version than B, by the tools.
newer() {
  if [ "$1" = deb ]; then
    dpkg --compare-versions "$2" gt "$3"
  else
    [ "$(rpm --eval "%{lua: print(rpm.vercmp('$2', '$3'))}")" = 1 ]
  fi
}
# extreme SCHEME gt|lt V...: the highest (gt) or lowest (lt) of the versions.
extreme() {
  local scheme=$1 dir=$2 best=$3 v
  shift 3
  for v in "$@"; do
    if [ "$dir" = gt ]; then newer "$scheme" "$v" "$best" && best=$v
    else newer "$scheme" "$best" "$v" && best=$v; fi
  done
  printf '%s\n' "$best"
}
# expected INVENTORY EXPOSURE: the upgrades, as {package, by_source, binaries
# (names), installed, target, advisories, cve_count, highest_priority, kev}
# sorted by priority then package, one JSON array.
expected() {
  local inv=$1 scheme pkg rows fixed installed target all='[]'
  scheme=$(jq -r .scheme "$inv")
  "$PW_BIN" scan --inventory "$inv" --exposure "$2" --store "$feeds" --json >"$T/scan.json"
  for pkg in $(jq -r '.findings[].package' "$T/scan.json" | sort -u); do
    rows=$(jq -c --arg p "$pkg" '[.findings[] | select(.package == $p)]' "$T/scan.json")
    mapfile -t fixed < <(jq -r '.[].fixed' <<<"$rows")
    mapfile -t installed < <(jq -r '.[].installed' <<<"$rows")
    target=$(extreme "$scheme" gt "${fixed[@]}")
    installed=$(extreme "$scheme" lt "${installed[@]}")
    all=$(jq -c --argjson a "$all" --argjson r "$rows" --arg t "$target" --arg i "$installed" \
      --slurpfile inv "$inv" '
      ($r[0].by_source) as $bs | ($r[0].package) as $p |
      {emergency: 0, high: 1, normal: 2, low: 3} as $rank |
      $a + [{package: $p, by_source: $bs,
        binaries: [$inv[0].packages[] | select(if $bs then (.source // .name) == $p
                                                else .name == $p end) | .name] | unique,
        installed: $i, target: $t,
        advisories: ([$r[].advisory] | unique),
        cve_count: ([$r[].cves[]] | unique | length),
        highest_priority: ([$r[].priority] | min_by($rank[.])),
        kev: ([$r[].kev] | any(. != null)),
        rank: ([$r[].priority | $rank[.]] | min)}]' <<<null)
  done
  jq -c 'sort_by(.rank, .package) | map(del(.rank))' <<<"$all"
}
want_deb=$(expected "$S/inventories/debian10-web.json" internet)
want_deb_int=$(expected "$S/inventories/debian10-web.json" internal)
want_alma=$(expected "$S/inventories/alma8-app.json" internet)
check "the scans give upgrades ($(jq length <<<"$want_deb") Debian, $(jq length <<<"$want_alma") Alma)" \
  test "$(jq length <<<"$want_deb")" -gt 3 -a "$(jq length <<<"$want_alma")" -gt 3
check "a Debian upgrade installs several binaries of one source (systemd)" \
  test "$(jq -c '.[] | select(.package == "systemd") | .binaries' <<<"$want_deb")" = \
  '["libsystemd0","libudev1"]'
# libcurl's fixes: 7.61.1-34.el8_10.13 is newer than .9 by rpm, older by strings.
check "the Alma libcurl target is rpm's highest, not the string-highest" \
  test "$(jq -r '.[] | select(.package == "libcurl") | .target' <<<"$want_alma")" = \
  7.61.1-34.el8_10.13

# ---- one backend -----------------------------------------------------------------------
# backend NAME DB-URL GIVE: GIVE HOST HASH FILE stores an inventory as a check-in does.
backend() {
  local name=$1 db=$2 give=$3 admin helpdesk host got cli keys
  "$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
  "$PW_BIN" user add hd --role helpdesk --no-password --db "$db" >/dev/null 2>&1
  admin=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
  helpdesk=$("$PW_BIN" user token create hd --db "$db" 2>/dev/null)
  "$PW_BIN" host add web-a exposure=internet --db "$db" >/dev/null 2>&1
  "$PW_BIN" host add app-1 exposure=internet --db "$db" >/dev/null 2>&1
  "$PW_BIN" host add web-b exposure=internal category=web --db "$db" >/dev/null 2>&1
  "$give" web-a deb "$S/inventories/debian10-web.json"
  "$give" web-b deb "$S/inventories/debian10-web.json"
  "$give" app-1 alma "$S/inventories/alma8-app.json"
  "$PW_BIN" host recompute --store "$feeds" --db "$db" >"$T/out" 2>&1
  check "$name: host recompute: $(head -1 "$T/out")" test $? -eq 0
  pw_srv_start "$name" -c "$conf" --db "$db" || return 1
  local port_var=PW_SRV_PORT_$name
  local U=http://127.0.0.1:${!port_var}/api/v1
  keys='map({package, by_source, binaries: (.binaries | map(.name) | unique), installed,
    target, advisories, cve_count, highest_priority, kev})'
  local per_host='[]'
  for host in web-a web-b app-1; do
    local id want
    case $host in
      web-a) want=$want_deb ;;
      web-b) want=$want_deb_int ;;
      *) want=$want_alma ;;
    esac
    id=$("$PW_BIN" host show "$host" --json --db "$db" | jq .id)
    pw_http GET "$U/hosts/$id/upgrades" "$admin"
    expect_status 200 "$name: GET /hosts/$id/upgrades"
    got=$(jq -c .upgrades <<<"$HTTP_BODY")
    cli=$("$PW_BIN" host upgrades "$host" --json --db "$db")
    check "$name: $host: host upgrades --json = the API's upgrades (same bytes)" \
      test "$(jq -c . <<<"$cli")" = "$got"
    check "$name: $host: $(jq length <<<"$got") upgrades as worked out from the scan" \
      test "$(jq -c "$keys" <<<"$got")" = "$want"
    check "$name: $host: the binaries' versions are the inventory's" \
      test "$(jq -c '[.[].binaries[] | [.name, .version]] | unique' <<<"$got")" = \
      "$(jq -c --slurpfile inv "$S/inventories/$([ "$host" = app-1 ] && echo alma8-app ||
        echo debian10-web).json" '[.[].binaries[].name] as $n | [$inv[0].packages[] |
        select(.name as $x | $n | index($x)) | [.name, .version]] | unique' <<<"$got")"
    pw_http GET "$U/hosts/$id/findings?state=open&limit=1000" "$admin"
    check "$name: $host: the upgrades hold each open finding once" \
      test "$(jq -c '[.[].findings[]] | sort' <<<"$got")" = \
      "$(jq -c '[.findings[].id] | sort' <<<"$HTTP_BODY")"
    check "$name: $host: earliest_due is the least due of its findings" \
      test "$(jq -c --argjson f "$HTTP_BODY" '[.[] | . as $u | [$f.findings[] |
        select(.id as $i | $u.findings | index($i)) | .due | values] | min] ==
        map(.earliest_due)' <<<"$got")" = true
    per_host=$(jq -c --argjson a "$per_host" '$a + .' <<<"$got")
  done

  # ---- the fleet: the hosts' upgrades (checked above) grouped here ----
  # fleet JQ-HOST-CONDITION: GET /upgrades as worked out from the hosts'.
  fleet() {
    jq -c "{emergency: 0, high: 1, normal: 2, low: 3} as \$rank | map(select($1)) |
      group_by([.package, .by_source, .target]) | map({package: .[0].package,
        by_source: .[0].by_source, target: .[0].target, hosts: length,
        binaries: ([.[].binaries[].name] | unique), advisories: ([.[].advisories[]] | unique),
        cve_count: ([.[].cves[]] | unique | length), cves: ([.[].cves[]] | unique),
        highest_priority: ([.[].highest_priority] | min_by(\$rank[.])),
        earliest_due: ([.[].earliest_due | values] | min), kev: any(.[]; .kev),
        findings: ([.[].findings[]] | length)}) |
      sort_by(\$rank[.highest_priority], .package, .by_source, .target)" <<<"$per_host"
  }
  pw_http GET "$U/upgrades" "$admin"
  expect_status 200 "$name: GET /upgrades"
  got=$(jq -c .upgrades <<<"$HTTP_BODY")
  cli=$("$PW_BIN" upgrades --json --db "$db")
  check "$name: upgrades --json = GET /upgrades (same bytes)" test "$(jq -c . <<<"$cli")" = "$got"
  check "$name: the fleet's $(jq length <<<"$got") upgrades are the hosts' grouped" \
    test "$got" = "$(fleet true)"
  check "$name: the Debian upgrades are each on both Debian hosts" \
    test "$(jq -c '[.[] | select(.by_source) | .hosts] | unique' <<<"$got")" = '[2]'
  pw_http GET "$U/upgrades?exposure=internet" "$admin"
  check "$name: exposure=internet leaves web-b out" \
    test "$(jq -c .upgrades <<<"$HTTP_BODY")" = "$(fleet '.hostname != "web-b"')"
  cli=$("$PW_BIN" upgrades --json --category web --db "$db")
  pw_http GET "$U/upgrades?category=web" "$admin"
  check "$name: category=web: web-b's only (API and CLI)" \
    test "$(jq -c .upgrades <<<"$HTTP_BODY"):$(jq -c . <<<"$cli")" = \
    "$(fleet '.hostname == "web-b"'):$(fleet '.hostname == "web-b"')"
  pw_http GET "$U/upgrades?exposure=moon" "$admin"
  expect_status 400 "$name: a bad filter"
  pw_http GET "$U/upgrades?priority=high" "$admin"
  expect_status 400 "$name: a filter it does not take"
  "$PW_BIN" upgrades --db "$db" >"$T/out" 2>&1
  check "$name: the fleet's systemd line" grep -qx \
    'upgrade systemd to 241-7~deb10u9 on 2 hosts (libsystemd0, libudev1): fixes 1 advisory, 1 CVE, highest priority [a-z]*, due [0-9-]*' \
    "$T/out"
  "$PW_BIN" host upgrades web-a --db "$db" >"$T/out" 2>&1
  check "$name: the systemd line" grep -qx \
    'upgrade systemd to 241-7~deb10u9 (libsystemd0, libudev1): fixes 1 advisory, 1 CVE, highest priority [a-z]*, due [0-9-]*' \
    "$T/out"
  check "$name: one line per upgrade" test "$(wc -l <"$T/out")" -eq "$(jq length <<<"$want_deb")"
  pw_http GET "$U/hosts/$id/upgrades" "$helpdesk"
  expect_status 200 "$name: a helpdesk user reads them"
  pw_http GET "$U/hosts/99999/upgrades" "$admin"
  expect_status 404 "$name: an unknown host"
  "$PW_BIN" host upgrades nosuchhost --db "$db" >/dev/null 2>&1
  check "$name: host upgrades of an unknown host exits 2" test $? -eq 2
  pw_srv_stop "$name"
}

give_sqlite() {
  sqlite3 "$T/server.db" "INSERT OR IGNORE INTO inventories (hash, json, first_seen)
    VALUES ('$2', readfile('$3'), '2026-01-01T00:00:00.000Z');
    UPDATE hosts SET inventory_hash = '$2' WHERE hostname = '$1';"
}
backend L "sqlite:$T/server.db" give_sqlite

pw_pg_start || { bad "PostgreSQL did not start"; test_done; }
give_pg() {
  psql -q -v ON_ERROR_STOP=1 -v inv="$(cat "$3")" "$PW_TEST_PG_URL" >/dev/null <<EOF
INSERT INTO inventories (hash, json, first_seen)
  VALUES ('$2', :'inv', '2026-01-01T00:00:00.000Z') ON CONFLICT (hash) DO NOTHING;
UPDATE hosts SET inventory_hash = '$2' WHERE hostname = '$1';
EOF
}
backend P "$PW_TEST_PG_URL" give_pg
pw_srv_summary
