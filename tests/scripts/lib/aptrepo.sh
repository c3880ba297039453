# A real apt repository for the executor's tests: small packages made
# with `dpkg-deb --build`, indexed with `apt-ftparchive` as a flat
# repository and served over HTTP on loopback (python3 -m http.server).
#
#   . "$(dirname "$0")/lib/aptrepo.sh"
#   aptrepo_pkg DIR NAME VERSION [Depends|Conflicts: ... ] [postinst-body] [payload-dir]
#   aptrepo_test_packages DIR  # the set the executor's tests use (below)
#   aptrepo_index DIR
#   aptrepo_serve DIR [ADDR [FILE]]  # sets APTREPO_URL and APTREPO_PID; on
#                              # 127.0.0.1 unless ADDR is given; FILE (default
#                              # Packages) must then download
#   aptrepo_use ROOT           # ROOT's apt sources: that repository only
#                              # (and its security/ sub-repository if any)
#
# Every package installs /usr/share/NAME/version holding its version, so
# a test can see which one is on disk independently of dpkg, and the
# conffile /etc/NAME.conf ("# NAME VERSION default").

# aptrepo_pkg DIR NAME VERSION CONTROL-EXTRA POSTINST [PAYLOAD-DIR]
# (PAYLOAD-DIR's tree is packaged too: a program, a library)
aptrepo_pkg() {
  local dir=$1 name=$2 version=$3 extra=${4:-} postinst=${5:-} payload=${6:-}
  local b
  b=$(mktemp -d) || return 1
  mkdir -p "$b/DEBIAN" "$b/usr/share/$name" "$b/etc" "$dir/pool"
  [ -n "$payload" ] && cp -a "$payload/." "$b/"
  echo "$version" >"$b/usr/share/$name/version"
  echo "# $name $version default" >"$b/etc/$name.conf"
  echo "/etc/$name.conf" >"$b/DEBIAN/conffiles"
  {
    echo "Package: $name"
    echo "Version: $version"
    echo "Architecture: all"
    echo "Maintainer: patchwarden tests <tests@example.invalid>"
    echo "Section: misc"
    echo "Priority: optional"
    [ -n "$extra" ] && echo "$extra"
    echo "Description: patchwarden test package $name $version"
  } >"$b/DEBIAN/control"
  if [ -n "$postinst" ]; then
    printf '#!/bin/sh\nset -e\n%s\n' "$postinst" >"$b/DEBIAN/postinst"
    chmod 0755 "$b/DEBIAN/postinst"
  fi
  # as in Debian's pool, the file name leaves out the epoch
  dpkg-deb --root-owner-group --build "$b" "$dir/pool/${name}_${version#*:}_all.deb" >/dev/null
  local rc=$?
  rm -rf "$b"
  return $rc
}

# aptrepo_index DIR [apt-ftparchive -o options for the Release file]
aptrepo_index() {
  (cd "$1" && apt-ftparchive packages pool >Packages && apt-ftparchive "${@:2}" release . >Release)
}

aptrepo_serve() {
  local dir=$1 addr=${2:-127.0.0.1} log
  log=$(mktemp)
  python3 -u -m http.server --bind "$addr" --directory "$dir" 0 >"$log" 2>&1 &
  APTREPO_PID=$!
  test_wait_for 10 grep -q 'port [0-9]' "$log" || return 1
  APTREPO_DIR=$dir
  APTREPO_URL=http://$addr:$(sed -n 's/.* port \([0-9]*\).*/\1/p' "$log" | head -1)/
  rm -f "$log"
  curl -fsS -o /dev/null "${APTREPO_URL}${3:-Packages}"
}

aptrepo_use() {
  rm -f "$1"/etc/apt/sources.list "$1"/etc/apt/sources.list.d/*
  echo "deb [trusted=yes] $APTREPO_URL ./" >"$1/etc/apt/sources.list.d/patchwarden-test.list"
  if [ -f "$APTREPO_DIR/security/Release" ]; then
    echo "deb [trusted=yes] ${APTREPO_URL}security/ ./" >>"$1/etc/apt/sources.list.d/patchwarden-test.list"
  fi
}

# The executor tests' packages: a vulnerable and fixed pwt-vuln (1.0-1,
# 1.0-2, 1.0-3), pwt-failpost whose 1.0-2 postinst fails, pwt-dep whose
# 2.0-1 depends on the new pwt-newdep, pwt-reboot whose 1.0-2 asks for a
# reboot, pwt-rm whose 2.0-1 conflicts with (so removes) pwt-victim;
# pwt-bin 4:1.0-1 and 4:1.0-2 built from source pwt-src 1.5-1 and 1.5-2
# (a binary versioned apart from its source, as gcc is from gcc-defaults);
# pwt-sec 1.0-2 in a security/ sub-repository whose Release says
# Label Debian-Security, Suite bookworm-security (as Debian's does).
aptrepo_test_packages() {
  local r=$1
  local reboot='touch /var/run/reboot-required; echo pwt-reboot >>/var/run/reboot-required.pkgs'
  aptrepo_pkg "$r" pwt-vuln 1.0-1 &&
    aptrepo_pkg "$r" pwt-vuln 1.0-2 &&
    aptrepo_pkg "$r" pwt-vuln 1.0-3 &&
    aptrepo_pkg "$r" pwt-failpost 1.0-1 &&
    aptrepo_pkg "$r" pwt-failpost 1.0-2 "" \
      "echo pwt-failpost: the postinst fails on purpose; exit 1" &&
    aptrepo_pkg "$r" pwt-newdep 1.0-1 &&
    aptrepo_pkg "$r" pwt-dep 1.0-1 &&
    aptrepo_pkg "$r" pwt-dep 2.0-1 "Depends: pwt-newdep (>= 1.0)" &&
    aptrepo_pkg "$r" pwt-reboot 1.0-1 &&
    aptrepo_pkg "$r" pwt-reboot 1.0-2 "" "$reboot" &&
    aptrepo_pkg "$r" pwt-victim 1.0-1 &&
    aptrepo_pkg "$r" pwt-rm 1.0-1 &&
    aptrepo_pkg "$r" pwt-rm 2.0-1 "Conflicts: pwt-victim" &&
    aptrepo_pkg "$r" pwt-bin 4:1.0-1 "Source: pwt-src (1.5-1)" &&
    aptrepo_pkg "$r" pwt-bin 4:1.0-2 "Source: pwt-src (1.5-2)" &&
    aptrepo_pkg "$r" pwt-sec 1.0-1 &&
    aptrepo_pkg "$r/security" pwt-sec 1.0-2 &&
    aptrepo_index "$r" &&
    aptrepo_index "$r/security" -o APT::FTPArchive::Release::Label=Debian-Security \
      -o APT::FTPArchive::Release::Suite=bookworm-security
}

# aptrepo_root ROOT PKG=VER...: a fresh bookworm (lib/debroot.sh) using
# only the served repository, with the given versions installed by apt.
aptrepo_root() {
  local root=$1
  shift
  debroot_new "$root" || return 1
  aptrepo_use "$root"
  chroot "$root" apt-get update -qq >/dev/null 2>&1 &&
    chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" \
      >"$root.setup.log" 2>&1
}
