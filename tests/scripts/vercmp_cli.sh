#!/usr/bin/env bash
# `patchwarden vercmp` end to end: output shapes, exit codes, error
# messages, --help, --batch. Relations on deb are checked against the real
# dpkg --compare-versions, exit code for exit code.
set -uo pipefail

bin=${PW_BIN:?PW_BIN must name the patchwarden binary}
. "$(dirname "$0")/lib/test-lib.sh"
test_require_cmd dpkg
export LC_ALL=C
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# expect STATUS STDOUT STDERR_SUBSTRING -- ARGS...: runs vercmp ARGS.
expect() {
	local status=$1 out=$2 err=$3
	shift 4
	local got_out got_status
	got_out=$("$bin" vercmp "$@" 2>"$work/err")
	got_status=$?
	if [ "$got_status" != "$status" ] || [ "$got_out" != "$out" ] ||
		{ [ -n "$err" ] && ! grep -qF -- "$err" "$work/err"; } ||
		{ [ -z "$err" ] && [ -s "$work/err" ]; }; then
		bad "vercmp $* => status $got_status, stdout '$got_out', stderr '$(cat "$work/err")'" \
			"(want $status, '$out', '$err')"
	else
		ok
	fi
}

# --- two versions: <, = or > ---------------------------------------------
expect 0 '<' '' -- --scheme deb 1.0 2.0
expect 0 '=' '' -- --scheme deb 1.0 1.00
expect 0 '>' '' -- --scheme deb 1:0.1 9.9
expect 0 '<' '' -- --scheme deb 1.0~rc1 1.0
expect 0 '=' '' -- -s dpkg 0:1.0-0 1.0
expect 0 '<' '' -- --scheme=rpm 1.0 1.0-0
expect 0 '>' '' -- --scheme rpm 1.0^git1 1.0
expect 0 '=' '' -- --scheme yum 2_0 2.0
expect 0 '<' '' -- --scheme rpm -- -1 1
expect 0 '<' '' -- --scheme deb -- -0:1 2
expect 0 '=' '' -- --scheme deb ' 1.0 ' 1.0

# --- relations, exit 0 when it holds, 1 when not -------------------------
expect 0 '' '' -- --scheme rpm 1.0 lt 1.1
expect 1 '' '' -- --scheme rpm 1.1 lt 1.0
expect 0 '' '' -- --scheme rpm 1.0-1 ne 1.0
expect 1 '' '' -- --scheme rpm 1.0-1 '<<' 1.0
# Every relation on pairs that are <, = and >, with dpkg's "no version"
# ('' and <unknown>) on either side or both.
pairs=('1.0|2.0' '2.0|1.0' '1.0|1.00' '|1' '1|' '|' '<unknown>|0' '0|<unknown>' '1:0.5|1.0+dfsg-1')
ops=(lt le eq ne ge gt '<<' '<=' '=' '>=' '>>' lt-nl le-nl ge-nl gt-nl)
for pair in "${pairs[@]}"; do
	a=${pair%|*} b=${pair#*|}
	for op in "${ops[@]}"; do
		dpkg --compare-versions "$a" "$op" "$b" 2>/dev/null
		want=$?
		"$bin" vercmp --scheme deb -- "$a" "$op" "$b" 2>/dev/null
		got=$?
		if [ "$got" = "$want" ]; then ok; else bad "deb '$a' $op '$b': exit $got, dpkg exits $want"; fi
	done
done

# --- refused versions: exit 2, the version and the problem named ----------
expect 2 '' "patchwarden vercmp: version '1:' has bad syntax: nothing after colon in version number" -- --scheme deb 1: 1
expect 2 '' "version 'a:1' has bad syntax: epoch in version is empty" -- --scheme deb 1 lt a:1
expect 2 '' "version '1 2' has bad syntax: version string has embedded spaces" -- --scheme deb '1 2' 1
expect 2 '' "version '1.0-' has bad syntax: revision number is empty" -- --scheme deb 1.0- 1.0
expect 2 '' "version '2147483648:1' has bad syntax: epoch in version is too big" -- --scheme deb 2147483648:1 1
expect 2 '' "version '' is empty" -- --scheme rpm '' 1
# What dpkg only warns about is compared, with dpkg's warning.
expect 0 '>' "warning: version 'abc' has bad syntax: version number does not start with digit" -- --scheme deb abc 1
expect 0 '' "warning: version '1_0' has bad syntax: invalid character in version number" -- --scheme deb 1_0 gt 1.0

# --- usage errors: exit 2 -------------------------------------------------
expect 2 '' "missing --scheme" -- 1 2
expect 2 '' "unknown version scheme 'pacman': use deb, rpm or apk" -- --scheme pacman 1 2
expect 2 '' "option '--scheme' needs a value (SCHEME)" -- 1 2 --scheme
expect 2 '' "unknown relation 'less'" -- --scheme deb 1 less 2
expect 2 '' "relation '<' is ambiguous" -- --scheme deb 1 '<' 2
expect 2 '' "expected VERSION1 [OP] VERSION2, got 1 argument" -- --scheme deb 1
expect 2 '' "too many arguments" -- --scheme deb 1 lt 2 3 4
expect 2 '' "unknown option '-1'" -- --scheme rpm -1 1
expect 2 '' "--batch reads versions from standard input" -- --scheme deb --batch 1 2
expect 2 '' "Run 'patchwarden help vercmp' for usage." -- --scheme deb

# --- help -----------------------------------------------------------------
expect 0 "$("$bin" help vercmp)" '' -- --help
if "$bin" vercmp --help | grep -q -- '--batch' && "$bin" vercmp -h | grep -q '^usage: patchwarden vercmp'; then ok; else bad "--help text"; fi

# --- batch ----------------------------------------------------------------
printf '1.0 2.0\n1.0 1.0\n2.0 1.0\n1: 1\n\nonly-one\n\t1.0~rc1\t 1.0 \n1.0 2.0\r\n<unknown> 0\na b c\n' >"$work/in"
printf '%s\n' '<' '=' '>' \
	"! version '1:' has bad syntax: nothing after colon in version number" \
	'! expected two versions separated by blanks, found 0 fields' \
	'! expected two versions separated by blanks, found 1 field' \
	'<' '<' '<' \
	'! expected two versions separated by blanks, found 3 fields' >"$work/want"
if "$bin" vercmp --scheme deb --batch <"$work/in" >"$work/out" 2>"$work/err" &&
	cmp -s "$work/out" "$work/want" && [ ! -s "$work/err" ]; then
	ok
else
	bad "deb --batch output:"; diff "$work/want" "$work/out"; cat "$work/err"
fi
printf '1.0 1.0-0\n1.0-1 1.0-1.el8\n1:1 2\n' | "$bin" vercmp --scheme rpm --batch >"$work/out"
if [ "$(tr '\n' ' ' <"$work/out")" = '< < > ' ]; then ok; else bad "rpm --batch: $(cat "$work/out")"; fi
if [ -z "$("$bin" vercmp --scheme rpm --batch </dev/null)" ]; then ok; else bad "empty batch input"; fi

# 100,000 lines well under a second (buffered IO, no allocation per pair).
# CPU time, not wall time: the test may share the machine with others.
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "%d:%d.%d-%d %d.%d~rc%d-%d\n", i % 3, i % 97, i, i % 7, i % 89, i, i % 5, i % 11 }' >"$work/big"
for scheme in deb rpm; do
	TIMEFORMAT='%3U %3S'
	cpu=$({ time "$bin" vercmp --scheme "$scheme" --batch <"$work/big" >"$work/big.out"; } 2>&1)
	ms=$(awk -v u="${cpu% *}" -v s="${cpu#* }" 'BEGIN { printf "%d", (u + s) * 1000 }')
	lines=$(wc -l <"$work/big.out")
	echo "batch $scheme: 100000 pairs in $ms ms of CPU time"
	if [ "$lines" = 100000 ] && [ "$ms" -lt 1000 ]; then ok; else bad "batch $scheme: $lines lines in $ms ms"; fi
done

test_done
