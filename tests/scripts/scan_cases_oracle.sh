#!/usr/bin/env bash
# The scan cases' golden files (tests/data/scan/*/expected.txt) were
# written by the implementation: tests/tools/scan_oracle.py recomputes
# each case's findings from the raw feed files and the inventory with the
# native version comparisons only (dpkg --compare-versions, rpm's
# rpm.vercmp) and must agree with every one it covers. Alpine cases are
# not covered (no apk-tools on Debian); test_scan_cases checks them.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/test-lib.sh"
test_require_cmd python3 dpkg rpm
test_require shared-data:almalinux-osv
out=$(python3 "$here/../tools/scan_oracle.py" "${PW_TEST_DATA:-$here/../data}/scan" 2>&1)
st=$?
echo "$out"
check "every covered case agrees with the oracle (exit $st)" test "$st" -eq 0
covered=$(grep -c '^ok: ' <<<"$out")
check "the oracle covered the dpkg and rpm cases ($covered)" test "$covered" -ge 9
test_done
