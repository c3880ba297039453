#!/usr/bin/env bash
# Differential test against dpkg itself: `patchwarden inventory --json`
# versus `dpkg-query -W` on every dpkg status file in
# shared/data/inventories, on tests/data/inventory/debian (with a journal
# in updates/ that dpkg merges) and on this machine's own database. All
# packages are compared: name, version, arch, source, source version and
# status. dpkg-query also lists config-files packages; patchwarden leaves
# them out (none of their files is installed), so they are dropped from
# dpkg's side. Where dpkg refuses a file outright (a malformed stanza, or
# a Depends syntax dpkg checks and patchwarden does not read), patchwarden
# must still read it; test_inventory checks what it skips and says.
set -uo pipefail
: "${PW_BIN:?}" "${PW_TEST_DATA:?}"
. "$(dirname "$0")/lib/test-lib.sh"
test_require_cmd dpkg-query python3
test_require shared-data:inventories
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fields='${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\t${Status}\n'

ours() { # ROOT: our packages, one tab-separated line each
  "$PW_BIN" inventory --root "$1" --json 2>"$tmp/warnings" | python3 -c '
import json, sys
for p in json.load(sys.stdin)["packages"]:
    print("\t".join(p[k] or "" for k in
                    ("name", "version", "arch", "source", "source_version", "status")))
' | LC_ALL=C sort
}

theirs() { # ADMINDIR: dpkg-query's, fails when dpkg cannot read the database
  local out
  out=$(dpkg-query --admindir="$1" -W -f="$fields" 2>/dev/null) || return 1
  printf '%s\n' "$out" | awk -F'\t' 'NF && $6 !~ / (config-files|not-installed)$/' | LC_ALL=C sort
}

compare() { # LABEL ROOT ADMINDIR
  if theirs "$3" >"$tmp/theirs"; then
    if ! ours "$2" >"$tmp/ours"; then
      bad "$1: patchwarden failed"; return
    fi
    if diff -u "$tmp/theirs" "$tmp/ours" >"$tmp/diff"; then
      ok
    else
      bad "$1: differs from dpkg-query (- dpkg, + patchwarden)"; head -20 "$tmp/diff"
    fi
    echo "  $1: $(wc -l <"$tmp/ours") packages"
  else
    if ours "$2" >"$tmp/ours"; then
      ok
      echo "  $1: dpkg refuses it; patchwarden: $(wc -l <"$tmp/ours") packages," \
           "$(wc -l <"$tmp/warnings") warning(s)"
    else
      bad "$1: dpkg refuses it, and patchwarden failed too"
    fi
  fi
}

fixture_root() { # FILE: a root whose status file is FILE
  rm -rf "$tmp/root"
  mkdir -p "$tmp/root/var/lib/dpkg/info" "$tmp/root/var/lib/dpkg/updates" "$tmp/root/etc"
  echo ID=test >"$tmp/root/etc/os-release"
  cp "$1" "$tmp/root/var/lib/dpkg/status"
}

inv=$PW_SHARED_DATA/inventories
for f in "$inv"/claircore/*.dpkg-status "$inv"/syft/image-dpkg.status \
         "$inv"/syft/dpkg-status.d/* "$inv"/osv-scalibr/dpkg/*; do
  fixture_root "$f"
  compare "${f#"$inv"/}" "$tmp/root" "$tmp/root/var/lib/dpkg"
done

# The status file inside trivy's txtar archive.
awk '/^-- var\/lib\/dpkg\/status --$/ { on = 1; next } /^-- / { on = 0 } on' \
  "$inv/trivy/ubuntu1804-dpkg-status.valid.txtar" >"$tmp/status"
fixture_root "$tmp/status"
compare "trivy/ubuntu1804-dpkg-status.valid.txtar" "$tmp/root" "$tmp/root/var/lib/dpkg"

# The journal: dpkg replays updates/0000, 0001 over the status file.
rm -rf "$tmp/root"; cp -r "$PW_TEST_DATA/inventory/debian" "$tmp/root"
compare "tests/data/inventory/debian" "$tmp/root" "$tmp/root/var/lib/dpkg"

# This machine, read live.
if [ -f /var/lib/dpkg/status ]; then
  compare "this machine (/)" / /var/lib/dpkg
else
  test_skip_part "this machine" "no dpkg database in /var/lib/dpkg"
fi

test_done
