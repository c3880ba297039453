#!/usr/bin/env bash
# lib/test-lib.sh itself: prerequisites hold or not as documented, and
# test_done's exit status (0, 1, or 77 for a skip) in a child shell.
set -uo pipefail
. "$(dirname "$0")/lib/test-lib.sh"
lib="$(dirname "$0")/lib/test-lib.sh"
tmp=$(mktemp -d /tmp/pw-test-lib.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/data/feeds"

check "shared-data holds with the directory" env PW_SHARED_DATA="$tmp/data" \
	bash -c '. "$1"; test_have shared-data' _ "$lib"
check "shared-data:REL holds with the path" env PW_SHARED_DATA="$tmp/data" \
	bash -c '. "$1"; test_have shared-data:feeds' _ "$lib"
check "shared-data:REL fails without the path" env PW_SHARED_DATA="$tmp/data" \
	bash -c '. "$1"; ! test_have shared-data:nowhere' _ "$lib"
check "shared-data fails without PW_SHARED_DATA" env -u PW_SHARED_DATA \
	bash -c '. "$1"; ! test_have shared-data' _ "$lib"
check "shared-data fails when it names no directory" env PW_SHARED_DATA="$tmp/none" \
	bash -c '. "$1"; ! test_have shared-data' _ "$lib"
check "cmd holds for bash" bash -c '. "$1"; test_have cmd bash' _ "$lib"
check "cmd fails for a missing command" bash -c '. "$1"; ! test_have cmd pw-no-such-cmd' _ "$lib"

status() { # status SCRIPT: the exit status of a script sourcing the library
	bash -c ". \"\$1\"; $1" _ "$lib" >/dev/null 2>&1
	echo $?
}
check "all passed: exit 0" test "$(status 'ok; test_done')" = 0
check "a failure: exit 1" test "$(status 'bad x; test_done')" = 1
check "a missing prerequisite: exit 77" \
	test "$(status 'test_require_cmd pw-no-such-cmd; ok; test_done')" = 77
check "a skipped part: exit 77" test "$(status 'ok; test_skip_part a b; test_done')" = 77
check "a failure before a skip: exit 1" test "$(status 'bad x; test_skip y')" = 1
test_done
