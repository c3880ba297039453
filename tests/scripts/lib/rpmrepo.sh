# Sourced by the dnf and zypper backend scripts (pkgmgr_dnf.sh,
# pkgmgr_zypper.sh): a real rpm-md repository and an rpm install root.
#
#   rpmrepo_build DIR     builds the fixture RPMs with rpmbuild into DIR/repo
#                         and indexes them with createrepo_c
#   rpmroot_make ROOT     an install root: os-release, a /bin/sh for
#                         scriptlets, an rpm database with the old versions
#   rpmq ROOT NAME...     `rpm -q` in ROOT (the oracle the scripts compare with)
#   rpm_backend_checks    what dnf and zypper must both do on $root (PW_BACKEND
#                         names the backend; $tmp is the script's directory):
#                         first through the agent (rpm_exec_checks), then
#                         through the backend alone (pkgmgr_drive)
#
# The packages (noarch, empty but for one file), vulnerable and fixed:
#   pwdemo 1.0 1.1 1.2     plain upgrades; 1.0 is the rollback target
#   pwpost 1.0 1.1         1.1's %post fails (exit 1)
#   pwdep 1.0 2.0          2.0 requires pwlib (a new dependency)
#   pwlib 1.0
#   pwswap 1.0 2.0         2.0 conflicts with pwlegacy (a removal)
#   pwlegacy 1.0
#   pw-obsoleting-package-with-a-rather-long-name 1.0 2.0
#                          2.0 obsoletes pwlegacy2 (a removal the package manager
#                          makes on its own; the long name wraps dnf's table)
#   pwlegacy2 1.0
#   systemd 1.0 1.1        a name whose update needs a reboot
#   pwshell 1.0            provides /bin/sh (the copied dash) for scriptlets
# Installed in the root: the 1.0 of each (no pwlib).
#
# Debian's rpm keeps its database in ~/.rpmdb (its macros say so) where
# RHEL and SUSE keep /var/lib/rpm; dnf, zypper and the backends' rpm, run
# without HOME as root, look for <root>/root/.rpmdb. The root has its
# database in /var/lib/rpm (where `patchwarden inventory` reads it) and
# root/.rpmdb pointing there, so every tool sees the same one.

rpmrepo_spec() { # NAME VERSION [PREAMBLE] [SCRIPTS]
  cat <<SPEC
Name: $1
Version: $2
Release: 1
Summary: patchwarden backend test package $1
License: MIT
BuildArch: noarch
${3:-}
%description
A fixture of tests/scripts/lib/rpmrepo.sh.
%install
mkdir -p %{buildroot}/usr/share/$1
echo $2 > %{buildroot}/usr/share/$1/version
%files
/usr/share/$1/version
${4:-}
SPEC
}

RPMREPO_LONG=pw-obsoleting-package-with-a-rather-long-name

rpmrepo_build() {
  local dir=$1 s=$1/specs
  mkdir -p "$s" "$dir/home"
  local v
  for v in 1.0 1.1 1.2; do rpmrepo_spec pwdemo $v >"$s/pwdemo-$v.spec"; done
  rpmrepo_spec pwpost 1.0 >"$s/pwpost-1.0.spec"
  rpmrepo_spec pwpost 1.1 "" "%post
echo 'pwpost: cannot configure itself' >&2
exit 1" >"$s/pwpost-1.1.spec"
  rpmrepo_spec pwdep 1.0 >"$s/pwdep-1.0.spec"
  rpmrepo_spec pwdep 2.0 "Requires: pwlib" >"$s/pwdep-2.0.spec"
  rpmrepo_spec pwlib 1.0 >"$s/pwlib-1.0.spec"
  rpmrepo_spec pwswap 1.0 >"$s/pwswap-1.0.spec"
  rpmrepo_spec pwswap 2.0 "Conflicts: pwlegacy" >"$s/pwswap-2.0.spec"
  rpmrepo_spec pwlegacy 1.0 >"$s/pwlegacy-1.0.spec"
  rpmrepo_spec "$RPMREPO_LONG" 1.0 >"$s/long-1.0.spec"
  rpmrepo_spec "$RPMREPO_LONG" 2.0 "Obsoletes: pwlegacy2 < 2" >"$s/long-2.0.spec"
  rpmrepo_spec pwlegacy2 1.0 >"$s/pwlegacy2-1.0.spec"
  rpmrepo_spec systemd 1.0 >"$s/systemd-1.0.spec"
  rpmrepo_spec systemd 1.1 >"$s/systemd-1.1.spec"
  rpmrepo_spec pwshell 1.0 "Provides: /bin/sh" >"$s/pwshell-1.0.spec"
  HOME=$dir/home rpmbuild --quiet --define "_topdir $dir/top" --define "_rpmdir $dir/repo" \
    --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
    -bb "$s"/*.spec >"$dir/build.log" 2>&1 &&
    createrepo_c -q "$dir/repo" >>"$dir/build.log" 2>&1
}

rpmq() {
  local root=$1
  shift
  rpm --root "$root" --dbpath /var/lib/rpm -q "$@" 2>/dev/null
}

rpmroot_make() { # ROOT REPODIR OS_ID VERSION_ID
  local root=$1 repo=$2
  mkdir -p "$root/etc" "$root/bin" "$root/root" "$root/var/lib/rpm"
  printf 'ID="%s"\nVERSION_ID="%s"\nPRETTY_NAME="patchwarden test root"\n' "$3" "$4" \
    >"$root/etc/os-release"
  ln -s ../var/lib/rpm "$root/root/.rpmdb"
  # A shell for the scriptlets, which rpm runs chrooted into the root.
  cp /bin/dash "$root/bin/sh"
  local lib
  for lib in $(ldd /bin/dash | awk '/\//{print ($2 == "=>") ? $3 : $1}'); do
    mkdir -p "$root$(dirname "$lib")"
    cp "$lib" "$root$lib"
  done
  rpm --root "$root" --dbpath /var/lib/rpm --initdb &&
    rpm --root "$root" --dbpath /var/lib/rpm -i --nodigest --nosignature \
      "$repo"/{pwdemo,pwpost,pwdep,pwswap,pwlegacy,pwlegacy2,systemd,pwshell,"$RPMREPO_LONG"}-1.0-1.noarch.rpm \
      >"$root.install.log" 2>&1
}

# One field of pkgmgr_drive's output: drive_field FILE status
drive_field() { awk -v k="$2" '$1 == k { sub(/^[^ ]+ /, ""); print; exit }' "$1"; }

pkgdrive() { "$PW_PKGMGR_DRIVE" "$PW_BACKEND" "$root" "$@"; }

# The real executor as a job from the server runs it (`patchwarden-agent
# exec`, the backend chosen by the root's os-release): the vulnerable
# pwdemo 1.0 as `patchwarden inventory --root` reads the root's rpm
# database; simulate changes nothing; patch to the fixed 1.1; the
# re-inventory and rpm -q show 1.1; rollback puts 1.0 back for the checks
# that follow.
rpm_exec_checks() {
  local b=$PW_BACKEND x=$tmp/exec.json
  inv() {
    "$PW_BIN" inventory --root "$root" --json |
      jq -r '.packages[] | select(.name == "pwdemo") | .version'
  }
  ex() { # KIND VERSION: exec's exit status, its output in $x
    "${PW_AGENT_BIN:?}" exec "$1" --root "$root" --json \
      --args "{\"packages\":[{\"name\":\"pwdemo\",\"version\":\"$2\"}]}" >"$x" 2>&1
  }
  change() { jq -r '.packages[] | select(.name == "pwdemo") | "\(.action) \(.before) \(.after) \(.result)"' "$x"; }
  check "$b: inventory --root reads the vulnerable pwdemo 1.0-1" test "$(inv)" = 1.0-1
  ex simulate 1.1
  check "$b: exec simulate: would upgrade pwdemo 1.0-1 -> 1.1-1" \
    test "$(change)" = "upgrade 1.0-1 1.1-1 would"
  check "$b: ... through $b" grep -q "/usr/bin/$b " "$x"
  check "$b: ... nothing changed" test "$(rpmq "$root" pwdemo)" = pwdemo-1.0-1.noarch
  ex patch 1.1
  check "$b: exec patch: exit 0" test $? -eq 0
  check "$b: ... pwdemo upgraded 1.0-1 -> 1.1-1, db clean" test \
    "$(change) $(jq -r .db_state "$x")" = "upgrade 1.0-1 1.1-1 ok clean"
  check "$b: re-inventory: pwdemo 1.1-1" test "$(inv)" = 1.1-1
  check "$b: ... as rpm -q says" test "$(rpmq "$root" pwdemo)" = pwdemo-1.1-1.noarch
  ex rollback 1.0
  check "$b: exec rollback: re-inventory pwdemo 1.0-1" test "$(inv)" = 1.0-1
}

rpm_backend_checks() {
  rpm_exec_checks
  # simulate: the plan, nothing changed.
  pkgdrive simulate pwdemo=1.1 pwdep=2.0 >"$tmp/out" 2>&1
  if [ "$(drive_field "$tmp/out" status)" = done ] && [ "$(drive_field "$tmp/out" resolves)" = yes ] &&
     grep -qx 'change upgrade pwdemo 1.0-1 1.1-1 ok' "$tmp/out" &&
     grep -qx 'change upgrade pwdep 1.0-1 2.0-1 ok' "$tmp/out" &&
     grep -qx 'change install pwlib - 1.0-1 ok' "$tmp/out"; then ok; else
    bad "simulate lists the upgrades and the new dependency"; cat "$tmp/out"; fi
  if [ "$(rpmq "$root" pwdemo)" = pwdemo-1.0-1.noarch ] && ! rpmq "$root" pwlib >/dev/null; then ok
  else bad "simulate changed the root"; fi

  pkgdrive simulate pwdemo=9.9 >"$tmp/out" 2>&1
  if [ "$(drive_field "$tmp/out" resolves)" = no ] && grep -q 'pwdemo.9\.9' "$tmp/out"; then ok; else
    bad "a version the repository does not have does not resolve"; cat "$tmp/out"; fi

  # patch: exactly the requested versions, not the newest (pwdemo 1.2).
  pkgdrive patch pwdemo=1.1 pwdep=2.0 --log "$tmp/patch.log" >"$tmp/out" 2>&1
  if [ "$(drive_field "$tmp/out" status)" = done ] &&
     [ "$(rpmq "$root" pwdemo pwdep pwlib | tr '\n' ' ')" = \
       "pwdemo-1.1-1.noarch pwdep-2.0-1.noarch pwlib-1.0-1.noarch " ] &&
     [ "$(drive_field "$tmp/out" db_state)" = clean ]; then ok; else
    bad "patch installs exactly pwdemo 1.1 and pwdep 2.0 with pwlib"; cat "$tmp/out" "$tmp/patch.log"; fi
  echo "# $PW_BACKEND patch of 2 packages (+1 dependency): $(drive_field "$tmp/out" seconds) s"

  # A removal is refused without allow_remove, and nothing runs.
  pkgdrive patch pwswap=2.0 >"$tmp/out" 2>&1
  if [ "$(drive_field "$tmp/out" status)" = refused ] && grep -q 'would remove pwlegacy' "$tmp/out" &&
     [ "$(rpmq "$root" pwswap pwlegacy | tr '\n' ' ')" = \
       "pwswap-1.0-1.noarch pwlegacy-1.0-1.noarch " ]; then ok; else
    bad "removal refused without allow_remove"; cat "$tmp/out"; fi
  pkgdrive patch --allow-remove pwswap=2.0 >"$tmp/out" 2>&1
  if [ "$(drive_field "$tmp/out" status)" = done ] && [ "$(rpmq "$root" pwswap)" = pwswap-2.0-1.noarch ] &&
     ! rpmq "$root" pwlegacy >/dev/null &&
     grep -qx 'change remove pwlegacy 1.0-1 - ok' "$tmp/out"; then ok; else
    bad "with allow_remove the conflicting package goes"; cat "$tmp/out"; fi

  # An obsoleting upgrade removes pwlegacy2 without being asked to: refused too.
  pkgdrive patch "$RPMREPO_LONG=2.0" >"$tmp/out" 2>&1
  if [ "$(drive_field "$tmp/out" status)" = refused ] && grep -q 'would remove pwlegacy2' "$tmp/out" &&
     grep -qx "change upgrade $RPMREPO_LONG 1.0-1 2.0-1 ok" "$tmp/out" &&
     [ "$(rpmq "$root" pwlegacy2 "$RPMREPO_LONG" | tr '\n' ' ')" = \
       "pwlegacy2-1.0-1.noarch $RPMREPO_LONG-1.0-1.noarch " ]; then ok; else
    bad "an obsoleted package's removal refused without allow_remove"; cat "$tmp/out"; fi

  # rollback to the older version the repository still has.
  pkgdrive rollback pwdemo=1.0 >"$tmp/out" 2>&1
  if [ "$(drive_field "$tmp/out" status)" = done ] && [ "$(rpmq "$root" pwdemo)" = pwdemo-1.0-1.noarch ] &&
     grep -qx 'change downgrade pwdemo 1.1-1 1.0-1 ok' "$tmp/out"; then ok; else
    bad "rollback to pwdemo 1.0"; cat "$tmp/out"; fi

  # A failing %post: a failed job with rpm's words and the scriptlet's output
  # (zypper also exits 107: its script checks that).
  pkgdrive patch pwpost=1.1 --log "$tmp/post.log" >"$tmp/out" 2>&1
  if [ "$(drive_field "$tmp/out" status)" = failed ] &&
     grep -q '%post(pwpost-1.1-1.noarch) scriptlet failed, exit status 1' "$tmp/out" &&
     grep -qx 'change upgrade pwpost 1.0-1 1.1-1 failed' "$tmp/out" &&
     grep -q 'pwpost: cannot configure itself' "$tmp/post.log"; then ok; else
    bad "failing %post is a failed result with its log"; cat "$tmp/out" "$tmp/post.log"; fi

  # An update that needs a reboot (by the documented package list).
  pkgdrive patch systemd=1.1 >"$tmp/out" 2>&1
  if [ "$(drive_field "$tmp/out" status)" = done ] && [ "$(drive_field "$tmp/out" needs_reboot)" = yes ] &&
     [ "$(rpmq "$root" systemd)" = systemd-1.1-1.noarch ]; then ok; else
    bad "systemd update needs a reboot"; cat "$tmp/out"; fi

  pkgdrive patch pwnothere=1.0 >"$tmp/out" 2>&1
  if [ "$(drive_field "$tmp/out" status)" = failed ] && grep -q 'not installed: pwnothere' "$tmp/out"
  then ok; else bad "a package that is not installed"; cat "$tmp/out"; fi

  # The database state: clean, then broken once pwdep 2.0's dependency is
  # taken away behind rpm's back (rpm -Va --nofiles sees it).
  pkgdrive db_state >"$tmp/out" 2>&1
  if [ "$(drive_field "$tmp/out" db_state)" = clean ]; then ok; else
    bad "db_state clean"; cat "$tmp/out"; fi
  rpm --root "$root" --dbpath /var/lib/rpm -e --nodeps pwlib >/dev/null 2>&1
  pkgdrive db_state >"$tmp/out" 2>&1
  if [ "$(drive_field "$tmp/out" db_state)" = broken ] && grep -q 'pwlib' "$tmp/out"; then ok; else
    bad "db_state broken with an unmet dependency"; cat "$tmp/out"; fi
  rpm --root "$root" --dbpath /var/lib/rpm -i --nodigest --nosignature "$tmp/repo/pwlib-1.0-1.noarch.rpm" \
    >/dev/null 2>&1
}
