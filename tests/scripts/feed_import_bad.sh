#!/usr/bin/env bash
# `patchwarden feed import` against hostile or damaged input: paths that
# are not regular files (a FIFO would block for ever, /dev/zero never
# ends), malformed records inside an archive (skipped, counted, and no
# advisory retired by --replace because of them), and ids with a NUL.
set -u
: "${PW_BIN:?PW_BIN must name the patchwarden binary}"
. "$(dirname "$0")/lib/test-lib.sh"
test_require_cmd jq zip python3 timeout
test_require shared-data:almalinux-osv/advisories/almalinux9
ALMA=$PW_SHARED_DATA/almalinux-osv/advisories/almalinux9
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PATCHWARDEN_STORE=$work/store.db

# run CMD...: stdout in $out, stderr in $err, exit status in $rc; a hang
# is a failure (exit 124), not a stuck test run.
run() {
	timeout 60 "$@" >"$work/out" 2>"$work/err"
	rc=$?
	out=$(cat "$work/out")
	err=$(cat "$work/err")
}
jnum() { jq -r "$1" <<<"$out"; }
snapshots() { "$PW_BIN" feed snapshots --json | jq length; }
fifo() { python3 -c 'import os, sys; os.mkfifo(sys.argv[1])' "$1"; }

# --- paths that are not regular files are refused before anything is read ---
fifo "$work/feed.fifo"
run "$PW_BIN" feed import "$work/feed.fifo"
check "a FIFO is refused, not waited on (rc $rc)" test "$rc" = 2
check "the error names the FIFO" grep -q "feed.fifo: not a regular file or a directory" <<<"$err"
run "$PW_BIN" feed import /dev/zero
check "/dev/zero is refused (rc $rc)" test "$rc" = 2
check "the error names /dev/zero" grep -q "/dev/zero: not a regular file" <<<"$err"
check "no store after refused paths" test ! -e "$PATCHWARDEN_STORE" -o "$(snapshots)" = 0
mkdir "$work/tree"
cp "$ALMA/$(ls "$ALMA" | head -1)" "$work/tree/"
fifo "$work/tree/pipe.json"
run "$PW_BIN" feed import --json "$work/tree"
check "a FIFO inside a directory is passed over: $err" test "$rc:$(jnum .files)" = "0:1"
"$PW_BIN" feed bundle keygen --output "$work/k" >/dev/null
run "$PW_BIN" feed bundle verify --key "$work/k.pub" "$work/feed.fifo"
check "bundle verify does not wait on a FIFO (rc $rc)" test "$rc" = 2
check "bundle verify names the FIFO" grep -q "feed.fifo: a FIFO, not a regular file" <<<"$err"

# --- a baseline: ten AlmaLinux 9 advisories in a zip ---
names=$(ls "$ALMA" | head -10)
# shellcheck disable=SC2086
(cd "$ALMA" && zip -q "$work/good.zip" $names)
run "$PW_BIN" feed import --json "$work/good.zip"
check "baseline import: $err" test "$rc:$(jnum .advisories)" = "0:10"

# --- the same refresh with three bad records: skipped, counted, named ---
mkdir "$work/bad"
for n in $names; do cp "$ALMA/$n" "$work/bad/"; done
first=$(sed -n 1p <<<"$names")
second=$(sed -n 2p <<<"$names")
third=$(sed -n 3p <<<"$names")
jq '.modified = "last tuesday"' "$ALMA/$first" >"$work/bad/$first"
jq '.id = .id + "\u0000x"' "$ALMA/$second" >"$work/bad/$second"
head -c 200 "$ALMA/$third" >"$work/bad/$third"
# shellcheck disable=SC2086
(cd "$work/bad" && zip -q "$work/bad.zip" $names)
before=$(snapshots)
run "$PW_BIN" feed import --json --replace "$work/bad.zip"
check "an archive with bad records imports: $err" test "$rc" = 0
check "7 advisories read, 3 skipped" test "$(jnum .advisories):$(jnum .skipped)" = "7:3"
check "the bad modified is named" \
	grep -q "bad.zip:$first: modified: not an RFC 3339 timestamp.*; file skipped" <<<"$err"
check "the NUL id is named" grep -q "bad.zip:$second:[0-9]*:[0-9]*: id: a NUL character" <<<"$err"
check "the truncated file is named" grep -q "bad.zip:$third:[0-9]*:[0-9]*: malformed JSON.*truncated file?.*; file skipped" <<<"$err"
check "--replace retires nothing when records were skipped" test "$(jnum .retired)" = 0
check "--replace says why it retired nothing" grep -q "3 malformed files or records skipped, so nothing is retired" <<<"$err"
check "the import made a snapshot" test "$(snapshots)" = $((before + 1))
run "$PW_BIN" feed import --replace "$work/bad.zip"
check "the text summary counts the skipped" grep -q ", 3 skipped," <<<"$out"
run "$PW_BIN" feed status --json
check "every advisory is still there" test \
	"$(jq -r '.ecosystems[] | select(.ecosystem == "almalinux:9") | .advisories' <<<"$out")" = 10

# --- named, a bad record is an error and nothing is imported ---
before=$(snapshots)
run "$PW_BIN" feed import "$work/bad/$second"
check "a named file with a NUL in its id fails" test "$rc" = 2
check "the error names file, position and field" grep -q "$second:[0-9]*:[0-9]*: id: a NUL character" <<<"$err"
run "$PW_BIN" feed import "$work/bad/$first"
check "a named record with a bad modified fails" test "$rc" = 2
check "no snapshot from failed imports" test "$(snapshots)" = "$before"

test_done
