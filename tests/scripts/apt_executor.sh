#!/usr/bin/env bash
# The apt backend for real: a real apt repository (packages made with
# dpkg-deb, indexed with apt-ftparchive, served over HTTP on loopback)
# and real Debian 12 systems (a cached mmdebstrap bookworm, unpacked per
# case), acted on by `patchwarden-agent exec` chrooted into them. What is
# checked comes from dpkg-query, apt-mark and the files the packages put
# on disk, never from the executor's own report alone.
. "$(dirname "$0")/lib/test-lib.sh"
. "$(dirname "$0")/lib/debroot.sh"
. "$(dirname "$0")/lib/aptrepo.sh"

test_require root
test_require_cmd mmdebstrap dpkg-deb apt-ftparchive python3 curl jq chroot tar sha256sum flock

TMP=$(mktemp -d /tmp/pw-apt.XXXXXX)
cleanup() {
  [ -n "${APTREPO_PID:-}" ] && kill "$APTREPO_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

# ---- the repository ---------------------------------------------------
R=$TMP/repo
check "packages built and indexed" aptrepo_test_packages "$R"
check "served on loopback" aptrepo_serve "$R"

# ---- a system ---------------------------------------------------------
new_root() { aptrepo_root "$TMP/$1" "${@:2}"; }

installed() { # ROOT NAME: the version dpkg has installed ("" when none)
  chroot "$1" dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$2" 2>/dev/null |
    sed -n 's/^[ih]i *//p' # h: held
}
status_of() { chroot "$1" dpkg-query -W -f='${Status}' "$2" 2>/dev/null; }

# x ROOT KIND ARGS: runs the executor; the output JSON in $TMP/out.json.
x() {
  local root=$1 kind=$2 args=$3
  "${PW_AGENT_BIN:?}" exec "$kind" --root "$root" --args "$args" --json >"$TMP/out.json" \
    2>"$TMP/err"
  XRC=$?
}
j() { jq -r "$1" "$TMP/out.json"; }

A=$TMP/a
check "bookworm root with the vulnerable versions" \
  new_root a pwt-vuln=1.0-1 pwt-dep=1.0-1 pwt-reboot=1.0-1 pwt-victim=1.0-1 pwt-rm=1.0-1 \
  pwt-sec=1.0-1 pwt-bin=4:1.0-1
check "vulnerable pwt-vuln installed" test "$(installed "$A" pwt-vuln)" = 1.0-1

# simulate: what would change, nothing changes
x "$A" simulate '{"packages":[{"name":"pwt-vuln","version":"1.0-2"},{"name":"pwt-dep","version":"2.0-1"}]}'
check "simulate exits 0" test "$XRC" = 0
check "simulate resolves" test "$(j .resolves)" = true
check "simulate: pwt-vuln would be upgraded 1.0-1 -> 1.0-2" test \
  "$(j '.packages[] | select(.name=="pwt-vuln") | "\(.action) \(.before) \(.after)"')" \
  = "upgrade 1.0-1 1.0-2"
check "simulate: the new dependency would be installed" test \
  "$(j '.packages[] | select(.name=="pwt-newdep") | "\(.action) \(.before) \(.after)"')" \
  = "install null 1.0-1"
check "simulate changed nothing" test "$(installed "$A" pwt-vuln)" = 1.0-1
check "simulate: db clean" test "$(j .db_state)" = clean

# a version the repository does not have does not resolve
x "$A" simulate '{"packages":[{"name":"pwt-vuln","version":"9.9-9"}]}'
check "simulate of a missing version: resolves false" test "$(j .resolves)" = false

# patch: exact versions, a new dependency, a reboot flag; a locally
# changed configuration file is kept, an unchanged one follows the package
echo "# changed here" >"$A/etc/pwt-vuln.conf"
x "$A" patch '{"packages":[{"name":"pwt-vuln","version":"1.0-2"},{"name":"pwt-dep","version":"2.0-1"},{"name":"pwt-reboot","version":"1.0-2"}]}'
check "patch exits 0" test "$XRC" = 0
check "patch status done" test "$(j .status)" = done
check "dpkg-query: pwt-vuln 1.0-2" test "$(installed "$A" pwt-vuln)" = 1.0-2
check "on disk: pwt-vuln 1.0-2" test "$(cat "$A/usr/share/pwt-vuln/version")" = 1.0-2
check "dpkg-query: pwt-dep 2.0-1" test "$(installed "$A" pwt-dep)" = 2.0-1
check "the locally changed conffile is kept" test "$(cat "$A/etc/pwt-vuln.conf")" = "# changed here"
check "the unchanged conffile is the new version's" \
  test "$(cat "$A/etc/pwt-dep.conf")" = "# pwt-dep 2.0-1 default"
check "dpkg-query: the new dependency installed" test "$(installed "$A" pwt-newdep)" = 1.0-1
check "patch: before/after per package" test \
  "$(j '.packages[] | select(.name=="pwt-vuln") | "\(.before) \(.after) \(.result)"')" \
  = "1.0-1 1.0-2 ok"
check "patch: needs_reboot from /var/run/reboot-required" test "$(j .needs_reboot)" = true
check "reboot-required exists in the root" test -e "$A/run/reboot-required"
check "patch: the message names the package that asked for it" eval \
  'j .message | grep -q "needs a reboot for pwt-reboot"'
check "patch: db clean" test "$(j .db_state)" = clean
check "patch: the log has apt-get's output" eval 'j .log | grep -q "Setting up pwt-vuln (1.0-2)"'

# at_least (a source's fixed version): the candidate, checked in dpkg order
x "$A" simulate '{"packages":[{"name":"pwt-vuln","version":"1.0-2~","source":"pwt-vuln"}]}'
check "at_least already met: nothing to change" test "$(j '.packages | length')" = 0
# ... against the source's version, not the binary's (pwt-bin 4:1.0-1 is
# built from pwt-src 1.5-1: its epoch does not make it "fixed" in 1.5-2)
x "$A" simulate '{"packages":[{"name":"pwt-bin","version":"1.5-2","source":"pwt-src"}]}'
check "at_least of a source version: the binary is upgraded" test \
  "$(j '.packages[] | select(.name=="pwt-bin") | "\(.action) \(.before) \(.after)"')" \
  = "upgrade 4:1.0-1 4:1.0-2"
x "$A" simulate '{"packages":[{"name":"pwt-bin","version":"1.5-1","source":"pwt-src"}]}'
check "at_least met by the installed source version: nothing" test "$(j '.packages | length')" = 0
x "$A" simulate '{"packages":[{"name":"pwt-bin","version":"1.5-3","source":"pwt-src"}]}'
check "at_least above the newest source version: failed, not fixed yet" test \
  "$XRC:$(j .status)" = 1:failed
check "... and the message names both versions" eval \
  'j .message | grep -q "4:1.0-2 (source version 1.5-2) is older than 1.5-3"'

# all_security: the pending upgrades from -security suites only
x "$A" simulate '{"all_security":true}'
check "all_security simulate: only pwt-sec" test \
  "$(j '[.packages[] | "\(.name) \(.after)"] | join(",")')" = "pwt-sec 1.0-2"
x "$A" patch '{"all_security":true}'
check "all_security patch: done" test "$XRC:$(j .status)" = 0:done
check "all_security patch: dpkg-query pwt-sec 1.0-2" test "$(installed "$A" pwt-sec)" = 1.0-2
check "all_security patch: pwt-vuln left at 1.0-2 (1.0-3 is not a security update)" \
  test "$(installed "$A" pwt-vuln)" = 1.0-2
x "$A" patch '{"all_security":true}'
check "all_security again: nothing pending" test "$XRC:$(j .message)" = "0:no security updates pending"

# removal refused without allow_remove
x "$A" patch '{"packages":[{"name":"pwt-rm","version":"2.0-1"}]}'
check "removal: refused (exit 2)" test "$XRC" = 2
check "removal: message names the victim" eval 'j .message | grep -q pwt-victim'
check "removal: nothing removed" test "$(installed "$A" pwt-victim)" = 1.0-1
check "removal: nothing installed" test "$(installed "$A" pwt-rm)" = 1.0-1
x "$A" patch '{"packages":[{"name":"pwt-rm","version":"2.0-1"}],"allow_remove":true}'
check "allow_remove: done" test "$(j .status)" = done
check "allow_remove: pwt-victim removed" test -z "$(installed "$A" pwt-victim)"
check "allow_remove: reported as remove" test \
  "$(j '.packages[] | select(.name=="pwt-victim") | "\(.action) \(.after)"')" = "remove null"

# hold prevents the upgrade
x "$A" hold '{"packages":["pwt-vuln"]}'
check "hold: done" test "$(j .status)" = done
check "apt-mark showhold lists it" eval 'chroot "$A" apt-mark showhold | grep -qx pwt-vuln'
x "$A" patch '{"packages":[{"name":"pwt-vuln","version":"1.0-3"}]}'
check "patch of a held package: refused" test "$XRC" = 2
check "held package not upgraded" test "$(installed "$A" pwt-vuln)" = 1.0-2
x "$A" unhold '{"packages":["pwt-vuln"]}'
check "unhold: done" test "$(j .status)" = done
check "apt-mark showhold is empty" test -z "$(chroot "$A" apt-mark showhold)"

# rollback to an older version the repository still has
x "$A" rollback '{"packages":[{"name":"pwt-vuln","version":"1.0-1"}]}'
check "rollback: done" test "$(j .status)" = done
check "rollback: dpkg-query 1.0-1" test "$(installed "$A" pwt-vuln)" = 1.0-1
check "rollback: reported as downgrade" test \
  "$(j '.packages[] | select(.name=="pwt-vuln") | .action')" = downgrade
x "$A" rollback '{"packages":[{"name":"pwt-vuln","version":"0.9-1"}]}'
check "rollback to a version the repository lacks: refused" test "$XRC" = 2
check "... saying so" eval 'j .message | grep -q "no longer has"'
check "... nothing changed" test "$(installed "$A" pwt-vuln)" = 1.0-1

# strict arguments
x "$A" patch '{"packages":[{"name":"pwt-vuln","version":"1.0-2","colour":"red"}]}'
check "unknown member refused (exit 2)" test "$XRC" = 2
check "... naming it" grep -q colour "$TMP/err"
x "$A" patch '{"packages":[{"name":"-oAPT::x","version":"1"}]}'
check "an option as a package name refused" test "$XRC" = 2

# reboot: only recorded on a test root
x "$A" reboot '{}'
check "reboot on a test root: recorded, nothing reboots" eval \
  'j .message | grep -q "not done"'

# health and backup checks: the configured ones, against the repository's
# HTTP server (curl), its TCP port, and commands
hc() { # CHECK-LINE KIND: exec KIND with that [agent] configuration
  printf '[agent]\n%s\n' "$1" >"$TMP/agent.conf"
  "${PW_AGENT_BIN:?}" exec "$2" -c "$TMP/agent.conf" --json >"$TMP/out.json" 2>"$TMP/err"
  XRC=$?
}
port=${APTREPO_URL##*:}
port=${port%/}
hc "health_check = ${APTREPO_URL}Packages" health
check "http health check passes" test "$XRC:$(j .status)" = 0:done
check "... curl's status code in the log" test "$(j .log)" = 200
hc "health_check = ${APTREPO_URL}nonesuch" health
check "http health check of a 404 fails" test "$XRC:$(j .status)" = 1:failed
hc "health_check = tcp:127.0.0.1:$port" health
check "tcp health check passes" test "$XRC:$(j .status)" = 0:done
hc 'backup_check = command:/bin/echo $HOME;false  `id`' backup_check
check "backup check: no shell, words split on spaces" test "$XRC:$(j .log)" = '0:$HOME;false `id`'
hc "backup_check = command:/bin/false" backup_check
check "a failing backup check" test "$XRC:$(j .status):$(j .exit_code)" = 1:failed:1
hc "backup_check = command:/usr/bin/test -d /" backup_check
check "backup check passes" test "$XRC:$(j .status)" = 0:done
hc "" health
check "no health check configured: refused" test "$XRC:$(j .status)" = 2:refused

# ---- a failing postinst -----------------------------------------------
B=$TMP/b
check "second root" new_root b pwt-failpost=1.0-1 pwt-vuln=1.0-1
x "$B" patch '{"packages":[{"name":"pwt-failpost","version":"1.0-2"},{"name":"pwt-vuln","version":"1.0-2"}]}'
check "failing postinst: exit 1" test "$XRC" = 1
check "failing postinst: status failed" test "$(j .status)" = failed
check "failing postinst: message names the package" eval 'j .message | grep -q pwt-failpost'
check "failing postinst: the script's output in the log" eval \
  'j .log | grep -q "the postinst fails on purpose"'
check "failing postinst: db half-configured" test "$(j .db_state)" = half-configured
check "dpkg agrees: half-configured" test "$(status_of "$B" pwt-failpost)" \
  = "install ok half-configured"
check "failing postinst: the package result failed" test \
  "$(j '.packages[] | select(.name=="pwt-failpost") | .result')" = failed
x "$B" patch '{"packages":[{"name":"pwt-vuln","version":"1.0-2"}]}'
check "a patch on a half-configured system: refused" test "$XRC" = 2
check "... pointing at configure_pending" eval 'j .message | grep -q configure_pending'
x "$B" patch '{"packages":[{"name":"pwt-vuln","version":"1.0-2"}],"configure_pending":true}'
check "configure_pending runs dpkg --configure -a (which fails again)" eval \
  'j .log | grep -q "dpkg --configure -a"'
check "... and reports the failure" test "$(j .status)" = failed

test_done
