#!/usr/bin/env bash
# .clang-format and scripts/checksrc agree: a copy of the tree formatted by
# scripts/format passes scripts/checksrc with no baseline of long lines,
# and scripts/format --check then finds nothing (two passes are enough);
# --check lists a file that differs and exits 1. The tree itself is not
# formatted here: that is one deliberate commit.
set -uo pipefail
. "$(dirname "$0")/lib/test-lib.sh"
src=${PW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
test_require_cmd clang-format python3
tmp=$(mktemp -d /tmp/pw-format.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/tree/tests" "$tmp/tree/scripts"
cp -r "$src/src" "$src/fuzz" "$src/bench" "$src/.clang-format" "$tmp/tree/"
cp -r "$src/tests/unit" "$tmp/tree/tests/"
cp "$src/scripts/checksrc" "$src/scripts/format" "$tmp/tree/scripts/"
cd "$tmp/tree" || exit 1

printf 'int f(int a,int b){return a+b;}\n' >src/lib/base/unformatted.c
scripts/format --check src/lib/base/unformatted.c src/lib/base/buf.c >"$tmp/out" 2>&1
check "--check exits 1 when a file differs" test $? -eq 1
check "--check names the file that differs" grep -qx src/lib/base/unformatted.c "$tmp/out"
rm src/lib/base/unformatted.c

check "scripts/format formats the copy" scripts/format
scripts/format --check >"$tmp/out" 2>&1
check "a formatted tree passes --check" test $? -eq 0
[ -s "$tmp/out" ] && bad "--check after formatting: $(head -c 2000 "$tmp/out")"
scripts/checksrc >"$tmp/out" 2>&1
check "a formatted tree passes checksrc without a baseline" test $? -eq 0
[ -s "$tmp/out" ] && bad "checksrc after formatting: $(head -c 2000 "$tmp/out")"
test_done
