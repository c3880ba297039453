#!/usr/bin/env bash
# End to end over the data-driven cases marked `e2e` in tests/data/scan/*/case:
# `patchwarden feed import` of the case's feeds into a fresh store, then
# `patchwarden scan --inventory ... --json`, compared with the case's
# expected.txt and expected-summary.txt (the same files the unit driver
# test_scan_cases checks without a store).
set -uo pipefail
: "${PW_BIN:?}" "${PW_TEST_DATA:?}"
. "$(dirname "$0")/lib/test-lib.sh"
test_require_cmd python3
# The cases' feeds name files in ../shared/data.
test_require shared-data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for dir in "$PW_TEST_DATA"/scan/*/; do
	dir=${dir%/}
	name=$(basename "$dir")
	[ -f "$dir/case" ] && grep -qx 'e2e' "$dir/case" || continue
	feeds=()
	inventory=
	exposure=internal
	while read -r kw arg; do
		arg=${arg//\$\{PW_SHARED_DATA\}/$PW_SHARED_DATA}
		case $kw in
		feed)
			# Unquoted on purpose: the case's globs expand here.
			for p in $arg; do feeds+=("$p"); done ;;
		inventory) inventory=$dir/$arg ;;
		exposure) exposure=$arg ;;
		esac
	done <"$dir/case"
	store=$tmp/$name.db
	if ! "$PW_BIN" feed import --store "$store" --quiet "${feeds[@]}" >"$tmp/$name.import" 2>&1; then
		bad "$name: feed import failed"
		tail -5 "$tmp/$name.import"
		continue
	fi
	"$PW_BIN" scan --store "$store" --inventory "$inventory" --exposure "$exposure" --json \
		>"$tmp/$name.json" 2>"$tmp/$name.err"
	rc=$?
	if [ $rc -ne 0 ]; then
		bad "$name: scan exited $rc"
		cat "$tmp/$name.err"
		continue
	fi
	python3 - "$tmp/$name.json" "$tmp/$name" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
with open(sys.argv[2] + ".findings", "w") as f:
    for x in sorted("%s %s %s %s" % (x["package"], x["installed"], x["fixed"], x["advisory"])
                    for x in r["findings"]):
        f.write(x + "\n")
s = r["summary"]
with open(sys.argv[2] + ".summary", "w") as f:
    f.write("emergency %d high %d normal %d low %d unfixed %d inactive %d\n" % (
        s["emergency"], s["high"], s["normal"], s["low"], s["unfixed"], s["inactive"]))
EOF
	if diff <(sort "$dir/expected.txt") "$tmp/$name.findings" >"$tmp/$name.diff"; then
		ok "$name: $(wc -l <"$tmp/$name.findings") findings as expected"
	else
		bad "$name: findings differ from expected.txt"
		head -20 "$tmp/$name.diff"
	fi
	if [ -f "$dir/expected-summary.txt" ]; then
		if diff "$dir/expected-summary.txt" "$tmp/$name.summary" >/dev/null; then
			ok "$name: summary $(cat "$tmp/$name.summary")"
		else
			bad "$name: summary $(cat "$tmp/$name.summary"), expected $(cat "$dir/expected-summary.txt")"
		fi
	fi
done

[ $((PASS + FAIL)) -gt 0 ] || bad "no e2e cases found under $PW_TEST_DATA/scan"
test_done
