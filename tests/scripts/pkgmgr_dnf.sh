#!/usr/bin/env bash
# The dnf backend (src/lib/executor/pkgmgr_dnf.c) for real: Debian's dnf on
# an --installroot whose repository is built here with rpmbuild and
# createrepo_c (tests/scripts/lib/rpmrepo.sh). Every outcome is checked
# against `rpm -q` in the root, never against the backend's own words; the
# vulnerable -> simulate -> patch -> re-inventory path runs first through
# `patchwarden-agent exec` and `patchwarden inventory --root` (rpm_exec_checks).
set -uo pipefail
: "${PW_PKGMGR_DRIVE:?}"
. "$(dirname "$0")/lib/test-lib.sh"
. "$(dirname "$0")/lib/rpmrepo.sh"
test_require root
test_require_cmd dnf rpm rpmbuild createrepo_c ldd awk jq
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check "rpmbuild and createrepo_c make the repository" rpmrepo_build "$tmp"
root=$tmp/root
check "an install root with the 1.0 packages" rpmroot_make "$root" "$tmp/repo" rhel 9
mkdir -p "$root/etc/yum.repos.d" "$root/etc/dnf"
printf '[main]\ngpgcheck=0\ninstallonly_limit=3\n' >"$root/etc/dnf/dnf.conf"
printf '[pwtest]\nname=patchwarden test\nbaseurl=file://%s\ngpgcheck=0\n' "$tmp/repo" \
  >"$root/etc/yum.repos.d/pwtest.repo"

PW_BACKEND=dnf
rpm_backend_checks
# dnf prints its own log: the transaction completed.
grep -q '^Complete!' "$tmp/patch.log" && ok || bad "the patch log is dnf's"

# "at least 1.1" (a source package's fixed version): the newest, 1.2.
pkgdrive patch --at-least pwdemo=1.1 >"$tmp/out" 2>&1
if [ "$(drive_field "$tmp/out" status)" = done ] && [ "$(rpmq "$root" pwdemo)" = pwdemo-1.2-1.noarch ]
then ok; else bad "patch to at least 1.1"; cat "$tmp/out"; fi

# hold: Debian's dnf has no versionlock plugin (dnf-plugins-core conflicts
# with zypper there): a clear failure saying what to install.
if dnf versionlock --help >/dev/null 2>&1; then
  pkgdrive hold pwdemo >"$tmp/out" 2>&1
  if [ "$(drive_field "$tmp/out" status)" = done ]; then ok; else bad "hold"; cat "$tmp/out"; fi
else
  pkgdrive hold pwdemo >"$tmp/out" 2>&1
  if [ "$(drive_field "$tmp/out" status)" = failed ] &&
     grep -q 'python3-dnf-plugin-versionlock' "$tmp/out"; then ok; else
    bad "hold without the versionlock plugin"; cat "$tmp/out"; fi
fi

test_done
