#!/usr/bin/env bash
# PATCHWARDEN_PWHASH=fast (minimum Argon2id cost) is a test-build switch:
# only a build configured with PW_TEST_HOOKS (the default, asan and fuzz
# presets) reads it. users.c is compiled here as this build compiles it,
# once without the definition, as the release preset and a plain
# configure do: that object must not look at the environment at all.
set -uo pipefail

: "${PW_BUILD_DIR:?}" "${PW_SOURCE_DIR:?}"
. "$(dirname "$0")/lib/test-lib.sh"
test_require_cmd jq nm
T=$(mktemp -d /tmp/pw-pwhash-hooks-XXXXXX)
trap 'rm -rf "$T"' EXIT


entry=$(jq -c '[.[] | select(.file | endswith("/users.c"))][0]' "$PW_BUILD_DIR/compile_commands.json")
dir=$(jq -r .directory <<<"$entry")
cmd=$(jq -r .command <<<"$entry")
check "this build compiles users.c with PW_TEST_HOOKS" grep -q -- "-DPW_TEST_HOOKS" <<<"$cmd"
# The same command, with the output moved here and the definition dropped.
test_cmd=$(sed -E "s# -o [^ ]+# -o $T/test.o#" <<<"$cmd")
release_cmd=$(sed -E "s# -DPW_TEST_HOOKS##; s# -o [^ ]+# -o $T/release.o#" <<<"$cmd")
(cd "$dir" && eval "$test_cmd") && (cd "$dir" && eval "$release_cmd")
check "users.c compiles with and without PW_TEST_HOOKS" test -s "$T/test.o" -a -s "$T/release.o"
check "a test build reads PATCHWARDEN_PWHASH" grep -q PATCHWARDEN_PWHASH "$T/test.o"
check "a release build never reads PATCHWARDEN_PWHASH" sh -c "! grep -q PATCHWARDEN_PWHASH '$T/release.o'"
check "a release build's users.c does not call getenv" sh -c "! nm -u '$T/release.o' | grep -qw getenv"

# Which builds have it: the test presets, not release, and not a plain
# configure (the option is off by default).
preset() { jq -r ".configurePresets[] | select(.name == \"$1\") | .cacheVariables.PW_TEST_HOOKS // \"unset\"" \
	"$PW_SOURCE_DIR/CMakePresets.json"; }
check "the default preset has test hooks" test "$(preset default)" = ON
check "the asan preset has test hooks" test "$(preset asan)" = ON
check "the release preset does not" test "$(preset release)" = unset
check "the option is off unless asked for" \
	grep -qE '^option\(PW_TEST_HOOKS .* OFF\)' "$PW_SOURCE_DIR/CMakeLists.txt"

test_done
