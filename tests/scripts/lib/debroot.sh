# Real Debian 12 systems for the executor's tests: `mmdebstrap` a minimal
# bookworm once (variant apt: Essential + apt) from this machine's own apt
# sources, cached as a tarball keyed by what makes it, and unpacked per
# test into a fresh root.
#
#   . "$(dirname "$0")/lib/debroot.sh"
#   debroot_tar          # prints the cached tarball's path (makes it when cold)
#   debroot_new DIR      # unpacks a fresh bookworm into DIR
#
# PW_DEBROOT_CACHE overrides the cache folder (/var/cache/patchwarden-tests).

PW_DEBROOT_CACHE=${PW_DEBROOT_CACHE:-/var/cache/patchwarden-tests}
PW_DEBROOT_VARIANT=apt
PW_DEBROOT_INCLUDE=""

debroot_sources() {
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    echo /etc/apt/sources.list.d/debian.sources
  else
    echo /etc/apt/sources.list
  fi
}

# The key: the variant, the extra packages and the sources it came from.
debroot_tar() {
  local src key tar
  src=$(debroot_sources)
  key=$({ echo "$PW_DEBROOT_VARIANT $PW_DEBROOT_INCLUDE"; cat "$src"; } | sha256sum | cut -c1-16)
  tar=$PW_DEBROOT_CACHE/bookworm-$key.tar
  if [ ! -s "$tar" ]; then
    mkdir -p "$PW_DEBROOT_CACHE" || return 1
    (
      flock 9
      [ -s "$tar" ] && exit 0
      mmdebstrap --quiet --mode=root --format=tar --variant="$PW_DEBROOT_VARIANT" \
        ${PW_DEBROOT_INCLUDE:+--include="$PW_DEBROOT_INCLUDE"} \
        bookworm "$tar.tmp" "$src" >&2 && mv "$tar.tmp" "$tar"
    ) 9>"$PW_DEBROOT_CACHE/.lock" || return 1
  fi
  echo "$tar"
}

debroot_new() {
  local tar
  tar=$(debroot_tar) || return 1
  mkdir -p "$1" && tar -C "$1" -xf "$tar"
}
