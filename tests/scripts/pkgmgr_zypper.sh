#!/usr/bin/env bash
# The zypper backend (src/lib/executor/pkgmgr_zypper.c) for real: Debian's
# zypper with --root on an install root whose rpm-md repository is built
# here with rpmbuild and createrepo_c (tests/scripts/lib/rpmrepo.sh) and
# added with `zypper --root addrepo`. Every outcome is checked against
# `rpm -q` in the root, never against the backend's own words; the
# vulnerable -> simulate -> patch -> re-inventory path runs first through
# `patchwarden-agent exec` and `patchwarden inventory --root` (rpm_exec_checks).
set -uo pipefail
: "${PW_PKGMGR_DRIVE:?}"
. "$(dirname "$0")/lib/test-lib.sh"
. "$(dirname "$0")/lib/rpmrepo.sh"
test_require root
test_require_cmd zypper rpm rpmbuild createrepo_c ldd awk jq
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check "rpmbuild and createrepo_c make the repository" rpmrepo_build "$tmp"
root=$tmp/root
check "an install root with the 1.0 packages" rpmroot_make "$root" "$tmp/repo" sles 15.6
if zypper --non-interactive --root "$root" addrepo --no-gpgcheck "file://$tmp/repo" pwtest \
  >"$tmp/addrepo.log" 2>&1; then ok; else bad "zypper --root addrepo"; cat "$tmp/addrepo.log"; fi

PW_BACKEND=zypper
rpm_backend_checks
# zypper said the %post failed with its own exit status too.
grep -q '(exit status 107)' "$tmp/post.log" && ok || bad "zypper exits 107 for a failed scriptlet"

# hold: a zypper lock keeps pwdemo at 1.0 until unhold.
pkgdrive hold pwdemo >"$tmp/out" 2>&1
if [ "$(drive_field "$tmp/out" status)" = done ] && grep -q 'solvable_name: pwdemo' "$root/etc/zypp/locks" &&
   grep -qx 'change hold pwdemo 1.0-1 1.0-1 ok' "$tmp/out"; then ok; else
  bad "hold adds a zypper lock"; cat "$tmp/out"; fi
pkgdrive patch pwdemo=1.2 >"$tmp/out" 2>&1
if [ "$(drive_field "$tmp/out" status)" = failed ] && [ "$(rpmq "$root" pwdemo)" = pwdemo-1.0-1.noarch ]
then ok; else bad "a held package is not patched"; cat "$tmp/out"; fi
pkgdrive unhold pwdemo >/dev/null 2>&1
pkgdrive patch pwdemo=1.2 >"$tmp/out" 2>&1
if [ "$(drive_field "$tmp/out" status)" = done ] && [ "$(rpmq "$root" pwdemo)" = pwdemo-1.2-1.noarch ]
then ok; else bad "after unhold the patch goes through"; cat "$tmp/out"; fi

test_done
