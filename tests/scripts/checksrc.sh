#!/usr/bin/env bash
# scripts/checksrc, the style check: the tree passes it, and on a copy of
# the tree with one violation of each check injected it reports each at
# its FILE:LINE (and nothing else: not a banned name in a comment or a
# string, not a folder's own private header, not a white-box test's one
# private header), and exits non-zero.
set -uo pipefail
. "$(dirname "$0")/lib/test-lib.sh"
src=${PW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
test_require_cmd python3
tmp=$(mktemp -d /tmp/pw-checksrc.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# ---- the tree as it is passes ------------------------------------------------
out=$("$src/scripts/checksrc" 2>&1)
check "the tree passes scripts/checksrc" test $? -eq 0
[ -z "$out" ] || bad "scripts/checksrc on the tree printed: $(head -c 2000 <<<"$out")"

# ---- a copy with injected violations -----------------------------------------
mkdir -p "$tmp/tree/tests" "$tmp/tree/scripts"
cp -r "$src/src" "$src/fuzz" "$src/bench" "$tmp/tree/"
cp -r "$src/tests/unit" "$tmp/tree/tests/"
cp "$src/scripts/checksrc" "$tmp/tree/scripts/"
[ -f "$src/scripts/checksrc.baseline" ] && cp "$src/scripts/checksrc.baseline" "$tmp/tree/scripts/"

# write FILE: standard input to FILE in the copy, » standing for a tab and
# · for a trailing space.
write() {
  sed -e $'s/»/\t/g' -e 's/·/ /g' >"$tmp/tree/$1"
}

write src/lib/base/bad.c <<'EOF'
#include "patchwarden/buf.h"
#include "../db/db-internal.h"
#include "patchwarden/buf.h"

/* strcpy(a, b) in a comment and "sprintf(" in a string are no calls */
static void f(char *d, const char *s)
{
»strcpy(d, s);
»sprintf(d, "%s", s);
»d[0] = (char)atoi(s);
»const char *t = strtok(d, ",");
»puts("strcat(x) gets(y)"); /* atol(z) */
»if(d[0])
»»return;
»if (d[0]) return;
»if (d[1]){
»»d[1] = 0;
»}
»else {
»»d[2] = 0;
»}
»while (d[3])
»{
»»d[3]--;
»}
»char* p = d;
»f( p, s);
»f(p,s);
        (void)p; // why
»(void)t;·
»puts("a line of 101 columns: .............................................................");
}

static int g(void) {
»return 0;
}

EOF

write tests/unit/test_bad.c <<'EOF'
#include "../../src/lib/db/db-internal.h"
#include "../../src/lib/fleet/fleet-internal.h"
EOF
write fuzz/fuzz_bad.c <<'EOF'
#include "../src/lib/inventory/inventory-internal.h"
EOF
write tests/unit/bad.h <<'EOF'
#include "../../src/lib/db/db-internal.h"
EOF
write src/lib/base/extra-internal.h <<'EOF'
#ifndef PATCHWARDEN_EXTRA_INTERNAL_H
#define PATCHWARDEN_EXTRA_INTERNAL_H
#endif
EOF
printf '#ifndef X_H\n#define X_H\n#endif' >"$tmp/tree/src/lib/base/noeol.h"

(cd "$tmp/tree" && scripts/checksrc >"$tmp/out" 2>"$tmp/err")
check "checksrc fails on the injected violations" test $? -eq 1

expected=(
  "src/lib/base/bad.c:2: PRIVATEHEADER"
  "src/lib/base/bad.c:3: INCLUDEDUP"
  "src/lib/base/bad.c:8: BANNEDFUNC strcpy"
  "src/lib/base/bad.c:9: BANNEDFUNC sprintf"
  "src/lib/base/bad.c:10: BANNEDFUNC atoi"
  "src/lib/base/bad.c:11: BANNEDFUNC strtok"
  "src/lib/base/bad.c:13: KEYWORDSPACE"
  "src/lib/base/bad.c:15: ONELINECONDITION"
  "src/lib/base/bad.c:16: PARENBRACE"
  "src/lib/base/bad.c:18: BRACEELSE"
  "src/lib/base/bad.c:23: BRACEPOS"
  "src/lib/base/bad.c:26: ASTERISKNOSPACE"
  "src/lib/base/bad.c:27: SPACING after ("
  "src/lib/base/bad.c:28: SPACING after ,"
  "src/lib/base/bad.c:29: INDENTSPACE"
  "src/lib/base/bad.c:29: CPPCOMMENT"
  "src/lib/base/bad.c:30: TRAILINGSPACE"
  "src/lib/base/bad.c:31: LONGLINE 101 columns"
  "src/lib/base/bad.c:34: BRACEPOS function"
  "src/lib/base/bad.c:37: EOFNEWLINE blank"
  "tests/unit/test_bad.c:2: PRIVATEHEADER second"
  "tests/unit/bad.h:1: PRIVATEHEADER"
  "tests/unit/bad.h:1: HEADERGUARD"
  "src/lib/base/extra-internal.h:1: PRIVATENAME"
  "src/lib/base/noeol.h:3: EOFNEWLINE no newline"
)
# Each expected entry: FILE:LINE: CHECK [words the message contains].
for e in "${expected[@]}"; do
  read -r where name words <<<"$e"
  line=$(grep -F -- "$where " "$tmp/out" | grep -F "($name)" | head -1)
  if [ -z "$line" ]; then
    bad "no '$where ... ($name)' in: $(cat "$tmp/out")"
  elif [ -n "$words" ] && ! grep -qF -- "$words" <<<"$line"; then
    bad "'$line' does not say '$words'"
  else
    ok "$e"
  fi
done
got=$(wc -l <"$tmp/out")
check "exactly ${#expected[@]} problems reported (got $got)" test "$got" -eq "${#expected[@]}"
check "the count is on standard error" grep -q "scripts/checksrc: $got problem(s)" "$tmp/err"

# ---- named files only, from another directory ----------------------------------
(cd "$tmp" && tree/scripts/checksrc tree/fuzz/fuzz_bad.c tree/src/lib/base/extra-internal.h \
  >"$tmp/out2" 2>&1)
check "checksrc FILE... checks only those" test $? -eq 1
check "... and reports them by their path in the tree" \
  grep -q "^src/lib/base/extra-internal.h:1: a private header is .*(PRIVATENAME)$" "$tmp/out2"
check "... a white-box fuzz target's one private header passes" \
  test "$(grep -c '^fuzz/' "$tmp/out2")" -eq 0
test_done
