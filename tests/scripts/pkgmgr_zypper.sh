#!/usr/bin/env bash
# The zypper backend (src/lib/executor/pkgmgr_zypper.c) for real: Debian's
# zypper with --root on an install root whose rpm-md repository is built
# here with rpmbuild and createrepo_c (tests/scripts/lib/rpmrepo.sh) and
# added with `zypper --root addrepo`. Every outcome is checked against
# `rpm -q` in the root, never against the backend's own words.
set -uo pipefail
: "${PW_PKGMGR_DRIVE:?}"
. "$(dirname "$0")/lib/test-lib.sh"
. "$(dirname "$0")/lib/rpmrepo.sh"
test_require root
test_require_cmd zypper rpm rpmbuild createrepo_c ldd awk
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
drive() { "$PW_PKGMGR_DRIVE" zypper "$root" "$@"; }

check "rpmbuild and createrepo_c make the repository" rpmrepo_build "$tmp"
root=$tmp/root
check "an install root with the 1.0 packages" rpmroot_make "$root" "$tmp/repo" sles 15.6
if zypper --non-interactive --root "$root" addrepo --no-gpgcheck "file://$tmp/repo" pwtest \
  >"$tmp/addrepo.log" 2>&1; then ok; else bad "zypper --root addrepo"; cat "$tmp/addrepo.log"; fi

# simulate: the plan from zypper's XML summary, nothing changed.
drive simulate pwdemo=1.1 pwdep=2.0 >"$tmp/out" 2>&1
if [ "$(drive_field "$tmp/out" status)" = done ] && [ "$(drive_field "$tmp/out" resolves)" = yes ] &&
   grep -qx 'change upgrade pwdemo 1.0-1 1.1-1 ok' "$tmp/out" &&
   grep -qx 'change upgrade pwdep 1.0-1 2.0-1 ok' "$tmp/out" &&
   grep -qx 'change install pwlib - 1.0-1 ok' "$tmp/out"; then ok; else
  bad "simulate lists the upgrades and the new dependency"; cat "$tmp/out"; fi
if [ "$(rpmq "$root" pwdemo)" = pwdemo-1.0-1.noarch ] && ! rpmq "$root" pwlib >/dev/null; then ok
else bad "simulate changed the root"; fi

drive simulate pwdemo=9.9 >"$tmp/out" 2>&1
if [ "$(drive_field "$tmp/out" resolves)" = no ] && grep -q 'pwdemo' "$tmp/out"; then ok; else
  bad "a version the repository does not have does not resolve"; cat "$tmp/out"; fi

# patch: exactly the requested versions, not the newest (pwdemo 1.2).
drive patch pwdemo=1.1 pwdep=2.0 --log "$tmp/patch.log" >"$tmp/out" 2>&1
if [ "$(drive_field "$tmp/out" status)" = done ] &&
   [ "$(rpmq "$root" pwdemo pwdep pwlib | tr '\n' ' ')" = \
     "pwdemo-1.1-1.noarch pwdep-2.0-1.noarch pwlib-1.0-1.noarch " ] &&
   [ "$(drive_field "$tmp/out" db_state)" = clean ]; then ok; else
  bad "patch installs exactly pwdemo 1.1 and pwdep 2.0 with pwlib"; cat "$tmp/out" "$tmp/patch.log"; fi
echo "# zypper patch of 2 packages (+1 dependency): $(drive_field "$tmp/out" seconds) s"

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

# rollback (install --oldpackage) to the older version the repository has.
drive rollback pwdemo=1.0 >"$tmp/out" 2>&1
if [ "$(drive_field "$tmp/out" status)" = done ] && [ "$(rpmq "$root" pwdemo)" = pwdemo-1.0-1.noarch ] &&
   grep -qx 'change downgrade pwdemo 1.1-1 1.0-1 ok' "$tmp/out"; then ok; else
  bad "rollback to pwdemo 1.0"; cat "$tmp/out"; fi

# A failing %post: zypper exits 107; a failed job with rpm's words.
drive patch pwpost=1.1 --log "$tmp/post.log" >"$tmp/out" 2>&1
if [ "$(drive_field "$tmp/out" status)" = failed ] && [ "$(drive_field "$tmp/out" exit)" = 107 ] &&
   grep -q '%post(pwpost-1.1-1.noarch) scriptlet failed, exit status 1' "$tmp/out" &&
   grep -qx 'change upgrade pwpost 1.0-1 1.1-1 failed' "$tmp/out" &&
   grep -q 'pwpost: cannot configure itself' "$tmp/post.log"; then ok; else
  bad "failing %post is a failed result with its log"; cat "$tmp/out" "$tmp/post.log"; fi

drive patch systemd=1.1 >"$tmp/out" 2>&1
if [ "$(drive_field "$tmp/out" status)" = done ] && [ "$(drive_field "$tmp/out" needs_reboot)" = yes ] &&
   [ "$(rpmq "$root" systemd)" = systemd-1.1-1.noarch ]; then ok; else
  bad "systemd update needs a reboot"; cat "$tmp/out"; fi

# hold: a zypper lock keeps pwdemo at 1.0 until unhold.
drive hold pwdemo >"$tmp/out" 2>&1
if [ "$(drive_field "$tmp/out" status)" = done ] && grep -q 'solvable_name: pwdemo' "$root/etc/zypp/locks" &&
   grep -qx 'change hold pwdemo 1.0-1 1.0-1 ok' "$tmp/out"; then ok; else
  bad "hold adds a zypper lock"; cat "$tmp/out"; fi
drive patch pwdemo=1.2 >"$tmp/out" 2>&1
if [ "$(drive_field "$tmp/out" status)" = failed ] && [ "$(rpmq "$root" pwdemo)" = pwdemo-1.0-1.noarch ]
then ok; else bad "a held package is not patched"; cat "$tmp/out"; fi
drive unhold pwdemo >/dev/null 2>&1
drive patch pwdemo=1.2 >"$tmp/out" 2>&1
if [ "$(drive_field "$tmp/out" status)" = done ] && [ "$(rpmq "$root" pwdemo)" = pwdemo-1.2-1.noarch ]
then ok; else bad "after unhold the patch goes through"; cat "$tmp/out"; fi

test_done
