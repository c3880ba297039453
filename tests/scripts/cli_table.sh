#!/usr/bin/env bash
# The command line's tables (src/table.c) as `scan`, `host list` print
# them: no line wider than the terminal ($COLUMNS when piped, the pty's
# own size on a terminal), no colour codes unless on a terminal without
# NO_COLOR and with TERM other than dumb (or --color=always), and the
# scan's rows: --by advisory one per finding of the JSON, the default one
# per package upgrade, whose count and versions are computed here from
# the JSON findings with `dpkg --compare-versions`, not by patchwarden.
set -uo pipefail
: "${PW_BIN:?}"
data=${PW_TEST_DATA:?PW_TEST_DATA is not set; run under ctest}
. "$(dirname "$0")/lib/test-lib.sh"
test_require_cmd dpkg python3
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
unset PATCHWARDEN_DB PATCHWARDEN_STORE NO_COLOR COLUMNS

# Fixed versions that sort differently as text and as versions: deb11u10
# above deb11u4, an epoch above any version without one, ~ below nothing.
cat >"$tmp/list" <<'EOF'
[01 Mar 2023] DSA-9101-1 openssl - security update
	{CVE-2099-1001 CVE-2099-1002}
	[bullseye] - openssl 1.1.1n-0+deb11u4
[02 Mar 2023] DSA-9102-1 openssl - security update
	{CVE-2099-1003}
	[bullseye] - openssl 1.1.1n-0+deb11u10
[03 Mar 2023] DSA-9103-1 openssl - security update
	{CVE-2099-1002 CVE-2099-1004}
	[bullseye] - openssl 1.1.1n-0+deb11u5~pre1
[04 Mar 2023] DSA-9104-1 a-rather-long-source-package-name-for-widths - security update
	{CVE-2099-1005}
	[bullseye] - a-rather-long-source-package-name-for-widths 1:2.0-1
[05 Mar 2023] DSA-9105-1 a-rather-long-source-package-name-for-widths - security update
	{CVE-2099-1006}
	[bullseye] - a-rather-long-source-package-name-for-widths 2.5-1
[06 Mar 2023] DSA-9106-1 zlib - security update
	{CVE-2099-1007}
	[bullseye] - zlib 1:1.2.11.dfsg-2+deb11u2~pre1
[07 Mar 2023] DSA-9107-1 zlib - security update
	{CVE-2099-1008}
	[bullseye] - zlib 1:1.2.11.dfsg-2+deb11u1
[08 Mar 2023] DSA-9108-1 curl - security update
	{CVE-2021-22205}
	[bullseye] - curl 7.74.0-1.3+deb11u9
[09 Mar 2023] DSA-9109-1 bash - security update
	{CVE-2099-1009}
	[bullseye] - bash 5.1-2+deb11u1
EOF
store=$tmp/store.db
check "feed import" "$PW_BIN" feed import -q --store "$store" "$tmp/list" "$PW_TEST_DATA/kev/cve-2021-22205.json"
python3 - "$tmp/inv.json" <<'EOF'
import json, sys
pk = [("openssl", "1.1.1k-1", "openssl", "1.1.1k-1"),
      ("libssl1.1", "1.1.1k-1", "openssl", "1.1.1k-1"),
      ("a-rather-long-binary-package-name-one", "1.0-1",
       "a-rather-long-source-package-name-for-widths", "1.0-1"),
      ("a-rather-long-binary-package-name-two", "1.0-1",
       "a-rather-long-source-package-name-for-widths", "1.0-1"),
      ("zlib1g", "1:1.2.11.dfsg-2", "zlib", "1:1.2.11.dfsg-2"),
      ("curl", "7.74.0-1.3+deb11u7", "curl", "7.74.0-1.3+deb11u7"),
      ("libcurl4", "7.74.0-1.3+deb11u7", "curl", "7.74.0-1.3+deb11u7"),
      ("bash", "5.1-2+b3", "bash", "5.1-2")]
json.dump({"os": {"id": "debian", "version_id": "11", "codename": "bullseye",
                  "pretty_name": "Debian GNU/Linux 11 (bullseye), a test host"},
           "arch": "amd64", "scheme": "deb",
           "kernel": {"running": None, "installed": [], "needs_reboot": False},
           "packages": [{"name": n, "version": v, "arch": "amd64", "source": s,
                         "source_version": sv, "status": "install ok installed"}
                        for n, v, s, sv in pk], "warnings": []}, open(sys.argv[1], "w"))
EOF
scan=("$PW_BIN" scan --store "$store" --inventory "$tmp/inv.json")

# widest FILE: the longest line in characters (UTF-8), escapes included.
widest() { python3 -c 'import sys; print(max((len(l.rstrip("\n")) for l in open(sys.argv[1], encoding="utf-8")), default=0))' "$1"; }
has_escape() { grep -q $'\033' "$1"; }

# ---- widths: no line wider than $COLUMNS, the table shortened to fit -------
"${scan[@]}" >"$tmp/natural"
natural=$(widest "$tmp/natural")
if [ "$natural" -gt 100 ]; then ok; else bad "the natural table is only $natural wide"; fi
for cols in 60 100 200; do
  for by in upgrade advisory; do
    COLUMNS=$cols "${scan[@]}" --by $by >"$tmp/out"
    w=$(widest "$tmp/out")
    if [ "$w" -le "$cols" ]; then ok; else bad "COLUMNS=$cols --by $by: a line of $w"; fi
  done
done
COLUMNS=60 "${scan[@]}" >"$tmp/out"
check "shortened with an ellipsis at 60" grep -q '…' "$tmp/out"
check "nothing shortened at 200" eval '! grep -q "…" "$tmp/natural"'
COLUMNS=0 "${scan[@]}" >"$tmp/out"
check "COLUMNS=0: no limit" cmp -s "$tmp/out" "$tmp/natural"

"$PW_BIN" host import-csv "$data/hosts/fleet.csv" --db "$tmp/server.db" >/dev/null
for cols in 60 100; do
  COLUMNS=$cols "$PW_BIN" host list --db "$tmp/server.db" >"$tmp/out"
  w=$(widest "$tmp/out")
  if [ "$w" -le "$cols" ]; then ok; else bad "host list at COLUMNS=$cols: a line of $w"; fi
  COLUMNS=$cols "$PW_BIN" inventory --root "$data/inventory/debian" >"$tmp/out"
  w=$(widest "$tmp/out")
  if [ "$w" -le "$cols" ]; then ok; else bad "inventory at COLUMNS=$cols: a line of $w"; fi
done

# ---- colour only on a terminal ---------------------------------------------
check "piped: no escape codes" eval '! has_escape "$tmp/natural"'
NO_COLOR=1 "${scan[@]}" --by advisory >"$tmp/out"
check "NO_COLOR: no escape codes" eval '! has_escape "$tmp/out"'
"${scan[@]}" --color=always >"$tmp/out"
check "--color=always: bold red emergency" grep -q $'\033\\[1;31memergency\033\\[0m' "$tmp/out"
check "--color=always: normal in yellow" grep -q $'\033\\[33mnormal' "$tmp/out"
sed $'s/\033\\[[0-9;]*m//g' "$tmp/out" >"$tmp/stripped"
check "colour codes take no width" cmp -s "$tmp/stripped" "$tmp/natural"
if "${scan[@]}" --color=sometimes >/dev/null 2>"$tmp/err"; then bad "--color=sometimes accepted"; else ok; fi
check "--color: bad value named" grep -q "'sometimes'" "$tmp/err"

# on_pty ROWS COLS ENV...: runs the scan with its output on a
# pseudo-terminal of that size (set before it starts), with the
# environment changed as given (NAME= unsets); the output in $tmp/pty.
on_pty() {
  python3 - "$tmp/pty" "$@" -- "${scan[@]}" <<'EOF'
import fcntl, os, pty, struct, subprocess, sys, termios
out, rows, cols = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rest = sys.argv[4:]
sep = rest.index("--")
env = dict(os.environ)
for kv in rest[:sep]:
    k, _, v = kv.partition("=")
    if v:
        env[k] = v
    else:
        env.pop(k, None)
master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
p = subprocess.Popen(rest[sep + 1:], stdout=slave, env=env)
os.close(slave)
data = b""
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:  # EIO once the child has closed its side
        break
    if not chunk:
        break
    data += chunk
open(out, "wb").write(data.replace(b"\r\n", b"\n"))
sys.exit(p.wait())
EOF
}
# COLUMNS far wider than the terminal: a line fitting 70 shows that the
# terminal's own size (TIOCGWINSZ) won.
if on_pty 40 70 TERM=xterm NO_COLOR= COLUMNS=300; then ok; else bad "scan on a pty"; fi
check "terminal: colour" grep -q $'\033\\[1;31memergency' "$tmp/pty"
w=$(sed $'s/\033\\[[0-9;]*m//g' "$tmp/pty" | python3 -c 'import sys; print(max(len(l.rstrip("\n")) for l in sys.stdin))')
if [ "$w" -le 70 ] && [ "$w" -gt 60 ]; then ok; else bad "terminal of 70 columns: a line of $w"; fi
on_pty 40 200 TERM=xterm NO_COLOR=1
check "terminal with NO_COLOR: no colour" eval '! has_escape "$tmp/pty"'
on_pty 40 200 TERM=dumb NO_COLOR=
check "TERM=dumb: no colour" eval '! has_escape "$tmp/pty"'
on_pty 40 200 TERM=xterm NO_COLOR=
check "terminal, NO_COLOR empty: colour" has_escape "$tmp/pty"

# ---- rows: by advisory, one per finding; by upgrade, one per package -------
"${scan[@]}" --json >"$tmp/json"
# table_rows FILE: the rows between the table's header and the next blank line.
table_rows() { awk '/^PRIORITY /{t=1; next} t && /^$/{exit} t{n++} END{print n+0}' "$1"; }
"${scan[@]}" --by advisory >"$tmp/adv"
want=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$tmp/json")
got=$(table_rows "$tmp/adv")
if [ "$got" = "$want" ] && [ "$want" -eq 9 ]; then ok; else bad "--by advisory: $got rows, $want findings"; fi

# The upgrades, from the JSON findings and dpkg alone: per package, the
# lowest installed and the highest fixed version.
python3 - "$tmp/json" >"$tmp/expected" <<'EOF'
import functools, json, subprocess, sys
def cmp(a, b):
    if a == b:
        return 0
    return -1 if subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0 else 1
ups = {}
for f in json.load(open(sys.argv[1]))["findings"]:
    u = ups.setdefault(f["package"], {"installed": [], "fixed": []})
    u["installed"].append(f["installed"])
    u["fixed"].append(f["fixed"])
for name, u in sorted(ups.items()):
    lo = min(u["installed"], key=functools.cmp_to_key(cmp))
    hi = max(u["fixed"], key=functools.cmp_to_key(cmp))
    print(f"{name}\t{lo} → {hi}")
EOF
n_expected=$(wc -l <"$tmp/expected")
got=$(table_rows "$tmp/natural")
if [ "$got" = "$n_expected" ] && [ "$got" -eq 5 ]; then ok; else bad "upgrade rows: $got, expected $n_expected"; cat "$tmp/expected"; fi
while IFS=$'\t' read -r name vers; do
  if grep -E "^[a-z]+ +$name( \\(.*\\))? " "$tmp/natural" | grep -qF "$vers"; then ok; else bad "upgrade of $name: '$vers' not in its row"; fi
done <"$tmp/expected"
check "the epoch wins" grep -qF '1.0-1 → 1:2.0-1' "$tmp/natural"
check "deb11u10 above deb11u4" grep -qF '1.1.1k-1 → 1.1.1n-0+deb11u10' "$tmp/natural"
check "the binaries beside their source" grep -qF 'openssl (libssl1.1, openssl)' "$tmp/natural"
check "3 advisories, 4 CVEs of openssl" grep -qE 'openssl \(.*  3 DSA-9101-1 DSA-9102-1 DSA-9103-1  4 CVE-2099-1001 ' "$tmp/natural"
check "KEV due date" grep -qE '^emergency +curl .*KEV 2021-11-17$' "$tmp/natural"

test_done
