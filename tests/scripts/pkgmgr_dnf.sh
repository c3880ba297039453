#!/usr/bin/env bash
# The dnf backend (src/lib/executor/pkgmgr_dnf.c) for real: Debian's dnf on
# an --installroot whose repository is built here with rpmbuild and
# createrepo_c (tests/scripts/lib/rpmrepo.sh). Every outcome is checked
# against `rpm -q` in the root, never against the backend's own words.
set -uo pipefail
: "${PW_PKGMGR_DRIVE:?}"
. "$(dirname "$0")/lib/test-lib.sh"
. "$(dirname "$0")/lib/rpmrepo.sh"
test_require root
test_require_cmd dnf rpm rpmbuild createrepo_c ldd awk
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
drive() { "$PW_PKGMGR_DRIVE" dnf "$root" "$@"; }

check "rpmbuild and createrepo_c make the repository" rpmrepo_build "$tmp"
root=$tmp/root
check "an install root with the 1.0 packages" rpmroot_make "$root" "$tmp/repo" rhel 9
mkdir -p "$root/etc/yum.repos.d" "$root/etc/dnf"
printf '[main]\ngpgcheck=0\ninstallonly_limit=3\n' >"$root/etc/dnf/dnf.conf"
printf '[pwtest]\nname=patchwarden test\nbaseurl=file://%s\ngpgcheck=0\n' "$tmp/repo" \
  >"$root/etc/yum.repos.d/pwtest.repo"

# simulate: the plan, nothing changed.
drive simulate pwdemo=1.1 pwdep=2.0 >"$tmp/out" 2>&1
if [ "$(drive_field "$tmp/out" status)" = done ] && [ "$(drive_field "$tmp/out" resolves)" = yes ] &&
   grep -qx 'change upgrade pwdemo 1.0-1 1.1-1 ok' "$tmp/out" &&
   grep -qx 'change upgrade pwdep 1.0-1 2.0-1 ok' "$tmp/out" &&
   grep -qx 'change install pwlib - 1.0-1 ok' "$tmp/out"; then ok; else
  bad "simulate lists the upgrades and the new dependency"; cat "$tmp/out"; fi
if [ "$(rpmq "$root" pwdemo)" = pwdemo-1.0-1.noarch ] && ! rpmq "$root" pwlib >/dev/null; then ok
else bad "simulate changed the root"; fi

drive simulate pwdemo=9.9 >"$tmp/out" 2>&1
if [ "$(drive_field "$tmp/out" resolves)" = no ] && grep -q 'pwdemo-9.9' "$tmp/out"; then ok; else
  bad "a version the repository does not have does not resolve"; cat "$tmp/out"; fi

# patch: exactly the requested versions, not the newest (pwdemo 1.2).
drive patch pwdemo=1.1 pwdep=2.0 --log "$tmp/patch.log" >"$tmp/out" 2>&1
if [ "$(drive_field "$tmp/out" status)" = done ] &&
   [ "$(rpmq "$root" pwdemo pwdep pwlib | tr '\n' ' ')" = \
     "pwdemo-1.1-1.noarch pwdep-2.0-1.noarch pwlib-1.0-1.noarch " ] &&
   [ "$(drive_field "$tmp/out" db_state)" = clean ] &&
   grep -q '^Complete!' "$tmp/patch.log"; then ok; else
  bad "patch installs exactly pwdemo 1.1 and pwdep 2.0 with pwlib"; cat "$tmp/out" "$tmp/patch.log"; fi
echo "# dnf patch of 2 packages (+1 dependency): $(drive_field "$tmp/out" seconds) s"

# A removal is refused without allow_remove, and nothing runs.
drive patch pwswap=2.0 >"$tmp/out" 2>&1
if [ "$(drive_field "$tmp/out" status)" = refused ] && grep -q 'would remove pwlegacy' "$tmp/out" &&
   [ "$(rpmq "$root" pwswap pwlegacy | tr '\n' ' ')" = \
     "pwswap-1.0-1.noarch pwlegacy-1.0-1.noarch " ]; then ok; else
  bad "removal refused without allow_remove"; cat "$tmp/out"; fi
drive patch --allow-remove pwswap=2.0 >"$tmp/out" 2>&1
if [ "$(drive_field "$tmp/out" status)" = done ] && [ "$(rpmq "$root" pwswap)" = pwswap-2.0-1.noarch ] &&
   ! rpmq "$root" pwlegacy >/dev/null &&
   grep -qx 'change remove pwlegacy 1.0-1 - ok' "$tmp/out"; then ok; else
  bad "with allow_remove the conflicting package goes"; cat "$tmp/out"; fi

# rollback to the older version the repository still has.
drive rollback pwdemo=1.0 >"$tmp/out" 2>&1
if [ "$(drive_field "$tmp/out" status)" = done ] && [ "$(rpmq "$root" pwdemo)" = pwdemo-1.0-1.noarch ] &&
   grep -qx 'change downgrade pwdemo 1.1-1 1.0-1 ok' "$tmp/out"; then ok; else
  bad "rollback to pwdemo 1.0"; cat "$tmp/out"; fi

# A failing %post: a failed job with rpm's words and the scriptlet's output.
drive patch pwpost=1.1 --log "$tmp/post.log" >"$tmp/out" 2>&1
if [ "$(drive_field "$tmp/out" status)" = failed ] &&
   grep -q '%post(pwpost-1.1-1.noarch) scriptlet failed, exit status 1' "$tmp/out" &&
   grep -qx 'change upgrade pwpost 1.0-1 1.1-1 failed' "$tmp/out" &&
   grep -q 'pwpost: cannot configure itself' "$tmp/post.log"; then ok; else
  bad "failing %post is a failed result with its log"; cat "$tmp/out" "$tmp/post.log"; fi

# An update that needs a reboot (by the documented package list).
drive patch systemd=1.1 >"$tmp/out" 2>&1
if [ "$(drive_field "$tmp/out" status)" = done ] && [ "$(drive_field "$tmp/out" needs_reboot)" = yes ] &&
   [ "$(rpmq "$root" systemd)" = systemd-1.1-1.noarch ]; then ok; else
  bad "systemd update needs a reboot"; cat "$tmp/out"; fi

drive patch pwnothere=1.0 >"$tmp/out" 2>&1
if [ "$(drive_field "$tmp/out" status)" = failed ] && grep -q 'not installed: pwnothere' "$tmp/out"
then ok; else bad "a package that is not installed"; cat "$tmp/out"; fi

# hold: Debian's dnf has no versionlock plugin (dnf-plugins-core conflicts
# with zypper there): a clear failure saying what to install.
if dnf versionlock --help >/dev/null 2>&1; then
  drive hold pwdemo >"$tmp/out" 2>&1
  if [ "$(drive_field "$tmp/out" status)" = done ]; then ok; else bad "hold"; cat "$tmp/out"; fi
else
  drive hold pwdemo >"$tmp/out" 2>&1
  if [ "$(drive_field "$tmp/out" status)" = failed ] &&
     grep -q 'python3-dnf-plugin-versionlock' "$tmp/out"; then ok; else
    bad "hold without the versionlock plugin"; cat "$tmp/out"; fi
fi

test_done
