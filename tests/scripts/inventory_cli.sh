#!/usr/bin/env bash
# patchwarden inventory end to end: the table and --json on the roots in
# tests/data/inventory and on this machine, exit codes and messages for
# missing, unreadable and malformed databases, argument errors, --help.
set -uo pipefail
: "${PW_BIN:?}" "${PW_TEST_DATA:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib/test-lib.sh"
test_require_cmd python3 truncate
roots=$PW_TEST_DATA/inventory

# expect NAME WANT_STATUS CMD...: runs CMD with stdout in $tmp/out and
# stderr in $tmp/err, and checks its exit status.
expect() {
  local name=$1 want=$2
  shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -eq "$want" ]; then
    ok
  else
    bad "$name: exit $got, expected $want"; sed 's/^/  stderr: /' "$tmp/err" | head -5
  fi
}

# has NAME FILE TEXT: FILE contains TEXT (fixed string).
has() {
  if grep -qF -- "$3" "$2"; then
    ok
  else
    bad "$1: $2 lacks '$3'"; sed 's/^/  | /' "$2" | head -10
  fi
}

# json NAME PYTHON-EXPR: the expression over d (the parsed --json output) is true.
json() {
  if python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
       "$tmp/out" "$2"; then
    ok
  else
    bad "$1: not true of the JSON: $2"
  fi
}

# --help and help
expect "--help" 0 "$PW_BIN" inventory --help
has "--help" "$tmp/out" "usage: patchwarden inventory [--root DIR] [--json]"
expect "help inventory" 0 "$PW_BIN" help inventory
has "help inventory" "$tmp/out" "--json"

# The table
expect "table debian" 0 "$PW_BIN" inventory --root "$roots/debian"
has "table header" "$tmp/out" "OS: Debian GNU/Linux 12 (bookworm) [debian 12 bookworm]  Arch: amd64"
has "table header" "$tmp/out" "(newest installed: 6.1.0-18-amd64)  Packages: 9 (deb)"
has "table columns" "$tmp/out" "NAME                        VERSION           ARCH   SOURCE "
has "table row" "$tmp/out" "linux-image-6.1.0-17-amd64  6.1.69-1          amd64  linux-signed-amd64 (6.1.69+1)  install ok installed"
has "table row" "$tmp/out" "openssl                     3.0.13-1~deb12u1  amd64  openssl                        install ok half-configured"
if [ "$(wc -l <"$tmp/out")" -eq 11 ] && [ ! -s "$tmp/err" ]; then ok; else
  bad "table debian: expected 11 lines and no warnings"; fi
# Columns line up: every row has its VERSION where the header has it.
col=$(sed -n 2p "$tmp/out" | awk '{ print index($0, "VERSION") }')
if awk -v c="$col" 'NR > 2 && substr($0, c - 2, 2) != "  " { bad = 1 } END { exit bad }' "$tmp/out"; then
  ok; else bad "table columns are not aligned"; fi

expect "table alpine" 0 "$PW_BIN" inventory --root="$roots/alpine"
has "table alpine" "$tmp/out" "busybox-binsh        1.36.1-r15            x86_64  busybox            installed"
has "table alpine" "$tmp/out" "Kernel: running unknown (newest installed: 6.6.14-0-lts)  Packages: 6 (apk)"

# --json
for r in debian distroless alpine; do
  expect "json $r" 0 "$PW_BIN" inventory --root "$roots/$r" --json
  if python3 -m json.tool "$tmp/out" >/dev/null; then ok; else
    bad "json $r: not valid JSON"; fi
done
expect "json debian" 0 "$PW_BIN" inventory --json --root "$roots/debian"
json "json keys" 'sorted(d) == ["arch", "kernel", "os", "packages", "scheme", "warnings"]'
json "json os" 'd["os"] == {"id": "debian", "version_id": "12", "codename": "bookworm", "pretty_name": "Debian GNU/Linux 12 (bookworm)"}'
json "json kernel" 'd["kernel"] == {"running": None, "installed": ["6.1.0-17-amd64", "6.1.0-18-amd64"], "needs_reboot": False}'
json "json scheme" 'd["scheme"] == "deb" and d["arch"] == "amd64" and d["warnings"] == []'
json "json package" '{"name": "vim", "version": "2:9.0.1378-2", "arch": "amd64", "source": "vim", "source_version": "2:9.0.1378-2", "status": "install ok unpacked"} in d["packages"]'
json "json packages" '[p["name"] for p in d["packages"]] == ["dpkg", "libc6", "libc6", "linux-image-6.1.0-17-amd64", "linux-image-6.1.0-18-amd64", "linux-image-amd64", "openssl", "tzdata", "vim"]'

expect "json distroless" 0 "$PW_BIN" inventory --root "$roots/distroless" --json
json "json distroless" 'd["os"]["codename"] is None and len(d["packages"]) == 4'

# This machine: the running kernel is known only for /.
expect "json /" 0 "$PW_BIN" inventory --json
json "json / kernel" "d['kernel']['running'] == '$(uname -r)'"
if python3 -m json.tool "$tmp/out" >/dev/null; then ok; else
  bad "json /: not valid JSON"; fi

# A pending reboot
cp -r "$roots/debian" "$tmp/reboot"
mkdir -p "$tmp/reboot/run" && echo '*** System restart required ***' >"$tmp/reboot/run/reboot-required"
expect "reboot" 0 "$PW_BIN" inventory --root "$tmp/reboot" --json
json "reboot json" 'd["kernel"]["needs_reboot"] is True'
expect "reboot table" 0 "$PW_BIN" inventory --root "$tmp/reboot"
has "reboot table" "$tmp/out" "(newest installed: 6.1.0-18-amd64), reboot needed"

# Malformed stanzas: warnings on stderr (and in JSON), the rest read, exit 0.
mkdir -p "$tmp/bad/var/lib/dpkg"
printf 'Package: good\nStatus: install ok installed\nVersion: 1.0\n\nPakij: apt\nno colon\n\nPackage: also-good\nStatus: install ok installed\nVersion: 2.0' \
  >"$tmp/bad/var/lib/dpkg/status"
expect "malformed" 0 "$PW_BIN" inventory --root "$tmp/bad"
has "malformed" "$tmp/err" "patchwarden inventory: warning: $tmp/bad/var/lib/dpkg/status:6: 'no colon' is not a 'Field: value' line; stanza from line 5 skipped"
has "malformed" "$tmp/err" "patchwarden inventory: warning: $tmp/bad: no etc/os-release or usr/lib/os-release; the OS is unknown"
has "malformed" "$tmp/out" "Packages: 2 (deb)"
expect "malformed json" 0 "$PW_BIN" inventory --root "$tmp/bad" --json
json "malformed json" 'len(d["packages"]) == 2 and any("status:6:" in w for w in d["warnings"])'

# No database, unreadable database, bad root: exit 2 with a clear message.
mkdir -p "$tmp/empty/etc"
expect "no database" 2 "$PW_BIN" inventory --root "$tmp/empty"
has "no database" "$tmp/err" "patchwarden inventory: $tmp/empty: no package database found (looked for var/lib/dpkg/status"
if [ ! -s "$tmp/out" ]; then ok; else bad "no database: printed output"; fi
mkdir -p "$tmp/huge/var/lib/dpkg" && truncate -s 600M "$tmp/huge/var/lib/dpkg/status"
expect "unreadable database" 2 "$PW_BIN" inventory --root "$tmp/huge"
has "unreadable database" "$tmp/err" "var/lib/dpkg/status: 629145600 bytes is more than the limit"
expect "missing root" 2 "$PW_BIN" inventory --root "$tmp/nonexistent"
has "missing root" "$tmp/err" "patchwarden inventory: $tmp/nonexistent: cannot read: No such file or directory"
expect "root is a file" 2 "$PW_BIN" inventory --root "$tmp/huge/var/lib/dpkg/status"
has "root is a file" "$tmp/err" "not a directory"

# Argument errors
expect "unknown option" 2 "$PW_BIN" inventory --bogus
has "unknown option" "$tmp/err" "unknown option '--bogus'"
has "unknown option" "$tmp/err" "Run 'patchwarden help inventory' for usage."
expect "--root without DIR" 2 "$PW_BIN" inventory --root
has "--root without DIR" "$tmp/err" "option '--root' needs a value (DIR)"
expect "empty --root=" 2 "$PW_BIN" inventory --root=

test_done
