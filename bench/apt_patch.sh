#!/usr/bin/env bash
# How long a real apt patch job takes, end to end, beside apt alone: on
# fresh Debian 12 roots (tests/scripts/lib/debroot.sh, a cached
# mmdebstrap bookworm) with three packages from the test repository
# (tests/scripts/lib/aptrepo.sh, served on loopback) installed at their
# old versions, `patchwarden-agent exec patch` upgrades them to exact
# versions (one of them pulling in a new dependency), and, on another
# root each, the same `apt-get update` + `apt-get install` run by hand.
# The job does more than the reference: it checks the dpkg state before
# (dpkg --audit), reads policy and holds, simulates, queries dpkg before
# and after and checks the state again; the difference is that work.
#
#   bench/apt_patch.sh [RUNS]     (default 5; needs root)
#
# Output: one row per side, wall seconds (median, min, max of RUNS) and
# the largest resident set of any process of the run (GNU time's %M:
# apt's, not the agent's).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
: "${PW_AGENT_BIN:=$src/build/release/patchwarden-agent}"
. "$src/tests/scripts/lib/test-lib.sh"
. "$src/tests/scripts/lib/debroot.sh"
. "$src/tests/scripts/lib/aptrepo.sh"
runs=${1:-5}
[ "$(id -u)" = 0 ] || { echo "apt_patch.sh: needs root (chroot)" >&2; exit 2; }
T=$(mktemp -d /tmp/pw-bench-apt.XXXXXX)
cleanup() {
  [ -n "${APTREPO_PID:-}" ] && kill "$APTREPO_PID" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

aptrepo_test_packages "$T/repo" || exit 1
aptrepo_serve "$T/repo" || exit 1
old=(pwt-vuln=1.0-1 pwt-dep=1.0-1 pwt-reboot=1.0-1)
new=(pwt-vuln=1.0-2 pwt-dep=2.0-1 pwt-reboot=1.0-2)
args='{"packages":[{"name":"pwt-vuln","version":"1.0-2"},{"name":"pwt-dep","version":"2.0-1"},{"name":"pwt-reboot","version":"1.0-2"}]}'

# measure OUT CMD...: appends "seconds maxrss_kib" to OUT
measure() {
  local out=$1
  shift
  /usr/bin/time -f '%e %M' -o "$T/time" "$@" >"$T/run.log" 2>&1 || {
    echo "apt_patch.sh: failed: $*" >&2
    tail -5 "$T/run.log" >&2
    return 1
  }
  cat "$T/time" >>"$out"
}

for i in $(seq 1 "$runs"); do
  rm -rf "$T/r"
  aptrepo_root "$T/r" "${old[@]}" || exit 1
  measure "$T/job" "$PW_AGENT_BIN" exec patch --root "$T/r" --args "$args" || exit 1
  rm -rf "$T/r"
  aptrepo_root "$T/r" "${old[@]}" || exit 1
  measure "$T/apt" chroot "$T/r" sh -c "apt-get update -q && DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends ${new[*]}" || exit 1
done

row() {
  sort -n "$2" | awk -v name="$1" '{ t[NR] = $1; if ($2 > m) m = $2 }
    END { printf "%-34s %8.2f %8.2f %8.2f %10d\n", name, t[int((NR + 1) / 2)], t[1], t[NR], m }'
}
printf "%-34s %8s %8s %8s %10s\n" "apt patch, 3 packages ($runs runs)" median min max "max KiB"
row "patchwarden-agent exec patch" "$T/job"
row "apt-get update + install (alone)" "$T/apt"
