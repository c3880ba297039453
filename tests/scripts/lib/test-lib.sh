# Sourced by every end-to-end script (git's t/test-lib.sh is the model):
# one vocabulary for results, prerequisites that report a skip to ctest,
# and one closing line.
#
#   . "$(dirname "$0")/lib/test-lib.sh"
#   test_require root                  # or skip the whole script (exit 77)
#   test_require_cmd rpm jq            # the same for commands on PATH
#   check "what" COMMAND...            # passes when COMMAND succeeds
#   ok ["what"] / bad "what"           # count a pass / a failure
#   if test_have cmd systemd-analyze; then ...; else test_skip_part "unit" "why"; fi
#   test_wait_for 10 COMMAND...        # poll for an event (bounded), never sleep N
#   test_never 2.5 COMMAND...          # ... then watch that it does not happen again
#   test_done                          # "N passed, M failed, K skipped"; exits
#
# Exit status: 0 all passed, 1 something failed, 77 (PW_TEST_SKIP_STATUS,
# ctest's SKIP_RETURN_CODE for script tests) nothing failed but something
# was not run. ctest then reports the script as skipped, not passed, and
# scripts/test fails a CI run (CI=true) that skipped anything.
# Prerequisites: root, debian12 (this host is Debian 12 with a dpkg
# database), shared-data[:REL] (../shared/data, or a path below it),
# `cmd NAME...` (commands on PATH).

[ -n "${PW_TEST_LIB_LOADED:-}" ] && return 0
PW_TEST_LIB_LOADED=1
PW_TEST_SKIP_STATUS=77
PW_TEST_NAME=$(basename "$0" .sh)
PASS=${PASS:-0}
FAIL=${FAIL:-0}
PW_TEST_SKIPPED=()

# ok [WHAT]: one check passed (printed with PW_TEST_VERBOSE set).
ok() {
  PASS=$((PASS + 1))
  if [ -n "${PW_TEST_VERBOSE:-}" ] && [ $# -gt 0 ]; then echo "ok - $*"; fi
  return 0
}

# bad WHAT: one check failed; says what.
bad() {
  FAIL=$((FAIL + 1))
  echo "FAIL: $*"
  return 0
}

# check WHAT COMMAND...: passes when COMMAND succeeds.
check() {
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

# test_wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s until it
# succeeds (0) or SECONDS have passed (1). Wait for the event a check
# needs, never for a fixed time. COMMAND's words are expanded once, by
# the caller: to poll something computed, use a function or
# eval '[ "$(count)" -ge 2 ]'.
test_wait_for() {
  local end=$((${EPOCHSECONDS:-$(date +%s)} + $1))
  shift
  until "$@"; do
    [ "${EPOCHSECONDS:-$(date +%s)}" -ge "$end" ] && return 1
    sleep 0.1
  done
}

# test_never SECONDS COMMAND...: polls COMMAND every 0.1 s for SECONDS
# (fractions allowed); fails (1) as soon as it succeeds. For what must not
# happen again when nothing marks that it could have: first wait for the
# event itself (test_wait_for), then watch for a repeat.
test_never() {
  local end
  end=$(awk -v t="$EPOCHREALTIME" -v d="$1" 'BEGIN { printf "%.3f", t + d }')
  shift
  while awk -v t="$EPOCHREALTIME" -v e="$end" 'BEGIN { exit !(t < e) }'; do
    "$@" && return 1
    sleep 0.1
  done
  return 0
}

# test_have PREREQ [ARGS...]: true when the prerequisite holds.
test_have() {
  local p=$1
  shift
  case $p in
  root) [ "$(id -u)" -eq 0 ] ;;
  debian12)
    [ -r /var/lib/dpkg/status ] && grep -q '^ID=debian' /etc/os-release 2>/dev/null &&
      grep -q '^VERSION_ID="12"' /etc/os-release
    ;;
  shared-data)
    [ -n "${PW_SHARED_DATA:-}" ] && [ -d "$PW_SHARED_DATA" ]
    ;;
  shared-data:*)
    [ -n "${PW_SHARED_DATA:-}" ] && [ -e "$PW_SHARED_DATA/${p#shared-data:}" ]
    ;;
  cmd)
    local c
    for c in "$@"; do command -v "$c" >/dev/null 2>&1 || return 1; done
    ;;
  *)
    echo "test-lib.sh: unknown prerequisite '$p'" >&2
    return 2
    ;;
  esac
}

# test_skip REASON: the rest of the script cannot run here; ends it with
# the skip status (or with 1 when a check failed before).
test_skip() {
  PW_TEST_SKIPPED+=("$PW_TEST_NAME: $*")
  echo "SKIP: $*"
  test_done
}

# test_skip_part WHAT REASON: one part was not run; the script goes on
# and ends as skipped unless something failed.
test_skip_part() {
  PW_TEST_SKIPPED+=("$1: $2")
  echo "SKIP: $1: $2"
}

# test_require PREREQ [ARGS...]: skips the whole script unless it holds.
test_require() {
  test_have "$@" || test_skip "needs $*"
}

# test_require_cmd CMD...: skips the whole script unless every CMD is on
# PATH (scripts/deps installs them; in CI a skip fails the run).
test_require_cmd() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || test_skip "needs the command '$c' (run scripts/deps)"
  done
}

# test_done: the closing line, and the exit status ctest reads.
test_done() {
  local n=${#PW_TEST_SKIPPED[@]}
  echo "$PASS passed, $FAIL failed, $n skipped"
  if [ "$FAIL" -ne 0 ]; then exit 1; fi
  if [ "$n" -ne 0 ]; then exit "$PW_TEST_SKIP_STATUS"; fi
  exit 0
}
