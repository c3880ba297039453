# Sourced after lib/server.sh by the tests that drive the web console in a
# real browser (web_console.sh, web_mail_signoff.sh): Debian's chromium and
# chromium-driver, through Debian's python3-selenium, by the helpers of
# tests/tools (browser_lib.py). A missing piece skips the test.
#
#   browser_py SCRIPT ARGS...   # runs tests/tools/SCRIPT with Debian's python3
#   $shots                      # the screenshots' directory: $PW_WEB_SHOTS (kept)
#                               # or the test's temporary directory

test_require_cmd chromium chromedriver
# Debian's python3, which has python3-selenium (a python3 earlier on PATH may not).
browser_py() {
  local script=$1
  shift
  PATH=/usr/bin:$PATH python3 "$PW_SOURCE_DIR/tests/tools/$script" "$@"
}
PATH=/usr/bin:$PATH python3 -c 'import selenium' 2>/dev/null ||
  test_skip "python3-selenium is not installed (scripts/deps)"
shots=${PW_WEB_SHOTS:-$PW_SRV_TMP/shots}
mkdir -p "$shots"
